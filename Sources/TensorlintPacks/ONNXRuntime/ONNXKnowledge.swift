import Foundation
import TensorlintEngine
import TensorlintIR

/// ONNX operator schemas of one onnx release (generated from `onnx.defs`) plus the curated rules for
/// outputs whose type an attribute sets, which the schemas leave to C++ inference functions.
public struct ONNXSchemas: Sendable {
    public let onnxVersion: String
    /// Domain (`ai.onnx`) → op → schema versions, oldest first; decoded on first use.
    let schemas: OperatorTable<[OperatorSchema]>
    /// Op → how its outputs' types follow from attributes.
    public let attributeTypes: [String: AttributeTyping]
    /// `domain.op` → what onnx's type-and-shape inference demands of the node's attributes (curated from onnx's
    /// sources: `inference-attribute-checks.yml`).
    public let inferenceChecks: [String: [AttributeCheck]]

    public struct FormalParameter: Sendable {
        public enum Option: String, Sendable { case single, optional, variadic }
        public var name: String
        /// A type parameter (`T`) or a fixed type (`tensor(int64)`).
        public var typeString: String
        public var option: Option
        public var isHomogeneous: Bool
    }

    public struct OperatorSchema: Sendable {
        public var domain: String
        public var name: String
        public var since: Int
        public var inputs: [FormalParameter]
        public var outputs: [FormalParameter]
        /// Type parameter → allowed types (DType raw values, or ONNX spellings for non-tensor types).
        public var constraints: [String: Set<String>]
        public var deprecated: Bool
        /// The function bodies a runtime may expand the node into, by the opset they are written for, oldest first.
        public var functions: [FunctionBody]
        /// Attribute name → type (`int`, `float`, `tensor` …).
        public var attributes: [String: String]
        /// The attributes with a default value, which a node that leaves them out gets.
        public var defaults: Set<String>
        /// The attributes a node must set (`OpSchema::Verify`: "Required attribute 'X' is missing.").
        public var required: Set<String>
        /// Whether a node may set attributes the schema does not declare (`AllowUncheckedAttributes`); anything
        /// else is an "Unrecognized attribute".
        public var allowsUncheckedAttributes: Bool

        /// The formal parameter at an input or output position (variadic last parameters repeat).
        func formal(_ parameters: [FormalParameter], at position: Int) -> FormalParameter? {
            if position < parameters.count { return parameters[position] }
            return parameters.last.flatMap { $0.option == .variadic ? $0 : nil }
        }

        /// The types a formal parameter accepts.
        func allowedTypes(_ parameter: FormalParameter) -> Set<String> {
            constraints[parameter.typeString] ?? [ONNXSchemas.typeName(parameter.typeString)]
        }
    }

    /// A schema's function body: what onnxruntime runs instead of a kernel it does not have.
    public struct FunctionBody: Sendable {
        /// The opset the body is written for.
        public var opset: Int
        /// A context-dependent body is built per node, from its types and inputs: this one as built for a node
        /// with `present` leading inputs whose first input has one of `types`. A static body has neither.
        public var contextDependent: Bool
        public var present: Set<Int>
        public var types: Set<String>
        public var inputs: [String]
        public var outputs: [String]
        /// `nil`: the builder refuses a node that has no attributes.
        public var nodes: [BodyNode]?
    }

    /// What a node without a kernel is expanded into.
    public enum Expansion {
        /// No body: the node fails.
        case none
        /// A context-dependent body the generator did not build for this node (not for these inputs, or not
        /// without attributes, which the node has): the node is taken to run.
        case unmodelled
        case body(FunctionBody)
    }

    public struct BodyNode: Sendable {
        public var op: String
        public var domain: String
        public var inputs: [String]
        public var outputs: [String]
        public var attributes: [String: BodyAttribute]
    }

