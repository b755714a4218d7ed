import Foundation
import TensorlintIR
import TorchArchive
import ZIPFoundation

/// Writes an edited copy of a torch.export archive. Two edits exist:
/// - "keep the model fp32": the dtype of every tensor's metadata and every dtype argument in the program
///   JSON (edited as text, so everything else in it stays byte for byte), and the weights and constants
///   widened from fp16/bf16 to fp32, which is exact. In the PT2 layout they are raw files described by JSON
///   configs; in the torch 2.7 flat layout they sit in nested torch.save archives, whose pickle is rewritten
///   at the opcode level (storage classes renamed), never executed.
/// - replacing main-graph nodes by others (`ProgramNodeReplacement`), in the same JSON text.
/// Other entries are copied unchanged.
public struct TorchExportWriter: ModelWriter {
    public static func supports(_ edit: ModelEdit, in model: Model) -> Bool { TorchArchiveEdits.supports(edit, in: model) }

    /// A rewritten archive is a new file, not a few replaced byte ranges.
    public static func replacements(_ editSets: [[ModelEdit]], model: Model, from source: String) -> [[ByteReplacement]?] {
        editSets.map { _ in nil }
    }

    public static func write(_ edits: [ModelEdit], model: Model, from source: String, to destination: String) throws(WriteError) -> [String] {
        if let unsupported = edits.first(where: { !supports($0, in: model) }) { throw WriteError("a torch.export archive cannot carry out: \(unsupported)") }
        var narrowTypes: [DType] = []
        var replacements: [(node: Int, nodes: [InsertedNode])] = []
        for edit in edits {
            switch edit {
            case .convertModel(let from, _): narrowTypes += from
            case .replaceNode(_, let node, let nodes): replacements.append((node, nodes))
            default: break
            }
        }
        guard Set(replacements.map(\.node)).count == replacements.count else { throw WriteError("a node is replaced twice") }
        let codes = Set(narrowTypes.compactMap(TorchSerializedDType.code))
        guard let float32 = TorchSerializedDType.code(.float32) else { throw WriteError("no serializer code for float32") }
        do {
            let entries = try ZipEntries(path: source)
            guard let programEntry = ArchiveLayout.detect(entryNames: entries.names, readText: entries.text)?.programEntry else {
                throw WriteError("not a torch.export archive")
            }
            // No entry can be larger than the archive holding it (stored entries) or than 64× it (deflated).
            let fileSize = UInt64((try? FileManager.default.attributesOfItem(atPath: source)[.size] as? Int) ?? 0)
            let limit = fileSize.multipliedReportingOverflow(by: 64).overflow ? UInt64(Int.max) : min(fileSize * 64, UInt64(Int.max))
            var widenedFiles: [String: DType] = [:]
            var retyped: Set<String> = []
            var pickledStorages: [String] = []
            if !codes.isEmpty {
                for name in entries.names {
                    if name.hasSuffix("_weights_config.json") || name.hasSuffix("_constants_config.json") {
                        let folder = String(name[..<(name.lastIndex(of: "/") ?? name.startIndex)])
                        for (file, dtype) in try payloads(in: try entries.data(name), config: name, codes: codes) {
                            widenedFiles[folder.isEmpty ? file : "\(folder)/\(file)"] = dtype
                        }
                        retyped.insert(name)
                    } else if name.hasSuffix(".json"), name.contains("/models/") || name.hasSuffix(ArchiveLayout.legacyProgramEntry) {
                        retyped.insert(name)
                    }
                }
                pickledStorages = entries.names.filter { $0.hasSuffix("serialized_state_dict.pt") || $0.hasSuffix("serialized_constants.pt") }
            }
            var summary: [String] = []
            var bytesBefore = 0, bytesAfter = 0
            // One entry at a time: memory stays at about one weight file, whatever the model's size.
            try entries.copy(to: destination) { name in
                var data = try entries.data(name, limit: limit)
                if let dtype = widenedFiles[name] {
                    let widened = try TorchStorageClass.widened(data, from: dtype, name: name)
                    bytesBefore += data.count
                    bytesAfter += widened.count
                    return widened
                }
                if pickledStorages.contains(name) {
                    let (archive, count) = try TorchSaveArchive.widenStorages(data, entry: name)
                    bytesAfter += count
                    return archive
                }
                if name == programEntry, !replacements.isEmpty {
                    var replacement = try ProgramNodeReplacement(data)
                    let (replaced, lines) = try replacement.apply(replacements, original: model.mainGraph)
                    data = replaced
                    summary += lines
                }
                return retyped.contains(name) ? try retype(data, codes: codes, to: float32, entry: name) : data
            }
            if !codes.isEmpty {
                summary.append("converted the program's fp16/bf16 tensor metadata and dtype arguments to float32")
                if widenedFiles.isEmpty, bytesAfter > 0 {
                    summary.append("widened the pickled fp16/bf16 weight and constant storages to float32 (\(bytesAfter) bytes)")
                } else if !widenedFiles.isEmpty {
                    summary.append("widened \(widenedFiles.count) weight and constant file\(widenedFiles.count == 1 ? "" : "s") to float32 (\(bytesBefore) → \(bytesAfter) bytes)")
                }
            }
            return summary
        } catch let error as WriteError {
            throw error
        } catch {
            throw WriteError("\(error)")
        }
    }

    /// `"dtype": 6` (tensor metadata) and `"as_scalar_type": 6` (dtype arguments) as object keys: after `{`,
    /// `,` or white space, never after the backslash of a quote inside a string.
    static func retype(_ json: Data, codes: Set<Int>, to target: Int, entry: String) throws -> Data {
        guard let text = String(data: json, encoding: .utf8) else { throw WriteError("\(entry) is not UTF-8 text") }
        let pattern = /(?<before>[{,\s])"(?<key>dtype|as_scalar_type)"(?<gap>\s*:\s*)(?<code>\d+)(?=\s*[,}])/
        let result = text.replacing(pattern) { match in
            guard let code = Int(match.output.code), codes.contains(code) else { return String(match.output.0) }
            return "\(match.output.before)\"\(match.output.key)\"\(match.output.gap)\(target)"
        }
        return Data(result.utf8)
    }

    /// The raw (unpickled) payload files of the config whose tensors have one of `codes`.
    static func payloads(in config: Data, config name: String, codes: Set<Int>) throws -> [(String, DType)] {
        guard let root = try JSONSerialization.jsonObject(with: config) as? [String: Any],
              let entries = root["config"] as? [String: Any] else { throw WriteError("\(name) is not a payload config") }
        var files: [(String, DType)] = []
        for (fqn, raw) in entries.sorted(by: { $0.key < $1.key }) {
            guard let meta = raw as? [String: Any], let tensor = meta["tensor_meta"] as? [String: Any],
                  let code = tensor["dtype"] as? Int, codes.contains(code), let dtype = TorchSerializedDType.dtype(code) else { continue }
            guard meta["use_pickle"] as? Bool != true, let path = meta["path_name"] as? String else {
                throw WriteError("`\(fqn)` is stored as a pickle, which tensorlint does not open")
            }
            files.append((path, dtype))
        }
        return files
    }
}
