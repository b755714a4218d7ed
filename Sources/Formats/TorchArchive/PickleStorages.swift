import TensorlintIR

/// The storage records of a torch pickle (`data.pkl` of `torch.save` and `torch.jit.save`): which storage key
/// has which storage class (`HalfStorage`), and where each storage-class GLOBAL sits so that a writer can
/// rename it. Read by `PickleMachine`, so nothing is executed and anything outside torch's dialect stops it.
public struct PickleStorages {
    /// Storage key (the `data/<key>` record) → storage class name (`HalfStorage`).
    public let classOfKey: [String: String]
    /// Byte ranges of the `torch\nXStorage\n` arguments of GLOBAL opcodes, with the class named.
    public let globals: [(range: Range<Int>, name: String)]

    public init(_ pickle: [UInt8]) throws(PickleError) {
        let read = try PickleMachine.read(pickle, name: "pickle")
        classOfKey = Dictionary(read.storages.map { ($0.key, $0.storageClass) }) { first, _ in first }
        globals = read.globals.filter { $0.module == "torch" && $0.name.hasSuffix("Storage") }.map { ($0.range, $0.name) }
    }
}
