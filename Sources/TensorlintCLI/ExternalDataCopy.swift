import Foundation

/// The byte ranges of an external data file that a model uses, copied or compared by `pread`/`pwrite`,
/// a bounded chunk at a time: a range is written once, however many tensors share it.
enum ExternalDataCopy {
    static let chunk = 1 << 20

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The ranges sorted, overlapping ones merged.
    static func merged(_ ranges: [Range<Int>]) -> [Range<Int>] {
        var merged: [Range<Int>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) where !range.isEmpty {
            if let last = merged.last, range.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        return merged
    }

    private static func open(_ path: String, _ flags: Int32, _ mode: mode_t = 0) throws -> Int32 {
        // O_NONBLOCK: a FIFO put in the file's place since it was read must not block.
        let descriptor = Glibc.open(path, flags | O_NONBLOCK | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw Failure(description: "\(path): \(String(cString: strerror(errno)))") }
        var status = stat()
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
            close(descriptor)
            throw Failure(description: "\(path): not a regular file")
        }
        return descriptor
    }

    private static func forEachChunk(_ ranges: [Range<Int>], _ body: (Int, Int) throws -> Void) rethrows {
        for range in merged(ranges) {
            var offset = range.lowerBound
            while offset < range.upperBound {
                let count = min(chunk, range.upperBound - offset)
                try body(offset, count)
                offset += count
            }
        }
    }

    private static func read(_ descriptor: Int32, _ buffer: inout [UInt8], _ offset: Int, _ count: Int, _ path: String) throws {
        let got = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, count, off_t(offset)) }
        guard got == count else { throw Failure(description: "\(path): shorter than the model says") }
    }

    /// A new file at `destination`, as long as the last range's end, holding `source`'s bytes in `ranges`.
    static func copy(_ source: String, to destination: String, ranges: [Range<Int>]) throws {
        let input = try open(source, O_RDONLY)
        defer { close(input) }
        let output = try open(destination, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        defer { close(output) }
        guard ftruncate(output, off_t(merged(ranges).last?.upperBound ?? 0)) == 0 else {
            throw Failure(description: "\(destination): \(String(cString: strerror(errno)))")
        }
        var buffer = [UInt8](repeating: 0, count: chunk)
        try forEachChunk(ranges) { offset, count in
            try read(input, &buffer, offset, count, source)
            let put = buffer.withUnsafeBytes { pwrite(output, $0.baseAddress, count, off_t(offset)) }
            guard put == count else { throw Failure(description: "\(destination): \(String(cString: strerror(errno)))") }
        }
        guard fsync(output) == 0 else { throw Failure(description: "\(destination): cannot flush") }
    }

    /// Whether both files hold the same bytes in `ranges`.
    static func sameBytes(_ first: String, _ second: String, in ranges: [Range<Int>]) throws -> Bool {
        let one = try open(first, O_RDONLY), two = try open(second, O_RDONLY)
        defer { close(one); close(two) }
        var left = [UInt8](repeating: 0, count: chunk), right = left
        var same = true
        try forEachChunk(ranges) { offset, count in
            guard same else { return }
            try read(one, &left, offset, count, first)
            do { try read(two, &right, offset, count, second) } catch { same = false; return }
            same = left.prefix(count) == right.prefix(count)
        }
        return same
    }
}
