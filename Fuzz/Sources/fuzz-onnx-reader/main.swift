import FuzzSupport
import ONNX

/// The ONNX reader on any bytes: a model or an error, never a trap.
runFuzzer { input, size in
    guard let data = input else { return 0 }
    _ = try? ONNXFormat.read(fileAt: Scratch.file("model.onnx", data, size))
    return 0
}
