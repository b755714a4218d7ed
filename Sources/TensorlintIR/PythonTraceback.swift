/// Python stack traces as exporters record them (torch.export's `stack_trace`, the dynamo ONNX exporter's
/// `pkg.torch.onnx.stack_trace`): `File "…", line N, in f` lines, each followed by its code line.
public enum PythonTraceback {
    /// The frames, outermost first; a frame whose line number is missing or unreadable is left out.
    public static func frames(_ trace: String?) -> [SourceInfo.Frame] {
        guard let trace, !trace.isEmpty else { return [] }
        var frames: [SourceInfo.Frame] = []
        let lines = trace.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map(trimmed)
        for (index, line) in lines.enumerated() {
            guard let fileStart = line.firstRange(ofBytes: fileMarker),
                  let closing = line[fileStart.upperBound...].firstIndex(of: UInt8(ascii: "\"")) else { continue }
            let rest = line[closing...]
            guard let lineRange = rest.firstRange(ofBytes: ", line ".utf8) else { continue }
            let afterLine = rest[lineRange.upperBound...]
            guard let number = Int(text(afterLine.prefix { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })) else { continue }
            let function = afterLine.firstRange(ofBytes: ", in ".utf8).map { text(afterLine[$0.upperBound...]) }
            var code: String?
            if index + 1 < lines.count, !lines[index + 1].isEmpty, lines[index + 1].firstRange(ofBytes: fileMarker) == nil {
                code = text(lines[index + 1])
            }
            frames.append(SourceInfo.Frame(file: text(line[fileStart.upperBound..<closing]), line: number, function: function, code: code))
        }
        return frames
    }

    private static let fileMarker = Array("File \"".utf8)

    /// The line without the spaces and tabs around it.
    private static func trimmed(_ line: Substring.UTF8View.SubSequence) -> Substring.UTF8View.SubSequence {
        let isBlank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r") }
        guard let first = line.firstIndex(where: { !isBlank($0) }), let last = line.lastIndex(where: { !isBlank($0) }) else {
            return line[line.startIndex..<line.startIndex]
        }
        return line[first...last]
    }

    private static func text(_ bytes: Substring.UTF8View.SubSequence) -> String {
        String(Substring(bytes))
    }
}
