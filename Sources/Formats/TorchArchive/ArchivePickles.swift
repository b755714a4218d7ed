import Foundation
import TensorlintIR

/// The pickles of a torch zip archive, checked against what torch's loaders resolve: the archive's own
/// `*.pkl` records, and those of every `torch.save` archive stored inside it (the weights, constants and
/// example inputs `torch.export.save` nests). Nothing is unpickled; nested archives are read in place.
public enum ArchivePickles {
    /// What reads the archive's own `*.pkl` records.
    public enum Loader: String, Sendable {
        /// `torch.jit.load`: the archive's `__torch__` classes and a fixed set of reconstructors.
        case torchScript = "torch.jit.load"
        /// `torch.load(weights_only=True)`, what `torch.export.load` reads nested `torch.save` archives with.
        case weightsOnly = "torch.load(weights_only=True)"

        func resolves(_ qualifiedName: String) -> Bool {
            switch self {
            case .torchScript: return qualifiedName.hasPrefix("__torch__.") || PickleAllowlist.torchScript.contains(qualifiedName)
            case .weightsOnly: return PickleAllowlist.weightsOnly.contains(qualifiedName)
            }
        }
    }

    /// A pickle larger than this is no torch loader's: `data.pkl` holds structure, never tensor bytes.
    public static let maximumPickleBytes: UInt64 = 256 << 20
    /// A legacy (non-zip) `torch.save` file is a run of pickles (magic number, protocol, system info, the
    /// object, its storage keys) followed by raw storage bytes.
    static let legacyPickles = 5

    /// The globals the archive's pickles name that their loader does not resolve, in archive order.
    public static func unsafeGlobals(in entries: ZipEntries, loader: Loader) throws(ReadError) -> [PickleGlobal] {
        try unsafeGlobals(in: entries.directory, prefix: "", loader: loader, nested: false)
    }

    static func unsafeGlobals(in directory: ZipCentralDirectory, prefix: String, loader: Loader, nested: Bool) throws(ReadError) -> [PickleGlobal] {
        var found: [PickleGlobal] = []
        func report(_ globals: [PickleGlobalScan.Reference], pickle: String, loader: Loader) {
            for global in globals {
                let name = "\(global.module).\(global.name)"
                if !loader.resolves(name) { found.append(PickleGlobal(pickle: pickle, qualifiedName: name, offset: global.offset, loader: loader.rawValue)) }
            }
        }
        for record in directory.records {
            let path = prefix + record.name
            let isPickle = record.name.hasSuffix(".pkl")
            guard isPickle || (!nested && [".pt", ".pth"].contains(where: record.name.hasSuffix)) else { continue }
            guard record.method == 0, let source = try directory.storedSource(record) else {
                // torch writes every record stored; a compressed one would hide its pickle from a scan that does not inflate.
                found.append(PickleGlobal(pickle: path, qualifiedName: "?", offset: 0, loader: "a compressed record, which torch never writes and the pickle scan does not inflate"))
                continue
            }
            let head = source.size >= 4 ? [UInt8](try source.read(0, 4)) : []
            if isPickle {
                guard source.size <= maximumPickleBytes else { throw .tooLarge("pickle \(path) holds \(source.size) bytes (limit \(maximumPickleBytes))") }
                report(PickleGlobalScan.scan([UInt8](try source.read(0, Int(source.size)))).globals, pickle: path, loader: loader)
            } else if head == [0x50, 0x4B, 0x03, 0x04] {
                found += try unsafeGlobals(in: ZipCentralDirectory(source), prefix: path + "/", loader: .weightsOnly, nested: true)
            } else if head.first == 0x80 {
                let bytes = [UInt8](try source.read(0, Int(min(source.size, maximumPickleBytes))))
                var start = 0
                for _ in 0..<legacyPickles where start < bytes.count && bytes[start] == 0x80 {
                    let scan = PickleGlobalScan.scan(bytes, from: start)
                    report(scan.globals, pickle: path, loader: .weightsOnly)
                    guard let end = scan.end else { break }
                    start = end
                }
            }
        }
        return found
    }
}
