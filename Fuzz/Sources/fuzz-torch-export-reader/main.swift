import FuzzSupport
import TorchArchive
import TorchExport

/// The zip, program and pickle readers of both torch.export layouts on any bytes.
runFuzzer { input, size in
    guard let data = input else { return 0 }
    _ = try? TorchExportFormat.read(fileAt: Scratch.file("model.pt2", data, size))
    return 0
}
