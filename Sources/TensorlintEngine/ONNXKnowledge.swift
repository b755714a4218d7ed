import Foundation
import TensorlintIR
import Yams

/// ONNX operator schemas of one onnx release (generated from `onnx.defs`) plus the curated rules for
/// outputs whose type an attribute sets, which the schemas leave to C++ inference functions.
public struct ONNXSchemas: Sendable {
    public let onnxVersion: String
    /// Domain (`ai.onnx`) → op → schema versions, oldest first.
    public let schemas: [String: [String: [OperatorSchema]]]
    /// Op → how its outputs' types follow from attributes.
    public let attributeTypes: [String: AttributeTyping]

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
        /// Op types of the function body a runtime may expand the node into; `nil` when there is none.
        public var functionOps: [String]?
        /// Attribute name → type (`int`, `float`, `tensor` …).
        public var attributes: [String: String]

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

    /// The schema version in force for an op at an opset version.
    public func schema(domain: String, name: String, opset: Int) -> OperatorSchema? {
        schemas[domain]?[name]?.last { $0.since <= opset }
    }

    public func knows(domain: String) -> Bool { schemas[domain] != nil }

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

    init(folder: String, files: [String: String]) throws {
        guard let text = files["operator-schemas.json"],
              let root = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw KnowledgeError(file: "\(folder)/operator-schemas.json", reason: "missing or not a JSON object")
        }
        onnxVersion = root["onnx_version"] as? String ?? "unknown"
        var dataTypes: [Int64: DType] = [:]
        for (number, name) in root["data_types"] as? [String: String] ?? [:] {
            if let value = Int64(number), let dtype = DType(rawValue: name) { dataTypes[value] = dtype }
        }
        self.dataTypes = dataTypes
        var schemas: [String: [String: [OperatorSchema]]] = [:]
        for (domain, ops) in root["schemas"] as? [String: [String: [[String: Any]]]] ?? [:] {
            for (op, versions) in ops {
                schemas[domain, default: [:]][op] = versions.map { Self.schema($0, domain: domain, name: op) }
            }
        }
        self.schemas = schemas
        let typingFile = "\(folder)/attribute-types.yml"
        guard let typingText = files["attribute-types.yml"], let typing = try Yams.load(yaml: typingText) as? [String: Any] else {
            throw KnowledgeError(file: typingFile, reason: "missing or not a mapping")
        }
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
    }

    private static func schema(_ entry: [String: Any], domain: String, name: String) -> OperatorSchema {
        func parameters(_ key: String) -> [FormalParameter] {
            (entry[key] as? [[Any]] ?? []).map { row in
                FormalParameter(name: row[0] as? String ?? "", typeString: row[1] as? String ?? "",
                                option: FormalParameter.Option(rawValue: row[2] as? String ?? "") ?? .single,
                                isHomogeneous: row[3] as? Bool ?? true)
            }
        }
        return OperatorSchema(domain: domain, name: name, since: entry["since"] as? Int ?? 1, inputs: parameters("inputs"),
                              outputs: parameters("outputs"),
                              constraints: (entry["constraints"] as? [String: [String]] ?? [:]).mapValues(Set.init),
                              deprecated: entry["deprecated"] as? Bool ?? false,
                              functionOps: entry["function_ops"] as? [String],
                              attributes: entry["attributes"] as? [String: String] ?? [:])
    }
}

/// onnxruntime's CPU kernel registry for one onnxruntime release, and the schemas it checks models against.
public struct ONNXRuntimeKnowledge: Sendable {
    public let version: Version
    public let schemas: ONNXSchemas
    /// Domain → newest opset onnxruntime officially supports.
    public let newestSupportedOpset: [String: Int]
    /// Domain → op → kernels.
    let kernels: [String: [String: [Kernel]]]

    public struct Kernel: Sendable {
        /// Since-versions of the op schema the kernel serves.
        public var versions: ClosedRange<Int>
        /// Type parameter → types this kernel binds.
        public var types: [String: Set<String>]
    }

    public func kernels(domain: String, op: String) -> [Kernel]? { kernels[domain]?[op] }

    init(version: Version, files: [String: String], schemas: ONNXSchemas) throws {
        self.version = version
        self.schemas = schemas
        guard let text = files["cpu-kernels.json"],
              let root = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw KnowledgeError(file: "onnxruntime-\(version)/cpu-kernels.json", reason: "missing or not a JSON object")
        }
        newestSupportedOpset = root["newest_supported_opset"] as? [String: Int] ?? [:]
        var kernels: [String: [String: [Kernel]]] = [:]
        for (domain, ops) in root["kernels"] as? [String: [String: [[Any]]]] ?? [:] {
            for (op, rows) in ops {
                kernels[domain, default: [:]][op] = rows.compactMap { row in
                    guard row.count == 3, let low = row[0] as? Int else { return nil }
                    let high = row[1] as? Int ?? Int.max
                    return Kernel(versions: low...max(low, high),
                                  types: (row[2] as? [String: [String]] ?? [:]).mapValues(Set.init))
                }
            }
        }
        self.kernels = kernels
    }
}
