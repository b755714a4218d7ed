import Foundation
import TensorlintEngine
import TensorlintIR
import TensorlintJSON

/// coremltools' torch frontend and MIL type system for one coremltools version.
public struct CoreMLKnowledge: Sendable {
    public let version: Version
    /// Sanitized op kinds the torch frontend registers (`leaky_relu`, `where.self`).
    public let registeredKinds: Set<String>
    /// Converter function names that call `promote_input_dtypes`.
    public let promotingConverters: Set<String>
    /// Registered kind → converter function.
    public let converterOf: [String: String]
    /// MIL's type domains per opset and op.
    let typeDomainTable: TypeDomainTable
    /// The opsets the type-domain table covers, oldest first.
    public var opsets: [DeploymentTarget] { typeDomainTable.opsets }
    /// Torch op (qualified, or with overload) → lowering.
    public let lowerings: [String: Lowering]
    /// Unregistered torch op → what converts instead.
    public let alternatives: [String: String]
    /// The exact rewrite of a torch op with overload (`aten.celu.default`) into ops that convert (torch's
    /// decompositions), read when a fix first needs it.
    public func rewrite(for op: String) -> TorchRewrite? { rewriteTable.rewrite(for: op) }
    /// Every rewrite of the table, read now; none if any does not read.
    public var rewrites: [String: TorchRewrite] { rewriteTable.all }
    private let rewriteTable: LazyRewrites

    public struct Lowering: Sendable {
        public var converter: String
        public var emits: [EmittedOp]
        /// Inputs a converter asserts to have one dtype (`assert x.dtype == y.dtype`).
        public var assertsSameDType: [String]
        /// How many outputs the converter binds, when fewer than the op has.
        public var bindsOutputs: Int?
        /// Arguments passed through `promote_input_dtypes` before the MIL op is built.
        public var promotes: [String]
    }

    public struct EmittedOp: Sendable {
        public var milOp: String
        public var bindings: [(input: String, binding: Binding)]
        /// Literal arguments and values for which the converter takes another path.
        public var skipWhenEqual: [String: Double]
        /// The inputs of a variadic op (concat's `values`), which must share one dtype.
        public var values: [String]
    }

    public enum Binding: Sendable {
        case argument(String, default: DType?)
        /// One tensor of a list argument.
        case item(String, index: Int)
        case constant(DType)
        case like(String)
    }

    init(version: Version, files: [String: String]) throws {
        self.version = version
        // A generated JSON table, read by `body` straight into the structures below.
        func json(_ name: String, _ body: (inout JSONReader, String) throws(JSONError) -> Void) throws {
            let file = "coremltools-\(version)/\(name)"
            guard let text = files[name] else { throw KnowledgeError(file: file, reason: "missing") }
            do {
                try JSONReader.read(text) { (reader: inout JSONReader) throws(JSONError) in try reader.readObject(body) }
            } catch {
                throw KnowledgeError(file: file, reason: error.description)
            }
        }
        var registered: [String] = [], promoting: [String] = [], converterOf: [String: String] = [:]
        try json("torch-frontend.json") { (reader: inout JSONReader, key: String) throws(JSONError) in
            switch key {
            case "registered": registered = try reader.readList(JSONReader.string)
            case "promoting_converters": promoting = try reader.readList(JSONReader.string)
            case "converter_of": converterOf = try reader.readDictionary(JSONReader.string)
            default: try reader.skipValue()
            }
        }
        registeredKinds = Set(registered)
        promotingConverters = Set(promoting)
        self.converterOf = converterOf
        let typeDomainFile = "coremltools-\(version)/mil-type-domains.json"
        guard let typeDomainText = files["mil-type-domains.json"] else { throw KnowledgeError(file: typeDomainFile, reason: "missing") }
        typeDomainTable = try TypeDomainTable(typeDomainText, file: typeDomainFile)
        let loweringFile = "coremltools-\(version)/torch-lowering.yml"
        let root = try knowledgeTable(files["torch-lowering.yml"], file: loweringFile)
        var lowerings: [String: Lowering] = [:]
        for (op, body) in root["ops"] as? [String: Any] ?? [:] {
            lowerings[op] = try Self.lowering(body as? [String: Any] ?? [:], op: op, file: loweringFile)
        }
        self.lowerings = lowerings
        alternatives = root["alternatives"] as? [String: String] ?? [:]
        let rewritesFile = "coremltools-\(version)/torch-rewrites.yml"
        rewriteTable = LazyRewrites(text: files["torch-rewrites.yml"], file: rewritesFile)
    }

