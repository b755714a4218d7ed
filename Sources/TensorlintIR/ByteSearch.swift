extension Collection where Element == UInt8 {
    /// Where `part` first occurs, compared byte for byte: a plain search, specialised for the collection at
    /// hand. (The standard library's generic `firstRange(of:)` is not, and costs thousands of instructions a
    /// call; Foundation's `range(of:)` compares by locale.)
    func firstRange(ofBytes part: some Collection<UInt8>) -> Range<Index>? {
        guard let first = part.first else { return startIndex..<startIndex }
        var start = startIndex
        while let candidate = self[start...].firstIndex(of: first) {
            if self[candidate...].starts(with: part) { return candidate..<index(candidate, offsetBy: part.count) }
            start = index(after: candidate)
        }
        return nil
    }
}
