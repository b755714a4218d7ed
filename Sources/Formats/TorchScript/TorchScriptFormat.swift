import Foundation
import TensorlintIR
import TorchArchive

/// TorchScript archives (`torch.jit.save` of a traced or scripted module, `.pt`), read without unpickling:
/// the pickles are walked as data, the code files parsed, storages never read.
public enum TorchScriptFormat: ModelFormat {
    public static let id = Model.Format.torchScript
    public static let displayName = "a TorchScript .pt archive"
    public static let fileExtensions = ["pt", "pth"]
    public static let writer: (any ModelWriter.Type)? = TorchScriptWriter.self

    /// Code files are small; a larger one is hostile, not a model (pickles: `ArchivePickles.maximumPickleBytes`).
    static let maximumCodeBytes: UInt64 = 64 << 20

    public static func recognize(_ file: ModelFile) -> Recognition {
        guard file.prefix.starts(with: [0x50, 0x4B, 0x03, 0x04]) || file.prefix.starts(with: [0x50, 0x4B, 0x05, 0x06]) else { return .unrecognized }
        do {
            let entries = try file.zipEntries()
            do {
                _ = try layout(of: entries)
                return .recognized
            } catch {
                // A torch.save archive has TorchScript's container (a top folder with data.pkl) but no code: say so
                // when it is named; a zip without data.pkl (torch.export, anything else) is no concern of this format.
                let root = entries.names.first.map { String($0.prefix { $0 != "/" }) + "/" } ?? ""
                if case .notThisFormat = error, entries.entriesByName[root + "data.pkl"] == nil { return .unrecognized }
                return .signature(reason: error.reason)
            }
        } catch {
            return .unrecognized
        }
    }

    /// The archive's top folder and version, as `PyTorchStreamReader::init` finds them.
    struct Layout {
        var root: String
        var version: Int
    }

    static func layout(of entries: ZipEntries) throws(ReadError) -> Layout {
        guard let first = entries.names.first, let slash = first.firstIndex(of: "/") else {
            throw .notThisFormat("zip archive without a top folder, so not a TorchScript archive")
        }
        let root = String(first[...slash])
        guard entries.entriesByName[root + "data.pkl"] != nil,
              entries.entriesByName[root + "constants.pkl"] != nil || entries.names.contains(where: { $0.hasPrefix(root + "code/") })
        else {
            if entries.entriesByName[root + "model.json"] != nil {
                throw .notThisFormat("a TorchScript archive of the legacy model.json format (torch 1.0/1.1), which current torch no longer loads")
            }
            if entries.entriesByName[root + "data.pkl"] != nil {
                // Not a model, but what its pickle would run on loading is still said.
                let unsafe = try ArchivePickles.unsafeGlobals(in: entries, loader: .weightsOnly).first.map {
                    "; its pickle `\($0.pickle)` names `\($0.qualifiedName)`, which \($0.loader) does not allow: loading it may run code"
                }
                throw .notThisFormat("a torch.save archive (pickled tensors or objects, no TorchScript code): nothing to convert" + (unsafe ?? ""))
            }
            throw .notThisFormat("zip archive without \(root)data.pkl and code/, so not a TorchScript archive")
        }
        let versionEntry = entries.entriesByName[root + ".data/version"] != nil ? root + ".data/version" : root + "version"
        guard let text = entries.text(versionEntry), let version = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw .notThisFormat("torch zip archive without a readable version record")
        }
        guard (1...10).contains(version) else { throw .malformed("archive format version \(version); torch reads versions 1 to 10") }
        return Layout(root: root, version: version)
    }

    public static func read(_ file: ModelFile) throws(ReadError) -> Model {
        let entries = try file.zipEntries()
        let layout = try layout(of: entries)
        let unsafeGlobals = try ArchivePickles.unsafeGlobals(in: entries, loader: .torchScript)
        guard unsafeGlobals.isEmpty else {
            // torch.jit.load refuses these pickles, and reading their graph would mean trusting them: the
            // model is only what it is found to carry.
            var model = Model(path: file.path, format: .torchScript, layout: "TorchScript archive, format version \(layout.version)",
                              graphs: [Graph(name: "forward", nodes: [], values: [:], inputs: [], outputs: [])],
                              metadata: ["graph": "not read: the archive's pickles name globals torch.jit.load does not resolve"])
            model.unsafePickleGlobals = unsafeGlobals
            return model
        }
        let program = try TorchScriptArchiveReader(entries: entries, root: layout.root).program()
        var builder = TorchScriptGraphBuilder(program: program)
        let graph: Graph
        do { graph = try builder.build() } catch { throw .malformed(error.reason) }
        var metadata: [String: String] = [:]
        if program.tracedInputs == nil {
            metadata["inputs"] = "scripted module without traced inputs: tensor inputs taken as float32, of unknown shape"
        }
        return Model(path: file.path, format: .torchScript, layout: "TorchScript archive, format version \(layout.version)",
                     graphs: [graph], metadata: metadata)
    }
}

