import Foundation
import Testing
import TensorlintCLI
@testable import TensorlintIR
import ZIPFoundation
@testable import ONNX
@testable import TorchArchive

/// What a container must be before anything is read from it: a zip whose records agree with each other
/// and with the bytes, an ONNX model onnxruntime would load, external data inside the model's folder.
@Suite struct ContainerIntegrityTests {
    /// The check value of the CRC-32 zip uses, and ZIPFoundation's byte-at-a-time result on every length
    /// around the eight-byte steps.
    @Test func zipChecksumIsZipsCRC32() {
        #expect(ZipChecksum.of(Data("123456789".utf8)) == 0xCBF4_3926)
        #expect(ZipChecksum.of(Data()) == 0)
        var generator = SystemRandomNumberGenerator()
        // And across the steps in which a mapped entry's pages are given back.
        for length in Array(0...40) + [1_000, 65_537, PassedPages.step + 13, 2 * PassedPages.step + 7] {
            let data = Data((0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) })
            #expect(ZipChecksum.of(data) == data.crc32(checksum: 0), "\(length) bytes")
        }
    }

    private func archive(_ entries: [(String, [UInt8])]) throws -> Data {
        var data = Data()
        var writer = StoredZipWriter { data.append($0) }
        for (name, bytes) in entries { try writer.add(name, Data(bytes)) }
        try writer.finish()
        return data
    }

    private func verify(_ data: Data) throws(ReadError) {
        try ZipCentralDirectory(ByteSource(data: data)).verifyLayout()
    }

    private func reason(_ data: Data) -> String? {
        do { try verify(data) } catch { return error.reason }
        return nil
    }

    @Test func theWritersArchivesAreAlignedAndReadBackByEveryReader() throws {
        let entries: [(String, [UInt8])] = [("m/a.json", Array("{}".utf8)), ("m/data/0", [UInt8](repeating: 7, count: 100)), ("m/é", [1])]
        let data = try archive(entries)
        let directory = try ZipCentralDirectory(ByteSource(data: data))
        try directory.verifyLayout()
        #expect(directory.records.map(\.name) == entries.map(\.0))
        for record in directory.records {
            #expect(try directory.dataRange(of: record).lowerBound % 64 == 0, "\(record.name) is not aligned as torch aligns")
        }
        let reader = try Archive(data: data, accessMode: .read)
        for (entry, (name, bytes)) in zip(Array(reader), entries) {
            var read = Data()
            _ = try reader.extract(entry, skipCRC32: false) { read.append($0) }
            #expect(entry.path(using: .utf8) == name && [UInt8](read) == bytes)
        }
    }

    /// Deflated entries (which torch never writes, but another zip tool may) are inflated from the mapped file,
    /// never past the limit whatever the directory declares, and a stream cut short is refused.
    @Test func deflatedEntriesAreInflatedWithinTheirLimits() throws {
        func deflated(_ contents: Data) throws -> [UInt8] {
            let archive = try Archive(accessMode: .create)
            try archive.addEntry(with: "m/zeros", type: .file, uncompressedSize: Int64(contents.count), compressionMethod: .deflate) { position, size in
                contents.subdata(in: Int(position)..<Int(position) + size)
            }
            return [UInt8](try #require(archive.data))
        }
        // Sizes around the 64 KB output buffer's edge (zlib may still hold output when its input is used up).
        for size in [0, 1, 65_535, 65_536, 131_072, 200_000] {
            let path = temporaryDirectory().appendingPathComponent("edge.zip").path
            try Data(try deflated(Data(count: size))).write(to: URL(fileURLWithPath: path))
            #expect(try ZipEntries(path: path).data("m/zeros") == Data(count: size), "\(size) bytes")
        }
        let zeros = Data(count: 100_000)
        let bytes = try deflated(zeros)
        let local = 0, central = try #require(bytes.indices.first { bytes[$0...].starts(with: [0x50, 0x4B, 0x01, 0x02]) })
        func entries(_ patches: [(Int, UInt32)]) throws -> ZipEntries {
            var copy = bytes
            for (offset, value) in patches { copy.replaceSubrange(offset..<offset + 4, with: withUnsafeBytes(of: value.littleEndian, Array.init)) }
            let path = temporaryDirectory().appendingPathComponent("deflated.zip").path
            try Data(copy).write(to: URL(fileURLWithPath: path))
            return try ZipEntries(path: path)
        }
        func reason(_ patches: [(Int, UInt32)], limit: UInt64 = ZipEntries.maximumJSONBytes) throws -> String? {
            let read = try entries(patches)
            do { _ = try read.data("m/zeros", limit: limit) } catch { return error.reason }
            return nil
        }
        #expect(try entries([]).data("m/zeros") == zeros)
        try entries([]).withData("m/zeros") { _, pages throws(ReadError) in #expect(pages.isKept, "inflated bytes are on the heap") }
        #expect(try reason([], limit: 1_000)?.contains("declares 100000 bytes (limit 1000)") == true)
        // A directory that understates the size: inflation stops there. Asked directly for less, it stops at the limit.
        #expect(try reason([(local + 22, 10), (central + 24, 10)])?.contains("inflates past the 10 bytes the directory records") == true)
        let record = try #require(try entries([]).entriesByName["m/zeros"])
        #expect(throws: ReadError.tooLarge("archive entry m/zeros inflates past 1000 bytes")) {
            try entries([]).directory.inflatedBytes(record, limit: 1_000)
        }
        // One that overstates it.
        #expect(try reason([(local + 22, 200_000), (central + 24, 200_000)])?.contains("inflates to 100000 bytes where the directory says 200000") == true)
        // Compressed bytes cut short: zlib asks for more than the entry holds.
        let compressed = Int(bytes[central + 20]) | Int(bytes[central + 21]) << 8
        let truncated = [(local + 18, UInt32(compressed / 2)), (central + 20, UInt32(compressed / 2))]
        #expect(try reason(truncated)?.contains("deflated stream is truncated") == true)
        // A block of the reserved type.
        let dataStart = 30 + Int(bytes[26]) + Int(bytes[27]) << 8 + Int(bytes[28]) + Int(bytes[29]) << 8
        #expect(try reason([(dataStart, UInt32.max)])?.contains("cannot be inflated (corrupted)") == true)
    }

    @Test func moreThan65535EntriesGetZIP64EndRecords() throws {
        let data = try archive((0..<70_000).map { ("e/\($0)", []) })
        let directory = try ZipCentralDirectory(ByteSource(data: data))
        #expect(directory.records.count == 70_000)
        try directory.verifyLayout()
    }

    @Test func recordsThatDisagreeAreRefused() throws {
        let data = try archive([("m/a", Array("abc".utf8)), ("m/b", Array("def".utf8))])
        let bytes = [UInt8](data)
        let directory = bytes.indices.filter { bytes[$0...].starts(with: [0x50, 0x4B, 0x01, 0x02]) }
        func patched(_ offset: Int, _ values: [UInt8]) -> Data {
            var copy = bytes
            copy.replaceSubrange(offset..<offset + values.count, with: values)
            return Data(copy)
        }
        // The local header of the first entry names another entry.
        let local = bytes.indices.first { bytes[$0...].starts(with: [0x50, 0x4B, 0x03, 0x04]) }!
        #expect(reason(patched(local + 30 + 2, [UInt8(ascii: "x")]))?.contains("is named `m/x` in its local header") == true)
        // Its local header's size says 4 GB where the directory says 3 (ZIPFoundation allocated what it said).
        #expect(reason(patched(local + 18, [0xE4, 0xFF, 0xFD, 0xFF]))?.contains("local header says 4294836196 bytes where the directory says 3") == true)
        // A stored entry that says it is longer than its bytes (and so overlaps the next).
        #expect(reason(patched(directory[0] + 20, [200, 0, 0, 0]))?.contains("declares 200 bytes and 3 uncompressed") == true)
        var sizes = patched(directory[0] + 20, [100, 0, 0, 0])
        sizes.replaceSubrange(directory[0] + 24..<directory[0] + 28, with: [100, 0, 0, 0])
        sizes.replaceSubrange(local + 18..<local + 26, with: [100, 0, 0, 0, 100, 0, 0, 0])
        #expect(reason(sizes)?.contains("overlap entry m/b") == true)
        // Two records naming one entry's bytes; an end record that counts fewer records than there are.
        var twins = patched(directory[1] + 42, Array(bytes[(directory[0] + 42)..<(directory[0] + 46)]))
        twins.replaceSubrange(directory[1] + 46..<directory[1] + 49, with: Array("m/a".utf8))
        #expect(reason(twins)?.contains("two entries are named m/a") == true)
        let end = bytes.lastIndex { _ in true }! - 21
        #expect(reason(patched(end + 8, [1, 0, 1, 0]))?.contains("holds more records than its end record counts (1)") == true)
    }

    private func node(_ name: String, _ op: String, _ inputs: [String], _ outputs: [String], domain: String = "") -> Node {
        Node(name: name, op: OpName(namespace: domain, name: op), inputs: inputs.map { NodeInput(name: "", argument: .tensor($0)) },
             outputs: outputs, source: SourceInfo())
    }

    private func model(_ graphs: [Graph], opsets: [String: Int] = ["ai.onnx": 17]) -> Model {
        Model(path: "m.onnx", format: .onnx, layout: "", graphs: graphs, opsetImports: opsets)
    }

    private func structureError(_ model: Model) -> String? {
        do { try ONNXStructure.check(model) } catch { return error.reason }
        return nil
    }

    @Test func modelsOnnxruntimeRefusesToLoadAreMalformed() {
        let chain = Graph(name: "main", nodes: [node("a", "Relu", ["x"], ["y"]), node("b", "Relu", ["y"], ["z"])], values: [:], inputs: ["x"], outputs: ["z"])
        #expect(structureError(model([chain])) == nil)
        #expect(structureError(model([chain], opsets: [:]))?.contains("imports no operator set") == true)
        let cycle = Graph(name: "main", nodes: [node("a", "Relu", ["z"], ["y"]), node("b", "Relu", ["y"], ["z"])], values: [:], inputs: ["x"], outputs: ["z"])
        #expect(structureError(model([cycle]))?.contains("has a cycle through node") == true)
        let selfLoop = Graph(name: "main", nodes: [node("a", "Add", ["x", "y"], ["y"])], values: [:], inputs: ["x"], outputs: ["y"])
        #expect(structureError(model([selfLoop]))?.contains("cycle") == true)

        let f = OpName(namespace: "local", name: "f"), g = OpName(namespace: "local", name: "g")
        let main = Graph(name: "main", nodes: [node("call", "f", ["x"], ["y"], domain: "local")], values: [:], inputs: ["x"], outputs: ["y"])
        let callsG = Graph(name: "local.f", nodes: [node("n", "g", ["a"], ["b"], domain: "local")], values: [:], inputs: ["a"], outputs: ["b"],
                           owner: .function(f, opsetImports: ["ai.onnx": 17, "local": 1]))
        let callsF = Graph(name: "local.g", nodes: [node("n", "f", ["a"], ["b"], domain: "local")], values: [:], inputs: ["a"], outputs: ["b"],
                           owner: .function(g, opsetImports: ["ai.onnx": 17, "local": 1]))
        #expect(structureError(model([main, callsG, callsF], opsets: ["ai.onnx": 17, "local": 1]))?.contains("(local.f -> local.g -> local.f)") == true)
        let leaf = Graph(name: "local.g", nodes: [node("n", "Relu", ["a"], ["b"])], values: [:], inputs: ["a"], outputs: ["b"],
                         owner: .function(g, opsetImports: ["ai.onnx": 17]))
        #expect(structureError(model([main, callsG, leaf], opsets: ["ai.onnx": 17, "local": 1])) == nil)
        var unimported = callsG
        unimported.owner = .function(f, opsetImports: ["ai.onnx": 17])
        #expect(structureError(model([main, unimported, leaf], opsets: ["ai.onnx": 17, "local": 1]))?.contains("imports no opset of domain `local`") == true)
    }

    @Test func externalDataIsLookedForOnlyInsideTheModelsFolder() throws {
        let folder = temporaryDirectory().path
        try FileManager.default.createDirectory(atPath: "\(folder)/model", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: "\(folder)/model/w.bin", contents: Data(count: 16))
        FileManager.default.createFile(atPath: "\(folder)/secret", contents: Data(count: 99))
        try FileManager.default.createSymbolicLink(atPath: "\(folder)/model/link", withDestinationPath: folder)
        #expect(mkfifo("\(folder)/model/fifo.bin", 0o600) == 0)
        let inside = "\(folder)/model"
        #expect(ModelParser.externalFile("w.bin", folder: inside) == (16, nil))
        #expect(ModelParser.externalFile("./sub/../w.bin", folder: inside).size == nil, "a missing folder on the way")
        #expect(ModelParser.externalFile("missing.bin", folder: inside) == (nil, nil))
        for location in ["\(folder)/secret", "../secret", "link/secret", "../missing"] {
            let found = ModelParser.externalFile(location, folder: inside)
            #expect(found.size == nil && found.refusal?.contains("onnxruntime refuses") == true, "\(location)")
        }
        #expect(ModelParser.externalFile("fifo.bin", folder: inside) == (nil, "it is not a regular file"))
    }
}

