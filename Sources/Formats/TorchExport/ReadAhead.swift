import Dispatch
import Foundation
import Synchronization
import TensorlintIR
import TensorlintJSON

/// The main graph's `tensor_values` and runs of its later nodes, read on a second thread while the parser reads
/// the earlier nodes: a program's JSON is most of a large model's reading, and these two most of its JSON.
///
/// Where the second thread reads is a guess: the object of the last `"tensor_values"` key in the document; a
/// `{` after `},` well into the node array, from which a node reads. What it read is taken only when the parser,
/// reading on, arrives at that very offset, at a node or at the main graph's `tensor_values`: then the guess
/// was that node or those values, not bytes inside a string or another array, and reading from there gives what
/// the parser would have read. A run of nodes stops before a node it cannot read, or one that holds a graph
/// (nested graphs are numbered in document order): the parser reads on from there itself, so an error, its path
/// and the graphs' numbering are those of a reading on one thread. Values are read all or nothing.
///
/// The values are read first, and then runs of nodes, each ending where the one before starts, each a third of
/// what lies between the parser and the run before: so both threads finish the array about together, whichever
/// is faster.
final class ReadAhead: @unchecked Sendable {
    /// Not enough of the document past the first node to be worth a thread.
    static let smallestDocumentPart = 1 << 20

    /// Nodes from `start` to `resumeAt` (a node's start, or the array's `]`), where the parser goes on.
    final class Run: @unchecked Sendable {
        let start: Int
        // Written by the thread before it signals `read`.
        fileprivate var nodes: [Node] = []
        fileprivate var resumeAt = 0
        fileprivate let read = DispatchSemaphore(value: 0)

        init(start: Int) {
            self.start = start
        }
    }

    private static let unknown = -1, nowhere = -2
    /// Runs are not shorter than this many bytes (less for tests).
    private let smallestRun: Int
    /// The runs begun, in the order begun: each starts before the one before it.
    private let runs = Mutex<[Run]>([])
    private let runsBegun = Atomic<Int>(0)
    /// The offset of the `tensor_values` object the thread read, once it has: `nowhere` when it did not.
    private let valuesStart = Atomic<Int>(unknown)
    /// Set when the parser has passed a run by, or the node array: no more runs.
    private let nodesCancelled = Atomic<Bool>(false)
    /// Set when the parser is done: nothing more is read.
    private let stopped = Atomic<Bool>(false)
    /// Where the parser is in the node array: it is told at every node.
    private let parserAt = Atomic<Int>(0)
    private let valuesRead = DispatchSemaphore(value: 0), runsRead = DispatchSemaphore(value: 0), finished = DispatchSemaphore(value: 0)
    // Written by the thread before it signals `valuesRead`.
    private var values: [(name: String, meta: ExportedProgramSchema.TensorMeta)] = []
    private var valueTable: [String: Value] = [:]
    private var valuesEnd = 0
    // The parser's: the runs it has been told of, and those it has yet to reach, lowest start first.
    private var runsKnown = 0
    private var runsAhead: [Run] = []
    private var valuesSettled = false

    private init(smallestRun: Int) {
        self.smallestRun = smallestRun
    }

    /// Starts reading ahead of `reader`, which is at the main graph's first node, if at least `smallestPart`
    /// bytes of the document follow; `pages` is how the parser gives back the pages it has passed.
    static func start(ahead reader: JSONReader, entryName: String, pages: PassedPages,
                      smallestPart: Int = smallestDocumentPart) -> ReadAhead? {
        guard reader.document.count - reader.offset >= smallestPart else { return nil }
        let readAhead = ReadAhead(smallestRun: smallestPart / 4)
        let work = Work { readAhead.read(ahead: reader, entryName: entryName, pages: pages) }
        // A thread that cannot be made (a process at its limit) is no thread: the parser reads everything itself.
        return work.started() ? readAhead : nil
    }

    /// At the parser's next node (`reader` at it): the nodes read ahead from there and where to go on, if a run
    /// starts there.
    func nodes(at reader: JSONReader) -> (nodes: [Node], resumeAt: Int)? {
        let offset = reader.offset
        parserAt.store(offset, ordering: .relaxed)
        if runsBegun.load(ordering: .acquiring) > runsKnown {
            let new = runs.withLock { Array($0[runsKnown...]) }
            runsKnown += new.count
            runsAhead = (runsAhead + new).sorted { $0.start < $1.start }
        }
        if let first = runsAhead.first, first.start < offset {
            // Passed by: not a node of this array after all, so neither is what the thread would read next.
            nodesCancelled.store(true, ordering: .relaxed)
            runsAhead.removeAll { $0.start < offset }
        }
        guard let run = runsAhead.first, run.start == offset else { return nil }
        runsAhead.removeFirst()
        run.read.wait()
        defer { run.nodes = [] }
        return (run.nodes, run.resumeAt)
    }

