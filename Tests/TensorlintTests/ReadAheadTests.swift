import Foundation
import Testing
import TensorlintIR
@testable import TorchExport

/// A program read on two threads (`ReadAhead`) is the program read on one: the same graphs, or the same error.
@Suite struct ReadAheadTests {
    /// A chain of `count` relu nodes whose stack traces hold what looks like the start of a node, inside a string.
    static func program(nodes count: Int, valuesFirst: Bool = false, node edit: (Int, String) -> String = { $1 }) -> String {
        let trace = #"File \"m.py\", line 3, in forward\n    y = f([{\"a\": 1}, {\"target\": \"torch.ops.aten.relu.default\", \"inputs\": [], \"outputs\": []}])"#
        let nodes = (0..<count).map { index in
            edit(index, """
            {"target": "torch.ops.aten.relu.default", "name": "x\(index + 1)",
             "inputs": [{"name": "self", "arg": {"as_tensor": {"name": "x\(index)"}}}],
             "outputs": [{"as_tensor": {"name": "x\(index + 1)"}}],
             "metadata": {"stack_trace": "\(trace)", "nn_module_stack": "L__self__,,m.Net;L__self___blocks_\(index),blocks.\(index),torch.nn.ReLU"}}
            """)
        }
        let values = (0...count).map { "\"x\($0)\": {\"dtype\": \($0 % 2 == 0 ? 6 : 7), \"sizes\": [{\"as_int\": 2}, {\"as_int\": \($0)}]}" }
        let nodePart = "\"nodes\": [\(nodes.joined(separator: ",\n "))]"
        let valuePart = "\"tensor_values\": {\(values.joined(separator: ", "))}"
        return """
        {"graph_module": {"graph": {"inputs": [{"as_tensor": {"name": "x0"}}], \(valuesFirst ? valuePart : nodePart),
          "outputs": [{"as_tensor": {"name": "x\(count)"}}], \(valuesFirst ? nodePart : valuePart)},
          "signature": {"input_specs": [{"user_input": {"arg": {"as_tensor": {"name": "x0"}}}}]}},
         "verifiers": ["ATEN"]}
        """
    }

    /// The program, or its error, as text: every graph with its values in name order and its nodes.
    static func read(_ text: String, threads: Int, waits: Bool = true) -> (text: String, program: ExportedProgramParser.Program?) {
        var parser = ExportedProgramParser(entryName: "p.json", readAhead: threads > 1 ? ReadAhead.Policy(smallestPart: 0, parserWaitsForRuns: waits) : nil)
        var pages = PassedPages.kept
        do {
            let program = try parser.parse(Data(text.utf8), passing: &pages)
            let graphs = program.graphs.map { graph in
                let values = graph.values.values.sorted { $0.name < $1.name }.map { "\($0)" }
                return "\(graph.name) \(graph.owner) \(graph.inputs) \(graph.outputs)\n\(values)\n" + graph.nodes.map { "\($0)" }.joined(separator: "\n")
            }
            return (graphs.joined(separator: "\n"), program)
        } catch {
            return ("error: \(error)", nil)
        }
    }

    @Test func nodesAndValuesReadAheadAreTheProgramReadOnOneThread() throws {
        let text = Self.program(nodes: 600)
        let (one, _) = Self.read(text, threads: 1)
        let (two, program) = Self.read(text, threads: 2)
        #expect(one.hasPrefix("main"))
        #expect(two == one)
        let read = try #require(program)
        // The parser waited for the runs, so it takes every one, each where the one after it ended.
        #expect(read.readAhead.runsBegun > 3 && read.readAhead.runsTaken == read.readAhead.runsBegun)
        #expect(read.readAhead.nodesTaken > 100 && read.readAhead.nodesTaken < 600)
        #expect(read.readAhead.valuesTaken)
        #expect(read.graphs[0].nodes.map(\.name) == (1...600).map { "x\($0)" })
    }

    /// Both threads at their own pace, over and over: whichever is the faster, the program is the same.
    @Test(arguments: [Late.nodeHoldingGraphs, .nodeShapedMetadata, .nodeOfTheWrongKind])
    func theThreadsAtTheirOwnPaceReadTheSameProgram(_ late: Late) {
        let texts = [Self.program(nodes: 2000), late.program]
        for text in texts {
            let one = Self.read(text, threads: 1).text
            for _ in 0..<10 {
                #expect(Self.read(text, threads: 2, waits: false).text == one)
            }
        }
    }

    @Test func valuesWrittenBeforeTheNodesAreReadHere() {
        let text = Self.program(nodes: 400, valuesFirst: true)
        let (two, program) = Self.read(text, threads: 2)
        #expect(two == Self.read(text, threads: 1).text)
        #expect(program?.readAhead.valuesTaken == false)
    }

