import Dispatch
import Foundation
import TensorlintIR
import TensorlintJSON

/// The main graph's `tensor_values` and runs of its later nodes, read on a second thread while the parser reads
/// the earlier nodes: a program's JSON is most of a large model's reading, and these two most of its JSON.
///
/// Where the second thread reads is a guess: the object of the last `"tensor_values":` key in the document; a
/// `{` after `},` well into the node array, from which a node reads. What it read is taken only when the parser,
/// reading on, arrives at that very offset, at a node or at the main graph's `tensor_values`: then the guess
/// was that node or those values, not bytes inside a string or another array, and reading from there gives what
/// the parser would have read. A run of nodes ends before a node it cannot read or that holds a graph (nested
/// graphs are numbered in document order), and never just after a comma: the parser reads on from there
/// itself, so an error, its path and the graphs' numbering are those of a reading on one thread. Values are
/// read all or nothing.
///
/// The values are read first, then runs of nodes, each ending where the one before starts, each a third of what
/// lies between the parser and the run before: so both threads finish the array about together, whichever is
/// the faster.
final class ReadAhead: @unchecked Sendable {
    /// When a program is read ahead, and whether the parser waits for the runs (so that tests do not depend on
    /// which thread is the faster).
    struct Policy {
        /// Not enough of the document past the first node to be worth a thread.
        var smallestPart = 1 << 20
        var parserWaitsForRuns = false
    }

    /// What was read ahead, and taken.
    struct Report {
        var runsBegun = 0
        var runsTaken = 0
        var nodesTaken = 0
        var valuesTaken = false
    }

    /// Nodes from `start` to `resumeAt` (a node's start, or the array's `]`), where the parser goes on.
    private final class Run: @unchecked Sendable {
        let start: Int
        // Written by the thread before it signals `done`.
        var nodes: [Node] = []
        var resumeAt = 0
        let done = DispatchSemaphore(value: 0)

        init(start: Int) {
            self.start = start
        }
    }

    /// Runs are not shorter than this many bytes.
    private let smallestRun: Int
    private let lock = NSLock()
    // Guarded by `lock`.
    /// The runs begun, in the order begun: each starts before the one before it.
    private var runs: [Run] = []
    /// Where the parser is in the node array: it says at every node.
    private var parserAt = 0
    /// Set when the parser has passed a run by, or the node array: no more runs.
    private var nodesCancelled = false
    /// Set when the parser is done: nothing more is read.
    private var stopped = false

    private let valuesDone = DispatchSemaphore(value: 0), runsDone = DispatchSemaphore(value: 0), finished = DispatchSemaphore(value: 0)
    // Written by the thread before it signals `valuesDone`.
    private var values: (start: Int, list: [(name: String, meta: ExportedProgramSchema.TensorMeta)], table: [String: Value], end: Int)?

    // The parser's.
    private var runsKnown = 0
    /// The runs it has yet to reach, lowest start first.
    private var runsAhead: [Run] = []
    private var valuesSettled = false
    private(set) var report = Report()

    private init(smallestRun: Int) {
        self.smallestRun = smallestRun
    }

    /// Starts reading ahead of `reader`, which is at the main graph's first node, if enough of the document
    /// follows; `pages` is how the parser gives back the pages it has passed.
    static func start(ahead reader: JSONReader, entryName: String, pages: PassedPages, policy: Policy) -> ReadAhead? {
        guard reader.document.count - reader.offset >= policy.smallestPart else { return nil }
        let readAhead = ReadAhead(smallestRun: policy.smallestPart / 4)
        // A thread that cannot be made (a process at its limit) is no thread: the parser reads everything itself.
        guard startThread({ readAhead.read(ahead: reader, entryName: entryName, pages: pages) }) else { return nil }
        if policy.parserWaitsForRuns { readAhead.runsDone.wait() }
        return readAhead
    }