    private static func lowering(_ body: [String: Any], op: String, file: String) throws -> Lowering {
        var emits: [EmittedOp] = []
        for case let emitted as [String: Any] in body["emits"] as? [Any] ?? [] {
            guard let milOp = emitted["mil_op"] as? String else { throw KnowledgeError(file: file, reason: "\(op): emitted op without mil_op") }
            var bindings: [(String, Binding)] = []
            for (input, raw) in (emitted["bind"] as? [String: Any] ?? [:]).sorted(by: { $0.key < $1.key }) {
                bindings.append((input, try binding(raw, op: op, file: file)))
            }
            var skips: [String: Double] = [:]
            for (argument, rule) in emitted["only_if"] as? [String: Any] ?? [:] {
                if let value = (rule as? [String: Any])?["not"] as? NSNumber { skips[argument] = value.doubleValue }
            }
            emits.append(EmittedOp(milOp: milOp, bindings: bindings, skipWhenEqual: skips, values: emitted["values"] as? [String] ?? []))
        }
        return Lowering(converter: body["converter"] as? String ?? op, emits: emits,
                        assertsSameDType: body["asserts_same_dtype"] as? [String] ?? [],
                        bindsOutputs: body["binds_outputs"] as? Int, promotes: body["promotes"] as? [String] ?? [])
    }

    private static func binding(_ raw: Any, op: String, file: String) throws -> Binding {
        if let name = raw as? String { return .argument(name, default: nil) }
        if let object = raw as? [String: Any] {
            if let name = object["argument"] as? String, let index = object["item"] as? Int { return .item(name, index: index) }
            if let name = object["argument"] as? String {
                return .argument(name, default: (object["default"] as? String).flatMap(DType.init(name:)))
            }
            if let dtype = (object["constant"] as? String).flatMap(DType.init(name:)) { return .constant(dtype) }
            if let name = object["like"] as? String { return .like(name) }
        }
        throw KnowledgeError(file: file, reason: "\(op): binding \(raw) is not NAME, {argument:}, {argument:, item:}, {constant:} or {like:}")
    }

    /// The type-domain table of the newest opset at or below the deployment target.
    public func typeDomains(of milOp: String, at target: DeploymentTarget) -> [String: String]? {
        typeDomainTable.entry(of: milOp, at: target)?.domainOf
    }

    /// Each type domain's inputs (in the op's input order) at the newest opset at or below the deployment target.
    public func typeDomainOrder(of milOp: String, at target: DeploymentTarget) -> [[String]]? {
        typeDomainTable.entry(of: milOp, at: target)?.members
    }

    /// The lowering for a node's op: with its overload first (`aten.where.ScalarSelf`), then without.
    public func lowering(for op: OpName) -> Lowering? {
        lowerings[op.description] ?? lowerings[op.qualifiedName]
    }

    /// coremltools' `sanitize_op_kind` applied to the kind `from_exir_node` builds from an fx target.
    /// Python callables (`_operator.getitem`) and higher-order ops are looked up by their bare name.
    public static func sanitizedKind(_ op: OpName) -> String {
        let bareNameNamespaces: Set<String> = ["", "_operator", "operator", "builtins", "math", "higher_order"]
        var kind = bareNameNamespaces.contains(op.namespace) ? op.name : "\(op.namespace)::\(op.name)"
        if let overload = op.overload, overload != "default" { kind += ".\(overload)" }
        kind = kind.lowercased()
        if kind.hasPrefix("__"), kind.hasSuffix("__"), kind.count > 4 { kind = String(kind.dropFirst(2).dropLast(2)) }
        let droppedSuffixes: Set<String> = ["default", "int", "tensor", "tensor_mode", "scalar", "tensor_scalar"]
        for delimiter in ["::", "."] {
            var parts = kind.components(separatedBy: delimiter)
            if parts.count > 1, parts[0] == "aten" || parts[0] == "prim" { parts.removeFirst() }
            if parts.count > 1, droppedSuffixes.contains(parts[parts.count - 1]) { parts.removeLast() }
            kind = parts.joined(separator: delimiter)
        }
        return kind
    }
}

/// The rewrite table: its entries are found on first use, and each is read the first time a fix asks for it,
/// by whichever thread asks first. A table or an entry that does not read (a defect of the build, which the
/// tests catch) holds no rewrite.
private final class LazyRewrites: @unchecked Sendable {
    private let text: String?
    private let file: String
    private let lock = NSLock()
    private var entries: [String: Any]?
    private var loaded: [String: TorchRewrite?] = [:]

    init(text: String?, file: String) {
        self.text = text
        self.file = file
    }

    func rewrite(for op: String) -> TorchRewrite? {
        lock.withLock { locked(op) }
    }

    /// The whole table, or none of it if any entry does not read.
    var all: [String: TorchRewrite] {
        (try? text.map { try TorchRewrite.load($0, file: file) }) ?? [:]
    }

    private func locked(_ op: String) -> TorchRewrite? {
        if let known = loaded[op] { return known }
        let rewrite = tableEntries()[op].flatMap { try? TorchRewrite.load(op: op, entry: $0, file: file) }
        loaded[op] = rewrite
        return rewrite
    }

    private func tableEntries() -> [String: Any] {
        if let entries { return entries }
        let read = (try? text.map { try TorchRewrite.entries($0, file: file) }) ?? [:]
        entries = read
        return read
    }
}