    /// What the type checker needs of a body node's attribute.
    public enum BodyAttribute: Sendable, Decodable {
        /// The calling node's attribute of this name (`@to`).
        case reference(String)
        case int(Int64)
        /// A tensor, by its element type.
        case tensor(DType?)
        /// Any other value: only its presence matters (Constant `value_float`).
        case present

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Int64.self) {
                self = .int(number)
            } else if let text = try? container.decode(String.self), text.hasPrefix("@") {
                self = .reference(String(text.dropFirst()))
            } else if let tensor = try? container.decode([String: String].self), let element = tensor["tensor"] {
                self = .tensor(DType(rawValue: element))
            } else {
                _ = try container.decode(Bool.self)
                self = .present
            }
        }
    }

    /// The body onnxruntime expands a node of this schema into at the model's opset, as onnx's
    /// `OpSchema::GetFunction` gives it: the newest written for that opset or an older one, and a static body
    /// only while every standard op it calls resolves at the model's opset to the schema it was written
    /// against; a context-dependent body as built for the node's leading inputs and first input's type.
    public func expansion(of schema: OperatorSchema, at opset: Int, presentInputs: Int, firstInputType: DType?,
                          hasAttributes: Bool) -> Expansion {
        guard let newest = schema.functions.last(where: { $0.opset <= opset })?.opset else { return .none }
        let bodies = schema.functions.filter { $0.opset == newest }
        guard !bodies[0].contextDependent else {
            let built = bodies.first { body in
                body.present.contains(presentInputs) && firstInputType.map { body.types.contains($0.rawValue) } == true
            }
            guard let built else { return .unmodelled }
            if built.nodes == nil { return hasAttributes ? .unmodelled : .none }
            return .body(built)
        }
        let body = bodies[0]
        for node in body.nodes ?? [] where node.domain == "ai.onnx" && body.opset != opset {
            if self.schema(domain: node.domain, name: node.op, opset: opset)?.since
                != self.schema(domain: node.domain, name: node.op, opset: body.opset)?.since { return .none }
        }
        return .body(body)
    }

    /// How an op's output type comes from an attribute (Cast `to`, ConstantOfShape `value` …).
    public struct AttributeTyping: Sendable {
        /// An INT attribute holding a `TensorProto.DataType` (Cast `to`, RandomNormal `dtype`).
        public var dataTypeAttribute: String?
        /// Tensor attributes whose element type is the output's (ConstantOfShape `value`, Constant `value`).
        public var tensorAttributes: [String]
        /// Attributes whose mere presence fixes the type (Constant `value_float` → float32).
        public var presenceTypes: [String: DType]
        /// Otherwise the type of this input, or this default.
        public var likeInput: Int?
        public var defaultType: DType?
    }

    /// `TensorProto.DataType` number → DType, from the generated table.
    let dataTypes: [Int64: DType]
    /// Every `TensorProto.DataType` number the onnx version defines, whether tensorlint has a dtype for it or not.
    let dataTypeNumbers: Set<Int64>

    /// The schema version in force for an op at an opset version.
    public func schema(domain: String, name: String, opset: Int) -> OperatorSchema? {
        schemas.row(domain: domain, op: name)?.last { $0.since <= opset }
    }

    public func knows(domain: String) -> Bool { schemas.domains.contains(domain) }

    /// `tensor(float)` → `float32`, as the generator writes allowed types.
    static func typeName(_ onnxType: String) -> String {
        guard onnxType.hasPrefix("tensor("), onnxType.hasSuffix(")") else { return onnxType }
        let element = String(onnxType.dropFirst("tensor(".count).dropLast())
        let names = ["float": "float32", "double": "float64", "float8e8m0": "float8e8m0fnu"]
        return names[element] ?? element
    }

    /// How a type reads in onnxruntime's messages: `tensor(float16)`.
    public static func onnxSpelling(_ dtype: DType) -> String {
        let names: [DType: String] = [.float32: "float", .float64: "double", .float8e8m0fnu: "float8e8m0"]
        return "tensor(\(names[dtype] ?? dtype.rawValue))"
    }

    /// The `TensorProto.DataType` number of a dtype, for fixes that write `Cast(to=…)`.
    public func dataTypeNumber(_ dtype: DType) -> Int64? {
        dataTypes.first { $0.value == dtype }?.key
    }

    init(folder: String, folders: [String: KnowledgeFolder]) throws {
        let (header, table) = try OperatorTable<[OperatorSchema]>.load(folder: folder, file: "operator-schemas.jsonl", folders: folders,
                                                                       header: SchemaHeader.self) { domain, op, data in
            try JSONDecoder().decode(SchemaLine.self, from: data).versions.map { $0.schema(domain: domain, name: op) }
        }
        let files = folders[folder] ?? [:]
        onnxVersion = header.onnx_version
        var dataTypes: [Int64: DType] = [:]
        for (number, name) in header.data_types {
            if let value = Int64(number), let dtype = DType(rawValue: name) { dataTypes[value] = dtype }
        }
        self.dataTypes = dataTypes
        dataTypeNumbers = Set(header.data_types.keys.compactMap { Int64($0) })
        schemas = table
        let typingFile = "\(folder)/attribute-types.yml"
        let typing = try knowledgeTable(files["attribute-types.yml"], file: typingFile)
        var attributeTypes: [String: AttributeTyping] = [:]
        for (op, body) in typing["ops"] as? [String: [String: Any]] ?? [:] {
            var presence: [String: DType] = [:]
            for (attribute, name) in body["presence"] as? [String: String] ?? [:] {
                guard let dtype = DType(name: name) else { throw KnowledgeError(file: typingFile, reason: "\(op): unknown dtype \(name)") }
                presence[attribute] = dtype
            }
            attributeTypes[op] = AttributeTyping(
                dataTypeAttribute: body["data_type_attribute"] as? String,
                tensorAttributes: body["tensor_attributes"] as? [String] ?? [],
                presenceTypes: presence,
                likeInput: body["like_input"] as? Int,
                defaultType: (body["default"] as? String).flatMap(DType.init(name:)))
        }
        self.attributeTypes = attributeTypes
        inferenceChecks = try AttributeCheck.load("inference-attribute-checks.yml", chain: table.chain, folders: folders,
                                                  release: Version(header.onnx_version) ?? Version("0")!)
    }

    /// The first line of `operator-schemas.jsonl`, as `scripts/generate_onnx_knowledge.py` writes it.
    private struct SchemaHeader: TableHeader {
        let onnx_version: String
        let data_types: [String: String]
        let base: String?
        let removed: [[String]]?
    }

    /// One operator's line: its schema versions.
    private struct SchemaLine: Decodable {
        let versions: [Entry]

        struct Entry: Decodable {
            let since: Int
            let inputs: [Formal]
            let outputs: [Formal]
            let constraints: [String: [String]]
            let attributes: [String: String]
            let deprecated: Bool?
            let defaults: [String]?
            let required: [String]?
            let unchecked_attributes: Bool?
            let functions: [Function]?

            func schema(domain: String, name: String) -> OperatorSchema {
                OperatorSchema(domain: domain, name: name, since: since, inputs: inputs.map(\.parameter), outputs: outputs.map(\.parameter),
                               constraints: constraints.mapValues(Set.init), deprecated: deprecated ?? false,
                               functions: (functions ?? []).map(\.body), attributes: attributes, defaults: Set(defaults ?? []),
                               required: Set(required ?? []), allowsUncheckedAttributes: unchecked_attributes ?? false)
            }
        }

        struct Function: Decodable {
            let opset: Int
            let context: Bool
            let present: [Int]?
            let types: [String]?
            let inputs: [String]
            let outputs: [String]
            let nodes: [Node]?

            var body: FunctionBody {
                FunctionBody(opset: opset, contextDependent: context, present: Set(present ?? []), types: Set(types ?? []),
                             inputs: inputs, outputs: outputs, nodes: nodes?.map {
                    BodyNode(op: $0.op, domain: $0.domain ?? "ai.onnx", inputs: $0.in, outputs: $0.out, attributes: $0.attr ?? [:])
                })
            }

            struct Node: Decodable {
                let op: String
                let domain: String?
                let `in`: [String]
                let out: [String]
                let attr: [String: BodyAttribute]?
            }
        }

        /// `[name, type, option, homogeneous]`.
        struct Formal: Decodable {
            let parameter: FormalParameter

            init(from decoder: any Decoder) throws {
                var row = try decoder.unkeyedContainer()
                let name = try row.decode(String.self), type = try row.decode(String.self)
                let option = FormalParameter.Option(rawValue: try row.decode(String.self)) ?? .single
                parameter = FormalParameter(name: name, typeString: type, option: option, isHomogeneous: try row.decode(Bool.self))
            }
        }
    }
}

