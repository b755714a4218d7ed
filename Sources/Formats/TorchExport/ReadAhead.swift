import Dispatch
import Foundation
import Synchronization
import TensorlintIR
import TensorlintJSON

/// The later part of the main graph's nodes, and its `tensor_values`, read on a second thread while the parser
/// reads the earlier nodes: a program's JSON is most of a large model's reading, and these two most of its JSON.
///
/// Where the second thread starts is a guess: an element of the form `}, {` well into the node array, from
/// which a node reads; the last `"tensor_values"` key in the document. What it read is taken only when the
/// parser, reading on, arrives at an element (or at the main graph's `tensor_values`) at that very offset:
/// then the guess was that element, not bytes inside a string or another array, and reading from there gives
/// what the parser would have read. The thread stops before a node it cannot read, or one that holds a graph
/// (nested graphs are numbered in document order): the parser reads on from there itself, so an error, its
/// path and the graphs' numbering are those of a reading on one thread. It reads values all or nothing.
final class ReadAhead: @unchecked Sendable {
    /// Not enough of the document past the first node to be worth a thread.
    static let smallestDocumentPart = 1 << 20

    private static let unknown = -1, nowhere = -2
    /// The offset of the node the thread's run starts at, once it has read that node; `nowhere` when it found none.
    private let nodesStart = Atomic<Int>(unknown)
    /// The offset of the `tensor_values` object the thread read, once it has: `nowhere` when it did not.
    private let valuesStart = Atomic<Int>(unknown)
    /// Set when the parser has passed the nodes' run by, or needs it no more.
    private let nodesCancelled = Atomic<Bool>(false)
    /// Set when the parser is done: nothing more is read.
    private let stopped = Atomic<Bool>(false)
    /// Where the parser is in the node array: it is told at every node.
    private let parserAt = Atomic<Int>(0)
    private let nodesStarted = DispatchSemaphore(value: 0), nodesRead = DispatchSemaphore(value: 0), valuesRead = DispatchSemaphore(value: 0), finished = DispatchSemaphore(value: 0)
    // Written by the thread before it signals the semaphore after them.
    private var nodes: [Node] = []
    private var nodesEnd = 0
    private var values: [(name: String, meta: ExportedProgramSchema.TensorMeta)] = []
    private var valuesEnd = 0
    // The parser's: whether it is done with each part (took it, or passed it by).
    private var nodesSettled = false, valuesSettled = false

    /// Starts reading ahead of `reader`, which is at the main graph's first node, if enough of the document
    /// follows; `pages` is how the parser gives back the pages it has passed.
    static func start(ahead reader: JSONReader, entryName: String, pages: PassedPages,
                      smallestPart: Int = smallestDocumentPart) -> ReadAhead? {
        guard reader.document.count - reader.offset >= smallestPart else { return nil }
        let readAhead = ReadAhead()
        let work = Work { readAhead.read(ahead: reader, entryName: entryName, pages: pages) }
        // A thread that cannot be made (a process at its limit) is no thread: the parser reads everything itself.
        return work.started() ? readAhead : nil
    }

    /// What the second thread runs, handed to it through `pthread_create`.
    private final class Work {
        let body: () -> Void

        init(_ body: @escaping () -> Void) {
            self.body = body
        }

        /// Whether a thread now runs `body`: with a stack as large as a main thread's, since a document may
        /// nest 512 containers.
        func started() -> Bool {
            var attributes = pthread_attr_t()
            pthread_attr_init(&attributes)
            defer { pthread_attr_destroy(&attributes) }
            pthread_attr_setstacksize(&attributes, 16 << 20)
            let context = Unmanaged.passRetained(self)
            var thread = pthread_t()
            guard pthread_create(&thread, &attributes, { context in
                Unmanaged<Work>.fromOpaque(context!).takeRetainedValue().body()
                return nil
            }, context.toOpaque()) == 0 else {
                context.release()
                return false
            }
            pthread_detach(thread)
            return true
        }
    }

