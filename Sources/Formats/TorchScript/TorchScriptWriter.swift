import Foundation
import TensorlintIR
import TorchArchive
import ZIPFoundation

/// Writes an edited copy of a TorchScript archive. Two edits exist:
/// - "keep the model fp32":
/// - every fp16/bf16 storage record (`data/<n>`, `constants/<n>`) converted, which is exact, and the storage
///   classes that name them in `data.pkl`, `constants.pkl` and `traced_inputs.pkl` renamed to `FloatStorage`
///   at the opcode level (element counts are unchanged; nothing is unpickled);
/// - in the code, the ScalarType numbers of fp16 and bf16 (`dtype=5`, `torch.to(x, 5)`) made float32's (6),
///   padded to the same length so that the source ranges of `.debug_pkl` still point where they did.
/// - replacing a node's call in the code by one nested expression of the replacement's ops, its arguments
///   the call's own argument texts; the rewritten file's `.debug_pkl` is left out, its offsets no longer hold.
/// Every other entry is copied byte for byte.
public struct TorchScriptWriter: ModelWriter {
    static let narrowScalarTypes: [Int64: DType] = [5: .float16, 15: .bfloat16]

    public static func supports(_ edit: ModelEdit, in model: Model) -> Bool {
        TorchArchiveEdits.supports(edit, in: model) { $0.source.written != nil }
    }

    /// A rewritten archive is a new file, not a few replaced byte ranges.
    public static func replacements(_ editSets: [[ModelEdit]], model: Model, from source: String) -> [[ByteReplacement]?] {
        editSets.map { _ in nil }
    }

    public static func write(_ edits: [ModelEdit], model: Model, from source: String, to destination: String) throws(WriteError) -> [String] {
        if let unsupported = edits.first(where: { !supports($0, in: model) }) { throw WriteError("a TorchScript archive cannot carry out: \(unsupported)") }
        let narrow = Set(edits.flatMap { edit -> [DType] in
            if case .convertModel(let from, _) = edit { return from } else { return [] }
        })
        let storageClasses = TorchStorageClass.narrowFloats.filter { narrow.contains($0.value) }
        // Calls to rewrite, by code entry; a class's code is shared by its instances, so one call may be asked for twice.
        var calls: [String: [Int: (node: Node, nodes: [InsertedNode])]] = [:]
        for edit in edits {
            guard case .replaceNode(_, let index, let nodes) = edit, let written = model.mainGraph.nodes[index].source.written else { continue }
            calls[written.entry, default: [:]][written.offset] = (model.mainGraph.nodes[index], nodes)
        }
        do {
            let entries = try ZipEntries(path: source)
            let layout = try TorchScriptFormat.layout(of: entries)
            var widened: [String: DType] = [:]
            var pickles: [String: [UInt8]] = [:]
            for (pickle, folder) in [("data.pkl", "data/"), ("constants.pkl", "constants/"), ("traced_inputs.pkl", "traced_inputs/")] {
                let name = layout.root + pickle
                guard entries.entriesByName[name] != nil else { continue }
                let bytes = [UInt8](try entries.data(name, limit: ArchivePickles.maximumPickleBytes))
                let widening: (pickle: [UInt8], keys: [String: DType])
                do { widening = try PickleStorages.widening(bytes, classes: storageClasses) } catch { throw WriteError("\(pickle): \(error)") }
                for (key, dtype) in widening.keys { widened[layout.root + folder + key] = dtype }
                pickles[name] = widening.pickle
            }
            let fileSize = UInt64((try? FileManager.default.attributesOfItem(atPath: source)[.size] as? Int) ?? 0)
            let limit = fileSize.multipliedReportingOverflow(by: 64).overflow ? UInt64(Int.max) : min(fileSize * 64, UInt64(Int.max))
            let narrowCodes = narrowScalarTypes.filter { narrow.contains($0.value) }
            var bytesBefore = 0, bytesAfter = 0, casts = 0
            var rewritten: [String] = []
            try entries.copy(to: destination) { name in
                let entry = String(name.dropFirst(layout.root.count))
                if entry.hasSuffix(".debug_pkl"), calls[String(entry.dropLast(".debug_pkl".count))] != nil { return nil }
                if let pickle = pickles[name] { return Data(pickle) }
                let data = try entries.data(name, limit: limit)
                if let dtype = widened[name] {
                    let wide = try TorchStorageClass.widened(data, from: dtype, name: name)
                    bytesBefore += data.count
                    bytesAfter += wide.count
                    return wide
                }
                guard name.hasPrefix(layout.root + "code/"), name.hasSuffix(".py") else { return data }
                var code = data
                if let replaced = calls[entry] {
                    code = try CallRewriter.rewrite(code, calls: replaced, file: entry)
                    rewritten += replaced.values.map { "replaced `\($0.node.op)` in \(entry) by \($0.nodes.map { "`\($0.op)`" }.joined(separator: ", "))" }
                }
                if !narrowCodes.isEmpty {
                    let (widened, count) = try widenedDTypeArguments(code, codes: Set(narrowCodes.keys), file: name)
                    casts += count
                    code = widened
                }
                return code
            }
            var summary = rewritten.sorted()
            if !widened.isEmpty {
                summary.append("widened \(widened.count) fp16/bf16 storage record\(widened.count == 1 ? "" : "s") to float32 (\(bytesBefore) → \(bytesAfter) bytes) and renamed their storage classes to FloatStorage")
            }
            if casts > 0 { summary.append("made \(casts) fp16/bf16 dtype argument\(casts == 1 ? "" : "s") of the code float32 (ScalarType 6)") }
            return summary
        } catch let error as WriteError {
            throw error
        } catch let error as ReadError {
            throw WriteError(error.description)
        } catch {
            throw WriteError("\(error)")
        }
    }