/// A check on a node's attributes that a schema leaves optional, curated from the sources that make it: onnx's
/// type-and-shape inference functions (the model does not load) or onnxruntime's CPU kernel constructors (the
/// session fails when it creates the kernel).
public struct AttributeCheck: Sendable {
    public enum Requirement: String, Sendable {
        /// The attributes are set.
        case present
        /// Set, and a positive integer.
        case positive
        /// Set, with at least one element.
        case nonEmpty = "non_empty"
        /// Exactly one of the attributes is set with at least one element.
        case oneOf = "one_of"
        /// At least one of them is set with at least one element.
        case anyOf = "any_of"
        /// Exactly one of the attributes is set, empty or not.
        case exactlyOnePresent = "exactly_one_present"
        /// No more than one of them is set.
        case atMostOnePresent = "at_most_one_present"
    }

    public var versions: Set<Int>
    public var requirement: Requirement
    public var attributes: [String]
    /// The check runs only on nodes that list exactly this many inputs (empty names counted, as
    /// `OpKernelInfo::GetInputCount` and `InferenceContext::getNumInputs` count them); `nil`: on every node.
    public var inputCount: Int?
    /// What the node needs and what to change, where it is not setting the attributes named (Resize with X
    /// alone needs its scales or sizes input, not the attribute its kernel reads from Upsample-7's form).
    public var needs: String?
    public var fix: String?
    /// Where the check is in the sources (`file:line`), and what it prints when it fails.
    public var source: String
    public var message: String

