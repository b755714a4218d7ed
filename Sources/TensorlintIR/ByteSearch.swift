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