/// A reading from front to back gives back the pages of a mapped file it has passed (a 200 MB program is not
/// kept resident beside the graph made of it), and a page touched again is read back from the file.
@Suite struct PassedPagesTests {
    #if os(Linux)
    /// Resident bytes of the mapping that starts at `bytes`, from the kernel's own account.
    func residentBytes(of bytes: UnsafeRawBufferPointer) throws -> Int {
        let start = String(UInt(bitPattern: bytes.baseAddress!), radix: 16)
        // Read to the end: the file's size says 0.
        let handle = try #require(FileHandle(forReadingAtPath: "/proc/self/smaps"))
        let smaps = String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self).split(separator: "\n")
        let header = try #require(smaps.firstIndex { $0.hasPrefix(start + "-") }, "no mapping at \(start)")
        let rss = try #require(smaps[(header + 1)...].first { $0.hasPrefix("Rss:") })
        return Int(rss.split(separator: " ")[1])! * 1024
    }

    @Test func passedPagesOfAMappedFileAreGivenBackAndReadAgain() throws {
        let size = 3 * PassedPages.step + 12_345
        let contents = Data((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 12) })
        let path = temporaryDirectory().appendingPathComponent("pages.bin").path
        try contents.write(to: URL(fileURLWithPath: path))
        let file = try MappedFile(path: path)
        #expect(file.isMapped)
        #expect(Data(file.bytes) == contents)  // every page touched
        let before = try residentBytes(of: file.bytes)
        var pages = file.passedPages(of: file.bytes)
        pages.passed(PassedPages.step - 1)  // less than a step: nothing yet
        #expect(try residentBytes(of: file.bytes) == before)
        pages.passed(2 * PassedPages.step + 100)
        let after = try residentBytes(of: file.bytes)
        #expect(before - after >= 2 * PassedPages.step - 4096, "\(before) → \(after)")
        #expect(Data(file.bytes) == contents)
    }

    /// Bytes that are not a file's map are never given back: anonymous pages given back would read as zeros.
    @Test func bytesInMemoryAreKept() throws {
        let folder = temporaryDirectory()
        let small = folder.appendingPathComponent("small.bin").path
        try Data(count: 100_000).write(to: URL(fileURLWithPath: small))
        let read = try MappedFile(path: small)
        #expect(!read.isMapped && read.passedPages(of: read.bytes).isKept)
        let large = folder.appendingPathComponent("large.bin").path
        try Data(count: 2 << 20).write(to: URL(fileURLWithPath: large))
        let mapped = try MappedFile(path: large)
        #expect(!mapped.passedPages(of: mapped.bytes).isKept)
        // Memory that is not the map's, handed to the map's file.
        let heap = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 16)
        defer { heap.deallocate() }
        #expect(mapped.passedPages(of: UnsafeRawBufferPointer(heap)).isKept)
        let source = ByteSource(data: Data(count: 10))
        try source.withBytes(0, 10) { bytes throws(ReadError) in #expect(source.passedPages(of: bytes).isKept) }
    }
    #endif
}