    /// Whether a node with these attributes and this many inputs passes the check.
    public func accepts(_ attributes: [String: Argument], inputCount: Int) -> Bool {
        if let checked = self.inputCount, checked != inputCount { return true }
        func isSet(_ name: String) -> Bool {
            switch attributes[name] {
            case nil: return false
            case .ints(let values)?: return !values.isEmpty
            case .floats(let values)?: return !values.isEmpty
            case .other(let text)?: return text != "strings []"
            default: return true
            }
        }
        let present = self.attributes.filter { attributes[$0] != nil }.count
        switch requirement {
        case .present: return present == self.attributes.count
        case .nonEmpty: return self.attributes.allSatisfy(isSet)
        case .positive:
            return self.attributes.allSatisfy { if case .int(let value)? = attributes[$0] { return value > 0 } else { return false } }
        case .oneOf: return self.attributes.filter(isSet).count == 1
        case .anyOf: return self.attributes.contains(where: isSet)
        case .exactlyOnePresent: return present == 1
        case .atMostOnePresent: return present <= 1
        }
    }

    /// What the check demands, for messages: "exactly one of `a`, `b` set on a node with a single input".
    public var requirementDescription: String {
        if let needs { return needs }
        let names = attributes.map { "`\($0)`" }
        var text: String
        switch requirement {
        case .present: text = "\(names.joined(separator: " and ")) set"
        case .positive: text = "\(names.joined(separator: " and ")) set to a positive number"
        case .nonEmpty: text = "\(names.joined(separator: " and ")) set and not empty"
        case .oneOf: text = "exactly one of \(names.joined(separator: ", ")) set and not empty"
        case .anyOf: text = "one of \(names.joined(separator: ", ")) set and not empty"
        case .exactlyOnePresent: text = "exactly one of \(names.joined(separator: ", ")) set"
        case .atMostOnePresent: text = "no more than one of \(names.joined(separator: ", ")) set"
        }
        if let inputCount {
            text += " on a node with " + (inputCount == 0 ? "no inputs" : inputCount == 1 ? "a single input" : "\(inputCount) inputs")
        }
        return text
    }

    /// What to change on a node that fails the check.
    public var fixDescription: String { fix ?? "have \(requirementDescription), as the exporter that made the model should have" }