    /// The code with every `dtype=<n>` and the dtype of `torch.to(x, <n>, …)` / `torch.to(x, device, <n>, …)`
    /// made 6 where `n` is one of `codes`, each number replaced by one of the same width.
    static func widenedDTypeArguments(_ data: Data, codes: Set<Int64>, file: String) throws -> (Data, Int) {
        guard let text = String(data: data, encoding: .utf8) else { throw WriteError("\(file) is not UTF-8 text") }
        let tokens: [(token: Token, line: Int, offset: Int)]
        do { tokens = try SourceLexer.tokens(text) } catch { throw WriteError("\(file):\(error.line): \(error.reason)") }
        var offsets: [(offset: Int, width: Int)] = []
        for (index, entry) in tokens.enumerated() {
            guard case .int(let value) = entry.token, codes.contains(value), index >= 2 else { continue }
            if tokens[index - 1].token == .symbol("="), tokens[index - 2].token == .name("dtype") {
                offsets.append((entry.offset, String(value).utf8.count))
            } else if tokens[index - 1].token == .symbol(","), isDTypePosition(of: index, in: tokens) {
                offsets.append((entry.offset, String(value).utf8.count))
            }
        }
        var bytes = [UInt8](data)
        for (offset, width) in offsets.reversed() {
            bytes.replaceSubrange(offset..<offset + width, with: Array((String(repeating: " ", count: width - 1) + "6").utf8))
        }
        return (Data(bytes), offsets.count)
    }

    /// Whether the int token at `index` is the dtype argument of a `torch.to` call: its second positional
    /// argument, or its third after a `torch.device(…)`.
    static func isDTypePosition(of index: Int, in tokens: [(token: Token, line: Int, offset: Int)]) -> Bool {
        // Walk back to the call's opening parenthesis, counting the arguments at depth 0.
        var depth = 0
        var commas = 0
        var sawDevice = false
        var position = index - 1
        while position >= 0 {
            switch tokens[position].token {
            case .symbol(")"), .symbol("]"), .symbol("}"): depth += 1
            case .symbol("["), .symbol("{"): depth -= 1
            case .symbol("("):
                if depth == 0 {
                    guard position >= 3, tokens[position - 1].token == .name("to"), tokens[position - 2].token == .symbol("."),
                          tokens[position - 3].token == .name("torch") else { return false }
                    return commas == 1 || (commas == 2 && sawDevice)
                }
                depth -= 1
            case .symbol(","): if depth == 0 { commas += 1 }
            case .name("device"): if depth == 0 { sawDevice = true }
            default: break
            }
            if depth < 0 { return false }
            position -= 1
        }
        return false
    }
}
