import TensorlintIR
import TensorlintJSON

/// The subset of torch's serialization schema (`torch/_export/serde/schema.py`) that tensorlint reads, as
/// typed structures read straight from the JSON stream. Field names are the schema's; fields tensorlint
/// does not read are skipped (and so not checked); a field it reads that is missing or of the wrong kind is
/// an error naming where it is, never a default. A union (`Argument`, `SymInt`) is an object with exactly
/// one key. The main graph's nodes are handed to the caller one by one as they are read, so that a large
/// program is never held twice (as these structures and as the IR).
enum ExportedProgramSchema {
    /// Given a reader at one of the main graph's nodes: `nil` to read it here, or where to go on from and how
    /// many nodes that passes, when they were read on another thread.
    typealias ReadElsewhere = (JSONReader) -> (resumeAt: Int, elements: Int)?
    /// Given a reader at the main graph's `tensor_values`: `nil` to read them here, or the values and where they
    /// end, when they were read on another thread.
    typealias ValuesReadElsewhere = (JSONReader) -> (values: [(name: String, meta: TensorMeta)], end: Int)?

    struct Program {
        var graph_module: GraphModule
        var verifiers: [String]?
        var dialect: String?
        var schema_version: SchemaVersion?
        var torch_version: String?

        /// `passed` is told the reader's offset after each of the main graph's nodes and values; the main graph's
        /// nodes that `readElsewhere` says were read elsewhere are not read here (`JSONReader.readArray`).
        init(_ reader: inout JSONReader, passed: (Int) -> Void, readElsewhere: ReadElsewhere = { _ in nil },
             valuesReadElsewhere: ValuesReadElsewhere = { _ in nil }, mainGraphNode: (Node) -> Void) throws(JSONError) {
            var graphModule: GraphModule?
            var verifiers: [String]?, dialect: String?, schemaVersion: SchemaVersion?, torchVersion: String?
            try reader.readFields { (reader: inout JSONReader, key: JSONKey) throws(JSONError) in
                switch key {
                case "graph_module": graphModule = try GraphModule(&reader, passed: passed, readElsewhere: readElsewhere,
                                                                   valuesReadElsewhere: valuesReadElsewhere, node: mainGraphNode)
                case "verifiers": verifiers = try reader.optional { (reader: inout JSONReader) throws(JSONError) in try reader.readList(JSONReader.string) }
                case "dialect": dialect = try reader.optional(JSONReader.string)
                case "schema_version": schemaVersion = try reader.optional(SchemaVersion.init)
                case "torch_version": torchVersion = try reader.optional(JSONReader.string)
                default: try reader.skipValue()
                }
            }
            graph_module = try required(graphModule, "graph_module")
            self.verifiers = verifiers
            self.dialect = dialect
            schema_version = schemaVersion
            torch_version = torchVersion
        }
    }

    struct SchemaVersion {
        var major: Int64
        var minor: Int64?

        init(_ reader: inout JSONReader) throws(JSONError) {
            var major: Int64?, minor: Int64?
            try reader.readFields { (reader: inout JSONReader, key: JSONKey) throws(JSONError) in
                switch key {
                case "major": major = try reader.readInt()
                case "minor": minor = try reader.optional(JSONReader.int)
                default: try reader.skipValue()
                }
            }
            self.major = try required(major, "major")
            self.minor = minor
        }
    }

    struct GraphModule {
        var graph: Graph
        var signature: Signature?

        init(_ reader: inout JSONReader, passed: (Int) -> Void, readElsewhere: ReadElsewhere, valuesReadElsewhere: ValuesReadElsewhere,
             node: (Node) -> Void) throws(JSONError) {
            var graph: Graph?, signature: Signature?
            try reader.readFields { (reader: inout JSONReader, key: JSONKey) throws(JSONError) in
                switch key {
                case "graph": graph = try Graph(&reader, passed: passed, readElsewhere: readElsewhere, valuesReadElsewhere: valuesReadElsewhere, node: node)
                case "signature": signature = try reader.optional(Signature.init)
                default: try reader.skipValue()
                }
            }
            self.graph = try required(graph, "graph")
            self.signature = signature
        }
    }

    /// A graph without its nodes, which go to `node` as they are read; `passed` is told the reader's offset
    /// after each node and value (a graph is most of a program's bytes).
    struct Graph {
        var inputs: [Argument]
        var outputs: [Argument]
        /// In the document's order.
        var tensor_values: [(name: String, meta: TensorMeta)]

