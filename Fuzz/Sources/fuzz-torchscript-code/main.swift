import Foundation
import FuzzSupport
import TensorlintIR
import TorchArchive
import TorchScript

/// TorchScript's code parser and graph builder: the input is the code file of a real archive (the one
/// `TENSORLINT_FUZZ_TEMPLATE` names: its other records kept), so that every input reaches the parser.
let template: [(name: String, bytes: Data)] = {
    guard let path = ProcessInfo.processInfo.environment["TENSORLINT_FUZZ_TEMPLATE"], let data = FileManager.default.contents(atPath: path),
          let directory = try? ZipCentralDirectory(ByteSource(data: data)) else { fatalError("TENSORLINT_FUZZ_TEMPLATE must name a TorchScript archive") }
    return directory.records.compactMap { record in
        guard record.method == 0 else { return nil }
        return (try? directory.withStoredBytes(record, limit: 1 << 26) { bytes, _ in Data(bytes) }).map { (record.name, $0) }
    }
}()

runFuzzer { input, size in
    guard let data = input else { return 0 }
    var archive = Data()
    var writer = StoredZipWriter { archive.append($0) }
    for (name, bytes) in template {
        try? writer.add(name, name.hasSuffix("/code/__torch__.py") ? Data(bytes: data, count: size) : bytes)
    }
    try? writer.finish()
    _ = try? TorchScriptFormat.read(fileAt: Scratch.file("model.pt", archive))
    return 0
}
