import Foundation
import TensorlintIR

/// Reads torch.export archives (`torch.export.save` output, torch 2.1 to 2.13) without unpickling anything:
/// only the JSON program, never `*.pt` pickles or weight bytes.
public struct TorchExportReader: ModelReader {
    public static let format = Model.Format.torchExport

    public static func claims(prefix: [UInt8]) -> Bool {
        prefix.starts(with: [0x50, 0x4B, 0x03, 0x04]) || prefix.starts(with: [0x50, 0x4B, 0x05, 0x06])
    }

    public static func recognizes(fileAt path: String, prefix: [UInt8]) -> Bool {
        guard claims(prefix: prefix), let entries = try? ZipEntries(path: path) else { return false }
        return ArchiveLayout.detect(entryNames: entries.names, readText: entries.text) != nil
    }

    public static func read(fileAt path: String) throws(ReadError) -> Model {
        let prefix = try FilePrefix.read(path)
        guard claims(prefix: prefix) else {
            throw .notThisFormat("expected a torch.export archive (a zip file), found no zip signature")
        }
        let entries = try ZipEntries(path: path)
        guard let layout = ArchiveLayout.detect(entryNames: entries.names, readText: entries.text) else {
            throw .notThisFormat("zip archive without serialized_exported_program.json or a pt2 archive_format entry")
        }
        guard let programEntry = layout.programEntry else { throw .malformed("pt2 archive has no models/*.json program") }
        let layoutName: String
        switch layout {
        case .legacyFlatZip: layoutName = "legacy flat zip"
        case .pt2Archive: layoutName = "pt2 archive"
        }
        var parser = ExportedProgramParser(entryName: programEntry)
        let program = try parser.parse(try entries.data(programEntry))
        let schema = program.schemaVersion.map { ", schema \($0)" } ?? ""
        return Model(path: path, format: .torchExport, layout: layoutName + schema,
                     producerVersion: program.torchVersion, dialect: program.dialect,
                     graphs: program.graphs)
    }
}