        init(_ reader: inout JSONReader, passed: (Int) -> Void = { _ in }, readElsewhere: ReadElsewhere = { _ in nil },
             valuesReadElsewhere: ValuesReadElsewhere = { _ in nil }, node: (Node) -> Void) throws(JSONError) {
            var inputs: [Argument]?, outputs: [Argument]?, hasNodes = false, values: [(name: String, meta: TensorMeta)]?
            try reader.readFields { (reader: inout JSONReader, key: JSONKey) throws(JSONError) in
                switch key {
                case "inputs": inputs = try reader.readList(Argument.init)
                case "outputs": outputs = try reader.readList(Argument.init)
                case "nodes":
                    try reader.readArray({ (reader: inout JSONReader, _: Int) throws(JSONError) in
                        node(try Node(&reader))
                        passed(reader.offset)
                    }, readElsewhere: readElsewhere)
                    hasNodes = true
                case "tensor_values":
                    if let (list, end) = valuesReadElsewhere(reader) {
                        values = list
                        reader = reader.reader(at: end)
                    } else {
                        values = try Graph.values(&reader, passed: passed)
                    }
                default: try reader.skipValue()
                }
            }
            self.inputs = try required(inputs, "inputs")
            self.outputs = try required(outputs, "outputs")
            guard hasNodes else { throw JSONError.missing("nodes") }
            tensor_values = try required(values, "tensor_values")
        }

        /// The `tensor_values` object, in the document's order; `passed` is told the offset after each value.
        static func values(_ reader: inout JSONReader, passed: (Int) throws(JSONError) -> Void) throws(JSONError) -> [(name: String, meta: TensorMeta)] {
            var values: [(name: String, meta: TensorMeta)] = []
            try reader.readObject { (reader: inout JSONReader, name: String) throws(JSONError) in
                values.append((name, try TensorMeta(&reader)))
                try passed(reader.offset)
            }
            return values
        }
    }

    struct TensorMeta {
        /// `nil`: a code of a dtype this tensorlint does not know (a newer torch's).
        var dtype: DType?
        var sizes: [SymInt]

        init(_ reader: inout JSONReader) throws(JSONError) {
            var code: Int64?, sizes: [SymInt]?
            try reader.readFields { (reader: inout JSONReader, key: JSONKey) throws(JSONError) in
                switch key {
                case "dtype":
                    code = try reader.readInt()
                    if let code, code < 0 { throw JSONError(schema: "dtype code \(code)") }
                case "sizes": sizes = try reader.readList(SymInt.init)
                default: try reader.skipValue()
                }
            }
            dtype = TorchSerializedDType.dtype(Int(try required(code, "dtype")))
            self.sizes = try required(sizes, "sizes")
            // torch computes the element count in 64 bits and refuses a tensor whose count overflows it.
            var count = 1
            for size in self.sizes.compactMap(\.value) {
                let (product, overflow) = count.multipliedReportingOverflow(by: size)
                guard size >= 0, !overflow else {
                    throw JSONError(schema: "sizes \(self.sizes.map { $0.value.map(String.init) ?? "s" }) hold a negative size or more than 2^63 elements")
                }
                count = product
            }
        }
    }

    /// A size: a number, or a symbol (`as_expr`, `as_name`) when the export has dynamic shapes.
    struct SymInt {
        var value: Int?

        init(_ reader: inout JSONReader) throws(JSONError) {
            value = try reader.readUnion { (reader: inout JSONReader, kind: JSONKey) throws(JSONError) -> Int? in
                guard kind == "as_int" else {
                    try reader.skipValue()
                    return nil
                }
                return Int(try reader.readInt())
            }
        }
    }

    struct Node {
        var target: String
        var inputs: [NamedArgument]
        var outputs: [Argument]
        /// The two metadata entries tensorlint reads: the Python stack and the module stack.
        var stackTrace: String?
        var moduleStack: String?
        /// Absent in torch ≤ 2.7 files.
        var name: String?