    /// The checks of the file in the first folder of the chain that has it (a release without a file of its
    /// own uses the one of the nearest release its tables build on) that hold for `release` (an entry's
    /// `releases`, `">=1.25"`, limits it to the releases whose sources have that check), by `domain.op`.
    static func load(_ name: String, chain: [String], folders: [String: KnowledgeFolder], release: Version) throws -> [String: [AttributeCheck]] {
        guard let folder = chain.first(where: { folders[$0]?[name] != nil }), let text = folders[folder]?[name] else { return [:] }
        let file = "\(folder)/\(name)"
        var checks: [String: [AttributeCheck]] = [:]
        for (index, entry) in ((try knowledgeTable(text, file: file))["refusals"] as? [[String: Any]] ?? []).enumerated() {
            guard let domain = entry["domain"] as? String, let op = entry["op"] as? String,
                  let versions = entry["versions"] as? [Int], let check = entry["check"] as? String,
                  let requirement = Requirement(rawValue: check), let attributes = entry["attributes"] as? [String],
                  let source = entry["source"] as? String, let line = entry["line"] as? Int, let message = entry["message"] as? String
            else { throw KnowledgeError(file: file, reason: "refusal \(index + 1) lacks domain, op, versions, check, attributes, source, line or message") }
            let counting: Set<Requirement> = [.oneOf, .anyOf, .exactlyOnePresent, .atMostOnePresent]
            guard attributes.count >= (counting.contains(requirement) ? 2 : 1),
                  ["needs", "fix"].allSatisfy({ entry[$0] == nil || entry[$0] is String }) else {
                throw KnowledgeError(file: file, reason: "refusal \(index + 1): \(check) needs \(counting.contains(requirement) ? "two attributes or more" : "an attribute"), and `needs` and `fix` are text")
            }
            if let releases = entry["releases"] {
                guard let text = releases as? String, let range = VersionRange(parsing: text) else {
                    throw KnowledgeError(file: file, reason: "refusal \(index + 1) has `releases` that is no version range (\">=1.25, <1.30\")")
                }
                if !range.contains(release) { continue }
            }
            let inputCount = entry["when_inputs"] as? Int
            if entry["when_inputs"] != nil && inputCount == nil {
                throw KnowledgeError(file: file, reason: "refusal \(index + 1) has a `when_inputs` that is not a number")
            }
            checks["\(domain).\(op)", default: []].append(AttributeCheck(
                versions: Set(versions), requirement: requirement, attributes: attributes, inputCount: inputCount,
                needs: entry["needs"] as? String, fix: entry["fix"] as? String, source: "\(source):\(line)", message: message))
        }
        return checks
    }
}

/// onnxruntime's CPU kernel registry for one onnxruntime release, and the schemas it checks models against.
public struct ONNXRuntimeKnowledge: Sendable {
    public let version: Version
    public let schemas: ONNXSchemas
    /// Domain → newest opset onnxruntime officially supports.
    public let newestSupportedOpset: [String: Int]
    /// The domains of onnxruntime's schema registry: a node of any other domain (that no model-local function
    /// defines) is "not a registered function/op".
    public let registeredDomains: Set<String>
    /// Domain → op → kernels; decoded on first use.
    let kernels: OperatorTable<[Kernel]>
    /// `domain.op` → what the CPU kernel's constructor demands of the node's attributes (curated from
    /// onnxruntime's sources: `kernel-attribute-checks.yml`).
    public let attributeChecks: [String: [AttributeCheck]]

    public struct Kernel: Sendable {
        /// Since-versions of the op schema the kernel serves.
        public var versions: ClosedRange<Int>
        /// Type parameter → types this kernel binds.
        public var types: [String: Set<String>]
    }

    public func kernels(domain: String, op: String) -> [Kernel]? { kernels.row(domain: domain, op: op) }

    /// Whether the CPU provider has kernels in this domain: an op of it without one has none at all.
    public func implements(domain: String) -> Bool { kernels.domains.contains(domain) }

    /// The kernels serving this schema version, as `KernelRegistry::VerifyKernelDef` accepts them: one that
    /// starts at the schema's version, or a closed range that started earlier and reaches it. A kernel open to
    /// all later versions serves only the version it starts at, so a newer schema version that onnxruntime
    /// has not caught up with has no kernel. `nil` when the op has no CPU kernel at any version.
    func kernels(for schema: ONNXSchemas.OperatorSchema) -> [Kernel]? {
        kernels(domain: schema.domain, op: schema.name)?.filter { kernel in
            let range = kernel.versions
            return range.lowerBound == schema.since
                || (range.lowerBound < schema.since && range.upperBound != Int.max && range.upperBound >= schema.since)
        }
    }

