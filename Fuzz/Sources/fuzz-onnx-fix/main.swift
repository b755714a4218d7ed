import FuzzSupport
import ONNX
import TensorlintCLI

/// `tensorlint fix` on any bytes read as ONNX; whatever it writes must read back as a model.
runFuzzer { input, size in
    guard let data = input else { return 0 }
    let model = Scratch.file("model.onnx", data, size)
    let fixed = Scratch.clear("fixed.onnx")
    if runTensorlint(["fix", model, "--target", "onnxruntime", "--unsafe-fixes", "-o", fixed]) == 0 {
        do { _ = try ONNXFormat.read(fileAt: fixed) } catch { fatalError("fix wrote a model its reader refuses: \(error)") }
    }
    return 0
}
