/// A change to a model file that a fix asks for, in terms of the IR (graph and node positions as in
/// `Model.graphs`). A format's writer carries it out on the file, copying everything else unchanged.
public enum ModelEdit: Sendable, Hashable, CustomStringConvertible {
    /// Convert a weight's stored elements to another element type (its bytes are rewritten).
    case convertWeight(graph: Int, name: String, to: DType)
    /// Change the element type a declaration states (graph input, graph output, value_info).
    case redeclare(graph: Int, name: String, to: DType)
    /// Feed input `input` of node `node` through a new cast to `to`, inserted just before the node.
    case castInput(graph: Int, node: Int, input: Int, to: DType)
    /// Let node `node` write output `output` to a new value and cast that to `to` under the old name,
    /// just after the node.
    case castOutput(graph: Int, node: Int, output: Int, to: DType)
    /// Make the whole model compute in another floating type: every tensor of the `from` types (values,
    /// weights, constants) and every dtype argument naming one of them becomes `to`.
    case convertModel(from: [DType], to: DType)
    /// Replace node `node` by `nodes`, run in its place, which compute its first output (under the same
    /// name) from its inputs; its other outputs must be unused. A value a new node writes is elementwise:
    /// shaped as the broadcast of the node's tensor inputs, of element type `dtype`; the writer renames
    /// intermediate values whose names the graph already uses.
    case replaceNode(graph: Int, node: Int, with: [InsertedNode])

    public var graph: Int {
        switch self {
        case .convertWeight(let graph, _, _), .redeclare(let graph, _, _), .castInput(let graph, _, _, _),
             .castOutput(let graph, _, _, _), .replaceNode(let graph, _, _):
            return graph
        case .convertModel:
            return 0
        }
    }

    /// Whether carrying it out rounds values the model holds: a weight converted, or a node input cast, to a
    /// type that does not hold every value of the one it has. A cast of a node's output to the type the node
    /// was declared to produce, a declaration, widening the whole model and exact rewrites round nothing.
    public func rounds(in model: Model) -> Bool {
        switch self {
        case .convertWeight(let graph, let name, let dtype):
            return model.graphs[graph].dtype(of: name).map { !dtype.holdsEveryValue(of: $0) } ?? true
        case .castInput(let graph, let node, let input, let dtype):
            let inputs = model.graphs[graph].nodes[node].inputs
            let tensor = inputs.indices.contains(input) ? inputs[input].argument.tensorNames.first : nil
            return tensor.flatMap(model.graphs[graph].dtype(of:)).map { !dtype.holdsEveryValue(of: $0) } ?? true
        case .convertModel(let from, let dtype):
            return !from.allSatisfy(dtype.holdsEveryValue(of:))
        case .redeclare, .castOutput, .replaceNode:
            return false
        }
    }

    public var description: String {
        switch self {
        case .convertWeight(_, let name, let dtype): return "convert weight `\(name)` to \(dtype.rawValue)"
        case .redeclare(_, let name, let dtype): return "declare `\(name)` as \(dtype.rawValue)"
        case .castInput(_, let node, let input, let dtype): return "cast input \(input) of node #\(node) to \(dtype.rawValue)"
        case .castOutput(_, let node, let output, let dtype): return "cast output \(output) of node #\(node) to \(dtype.rawValue)"
        case .convertModel(let from, let dtype): return "convert every \(from.map(\.rawValue).joined(separator: "/")) tensor to \(dtype.rawValue)"
        case .replaceNode(_, let node, let nodes): return "replace node #\(node) by \(nodes.map(\.op.description).joined(separator: ", "))"
        }
    }
}

extension ModelEdit: Comparable {
    /// Where the edit applies, then what it does: the order writers carry edits out in (and so the names of
    /// the values they add), independent of how an edit is described.
    private var position: (graph: Int, node: Int, slot: Int, kind: Int, name: String, dtype: String) {
        switch self {
        case .convertWeight(let graph, let name, let dtype): return (graph, -1, -1, 0, name, dtype.rawValue)
        case .redeclare(let graph, let name, let dtype): return (graph, -1, -1, 1, name, dtype.rawValue)
        case .castInput(let graph, let node, let input, let dtype): return (graph, node, input, 2, "", dtype.rawValue)
        case .castOutput(let graph, let node, let output, let dtype): return (graph, node, output, 3, "", dtype.rawValue)
        case .replaceNode(let graph, let node, let nodes): return (graph, node, -1, 4, "\(nodes)", "")
        case .convertModel(let from, let dtype): return (0, -2, -1, 5, from.map(\.rawValue).joined(separator: ","), dtype.rawValue)
        }
    }

    public static func < (lhs: ModelEdit, rhs: ModelEdit) -> Bool { lhs.position < rhs.position }
}

/// A node a `replaceNode` edit inserts: one op writing one value.
public struct InsertedNode: Sendable, Hashable {
    public var op: OpName
    /// By the op schema's argument names, in schema order.
    public var inputs: [NodeInput]
    public var output: String
    public var dtype: DType

    public init(op: OpName, inputs: [NodeInput], output: String, dtype: DType) {
        self.op = op
        self.inputs = inputs
        self.output = output
        self.dtype = dtype
    }
}

/// A change to a file's bytes: `length` bytes at `offset` replaced by `inserted` (SARIF's binary replacements).
public struct ByteReplacement: Sendable, Equatable {
    public var offset: Int
    public var length: Int
    public var inserted: [UInt8]

    public init(offset: Int, length: Int, inserted: [UInt8]) {
        self.offset = offset
        self.length = length
        self.inserted = inserted
    }
}

/// A format that can carry out `ModelEdit`s: reads the original file, writes the edited copy.
public protocol ModelWriter: Sendable {
    /// Whether this writer can carry out the edit on this model (a file layout may rule it out).
    static func supports(_ edit: ModelEdit, in model: Model) -> Bool
    /// Each set of edits as byte replacements of `source`, when they can be expressed that way (`nil` otherwise).
    static func replacements(_ editSets: [[ModelEdit]], model: Model, from source: String) -> [[ByteReplacement]?]
    /// Writes `source` with the edits applied to `destination`; returns a one-line summary per edit.
    static func write(_ edits: [ModelEdit], model: Model, from source: String, to destination: String) throws(WriteError) -> [String]
}

/// Why an edited copy could not be written. One line, without the path.
public struct WriteError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Names a writer gives the values and nodes it adds: unused in the model, and never handed out twice.
public struct UniqueNames: Sendable {
    private var taken: Set<String>

    public init(taken: Set<String> = []) {
        self.taken = taken
    }

    public mutating func reserve<Names: Sequence>(_ names: Names) where Names.Element == String { taken.formUnion(names) }

    /// `base` when it is free, else `base_1`, `base_2` … (the first free one), now taken.
    public mutating func make(_ base: String) -> String {
        var name = base
        var suffix = 1
        while taken.contains(name) {
            name = "\(base)_\(suffix)"
            suffix += 1
        }
        taken.insert(name)
        return name
    }
}