/// The records of a TorchScript archive, read into a `TorchScriptProgram`.
struct TorchScriptArchiveReader {
    let entries: ZipEntries
    let root: String

    func pickle(_ name: String) throws(ReadError) -> PickleValue? {
        guard entries.entriesByName[root + name] != nil else { return nil }
        let bytes = [UInt8](try entries.data(root + name, limit: ArchivePickles.maximumPickleBytes))
        do { return try PickleMachine.load(bytes, name: name) } catch { throw .malformed(error.description) }
    }

    func program() throws(ReadError) -> TorchScriptProgram {
        guard let data = try pickle("data.pkl") else { throw .malformed("missing data.pkl") }
        let constants = try pickle("constants.pkl")?.items ?? []
        var constantScalars: [Int: Argument] = [:]
        for (index, constant) in constants.enumerated() {
            guard case .tensor(let tensor) = constant, tensor.shape.isEmpty, let value = try scalar(tensor) else { continue }
            constantScalars[index] = value
        }
        var tracedInputs: [PickleTensor]?
        if case .dict(let methods)? = try pickle("traced_inputs.pkl"),
           let forward = methods.first(where: { $0.key.string == "forward" })?.value.items {
            tracedInputs = forward.compactMap { if case .tensor(let tensor) = $0 { return tensor } else { return nil } }
        }
        var classes: [String: (ClassDefinition, String)] = [:]
        var functions: [String: (FunctionDefinition, String)] = [:]
        var frames: [String: [Int: [SourceInfo.Frame]]] = [:]
        for name in entries.names where name.hasPrefix(root + "code/") && name.hasSuffix(".py") {
            let file = String(name.dropFirst(root.count))
            let data = try entries.data(name, limit: TorchScriptFormat.maximumCodeBytes)
            guard let text = String(data: data, encoding: .utf8) else { throw .malformed("\(file) is not UTF-8 text") }
            let source: SourceFile
            do { source = try SourceFile(parsing: text) } catch { throw .malformed("\(file):\(error.line): \(error.reason)") }
            let qualifier = file.dropFirst("code/".count).dropLast(".py".count).replacingOccurrences(of: "/", with: ".")
            for definition in source.classes { classes["\(qualifier).\(definition.name)"] = (definition, file) }
            for definition in source.functions { functions["\(qualifier).\(definition.name)"] = (definition, file) }
            if entries.entriesByName[name + ".debug_pkl"] != nil {
                frames[file] = (try? DebugRanges.frames(try entries.data(name + ".debug_pkl", limit: ArchivePickles.maximumPickleBytes),
                                                        code: Array(data))) ?? [:]
            }
        }
        return TorchScriptProgram(classes: classes, functions: functions, root: data, constants: constants, constantScalars: constantScalars,
                                  tracedInputs: tracedInputs, frames: frames)
    }