    private func locked<Result>(_ body: () -> Result) -> Result {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    /// At the parser's next node (`reader` at it): the nodes read ahead from there and where to go on, if a run
    /// starts there.
    func nodes(at reader: JSONReader) -> (nodes: [Node], resumeAt: Int)? {
        let offset = reader.offset
        let new = locked {
            parserAt = offset
            return runs.count > runsKnown ? Array(runs[runsKnown...]) : []
        }
        if !new.isEmpty {
            runsKnown += new.count
            runsAhead = (runsAhead + new).sorted { $0.start < $1.start }
        }
        if let first = runsAhead.first, first.start < offset {
            // Passed by: a run begins only ahead of the parser, so this one was not of this array after all.
            locked { nodesCancelled = true }
            runsAhead.removeAll { $0.start < offset }
        }
        guard let run = runsAhead.first, run.start == offset else { return nil }
        runsAhead.removeFirst()
        run.done.wait()
        defer { run.nodes = [] }
        if !run.nodes.isEmpty { report.runsTaken += 1 }
        report.nodesTaken += run.nodes.count
        return (run.nodes, run.resumeAt)
    }

    /// At the main graph's `tensor_values` (`reader` at its value): the values read ahead, as the IR has them too
    /// (`ExportedProgramParser.valueTable`), and where they end, if they were read from there.
    func values(at reader: JSONReader) -> (list: [(name: String, meta: ExportedProgramSchema.TensorMeta)], table: [String: Value], end: Int)? {
        guard !valuesSettled else { return nil }
        valuesSettled = true
        // Past the node array: no run is of use any more.
        locked { nodesCancelled = true }
        valuesDone.wait()
        defer { values = nil }
        var reader = reader
        guard let values, values.start == reader.valueStart() else { return nil }
        report.valuesTaken = true
        return (values.list, values.table, values.end)
    }

    /// Stops the thread and waits for it: the document's bytes must outlive it. What it read and the parser did
    /// not take goes.
    func stop() {
        locked { (stopped, nodesCancelled) = (true, true) }
        finished.wait()
        report.runsBegun = runs.count
        (runs, runsAhead, values) = ([], [], nil)
    }

    // MARK: the second thread

    private func read(ahead first: JSONReader, entryName: String, pages: PassedPages) {
        defer { finished.signal() }
        let document = first.document
        let valuesOffset = Self.lastValues(in: document, after: first.offset)
        if let valuesOffset { values = readValues(ahead: first, at: valuesOffset, pages: pages) }
        valuesDone.signal()
        readRuns(ahead: first, nodesEnd: valuesOffset ?? document.count, entryName: entryName, pages: pages)
        runsDone.signal()
    }

    /// Reads runs of nodes, each ending where the one before starts, while one is worth reading.
    private func readRuns(ahead first: JSONReader, nodesEnd: Int, entryName: String, pages: PassedPages) {
        var parser = ExportedProgramParser(entryName: entryName)
        var runBefore: Int?
        while true {
            let parserAt = max(first.offset, locked { nodesCancelled ? Int.max : self.parserAt })
            // A third of what lies between the parser and the run before: if this thread is the faster, more runs
            // follow and fill the rest; if it is the slower, the parser waits at most for this one.
            let end = runBefore ?? nodesEnd, length = (end - parserAt) / 3
            guard length >= max(1, smallestRun), let (start, node, reader) = firstNode(ahead: first, from: end - length),
                  runBefore.map({ start < $0 }) ?? true else { return }
            let run = Run(start: start)
            // Begun only ahead of the parser, so that a run the parser passes by is never of this array.
            guard locked({ () -> Bool in
                guard start > self.parserAt, !nodesCancelled else { return false }
                runs.append(run)
                return true
            }) else { return }
            var pages = pages.resumed(at: start)
            read(run, first: node, reader: reader, endingAt: runBefore, parser: &parser, pages: &pages)
            run.done.signal()
            runBefore = start
        }
    }

    /// The first node at or after `offset`, where a node reads from (and does not hold a graph).
    private func firstNode(ahead first: JSONReader, from offset: Int) -> (Int, ExportedProgramSchema.Node, JSONReader)? {
        var candidate = offset
        // Most guesses that are not nodes fail at once (a `{` inside a string is followed by an escaped quote);
        // a node-shaped object elsewhere makes a run the parser never arrives at.
        for _ in 0..<64 {
            // Each try may read an object as long as the document: the parser may be done meanwhile.
            guard !locked({ nodesCancelled }), let start = Self.elementStart(in: first.document, from: candidate) else { return nil }
            candidate = start + 1
            var reader = first.reader(at: start)
            if let node = try? ExportedProgramSchema.Node(&reader), !node.holdsGraph { return (start, node, reader) }
        }
        return nil
    }

    /// Reads on from the run's first node to the array's end, to `runAfter` (the start of the run read before),
    /// or to a node this thread leaves to the parser.
    private func read(_ run: Run, first: ExportedProgramSchema.Node, reader: JSONReader, endingAt runAfter: Int?,
                      parser: inout ExportedProgramParser, pages: inout PassedPages) {
        var (nodeStart, node, reader) = (run.start, first, reader)
        while true {
            run.nodes.append(parser.mainGraphNode(node))
            pages.passed(reader.offset)
            var next = reader
            guard let more = try? next.nextElement() else { return leaveLastNode(of: run, startingAt: nodeStart) }
            guard more else {
                run.resumeAt = next.offset
                return
            }
            let nextStart = next.valueStart()
            if nextStart == runAfter {
                run.resumeAt = nextStart
                return
            }
            guard !locked({ nodesCancelled }), let nextNode = try? ExportedProgramSchema.Node(&next), !nextNode.holdsGraph else {
                return leaveLastNode(of: run, startingAt: nodeStart)
            }
            (nodeStart, node, reader) = (nextStart, nextNode, next)
        }
    }

    /// Ends the run before its last node: the parser reads that node again and then what follows it, which this
    /// thread did not read (a comma and something that is not a node, or `]`, must be the parser's to judge).
    private func leaveLastNode(of run: Run, startingAt start: Int) {
        run.nodes.removeLast()
        run.resumeAt = start
    }

    /// The object at `start` read as the graph's values, all of it or nothing.
    private func readValues(ahead first: JSONReader, at start: Int,
                            pages: PassedPages) -> (start: Int, list: [(name: String, meta: ExportedProgramSchema.TensorMeta)], table: [String: Value], end: Int)? {
        // Read one level deeper than the parser reads them (the node array's reader): a limit reached here only
        // makes this thread give them up.
        var reader = first.reader(at: start)
        var pages = pages.resumed(at: start)
        let list = try? ExportedProgramSchema.Graph.values(&reader) { (offset: Int) throws(JSONError) in
            pages.passed(offset)
            // The parser is done (an error before the values): no use reading on.
            if locked({ stopped }) { throw JSONError(schema: "stopped") }
        }
        return list.map { (start, $0, ExportedProgramParser.valueTable($0), reader.offset) }
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
            while before > 0, JSONReader.isWhitespace(document[before]) { before -= 1 }
            guard document[before] == UInt8(ascii: "}") else { continue }
            var after = comma + 1
            while after < document.count, JSONReader.isWhitespace(document[after]) { after += 1 }
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
            while after < document.count, JSONReader.isWhitespace(document[after]) { after += 1 }
            guard after < document.count, document[after] == UInt8(ascii: ":") else { continue }
            after += 1
            while after < document.count, JSONReader.isWhitespace(document[after]) { after += 1 }
            if after < document.count, document[after] == UInt8(ascii: "{") { return after }
        }
        return nil
    }
}

