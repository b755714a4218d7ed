#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Collection where Element == UInt8 {
    /// Where `part` first occurs, compared byte for byte: a plain search over contiguous bytes when the
    /// collection has them (a native string's UTF-8 does), else over its indices. (The standard library's
    /// generic `firstRange(of:)` costs thousands of instructions a call; Foundation's `range(of:)` compares
    /// by locale.)
    func firstRange(ofBytes part: some Collection<UInt8>) -> Range<Index>? {
        let needle = Array(part)
        guard let first = needle.first else { return startIndex..<startIndex }
        if let offset = withContiguousStorageIfAvailable({ bytes -> Int? in
            guard bytes.count >= needle.count else { return nil }
            for candidate in 0...(bytes.count - needle.count) where bytes[candidate] == first {
                if needle.indices.allSatisfy({ bytes[candidate + $0] == needle[$0] }) { return candidate }
            }
            return nil
        }) {
            guard let offset else { return nil }
            let start = index(startIndex, offsetBy: offset)
            return start..<index(start, offsetBy: needle.count)
        }
        var start = startIndex
        while let candidate = self[start...].firstIndex(of: first) {
            if self[candidate...].starts(with: needle) { return candidate..<index(candidate, offsetBy: needle.count) }
            start = index(after: candidate)
        }
        return nil
    }
}

/// Text compared and hashed by its UTF-8 bytes: the key for dictionaries of long machine-made text (stack
/// traces, a finding's cause), where `String`'s hashing checks Unicode normalization byte by byte. Two
/// keys are equal when their bytes are, which for text one program writes is when their strings are.
public struct BytewiseKey: Hashable, Sendable {
    public let text: String

    public init(_ text: String) {
        var text = text
        text.makeContiguousUTF8()
        self.text = text
    }

    public func hash(into hasher: inout Hasher) {
        var text = text
        text.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }

    public static func == (a: BytewiseKey, b: BytewiseKey) -> Bool {
        var x = a.text, y = b.text
        return x.withUTF8 { left in
            y.withUTF8 { right in left.count == right.count && (left.isEmpty || memcmp(left.baseAddress!, right.baseAddress!, left.count) == 0) }
        }
    }
}