    /// Decodes every line of both generated tables, so that a defect in them fails a test rather than
    /// silently hiding an operator.
    public func validateTables() throws {
        try schemas.schemas.validate()
        try kernels.validate()
    }

    /// The kernel table names the onnx schema folder it was generated with (`onnx_knowledge`), and is
    /// checked against that one.
    init(folder: String, version: Version, folders: [String: KnowledgeFolder]) throws {
        self.version = version
        let (header, table) = try OperatorTable<[Kernel]>.load(folder: folder, file: "cpu-kernels.jsonl", folders: folders,
                                                               header: KernelHeader.self) { _, _, data in
            try JSONDecoder().decode(KernelLine.self, from: data).kernels.map(\.kernel)
        }
        guard folders[header.onnx_knowledge] != nil else {
            throw KnowledgeError(file: "\(folder)/cpu-kernels.jsonl", reason: "names the schema folder \(header.onnx_knowledge), which is not there")
        }
        schemas = try ONNXSchemas(folder: header.onnx_knowledge, folders: folders)
        newestSupportedOpset = header.newest_supported_opset
        registeredDomains = Set(header.registered_domains)
        kernels = table
        attributeChecks = try AttributeCheck.load("kernel-attribute-checks.yml", chain: table.chain, folders: folders, release: version)
    }

    /// The first line of `cpu-kernels.jsonl`, as `scripts/generate_onnx_knowledge.py` writes it.
    private struct KernelHeader: TableHeader {
        let onnx_knowledge: String
        let newest_supported_opset: [String: Int]
        let registered_domains: [String]
        let base: String?
        let removed: [[String]]?
    }

    /// One operator's line: its kernels.
    private struct KernelLine: Decodable {
        let kernels: [Row]

        /// `[since, until or null, {type parameter: [types]}]`.
        struct Row: Decodable {
            let kernel: Kernel

            init(from decoder: any Decoder) throws {
                var row = try decoder.unkeyedContainer()
                let low = try row.decode(Int.self)
                let high = try row.decodeNil() ? Int.max : try row.decode(Int.self)
                let types = try row.decode([String: [String]].self)
                kernel = Kernel(versions: low...max(low, high), types: types.mapValues(Set.init))
            }
        }
    }
}

/// The header of a generated table: what every table's header may say besides its own keys.
protocol TableHeader: Decodable {
    /// The folder whose table of the same name this one holds the differences from.
    var base: String? { get }
    /// `[domain, op]` of the base's operators this table does not have.
    var removed: [[String]]? { get }
}

/// A JSON Lines table with a header line and one line per operator (`{"domain":…,"op":…,…}`). Loading
/// only indexes the lines; a line is decoded the first time its operator is asked for, so a run pays for
/// the operators its model uses, not for the whole table.
final class OperatorTable<Row: Sendable>: @unchecked Sendable {
    typealias Decode = @Sendable (_ domain: String, _ op: String, _ line: Data) throws -> Row

    private let lines: [String: [String: Line]]
    private let decode: Decode
    private let lock = NSLock()
    private var decoded: [String: Row?] = [:]

    let domains: Set<String>
    /// The folders the table was read from: its own, then each base it builds on.
    let chain: [String]

    /// An operator's line and the file it comes from.
    private struct Line {
        var bytes: ArraySlice<UInt8>
        var file: String
    }

    private init(lines: [String: [String: Line]], chain: [String], decode: @escaping Decode) {
        self.lines = lines
        self.chain = chain
        self.decode = decode
        domains = Set(lines.keys)
    }

