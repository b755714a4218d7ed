import Foundation
import TensorlintIR
import ZIPFoundation

/// torch's storage classes (`torch.HalfStorage`), as pickles name them.
public enum TorchStorageClass {
    /// Storage class (`toString(ScalarType)` + `Storage`) → element type; quantized storages have none of ours.
    public static let dtype: [String: DType] = [
        "ByteStorage": .uint8, "CharStorage": .int8, "ShortStorage": .int16, "IntStorage": .int32, "LongStorage": .int64,
        "UInt16Storage": .uint16, "UInt32Storage": .uint32, "UInt64Storage": .uint64, "HalfStorage": .float16,
        "FloatStorage": .float32, "DoubleStorage": .float64, "BFloat16Storage": .bfloat16, "BoolStorage": .bool,
        "ComplexHalfStorage": .complex32, "ComplexFloatStorage": .complex64, "ComplexDoubleStorage": .complex128,
        "Float8_e5m2Storage": .float8e5m2, "Float8_e4m3fnStorage": .float8e4m3fn,
        "Float8_e5m2fnuzStorage": .float8e5m2fnuz, "Float8_e4m3fnuzStorage": .float8e4m3fnuz,
    ]
    /// The storage classes of the floating types narrower than float32.
    public static let narrowFloats: [String: DType] = ["HalfStorage": .float16, "BFloat16Storage": .bfloat16]

    /// A record of fp16/bf16 elements widened to float32 (exact).
    public static func widened(_ record: Data, from dtype: DType, name: String) throws(WriteError) -> Data {
        guard let widened = HalfPrecision.widenedToFloat32(record, from: dtype) else {
            throw WriteError("\(name): a \(dtype.rawValue) record has an odd number of bytes")
        }
        return widened
    }
}

/// A `torch.save` archive held in memory (the torch 2.7 export layout nests them for weights and constants).
public enum TorchSaveArchive {
    /// The archive with its fp16/bf16 storages widened: the pickle's storage-class GLOBALs renamed to `FloatStorage` at the opcode level
    /// (element counts are unchanged) and the `data/<key>` records converted. Returns the new archive and
    /// the bytes of storage it widened.
    public static func widenStorages(_ nested: Data, entry: String) throws -> (Data, Int) {
        do throws(ReadError) {
            let directory = try ZipCentralDirectory(ByteSource(data: nested))
            try directory.verifyLayout()
            // torch writes every record stored: a compressed one could inflate to anything.
            if let compressed = directory.records.first(where: { $0.method != 0 }) {
                throw ReadError.malformed("compressed record \(compressed.name), which torch never writes")
            }
        } catch { throw WriteError("\(entry): \(error.reason)") }
        let archive = try Archive(data: nested, accessMode: .read)
        let records = Array(archive)
        guard let pickleEntry = records.first(where: { $0.path.hasSuffix("/data.pkl") }) else {
            throw WriteError("\(entry) has no data.pkl")
        }
        func read(_ record: Entry) throws -> Data {
            var data = Data()
            _ = try archive.extract(record, skipCRC32: false) { data.append($0) }
            return data
        }
        let widening: (pickle: [UInt8], keys: [String: DType])
        do { widening = try PickleStorages.widening([UInt8](try read(pickleEntry)), classes: TorchStorageClass.narrowFloats) } catch {
            throw WriteError("\(entry): \(error)")
        }
        let renamed = widening.pickle
        let root = String(pickleEntry.path.dropLast("data.pkl".count))
        let widenedRecords = Dictionary(uniqueKeysWithValues: widening.keys.map { ("\(root)data/\($0.key)", $0.value) })
        var written = Data()
        var output = StoredZipWriter { written.append($0) }
        var widenedBytes = 0
        for record in records {
            var data = try read(record)
            if record.path == pickleEntry.path {
                data = Data(renamed)
            } else if let dtype = widenedRecords[record.path] {
                data = try TorchStorageClass.widened(data, from: dtype, name: "\(entry): \(record.path)")
                widenedBytes += data.count
            }
            try output.add(record.path, data)
        }
        try output.finish()
        return (written, widenedBytes)
    }
}

/// What the torch formats' writers carry out: the model widened from fp16/bf16 to fp32, and main-graph nodes
/// replaced (where the format can say where a node is written).
public enum TorchArchiveEdits {
    public static func supports(_ edit: ModelEdit, in model: Model, canRewrite: (Node) -> Bool = { _ in true }) -> Bool {
        switch edit {
        case .convertModel(let from, let to):
            return to == .float32 && from.allSatisfy { [.float16, .bfloat16].contains($0) }
        case .replaceNode(let graph, let node, _):
            return graph == 0 && node < model.mainGraph.nodes.count && canRewrite(model.mainGraph.nodes[node])
        default:
            return false
        }
    }
}
