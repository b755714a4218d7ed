import Foundation
import TensorlintIR
import TorchArchive

/// torch.export archives (`torch.export.save` output, torch 2.1 to 2.13), read without unpickling anything:
/// the JSON program, and the globals the nested `torch.save` pickles name; never weight bytes.
public enum TorchExportFormat: ModelFormat {
    public static let id = Model.Format.torchExport
    public static let displayName = "a torch.export .pt2 archive"
    public static let fileExtensions = ["pt2"]
    public static let writer: (any ModelWriter.Type)? = TorchExportWriter.self

    static func hasZipSignature(_ prefix: [UInt8]) -> Bool {
        prefix.starts(with: [0x50, 0x4B, 0x03, 0x04]) || prefix.starts(with: [0x50, 0x4B, 0x05, 0x06])
    }

    /// A zip is claimed by its entries, so that other torch zips (TorchScript, `torch.save`) are not.
    public static func recognize(_ file: ModelFile) -> Recognition {
        guard hasZipSignature(file.prefix) else { return .unrecognized }
        let entries: ZipEntries
        do { entries = try file.zipEntries() } catch { return .signature(reason: error.reason) }
        do {
            _ = try program(in: entries)
            return .recognized
        } catch {
            // A zip whose top folder holds a pickled root object (`data.pkl`: TorchScript, torch.save) is
            // another torch format's, never a damaged export archive.
            if case .notThisFormat = error, let first = entries.names.first,
               entries.entriesByName[String(first.prefix { $0 != "/" }) + "/data.pkl"] != nil {
                return .unrecognized
            }
            return .signature(reason: error.reason)
        }
    }

    /// The zip's entries, its layout and the entry holding its program. A zip without one is another format's:
    /// a pt2 archive without an exported program is an AOTInductor package, for example.
    static func program(in entries: ZipEntries) throws(ReadError) -> (layout: ArchiveLayout, entry: String) {
        guard let layout = ArchiveLayout.detect(entryNames: entries.names, readText: entries.text) else {
            throw .notThisFormat("zip archive without serialized_exported_program.json or a pt2 archive_format entry")
        }
        guard let entry = layout.programEntry else { throw .notThisFormat("pt2 archive has no models/*.json program") }
        return (layout, entry)
    }

    public static func read(_ file: ModelFile) throws(ReadError) -> Model {
        guard hasZipSignature(file.prefix) else {
            throw .notThisFormat("expected a torch.export archive (a zip file), found no zip signature")
        }
        let entries = try file.zipEntries()
        let (layout, programEntry) = try program(in: entries)
        let layoutName: String
        switch layout {
        case .legacyFlatZip: layoutName = "legacy flat zip"
        case .pt2Archive: layoutName = "pt2 archive"
        }
        var parser = ExportedProgramParser(entryName: programEntry, readAhead: file.threads > 1 ? ReadAhead.Policy() : nil)
        let program = try entries.withData(programEntry) { bytes, pages throws(ReadError) in try parser.parse(bytes, passing: &pages) }
        letGo(consume parser, threads: file.threads)
        let schema = program.schemaVersion.map { ", schema \($0)" } ?? ""
        var model = Model(path: file.path, format: .torchExport, layout: layoutName + schema,
                          producerVersion: program.torchVersion, dialect: program.dialect,
                          graphs: program.graphs)
        model.unsafePickleGlobals = try ArchivePickles.unsafeGlobals(in: entries, loader: .weightsOnly)
        return model
    }
}