/// Runs `body` on a new thread, if one can be made: with a 16 MB stack, twice a main thread's usual, since a
/// document may nest 512 containers.
private func startThread(_ body: @escaping () -> Void) -> Bool {
    final class Work {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    defer { pthread_attr_destroy(&attributes) }
    pthread_attr_setstacksize(&attributes, 16 << 20)
    pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
    let context = Unmanaged.passRetained(Work(body)).toOpaque()
    #if canImport(Darwin)
    var thread: pthread_t?
    let created = pthread_create(&thread, &attributes, { Unmanaged<Work>.fromOpaque($0).takeRetainedValue().body(); return nil }, context)
    #else
    var thread = pthread_t()
    let created = pthread_create(&thread, &attributes, { Unmanaged<Work>.fromOpaque($0!).takeRetainedValue().body(); return nil }, context)
    #endif
    guard created == 0 else {
        Unmanaged<Work>.fromOpaque(context).release()
        return false
    }
    return true
}

extension ExportedProgramSchema.Node {
    /// Whether an argument of the node is a graph (`torch.cond`'s branches).
    var holdsGraph: Bool {
        inputs.contains { $0.arg.isGraph } || outputs.contains(where: \.isGraph)
    }
}

extension ExportedProgramSchema.Argument {
    var isGraph: Bool {
        if case .graph = self { true } else { false }
    }
}
