import Foundation
import FuzzSupport
import ONNX
import TensorlintCLI

/// `tensorlint fix` on any bytes read as ONNX; whatever it writes must read back as a model.
/// The paths are the same for every input, so the command line is parsed once (it was most of each run).
let model = Scratch.file("model.onnx", Data()), fixed = Scratch.clear("fixed.onnx")
let fix = try! ParsedCommandLine(["fix", model, "--target", "onnxruntime", "--unsafe-fixes", "-o", fixed])

runFuzzer { input, size in
    guard let data = input else { return 0 }
    _ = Scratch.file("model.onnx", data, size)
    _ = Scratch.clear("fixed.onnx")
    if fix.run() == 0 {
        do { _ = try ONNXFormat.read(fileAt: fixed) } catch { fatalError("fix wrote a model its reader refuses: \(error)") }
    }
    return 0
}
