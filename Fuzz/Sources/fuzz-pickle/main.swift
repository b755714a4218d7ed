import FuzzSupport
import TorchArchive

/// The pickle machine and the opcode scan on any bytes.
runFuzzer { input, size in
    guard let data = input else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? PickleMachine.load(bytes, name: "data.pkl")
    _ = PickleGlobalScan.scan(bytes)
    return 0
}
