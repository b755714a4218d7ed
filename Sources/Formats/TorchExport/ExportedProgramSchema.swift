import Foundation
import TensorlintIR

/// The subset of torch's serialization schema (`torch/_export/serde/schema.py`) that tensorlint reads, as
/// typed structures. Field names are the schema's; fields tensorlint does not read are not declared (and
/// so not checked). A union (`Argument`, `SymInt`) is an object with exactly one key.
enum ExportedProgramSchema {
    struct Program: Decodable {
        let graph_module: GraphModule
        let verifiers: [String]?
        let dialect: String?
        let schema_version: SchemaVersion?
        let torch_version: String?
    }

    struct SchemaVersion: Decodable {
        let major: Int
        let minor: Int?
    }

    struct GraphModule: Decodable {
        let graph: Graph
        let signature: Signature?
    }

    struct Graph: Decodable {
        let inputs: [Argument]
        let outputs: [Argument]
        let nodes: [Node]
        let tensor_values: [String: TensorMeta]
    }

    struct TensorMeta: Decodable {
        /// `nil`: a code of a dtype this tensorlint does not know (a newer torch's).
        let dtype: DType?
        let sizes: [SymInt]

        enum CodingKeys: String, CodingKey { case dtype, sizes }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            let code = try container.decode(Int.self, forKey: .dtype)
            guard code >= 0 else {
                throw DecodingError.dataCorruptedError(forKey: .dtype, in: container, debugDescription: "dtype code \(code)")
            }
            dtype = TorchSerializedDType.dtype(code)
            sizes = try container.decode([SymInt].self, forKey: .sizes)
        }
    }

    /// A size: a number, or a symbol (`as_expr`, `as_name`) when the export has dynamic shapes.
    struct SymInt: Decodable {
        let value: Int?

        init(from decoder: any Decoder) throws {
            let (kind, container) = try unionKey(decoder)
            value = kind.stringValue == "as_int" ? try container.decode(Int.self, forKey: kind) : nil
        }
    }

    struct Node: Decodable {
        let target: String
        let inputs: [NamedArgument]
        let outputs: [Argument]
        let metadata: [String: String]?
        /// Absent in torch ≤ 2.7 files.
        let name: String?
    }

    struct NamedArgument: Decodable {
        let name: String?
        let arg: Argument
    }

    struct TensorArgument: Decodable {
        let name: String
    }

    enum Argument: Decodable {
        case plain(TensorlintIR.Argument)
        case graph(name: String?, Graph)

        struct GraphArgument: Decodable {
            let name: String?
            let graph: Graph
        }

        /// `as_optional_tensor(s)`: a tensor or none.
        enum OptionalTensor: Decodable {
            case tensor(String)
            case none

            init(from decoder: any Decoder) throws {
                let (kind, container) = try unionKey(decoder)
                self = kind.stringValue == "as_tensor" ? .tensor(try container.decode(TensorArgument.self, forKey: kind).name) : .none
            }

            var name: String? {
                if case .tensor(let name) = self { return name }
                return nil
            }
        }

        /// `as_sym_int`, `as_sym_float`, `as_sym_bool`: a symbol's name or a number.
        struct SymScalar: Decodable {
            let argument: TensorlintIR.Argument

            init(from decoder: any Decoder) throws {
                let (kind, container) = try unionKey(decoder)
                switch kind.stringValue {
                case "as_name": argument = .symbol(try container.decode(String.self, forKey: kind))
                case "as_int": argument = .int(try container.decode(Int64.self, forKey: kind))
                case "as_float": argument = .float(try container.decode(Float.self, forKey: kind).value)
                case "as_bool": argument = .bool(try container.decode(Bool.self, forKey: kind))
                default: argument = .other(kind.stringValue)
                }
            }
        }

        /// A float as torch writes it: a number, or `Infinity`, `-Infinity`, `NaN`.
        struct Float: Decodable {
            let value: Double

            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let number = try? container.decode(Double.self) {
                    value = number
                    return
                }
                switch try container.decode(String.self) {
                case "Infinity": value = .infinity
                case "-Infinity": value = -.infinity
                case "NaN": value = .nan
                case let other: throw DecodingError.dataCorruptedError(in: container, debugDescription: "`\(other)` is not a float")
                }
            }
        }

        init(from decoder: any Decoder) throws {
            let (kind, container) = try unionKey(decoder)
            func value<T: Decodable>(_ type: T.Type) throws -> T { try container.decode(type, forKey: kind) }
            switch kind.stringValue {
            case "as_none": self = .plain(.none)
            case "as_tensor": self = .plain(.tensor(try value(TensorArgument.self).name))
            case "as_tensors": self = .plain(.tensors(try value([TensorArgument].self).map(\.name)))
            case "as_optional_tensors": self = .plain(.tensors(try value([OptionalTensor].self).map(\.name)))
            case "as_optional_tensor": self = .plain(try value(OptionalTensor.self).name.map(TensorlintIR.Argument.tensor) ?? .none)
            case "as_int": self = .plain(.int(try value(Int64.self)))
            case "as_ints": self = .plain(.ints(try value([Int64].self)))
            case "as_float": self = .plain(.float(try value(Float.self).value))
            case "as_floats": self = .plain(.floats(try value([Float].self).map(\.value)))
            case "as_bool": self = .plain(.bool(try value(Bool.self)))
            case "as_bools": self = .plain(.bools(try value([Bool].self)))
            case "as_string": self = .plain(.string(try value(String.self)))
            case "as_scalar_type": self = .plain(.scalarType(TorchSerializedDType.dtype(try value(Int.self))))
            case "as_sym_int", "as_sym_float", "as_sym_bool": self = .plain(try value(SymScalar.self).argument)
            case "as_graph":
                let graph = try value(GraphArgument.self)
                self = .graph(name: graph.name, graph.graph)
            // Devices, layouts, memory formats, custom objects …: known by their kind only.
            default: self = .plain(.other(kind.stringValue))
            }
        }

        /// The argument as the IR has it; a nested graph is placed by the parser.
        var ir: TensorlintIR.Argument {
            switch self {
            case .plain(let argument): return argument
            case .graph(let name, _): return .other("graph \(name ?? "")")
            }
        }
    }

    /// The graph signature's input specs: which placeholders are parameters, buffers, constants or inputs.
    struct Signature: Decodable {
        /// Absent from the earliest torch.export files: then no placeholder has a role but its name.
        let input_specs: [InputSpec]?

        struct InputSpec: Decodable {
            /// Placeholder name → role; `nil` for kinds without a tensor (tokens, custom objects, constants).
            let placeholder: String?
            let role: Value.Role?

            struct Body: Decodable {
                let arg: Placeholder?
                let parameter_name: String?
                let buffer_name: String?
                let tensor_constant_name: String?
            }

            /// `{"name": …}`, or an argument union `{"as_tensor": {"name": …}}`.
            struct Placeholder: Decodable {
                let name: String?

                enum CodingKeys: String, CodingKey { case name, as_tensor }

                init(from decoder: any Decoder) throws {
                    let container = try decoder.container(keyedBy: CodingKeys.self)
                    name = try container.decodeIfPresent(String.self, forKey: .name)
                        ?? container.decodeIfPresent(TensorArgument.self, forKey: .as_tensor)?.name
                }
            }

            init(from decoder: any Decoder) throws {
                let (kind, container) = try unionKey(decoder)
                let body = try container.decode(Body.self, forKey: kind)
                placeholder = body.arg?.name
                switch kind.stringValue {
                case "parameter": role = .parameter(body.parameter_name ?? placeholder ?? "")
                case "buffer": role = .buffer(body.buffer_name ?? placeholder ?? "")
                case "tensor_constant": role = .constant(body.tensor_constant_name ?? placeholder ?? "")
                case "user_input": role = .userInput
                default: role = nil
                }
            }
        }

        var roles: [String: Value.Role] {
            var roles: [String: Value.Role] = [:]
            for spec in input_specs ?? [] {
                if let placeholder = spec.placeholder, let role = spec.role { roles[placeholder] = role }
            }
            return roles
        }
    }

    struct AnyKey: CodingKey {
        let stringValue: String
        init(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    /// The one key of a union object, and the container to decode its value from.
    static func unionKey(_ decoder: any Decoder) throws -> (AnyKey, KeyedDecodingContainer<AnyKey>) {
        let container = try decoder.container(keyedBy: AnyKey.self)
        guard container.allKeys.count == 1, let key = container.allKeys.first else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "a union object has \(container.allKeys.count) keys, not one"))
        }
        return (key, container)
    }

    /// `graph_module.graph.nodes[3].inputs[0].arg: expected a number (as_int)` — one line.
    static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.reduce("") { text, key in
                if let index = key.intValue { return text + "[\(index)]" }
                return text.isEmpty ? key.stringValue : text + "." + key.stringValue
            }
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "\(path(context.codingPath + [key])) is missing"
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)) is not \(describe(type))"
        case .valueNotFound(let type, let context):
            return "\(path(context.codingPath)) is null where \(describe(type)) is expected"
        case .dataCorrupted(let context):
            return "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "does not follow torch's serialization schema"
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type, is Int64.Type, is Double.Type: return "a number"
        case is String.Type: return "a string"
        case is Bool.Type: return "a boolean"
        default: return String(describing: type).contains("Array") ? "a list" : "an object"
        }
    }
}