    /// The value of a 0-dim constant (a few bytes of `constants/<key>`).
    func scalar(_ tensor: PickleTensor) throws(ReadError) -> Argument? {
        guard let dtype = tensor.dtype, tensor.storage.elementCount <= 16 else { return nil }
        let bytes = [UInt8](try entries.data(root + "constants/" + tensor.storage.key, limit: 128))
        let size: [DType: Int] = [.int64: 8, .int32: 4, .float64: 8, .float32: 4, .bool: 1, .uint8: 1, .int8: 1]
        guard let width = size[dtype], bytes.count >= (Int(tensor.storageOffset) + 1) * width, tensor.storageOffset >= 0 else { return nil }
        let start = Int(tensor.storageOffset) * width
        let raw = bytes[start..<start + width].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        switch dtype {
        case .int64: return .int(Int64(bitPattern: raw))
        case .int32: return .int(Int64(Int32(truncatingIfNeeded: raw)))
        case .uint8, .bool: return .int(Int64(raw))
        case .int8: return .int(Int64(Int8(truncatingIfNeeded: raw)))
        case .float64: return .float(Double(bitPattern: raw))
        case .float32: return .float(Double(Float(bitPattern: UInt32(raw))))
        default: return nil
        }
    }
}

/// `code/….py.debug_pkl`: `('FORMAT_WITH_STRING_TABLE', strings, ((byte offset, ((text ids, file, line), start, end), …), …))`.
/// For traced code the text is the Python stack at trace time (`…/model.py(17): forward`), innermost first.
enum DebugRanges {
    static func frames(_ data: Data, code: [UInt8]) throws -> [Int: [SourceInfo.Frame]] {
        let value = try PickleMachine.load([UInt8](data), name: "debug_pkl")
        guard let top = value.items, top.count == 3, top[0].string == "FORMAT_WITH_STRING_TABLE",
              let strings = top[1].items?.map({ $0.string ?? "" }), let records = top[2].items else { return [:] }
        var lineStarts = [0]
        for (index, byte) in code.enumerated() where byte == 0x0A { lineStarts.append(index + 1) }
        var byLine: [Int: [SourceInfo.Frame]] = [:]
        var traces: [String: [SourceInfo.Frame]] = [:]
        for record in records {
            guard let fields = record.items, fields.count >= 2, let offset = fields[0].int,
                  let range = fields[1].items, let source = range.first?.items, let ids = source.first?.items else { continue }
            // The first record on a line names it; the line by binary search over the line starts.
            var low = 0, high = lineStarts.count
            while low < high {
                let middle = (low + high) / 2
                if lineStarts[middle] <= Int(offset) { low = middle + 1 } else { high = middle }
            }
            let line = max(low, 1)
            guard byLine[line] == nil else { continue }
            let text = ids.compactMap { $0.int.flatMap { strings.indices.contains(Int($0)) ? strings[Int($0)] : nil } }.joined()
            var stack = traces[text] ?? parse(text)
            traces[text] = stack
            // Scripted code records its Python source instead of a trace: the file, the text's first line, and
            // the range's start within the text.
            if stack.isEmpty, source.count >= 3, let fileIndex = source[1].int, strings.indices.contains(Int(fileIndex)),
               let firstLine = source[2].int, let start = range.dropFirst().first?.int, !strings[Int(fileIndex)].isEmpty {
                let prefix = text.utf8.prefix(Int(start))
                stack = [SourceInfo.Frame(file: strings[Int(fileIndex)], line: Int(firstLine) + prefix.filter { $0 == 0x0A }.count,
                                          function: nil, code: nil)]
            }
            guard !stack.isEmpty else { continue }
            byLine[line] = stack
        }
        return byLine
    }

    /// `path(line): function` lines, innermost first in the text; innermost last in the result. Text that is
    /// not such a trace, line for line, is none.
    static func parse(_ text: String) -> [SourceInfo.Frame] {
        var frames: [SourceInfo.Frame] = []
        for entry in text.split(separator: "\n") {
            guard let colon = entry.range(of: "): ", options: .backwards), let open = entry[..<colon.lowerBound].lastIndex(of: "("),
                  open > entry.startIndex, entry.first?.isWhitespace == false,
                  let line = Int(entry[entry.index(after: open)..<colon.lowerBound]) else { return [] }
            let function = entry[colon.upperBound...]
            guard !function.isEmpty, !function.contains(where: \.isWhitespace) else { return [] }
            frames.append(SourceInfo.Frame(file: String(entry[..<open]), line: line, function: String(function), code: nil))
        }
        return frames.reversed()
    }
}