    /// At the parser's next node (`reader` at it): the nodes read ahead from there and where to go on (a node's
    /// start or the array's `]`), if the run starts there.
    func nodes(at reader: JSONReader) -> (nodes: [Node], resumeAt: Int)? {
        guard !nodesSettled else { return nil }
        parserAt.store(reader.offset, ordering: .relaxed)
        let start = nodesStart.load(ordering: .acquiring)
        guard start != Self.unknown, reader.offset >= start else { return nil }
        nodesSettled = true
        guard reader.offset == start else {
            nodesCancelled.store(true, ordering: .relaxed)
            return nil
        }
        nodesRead.wait()
        defer { nodes = [] }
        return (nodes, nodesEnd)
    }

    /// At the main graph's `tensor_values` (`reader` at its value): the values read ahead and where they end, if
    /// they were read from there.
    func values(at reader: JSONReader) -> (values: [(name: String, meta: ExportedProgramSchema.TensorMeta)], end: Int)? {
        guard !valuesSettled else { return nil }
        valuesSettled = true
        // Past the node array: nodes not taken by now were not the document's.
        nodesSettled = true
        nodesCancelled.store(true, ordering: .relaxed)
        valuesRead.wait()
        var reader = reader
        guard valuesStart.load(ordering: .acquiring) == reader.valueStart() else { return nil }
        defer { values = [] }
        return (values, valuesEnd)
    }

    /// Waits until the thread has found where its run of nodes starts, or that it has none: so that tests do
    /// not depend on which thread is faster.
    func waitForNodesStart() {
        nodesStarted.wait()
    }

    /// Stops the thread and waits for it: the document's bytes must outlive it.
    func stop() {
        stopped.store(true, ordering: .relaxed)
        nodesCancelled.store(true, ordering: .relaxed)
        finished.wait()
    }

    // MARK: the second thread

    private func read(ahead first: JSONReader, entryName: String, pages: PassedPages) {
        defer { finished.signal() }
        let document = first.document
        // The values first: then how much follows them is known, and the parser has gone some way.
        let values = Self.lastValues(in: document, after: first.offset)
        if let values {
            readValues(ahead: first, at: values, pages: pages)
        } else {
            valuesStart.store(Self.nowhere, ordering: .releasing)
        }
        valuesRead.signal()
        // Both threads about as busy from here: the parser reads the nodes up to the guess and what follows the
        // values; this thread, the nodes after the guess (up to about where the values start).
        let nodesEnd = values ?? document.count
        let rest = document.count - (valuesStart.load(ordering: .relaxed) >= 0 ? valuesEnd : nodesEnd)
        let parser = max(first.offset, parserAt.load(ordering: .relaxed))
        readNodes(ahead: first, from: parser + max(0, nodesEnd - parser - rest) / 2, entryName: entryName, pages: pages)
        nodesRead.signal()
    }

    private func readNodes(ahead first: JSONReader, from guess: Int, entryName: String, pages: PassedPages) {
        guard !nodesCancelled.load(ordering: .relaxed) else { return publishNodesStart(Self.nowhere) }
        var parser = ExportedProgramParser(entryName: entryName)
        var candidate = guess
        // Each try that fails fails on its first bytes: `{` inside a string is followed by an escaped quote.
        for _ in 0..<64 {
            guard let start = Self.elementStart(in: first.document, from: candidate) else { break }
            candidate = start + 1
            var reader = first.reader(at: start)
            guard let node = try? ExportedProgramSchema.Node(&reader), !node.holdsGraph else { continue }
            publishNodesStart(start)
            var pages = pages.resumed(at: start)
            readNodes(from: start, first: node, reader: reader, parser: &parser, pages: &pages)
            return
        }
        publishNodesStart(Self.nowhere)
    }

    private func publishNodesStart(_ start: Int) {
        nodesStart.store(start, ordering: .releasing)
        nodesStarted.signal()
    }