        init(_ reader: inout JSONReader) throws(JSONError) {
            var target: String?, inputs: [NamedArgument]?, outputs: [Argument]?, name: String?
            var stackTrace: String?, moduleStack: String?
            try reader.readFields { (reader: inout JSONReader, key: JSONKey) throws(JSONError) in
                switch key {
                case "target": target = try reader.readString()
                case "inputs": inputs = try reader.readList(NamedArgument.init)
                case "outputs": outputs = try reader.readList(Argument.init)
                case "name": name = try reader.optional(JSONReader.string)
                case "metadata":
                    guard try !reader.readNull() else { return }
                    try reader.readFields { (reader: inout JSONReader, entry: JSONKey) throws(JSONError) in
                        switch entry {
                        case "stack_trace": stackTrace = try reader.readString()
                        case "nn_module_stack": moduleStack = try reader.readString()
                        default: try reader.skipValue()
                        }
                    }
                default: try reader.skipValue()
                }
            }
            self.target = try required(target, "target")
            self.inputs = try required(inputs, "inputs")
            self.outputs = try required(outputs, "outputs")
            self.name = name
            self.stackTrace = stackTrace
            self.moduleStack = moduleStack
        }
    }

    struct NamedArgument {
        var name: String?
        var arg: Argument

        init(_ reader: inout JSONReader) throws(JSONError) {
            var name: String?, arg: Argument?
            try reader.readFields { (reader: inout JSONReader, key: JSONKey) throws(JSONError) in
                switch key {
                case "name": name = try reader.optional(JSONReader.string)
                case "arg": arg = try Argument(&reader)
                default: try reader.skipValue()
                }
            }
            self.name = name
            self.arg = try required(arg, "arg")
        }
    }

    /// `{"name": …}`: a tensor argument's name.
    static func tensorName(_ reader: inout JSONReader) throws(JSONError) -> String {
        var name: String?
        try reader.readFields { (reader: inout JSONReader, key: JSONKey) throws(JSONError) in
            if key == "name" { name = try reader.readString() } else { try reader.skipValue() }
        }
        return try required(name, "name")
    }

    enum Argument {
        case plain(TensorlintIR.Argument)
        /// A graph passed as an argument (`torch.cond`'s branches), with its nodes.
        case graph(name: String?, Graph, nodes: [Node])

        init(_ reader: inout JSONReader) throws(JSONError) {
            self = try reader.readUnion { (reader: inout JSONReader, kind: JSONKey) throws(JSONError) -> Argument in
                switch kind {
                case "as_none":
                    try reader.skipValue()
                    return .plain(.none)
                case "as_tensor": return .plain(.tensor(try tensorName(&reader)))
                case "as_tensors": return .plain(.tensors(try reader.readList(tensorName)))
                case "as_optional_tensors": return .plain(.tensors(try reader.readList(Argument.optionalTensor)))
                case "as_optional_tensor": return .plain(try Argument.optionalTensor(&reader).map(TensorlintIR.Argument.tensor) ?? .none)
                case "as_int": return .plain(.int(try reader.readInt()))
                case "as_ints": return .plain(.ints(try reader.readList(JSONReader.int)))
                case "as_float": return .plain(.float(try Argument.float(&reader)))
                case "as_floats": return .plain(.floats(try reader.readList(Argument.float)))
                case "as_bool": return .plain(.bool(try reader.readBool()))
                case "as_bools": return .plain(.bools(try reader.readList(JSONReader.bool)))
                case "as_string": return .plain(.string(try reader.readString()))
                case "as_scalar_type": return .plain(.scalarType(TorchSerializedDType.dtype(Int(try reader.readInt()))))
                case "as_sym_int", "as_sym_float", "as_sym_bool": return .plain(try Argument.symScalar(&reader))
                case "as_graph":
                    var name: String?, graph: Graph?, nodes: [Node] = []
                    try reader.readFields { (reader: inout JSONReader, key: JSONKey) throws(JSONError) in
                        switch key {
                        case "name": name = try reader.optional(JSONReader.string)
                        case "graph": graph = try Graph(&reader) { nodes.append($0) }
                        default: try reader.skipValue()
                        }
                    }
                    return .graph(name: name, try required(graph, "graph"), nodes: nodes)
                // Devices, layouts, memory formats, custom objects …: known by their kind only.
                default:
                    try reader.skipValue()
                    return .plain(.other(kind.text))
                }
            }
        }

        /// `as_optional_tensor(s)`: a tensor or none.
        private static func optionalTensor(_ reader: inout JSONReader) throws(JSONError) -> String? {
            try reader.readUnion { (reader: inout JSONReader, kind: JSONKey) throws(JSONError) -> String? in
                guard kind == "as_tensor" else {
                    try reader.skipValue()
                    return nil
                }
                return try tensorName(&reader)
            }
        }