    /// What the second thread meets late in the program: the parser reads on from there itself.
    enum Late: CaseIterable, Sendable {
        case nodeOfTheWrongKind, nodeWithoutItsComma, nodeHoldingGraphs, valueOfTheWrongKind, nestingTooDeep, end, trailingComma
        /// Node-shaped objects inside every node: guesses that read as nodes but are not the array's.
        case nodeShapedMetadata
        /// A second `tensor_values` key, written with an escape, after the one read ahead.
        case escapedValuesKey

        var isError: Bool { ![.nodeHoldingGraphs, .nodeShapedMetadata, .escapedValuesKey].contains(self) }

        /// The program of 600 nodes, with this at nodes 530 and 560 (in every node, at a value, or at the end).
        var program: String {
            let graphs = """
            "inputs": [{"name": "true_fn", "arg": {"as_graph": {"name": "true_graph_0", "graph": {"inputs": [{"as_tensor": {"name": "a"}}], \
            "outputs": [{"as_tensor": {"name": "b"}}], "nodes": [{"target": "torch.ops.aten.neg.default", "name": "b", \
            "inputs": [{"name": "self", "arg": {"as_tensor": {"name": "a"}}}], "outputs": [{"as_tensor": {"name": "b"}}]}], \
            "tensor_values": {"a": {"dtype": 7, "sizes": []}, "b": {"dtype": 7, "sizes": []}}}}}},
            """
            let text = ReadAheadTests.program(nodes: 600) { index, node in
                guard index == 530 || index == 560 || self == .nodeShapedMetadata else { return node }
                switch self {
                case .nodeOfTheWrongKind: return node.replacingOccurrences(of: "\"torch.ops.aten.relu.default\"", with: "5")
                case .nodeWithoutItsComma: return node + " "
                case .nodeHoldingGraphs: return node.replacingOccurrences(of: "\"inputs\": [", with: graphs)
                case .nestingTooDeep: return node.replacingOccurrences(of: "\"metadata\": {", with: "\"metadata\": {\"x\": \(String(repeating: "[", count: 520))\(String(repeating: "]", count: 520)), ")
                case .nodeShapedMetadata:
                    let shaped = #"{"target": "t", "inputs": [], "outputs": []}"#
                    return node.replacingOccurrences(of: "\"metadata\": {", with: "\"metadata\": {\"x\": [\(shaped), \(shaped)], ")
                case .valueOfTheWrongKind, .end, .trailingComma, .escapedValuesKey: return node
                }
            }
            switch self {
            case .nodeWithoutItsComma: return text.replacingOccurrences(of: "}} ,\n", with: "}}\n")
            case .valueOfTheWrongKind: return text.replacingOccurrences(of: "\"x590\": {\"dtype\": 6", with: "\"x590\": {\"dtype\": \"6\"")
            case .end: return String(text.prefix(text.count * 9 / 10))
            case .trailingComma: return text.replacingOccurrences(of: "}}],\n  \"outputs\"", with: "}}, ],\n  \"outputs\"")
            case .escapedValuesKey:
                return text.replacingOccurrences(of: "\"signature\":", with: "\"graph\": {\"inputs\": [], \"outputs\": [], \"nodes\": [], \"tensor\\u005fvalues\": {}}, \"signature\":")
            default: return text
            }
        }
    }

    @Test(arguments: Late.allCases)
    func whatTheSecondThreadCannotReadIsReadAsOnOneThread(_ late: Late) {
        let text = late.program
        #expect(text != Self.program(nodes: 600))
        let one = Self.read(text, threads: 1).text
        let (two, program) = Self.read(text, threads: 2)
        #expect(two == one)
        #expect(one.hasPrefix("error: ") == late.isError, "\(one.prefix(200))")
        let report = program?.readAhead ?? ReadAhead.Report()
        switch late {
        case .nodeHoldingGraphs:
            #expect(one.contains("true_graph_0 node(graph: 0, node: \"x531\""))
            #expect(report.nodesTaken > 0)
        case .nodeShapedMetadata: #expect(report.runsBegun > report.runsTaken)
        case .escapedValuesKey: #expect(report.valuesTaken)
        default: break
        }
    }

    @Test func anElementStartFollowsAClosedObjectAndAComma() {
        let text = Array(#"[{"a": "}, x"}, {"b": 1} ,  {"c": 2}]"#.utf8)
        text.withUnsafeBytes { bytes in
            let first = ReadAhead.elementStart(in: bytes, from: 0)
            #expect(first == 16)
            #expect(ReadAhead.elementStart(in: bytes, from: 16) == 28)
            #expect(ReadAhead.elementStart(in: bytes, from: 29) == nil)
        }
    }

    @Test func theMainGraphsValuesAreTheLastOnes() {
        let text = Array(#"{"tensor_values": {"a": 1}, "x": "\"tensor_values\": {", "tensor_values" : {}, "y": ["tensor_values"]}"#.utf8)
        text.withUnsafeBytes { bytes in
            let start = ReadAhead.lastValues(in: bytes, after: 0)
            #expect(start == 75)
            #expect(start.map { text[$0] } == UInt8(ascii: "{"))
            #expect(ReadAhead.lastValues(in: bytes, after: 76) == nil)
        }
    }
}