    /// The table `file` of a knowledge folder: its header (decoded now) and its operator lines (indexed by
    /// their leading keys). A table whose header names a `base` (the same table of another folder) holds only
    /// the operators that differ from it and lists those it lacks under `removed`; the others come from the base.
    static func load<Header: TableHeader>(folder: String, file: String, folders: [String: KnowledgeFolder], header: Header.Type,
                                          decode: @escaping Decode) throws -> (Header, OperatorTable) {
        var lines: [String: [String: Line]] = [:]
        var chain: [String] = []
        func overlay(_ folder: String) throws -> Header {
            let path = "\(folder)/\(file)"
            guard !chain.contains(folder) else { throw KnowledgeError(file: path, reason: "builds on itself (\(chain.joined(separator: " → ")))") }
            chain.append(folder)
            guard let text = folders[folder]?[file], let newline = text.utf8.firstIndex(of: UInt8(ascii: "\n")) else {
                throw KnowledgeError(file: path, reason: "missing or empty")
            }
            let decodedHeader: Header
            do {
                decodedHeader = try JSONDecoder().decode(Header.self, from: Data(text[..<newline].utf8))
            } catch {
                throw KnowledgeError(file: path, reason: "line 1 is not the generator's header (\(error))")
            }
            if let base = decodedHeader.base {
                _ = try overlay(base)
                for removed in decodedHeader.removed ?? [] {
                    guard removed.count == 2, lines[removed[0]]?.removeValue(forKey: removed[1]) != nil else {
                        throw KnowledgeError(file: path, reason: "removes \(removed), which \(base)/\(file) does not have")
                    }
                }
            }
            // Lines are found in one contiguous copy of the bytes: splitting String.UTF8View was most of a start.
            var contiguous = text
            contiguous.makeContiguousUTF8()
            let bodyStart = text.utf8.distance(from: text.utf8.startIndex, to: newline) + 1
            let bytes = contiguous.utf8.withContiguousStorageIfAvailable { Array($0[bodyStart...]) } ?? []
            var start = 0, number = 2
            while start < bytes.count {
                let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
                if end > start {
                    let line = bytes[start..<end]
                    guard let (domain, op) = leadingKeys(line) else {
                        throw KnowledgeError(file: path, reason: "line \(number) does not start with {\"domain\":…,\"op\":…")
                    }
                    lines[domain, default: [:]][op] = Line(bytes: line, file: path)
                }
                start = end + 1
                number += 1
            }
            return decodedHeader
        }
        let header = try overlay(folder)
        return (header, OperatorTable(lines: lines.filter { !$0.value.isEmpty }, chain: chain, decode: decode))
    }

    /// `{"domain":"ai.onnx","op":"Add",` → ("ai.onnx", "Add"); the generator writes these keys first, unescaped.
    private static func leadingKeys(_ bytes: ArraySlice<UInt8>) -> (String, String)? {
        let domainPrefix = #"{"domain":""#.utf8, opPrefix = #"","op":""#.utf8
        guard bytes.starts(with: domainPrefix) else { return nil }
        let domainStart = bytes.index(bytes.startIndex, offsetBy: domainPrefix.count)
        guard let domainEnd = bytes[domainStart...].firstIndex(of: UInt8(ascii: "\"")),
              bytes[domainEnd...].starts(with: opPrefix) else { return nil }
        let opStart = bytes.index(domainEnd, offsetBy: opPrefix.count)
        guard let opEnd = bytes[opStart...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
        return (String(decoding: bytes[domainStart..<domainEnd], as: UTF8.self), String(decoding: bytes[opStart..<opEnd], as: UTF8.self))
    }

    var keys: [(domain: String, op: String)] {
        lines.flatMap { domain, ops in ops.keys.map { (domain, $0) } }.sorted { ($0.domain, $0.op) < ($1.domain, $1.op) }
    }

    /// The decoded row; `nil` when the table has no such operator. A line that does not decode is a defect
    /// of the generated file, which the tests catch by decoding every line.
    func row(domain: String, op: String) -> Row? {
        lock.lock()
        defer { lock.unlock() }
        let key = "\(domain)\u{0}\(op)"
        if let cached = decoded[key] { return cached }
        let row = lines[domain]?[op].flatMap { try? decode(domain, op, Data($0.bytes)) }
        decoded[key] = row
        return row
    }

    /// Decodes every line, reporting the first that fails (for tests).
    func validate() throws {
        for (domain, op) in keys {
            let line = lines[domain]![op]!
            do {
                _ = try decode(domain, op, Data(line.bytes))
            } catch {
                throw KnowledgeError(file: line.file, reason: "\(domain) \(op) does not decode: \(error)")
            }
        }
    }
}