        /// `as_sym_int`, `as_sym_float`, `as_sym_bool`: a symbol's name or a number.
        private static func symScalar(_ reader: inout JSONReader) throws(JSONError) -> TensorlintIR.Argument {
            try reader.readUnion { (reader: inout JSONReader, kind: JSONKey) throws(JSONError) -> TensorlintIR.Argument in
                switch kind {
                case "as_name": return .symbol(try reader.readString())
                case "as_int": return .int(try reader.readInt())
                case "as_float": return .float(try Argument.float(&reader))
                case "as_bool": return .bool(try reader.readBool())
                default:
                    try reader.skipValue()
                    return .other(kind.text)
                }
            }
        }

        /// A float as torch writes it: a number, or `Infinity`, `-Infinity`, `NaN`.
        private static func float(_ reader: inout JSONReader) throws(JSONError) -> Double {
            guard try reader.peek() == .string else { return try reader.readDouble() }
            switch try reader.readString() {
            case "Infinity": return .infinity
            case "-Infinity": return -.infinity
            case "NaN": return .nan
            case let other: throw JSONError(schema: "`\(other)` is not a float")
            }
        }

        /// The argument as the IR has it; a nested graph is placed by the parser.
        var ir: TensorlintIR.Argument {
            switch self {
            case .plain(let argument): return argument
            case .graph(let name, _, _): return .other("graph \(name ?? "")")
            }
        }
    }

    /// The graph signature's input specs: which placeholders are parameters, buffers, constants or inputs.
    struct Signature {
        /// Placeholder name → role, for the specs that name a tensor placeholder. Absent from the earliest
        /// torch.export files: then no placeholder has a role but its name.
        var roles: [String: Value.Role] = [:]

        init(_ reader: inout JSONReader) throws(JSONError) {
            var roles: [String: Value.Role] = [:]
            try reader.readFields { (reader: inout JSONReader, key: JSONKey) throws(JSONError) in
                guard key == "input_specs", try !reader.readNull() else { return try reader.skipValue() }
                try reader.readArray { (reader: inout JSONReader, _: Int) throws(JSONError) in
                    if let (placeholder, role) = try Signature.inputSpec(&reader) { roles[placeholder] = role }
                }
            }
            self.roles = roles
        }

        /// One input spec's placeholder and role; `nil` for kinds without a tensor (tokens, custom objects,
        /// constants).
        private static func inputSpec(_ reader: inout JSONReader) throws(JSONError) -> (String, Value.Role)? {
            try reader.readUnion { (reader: inout JSONReader, kind: JSONKey) throws(JSONError) -> (String, Value.Role)? in
                var placeholder: String?, parameter: String?, buffer: String?, constant: String?
                try reader.readFields { (reader: inout JSONReader, key: JSONKey) throws(JSONError) in
                    switch key {
                    case "arg": placeholder = try reader.optional(Self.placeholder) ?? nil
                    case "parameter_name": parameter = try reader.optional(JSONReader.string)
                    case "buffer_name": buffer = try reader.optional(JSONReader.string)
                    case "tensor_constant_name": constant = try reader.optional(JSONReader.string)
                    default: try reader.skipValue()
                    }
                }
                let role: Value.Role
                switch kind {
                case "parameter": role = .parameter(parameter ?? placeholder ?? "")
                case "buffer": role = .buffer(buffer ?? placeholder ?? "")
                case "tensor_constant": role = .constant(constant ?? placeholder ?? "")
                case "user_input": role = .userInput
                default: return nil
                }
                return placeholder.map { ($0, role) }
            }
        }

        /// `{"name": …}`, or an argument union `{"as_tensor": {"name": …}}`.
        private static func placeholder(_ reader: inout JSONReader) throws(JSONError) -> String? {
            var name: String?
            try reader.readFields { (reader: inout JSONReader, key: JSONKey) throws(JSONError) in
                switch key {
                case "name": name = try reader.optional(JSONReader.string)
                case "as_tensor": name = try reader.optional(ExportedProgramSchema.tensorName)
                default: try reader.skipValue()
                }
            }
            return name
        }
    }

    private static func required<Value>(_ value: Value?, _ key: String) throws(JSONError) -> Value {
        guard let value else { throw JSONError.missing(key) }
        return value
    }
}