    /// At the main graph's `tensor_values` (`reader` at its value): the values read ahead, as the IR has them too
    /// (`ExportedProgramParser.valueTable`), and where they end, if they were read from there.
    func values(at reader: JSONReader) -> (values: [(name: String, meta: ExportedProgramSchema.TensorMeta)], table: [String: Value], end: Int)? {
        guard !valuesSettled else { return nil }
        valuesSettled = true
        // Past the node array: no run is of use any more.
        nodesCancelled.store(true, ordering: .relaxed)
        valuesRead.wait()
        var reader = reader
        guard valuesStart.load(ordering: .acquiring) == reader.valueStart() else { return nil }
        defer { (values, valueTable) = ([], [:]) }
        return (values, valueTable, valuesEnd)
    }

    /// How many runs of nodes the thread has begun to read.
    var runCount: Int { runsBegun.load(ordering: .acquiring) }

    /// Waits until the thread has read all its runs of nodes: so that tests do not depend on which thread is faster.
    func waitForRuns() {
        runsRead.wait()
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
        let values = Self.lastValues(in: document, after: first.offset)
        if let values {
            readValues(ahead: first, at: values, pages: pages)
        } else {
            valuesStart.store(Self.nowhere, ordering: .releasing)
        }
        valuesRead.signal()
        readRuns(ahead: first, nodesEnd: values ?? document.count, entryName: entryName, pages: pages)
        runsRead.signal()
    }

    /// Reads runs of nodes, each ending where the one before starts, while one is worth reading.
    private func readRuns(ahead first: JSONReader, nodesEnd: Int, entryName: String, pages: PassedPages) {
        var parser = ExportedProgramParser(entryName: entryName)
        var runBefore: Int?
        while !nodesCancelled.load(ordering: .relaxed) {
            let at = max(first.offset, parserAt.load(ordering: .relaxed))
            // A third of what lies between the parser and the run before: if this thread is the faster, more runs
            // follow and fill the rest; if it is the slower, the parser waits at most for this one.
            let length = ((runBefore ?? nodesEnd) - at) / 3
            guard length >= max(1, smallestRun),
                  let (start, node, reader) = firstNode(ahead: first, from: (runBefore ?? nodesEnd) - length) else { return }
            guard runBefore.map({ start < $0 }) ?? true else { return }
            let run = Run(start: start)
            runs.withLock { $0.append(run) }
            runsBegun.add(1, ordering: .releasing)
            var pages = pages.resumed(at: start)
            read(run, first: node, reader: reader, endingAt: runBefore, parser: &parser, pages: &pages)
            run.read.signal()
            runBefore = start
        }
    }

    /// The first node at or after `offset`, where a node reads from (and does not hold a graph).
    private func firstNode(ahead first: JSONReader, from offset: Int) -> (Int, ExportedProgramSchema.Node, JSONReader)? {
        var candidate = offset
        // Each try that fails fails on its first bytes: `{` inside a string is followed by an escaped quote.
        for _ in 0..<64 {
            guard let start = Self.elementStart(in: first.document, from: candidate) else { return nil }
            candidate = start + 1
            var reader = first.reader(at: start)
            if let node = try? ExportedProgramSchema.Node(&reader), !node.holdsGraph { return (start, node, reader) }
        }
        return nil
    }

    /// Reads on from the run's first node to the array's end, to `runAfter` (the start of the run read before),
    /// or to the start of a node this thread leaves to the parser.
    private func read(_ run: Run, first: ExportedProgramSchema.Node, reader: JSONReader, endingAt runAfter: Int?,
                      parser: inout ExportedProgramParser, pages: inout PassedPages) {
        var (elementStart, node, reader) = (run.start, first, reader)
        while true {
            run.nodes.append(parser.mainGraphNode(node))
            pages.passed(reader.offset)
            guard let more = try? reader.nextElement() else {
                // What follows the node is not `,` or `]`: the parser reads it again and says so.
                run.nodes.removeLast()
                run.resumeAt = elementStart
                return
            }
            guard more else {
                run.resumeAt = reader.offset
                return
            }
            elementStart = reader.valueStart()
            var next = reader
            guard elementStart != runAfter, !nodesCancelled.load(ordering: .relaxed),
                  let read = try? ExportedProgramSchema.Node(&next), !read.holdsGraph else {
                run.resumeAt = elementStart
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
            valueTable = ExportedProgramParser.valueTable(values)
            valuesStart.store(start, ordering: .releasing)
        } catch {
            values = []
            valuesStart.store(Self.nowhere, ordering: .releasing)
        }
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
