import FuzzSupport
import TensorlintCLI
import TorchExport

/// `tensorlint fix` on any bytes read as a torch.export archive; whatever it writes must read back.
runFuzzer { input, size in
    guard let data = input else { return 0 }
    let model = Scratch.file("model.pt2", data, size)
    let fixed = Scratch.clear("fixed.pt2")
    if runTensorlint(["fix", model, "--unsafe-fixes", "-o", fixed]) == 0 {
        do { _ = try TorchExportFormat.read(fileAt: fixed) } catch { fatalError("fix wrote an archive its reader refuses: \(error)") }
    }
    return 0
}
