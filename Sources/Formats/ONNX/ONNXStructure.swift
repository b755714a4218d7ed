import TensorlintIR

/// What onnxruntime checks of a model's structure when it loads it, before any op is looked at
/// (`Model::Model` in model.cc, `Graph::Resolve` in graph.cc): a model failing one of these does not load
/// at all, whatever its ops, so it is refused as malformed. Each check is linear in nodes.
enum ONNXStructure {
    static func check(_ model: Model) throws(ReadError) {
        guard !model.opsetImports.isEmpty else {
            throw .malformed("the model imports no operator set (opset_import is empty); onnxruntime: \"Missing opset in the model\"")
        }
        var functions: [OpName: Int] = [:]
        for (index, graph) in model.graphs.enumerated() {
            guard case .function(let op, let imports) = graph.owner else { continue }
            functions[op] = index
            // A function's nodes resolve their domains in the function's own imports.
            for node in graph.nodes where !node.op.namespace.isEmpty && imports[node.op.namespace] == nil {
                throw .malformed("local function `\(op.name)` calls `\(node.op.namespace).\(node.op.name)` but imports no opset of domain `\(node.op.namespace)`; onnxruntime: \"No opset registered for domain \(node.op.namespace) in function \(op.name)\"")
            }
        }
        try checkFunctionsAreNotRecursive(model, functions: functions)
        for graph in model.graphs { try checkAcyclic(graph) }
    }

    /// The function (or the main graph, `nil`) each graph belongs to, through the control-flow bodies.
    private static func root(of index: Int, in model: Model) -> Int? {
        var current = index
        for _ in 0...model.graphs.count {
            switch model.graphs[current].owner {
            case .model: return nil
            case .function: return current
            case .node(let graph, _, _): current = graph
            }
        }
        return nil
    }

    private static func checkFunctionsAreNotRecursive(_ model: Model, functions: [OpName: Int]) throws(ReadError) {
        guard !functions.isEmpty else { return }
        var calls: [Int: Set<Int>] = [:]
        for (index, graph) in model.graphs.enumerated() {
            guard let caller = root(of: index, in: model) else { continue }
            for node in graph.nodes {
                if let callee = functions[node.op] { calls[caller, default: []].insert(callee) }
            }
        }
        // Depth-first, iteratively: 0 unseen, 1 on the path, 2 done.
        var state = [Int: Int]()
        for start in functions.values.sorted() where state[start] == nil {
            var path: [(function: Int, next: [Int])] = [(start, (calls[start] ?? []).sorted())]
            state[start] = 1
            while let top = path.last {
                guard let callee = top.next.first else {
                    state[top.function] = 2
                    path.removeLast()
                    continue
                }
                path[path.count - 1].next.removeFirst()
                if state[callee] == 1 {
                    let cycle = path.map(\.function).drop { $0 != callee } + [callee]
                    let names = cycle.map { model.graphs[$0].name }.joined(separator: " -> ")
                    throw .malformed("local functions call themselves (\(names)); onnxruntime: \"Model local function definitions must not be recursive\"")
                }
                if state[callee] == nil {
                    state[callee] = 1
                    path.append((callee, (calls[callee] ?? []).sorted()))
                }
            }
        }
    }

    /// Kahn's algorithm over the values the graph's own nodes produce; names from outside the graph (inputs,
    /// initializers, an enclosing graph's values) depend on nothing here.
    private static func checkAcyclic(_ graph: Graph) throws(ReadError) {
        var producer: [String: Int] = [:]
        for (index, node) in graph.nodes.enumerated() {
            for case let output? in node.outputs where !output.isEmpty { producer[output] = index }
        }
        var waiting = [Int](repeating: 0, count: graph.nodes.count)
        var consumers = [[Int]](repeating: [], count: graph.nodes.count)
        for (index, node) in graph.nodes.enumerated() {
            for input in node.inputs {
                for name in input.argument.tensorNames {
                    guard let source = producer[name] else { continue }
                    waiting[index] += 1
                    consumers[source].append(index)
                }
            }
        }
        var ready = waiting.indices.filter { waiting[$0] == 0 }
        var done = 0
        while let index = ready.popLast() {
            done += 1
            for consumer in consumers[index] {
                waiting[consumer] -= 1
                if waiting[consumer] == 0 { ready.append(consumer) }
            }
        }
        if done < graph.nodes.count, let stuck = waiting.indices.first(where: { waiting[$0] > 0 }) {
            let node = graph.nodes[stuck]
            throw .malformed("graph `\(graph.name)` has a cycle through node `\(node.name.isEmpty ? node.op.name : node.name)` (\(node.op.name)); onnxruntime: \"the graph is not acyclic\"")
        }
    }
}
