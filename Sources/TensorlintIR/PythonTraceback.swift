/// Python stack traces as exporters record them (torch.export's `stack_trace`, the dynamo ONNX exporter's
/// `pkg.torch.onnx.stack_trace`): `File "…", line N, in f` lines, each followed by its code line.
public enum PythonTraceback {
    /// The frames, outermost first; a frame whose line number is missing or unreadable is left out.
    public static func frames(_ trace: String?) -> [SourceInfo.Frame] {
        guard let trace, !trace.isEmpty else { return [] }
        var frames: [SourceInfo.Frame] = []
        let lines = trace.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        for (index, line) in lines.enumerated() {
            guard let fileStart = line.range(of: "File \""), let closing = line[fileStart.upperBound...].firstIndex(of: "\"") else { continue }
            let file = String(line[fileStart.upperBound..<closing])
            let rest = line[closing...]
            guard let lineRange = rest.range(of: ", line ") else { continue }
            let afterLine = rest[lineRange.upperBound...]
            guard let number = Int(afterLine.prefix { $0.isNumber }) else { continue }
            let function = afterLine.range(of: ", in ").map { String(afterLine[$0.upperBound...]) }
            var code: String?
            if index + 1 < lines.count, !lines[index + 1].isEmpty, lines[index + 1].range(of: "File \"") == nil {
                code = lines[index + 1]
            }
            frames.append(SourceInfo.Frame(file: file, line: number, function: function, code: code))
        }
        return frames
    }
}
