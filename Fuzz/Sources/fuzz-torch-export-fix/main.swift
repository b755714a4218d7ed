import Foundation
import FuzzSupport
import TensorlintCLI
import TorchExport

/// `tensorlint fix` on any bytes read as a torch.export archive; whatever it writes must read back.
/// The paths are the same for every input, so the command line is parsed once (it was most of each run).
let model = Scratch.file("model.pt2", Data()), fixed = Scratch.clear("fixed.pt2")
let fix = try! ParsedCommandLine(["fix", model, "--unsafe-fixes", "-o", fixed])

runFuzzer { input, size in
    guard let data = input else { return 0 }
    _ = Scratch.file("model.pt2", data, size)
    _ = Scratch.clear("fixed.pt2")
    if fix.run() == 0 {
        do { _ = try TorchExportFormat.read(fileAt: fixed) } catch { fatalError("fix wrote an archive its reader refuses: \(error)") }
    }
    return 0
}
