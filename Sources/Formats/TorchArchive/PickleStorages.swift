import TensorlintIR

/// The storage records of a torch pickle (`data.pkl` of `torch.save` and `torch.jit.save`): which storage key
/// has which storage class (`HalfStorage`), and where each storage-class GLOBAL sits so that a writer can
/// rename it. Read by `PickleMachine`, so nothing is executed and anything outside torch's dialect stops it.
public struct PickleStorages {
    /// Storage key (the `data/<key>` record) → storage class name (`HalfStorage`).
    public let classOfKey: [String: String]
    /// Byte ranges of the `torch\nXStorage\n` arguments of GLOBAL opcodes, with the class named.
    public let globals: [(range: Range<Int>, name: String)]

    /// The pickle with the storage-class GLOBALs of `classes` renamed to `FloatStorage` at the opcode level
    /// (element counts are unchanged), and the keys of the storages they name, with the dtype each had.
    public static func widening(_ pickle: [UInt8], classes: [String: DType]) throws(PickleError) -> (pickle: [UInt8], keys: [String: DType]) {
        let storages = try PickleStorages(pickle)
        var keys: [String: DType] = [:]
        for (key, storageClass) in storages.classOfKey {
            if let dtype = classes[storageClass] { keys[key] = dtype }
        }
        var renamed = pickle
        for global in storages.globals.reversed() where classes[global.name] != nil {
            renamed.replaceSubrange(global.range, with: Array("torch\nFloatStorage\n".utf8))
        }
        return (renamed, keys)
    }

    public init(_ pickle: [UInt8]) throws(PickleError) {
        let read = try PickleMachine.read(pickle, name: "pickle")
        classOfKey = Dictionary(read.storages.map { ($0.key, $0.storageClass) }) { first, _ in first }
        globals = read.globals.filter { $0.module == "torch" && $0.name.hasSuffix("Storage") }.map { ($0.range, $0.name) }
    }
}
