/// A model file as read by a format reader: one or more graphs plus what the file says about itself.
public struct Model: Sendable {
    /// A format's id, as rule files name it (`torch.export`, `onnx`); each format declares its own.
    public struct Format: RawRepresentable, Sendable, Hashable, Codable, ExpressibleByStringLiteral, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(stringLiteral value: String) { rawValue = value }
        public var description: String { rawValue }

        // The ids converter packs refer to (a pack sees models, never their formats' code); a format whose
        // id no pack names declares it in its own target.
        public static let torchExport: Format = "torch.export"
        public static let onnx: Format = "onnx"
        public static let torchScript: Format = "torchscript"
    }

    public var path: String
    public var format: Format
    /// Container layout and schema, e.g. `pt2-archive, schema 8.20`.
    public var layout: String
    /// The producing library's version when the file records it (`torch_version`).
    public var producerVersion: String?
    /// IR dialect for torch.export (`TRAINING`, `ATEN`, `EDGE`).
    public var dialect: String?
    /// The main graph first; nested graphs (control flow, functions) after it.
    public var graphs: [Graph]
    /// Operator set versions by domain (`ai.onnx` → 17) for formats that version their operators.
    public var opsetImports: [String: Int]
    /// Key/value metadata the file carries about itself.
    public var metadata: [String: String]
    /// Globals the file's pickles name that the loader reading each pickle does not resolve: code Python's
    /// unpickler would import (and may call) when the file is loaded, or a name torch's loader refuses.
    public var unsafePickleGlobals: [PickleGlobal] = []

    public init(path: String, format: Format, layout: String, producerVersion: String? = nil,
                dialect: String? = nil, graphs: [Graph], opsetImports: [String: Int] = [:], metadata: [String: String] = [:]) {
        self.path = path
        self.format = format
        self.layout = layout
        self.producerVersion = producerVersion
        self.dialect = dialect
        self.graphs = graphs
        self.opsetImports = opsetImports
        self.metadata = metadata
    }

    public var mainGraph: Graph { graphs[0] }
}

/// A global named by a pickle inside a model file.
public struct PickleGlobal: Sendable, Equatable {
    /// The pickle, as a path inside the file (`serialized_state_dict.pt/archive/data.pkl`).
    public var pickle: String
    /// `module.name`, as the pickle writes it; `?` where the pickle builds it at run time.
    public var qualifiedName: String
    /// Byte offset of the opcode that names it, in the pickle.
    public var offset: Int
    /// What reads that pickle (`torch.load(weights_only=True)`, `torch.jit.load`).
    public var loader: String

    public init(pickle: String, qualifiedName: String, offset: Int, loader: String) {
        self.pickle = pickle
        self.qualifiedName = qualifiedName
        self.offset = offset
        self.loader = loader
    }
}

public struct Graph: Sendable {
    /// What a graph is to the model.
    public enum Owner: Sendable, Equatable {
        case model
        /// The body of a node's graph attribute (`If.then_branch`, `Loop.body`), by graph index and node name.
        case node(graph: Int, node: String, attribute: String)
        /// A model-local function, called by nodes whose op is `domain.name`; its own operator set versions.
        case function(OpName, opsetImports: [String: Int])
    }

    public var name: String
    public var nodes: [Node]
    public var values: [String: Value]
    /// Names of the graph's inputs in order (user inputs, parameters, buffers, constants alike).
    public var inputs: [String]
    public var outputs: [String]
    public var owner: Owner

    public init(name: String, nodes: [Node], values: [String: Value], inputs: [String], outputs: [String], owner: Owner = .model) {
        self.name = name
        self.nodes = nodes
        self.values = values
        self.inputs = inputs
        self.outputs = outputs
        self.owner = owner
    }

    public func value(_ name: String) -> Value? { values[name] }
    public func dtype(of name: String) -> DType? { values[name]?.dtype }
}

public struct Value: Sendable {
    public enum Role: Sendable, Equatable {
        case userInput
        /// A trained weight, with its fully qualified name (`conv.weight`).
        case parameter(String)
        case buffer(String)
        /// A tensor constant lifted into the graph, or an ONNX initializer.
        case constant(String)
        case intermediate

        public var isWeight: Bool {
            switch self {
            case .parameter, .buffer, .constant: return true
            default: return false
            }
        }
    }