    /// Reads on from the node read at `start` to the array's end, or to the start of a node this thread leaves
    /// to the parser.
    private func readNodes(from start: Int, first: ExportedProgramSchema.Node, reader: JSONReader,
                           parser: inout ExportedProgramParser, pages: inout PassedPages) {
        var (elementStart, node, reader) = (start, first, reader)
        while true {
            nodes.append(parser.mainGraphNode(node))
            pages.passed(reader.offset)
            guard let more = try? reader.nextElement() else {
                // What follows the node is not `,` or `]`: the parser reads it again and says so.
                nodes.removeLast()
                nodesEnd = elementStart
                return
            }
            guard more else {
                nodesEnd = reader.offset
                return
            }
            guard !nodesCancelled.load(ordering: .relaxed) else { return }
            elementStart = reader.valueStart()
            var next = reader
            guard let read = try? ExportedProgramSchema.Node(&next), !read.holdsGraph else {
                nodesEnd = elementStart
                return
            }
            (node, reader) = (read, next)
        }
    }

    /// Reads the object at `start` as the graph's values, all of it or nothing.
    private func readValues(ahead first: JSONReader, at start: Int, pages: PassedPages) {
        guard !stopped.load(ordering: .relaxed) else { return valuesStart.store(Self.nowhere, ordering: .releasing) }
        var reader = first.reader(at: start)
        var pages = pages.resumed(at: start)
        do {
            values = try ExportedProgramSchema.Graph.values(&reader) { (offset: Int) throws(JSONError) in
                pages.passed(offset)
                // The parser is done (an error before the values): no use reading on.
                if stopped.load(ordering: .relaxed) { throw JSONError(schema: "stopped") }
            }
            valuesEnd = reader.offset
            valuesStart.store(start, ordering: .releasing)
        } catch {
            values = []
            valuesStart.store(Self.nowhere, ordering: .releasing)
        }
    }

    // MARK: guesses

    /// The first `{` at or after `offset` that follows `},` (whitespace allowed around the comma): where an
    /// element of an array of objects may start.
    static func elementStart(in document: UnsafeRawBufferPointer, from offset: Int) -> Int? {
        var index = max(offset, 1)
        while index < document.count {
            guard let comma = document[index...].firstIndex(of: UInt8(ascii: ",")) else { return nil }
            index = comma + 1
            var before = comma - 1
            while before > 0, isWhitespace(document[before]) { before -= 1 }
            guard document[before] == UInt8(ascii: "}") else { continue }
            var after = comma + 1
            while after < document.count, isWhitespace(document[after]) { after += 1 }
            if after < document.count, document[after] == UInt8(ascii: "{") { return after }
        }
        return nil
    }

    /// Where the object of the last `"tensor_values":` key after `offset` starts: the main graph's values,
    /// written after its nodes.
    static func lastValues(in document: UnsafeRawBufferPointer, after offset: Int) -> Int? {
        let key = Array("\"tensor_values\"".utf8)
        // Searched from the end by Horspool's rule, mirrored: a window whose first byte is not in the key moves
        // by its whole length.
        var shift = [Int](repeating: key.count, count: 256)
        for (index, byte) in key.enumerated().reversed() where index > 0 { shift[Int(byte)] = index }
        var index = document.count - key.count
        while index > offset {
            defer { index -= shift[Int(document[index])] }
            guard (0..<key.count).allSatisfy({ document[index + $0] == key[$0] }) else { continue }
            var after = index + key.count
            while after < document.count, isWhitespace(document[after]) { after += 1 }
            guard after < document.count, document[after] == UInt8(ascii: ":") else { continue }
            after += 1
            while after < document.count, isWhitespace(document[after]) { after += 1 }
            if after < document.count, document[after] == UInt8(ascii: "{") { return after }
        }
        return nil
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }
}

extension ExportedProgramSchema.Node {
    /// Whether an argument of the node is a graph (`torch.cond`'s branches).
    var holdsGraph: Bool {
        (inputs.map(\.arg) + outputs).contains { if case .graph = $0 { true } else { false } }
    }
}