    /// Where a weight's bytes live when they are outside the model file.
    public struct ExternalData: Sendable, Equatable {
        /// As written in the model, relative to the model's folder.
        public var location: String
        public var offset: Int
        /// `nil`: up to the end of the file.
        public var length: Int?
        /// Size of the file found at `location`; `nil` when there is no such file, or it may not be used.
        public var availableBytes: Int?
        /// Why the location may not be used whatever is there (an absolute path, a path out of the model's
        /// folder, a FIFO): the file is then never looked at further.
        public var refusal: String?

        public init(location: String, offset: Int, length: Int?, availableBytes: Int?, refusal: String? = nil) {
            self.location = location
            self.offset = offset
            self.length = length
            self.availableBytes = availableBytes
            self.refusal = refusal
        }

        /// The bytes the tensor takes in the file, when the file may be used and holds them.
        public var usableRange: Range<Int>? {
            guard refusal == nil, let availableBytes else { return nil }
            let (end, overflow) = offset.addingReportingOverflow(length ?? max(0, availableBytes - offset))
            return !overflow && end <= availableBytes && offset <= end ? offset..<end : nil
        }
    }

    public var name: String
    /// The element type of the tensor as stored (a weight's data type) or, failing that, as declared.
    public var dtype: DType?
    /// The element type a declaration states (ONNX graph input, output or `value_info`); `nil` when none does.
    public var declaredDType: DType?
    /// Sizes; `nil` entries are symbolic.
    public var shape: [Int?]?
    public var role: Role
    /// Where the weight's bytes live, when outside the model file.
    public var external: ExternalData? {
        get { externalBox?.data }
        set { externalBox = newValue.map(ExternalDataBox.init) }
    }
    /// Stored as a sparse tensor (indices and values) rather than dense elements.
    public var isSparse = false
    /// Boxed: few values have it, and inline it would double every value's size (a graph holds one value a node).
    private var externalBox: ExternalDataBox?

    private final class ExternalDataBox: Sendable {
        let data: ExternalData
        init(_ data: ExternalData) { self.data = data }
    }

    public init(name: String, dtype: DType?, declaredDType: DType? = nil, shape: [Int?]?, role: Role, external: ExternalData? = nil) {
        self.name = name
        self.dtype = dtype
        self.declaredDType = declaredDType
        self.shape = shape
        self.role = role
        self.external = external
    }
}

/// An operator identity: `aten.leaky_relu.default` is namespace `aten`, name `leaky_relu`, overload `default`.
public struct OpName: Sendable, Hashable, CustomStringConvertible {
    /// How the format writes an op: `aten.leaky_relu.default` (torch.export, ONNX) or, as a TorchScript node
    /// kind, `aten::leaky_relu`.
    public enum Spelling: Sendable, Hashable {
        case dotted
        case nodeKind
    }

    public let namespace: String
    public let name: String
    public let overload: String?
    public let spelling: Spelling
    /// `aten.leaky_relu.default` (overload included when known), or the node kind `aten::leaky_relu`.
    public let description: String
    /// `aten.leaky_relu`, without the overload.
    public let qualifiedName: String

    /// Both spellings are made once here: rules compare them for every node.
    public init(namespace: String, name: String, overload: String? = nil, spelling: Spelling = .dotted) {
        self.namespace = namespace
        self.name = name
        self.overload = overload
        self.spelling = spelling
        description = spelling == .nodeKind ? "\(namespace)::\(name)"
            : [namespace, name, overload].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ".")
        qualifiedName = namespace.isEmpty ? name : "\(namespace).\(name)"
    }

    /// Its written form alone (equality still compares every part; ops that differ only where the form does not
    /// show it merely share a bucket): an op is a dictionary key for every node, and hashing all six fields cost
    /// several times as much.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(description)
    }
}

public struct Node: Sendable {
    public var name: String
    public var op: OpName
    public var inputs: [NodeInput]
    public var outputs: [String?]
    /// Named attributes, for formats that keep them apart from the inputs (ONNX).
    public var attributes: [String: Argument]
    public var source: SourceInfo

    public init(name: String, op: OpName, inputs: [NodeInput], outputs: [String?], attributes: [String: Argument] = [:],
                source: SourceInfo) {
        self.name = name
        self.op = op
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
        self.source = source
    }

    public func input(named name: String) -> NodeInput? { inputs.first { $0.name == name } }
}

public struct NodeInput: Sendable, Hashable {
    /// The schema's argument name (`self`, `negative_slope`) or, for ONNX, the formal parameter name when known.
    public var name: String
    public var argument: Argument

    public init(name: String, argument: Argument) {
        self.name = name
        self.argument = argument
    }
}

/// What a node input is: a tensor flowing in, or a literal written into the graph.
public enum Argument: Sendable, Hashable {
    case tensor(String)
    case tensors([String?])
    case int(Int64)
    case float(Double)
    case bool(Bool)
    case string(String)
    case ints([Int64])
    case floats([Double])
    case bools([Bool])
    case scalarType(DType?)
    /// A symbolic scalar (SymInt, SymFloat) named in the graph.
    case symbol(String)
    /// A tensor written into the node (ONNX tensor attribute), known by its element type.
    case tensorLiteral(DType?)
    /// A nested graph (control-flow body), by its index in `Model.graphs`.
    case subgraph(Int)
    case none
    /// Anything else the reader keeps only by its kind (devices, layouts, nested graphs).
    case other(String)

    /// Whether this is a Python number written into the graph (`as_int`, `as_float`): what converters turn into constants.
    public var isScalarLiteral: Bool {
        switch self {
        case .int, .float: return true
        default: return false
        }
    }

    public var tensorNames: [String] {
        switch self {
        case .tensor(let name): return [name]
        case .tensors(let names): return names.compactMap { $0 }
        default: return []
        }
    }

    /// How the argument reads in a message.
    public var literalDescription: String {
        switch self {
        case .tensor(let name): return name
        case .tensors(let names): return "[" + names.map { $0 ?? "None" }.joined(separator: ", ") + "]"
        case .int(let value): return String(value)
        case .float(let value): return formatFloat(value)
        case .bool(let value): return value ? "True" : "False"
        case .string(let value): return "\"\(value)\""
        case .ints(let values): return "[" + values.map(String.init).joined(separator: ", ") + "]"
        case .floats(let values): return "[" + values.map(formatFloat).joined(separator: ", ") + "]"
        case .bools(let values): return "[" + values.map { $0 ? "True" : "False" }.joined(separator: ", ") + "]"
        case .scalarType(let dtype): return dtype.map { "torch.\($0.rawValue)" } ?? "unknown dtype"
        case .symbol(let name): return name
        case .tensorLiteral(let dtype): return "a \(dtype?.rawValue ?? "tensor") tensor"
        case .subgraph(let index): return "graph #\(index)"
        case .none: return "None"
        case .other(let kind): return kind
        }
    }
}

private func formatFloat(_ value: Double) -> String {
    if value.isNaN { return "nan" }
    if value.isInfinite { return value > 0 ? "inf" : "-inf" }
    return "\(value)"
}

/// Where a node came from in the user's code.
public struct SourceInfo: Sendable {
    public struct Frame: Sendable, Equatable {
        public var file: String
        public var line: Int
        public var function: String?
        public var code: String?

        public init(file: String, line: Int, function: String?, code: String?) {
            self.file = file
            self.line = line
            self.function = function
            self.code = code
        }
    }

    public struct Module: Sendable, Equatable {
        /// Attribute path from the root module (`layer.activation`); empty for the root.
        public var path: String
        /// Fully qualified class (`torch.nn.modules.activation.LeakyReLU`).
        public var type: String

        public init(path: String, type: String) {
            self.path = path
            self.type = type
        }
    }

    /// Where a node is written in the model file, for formats whose nodes are text (TorchScript's code):
    /// the archive entry and the byte offset of the call.
    public struct Written: Sendable, Equatable {
        public var entry: String
        public var offset: Int

        public init(entry: String, offset: Int) {
            self.entry = entry
            self.offset = offset
        }
    }

    /// Innermost module last.
    public var modules: [Module]
    /// User frames of the stack trace, innermost last.
    public var frames: [Frame]
    public var written: Written?

    public init(modules: [Module] = [], frames: [Frame] = [], written: Written? = nil) {
        self.modules = modules
        self.frames = frames
        self.written = written
    }

    /// The deepest non-root module path, e.g. `encoder.layer.0.act`.
    public var modulePath: String? { modules.last(where: { !$0.path.isEmpty })?.path }
    public var moduleType: String? { modules.last?.type }
    /// The frame that names the user's line: the innermost one outside installed packages and torch.
    public var userFrame: Frame? {
        frames.last { frame in
            !Self.libraryFolders.contains { frame.file.utf8.firstRange(ofBytes: $0.utf8) != nil }
        }
    }

    private static let libraryFolders = ["/site-packages/", "/dist-packages/", "/torch/"]
}
