import Foundation
import TensorlintIR

/// The two zip layouts `torch.export.save` has written (docs/formats.md §1).
enum ArchiveLayout {
    /// torch 2.1 to 2.7: `serialized_exported_program.json` at the root.
    case legacyFlatZip(programEntry: String)
    /// torch 2.8 and later: everything under `<root>/`, `<root>/archive_format` says `pt2`.
    case pt2Archive(root: String, modelEntries: [String])

    static let legacyProgramEntry = "serialized_exported_program.json"

    /// The entry holding the program whose graph is the model's main graph.
    var programEntry: String? {
        switch self {
        case .legacyFlatZip(let entry): return entry
        case .pt2Archive(let root, let models): return models.first(where: { $0 == "\(root)/models/model.json" }) ?? models.first
        }
    }

    /// Decides the layout from entry names alone; `nil` when the zip is no torch.export archive.
    static func detect(entryNames: [String], readText: (String) -> String?) -> ArchiveLayout? {
        if entryNames.contains(legacyProgramEntry) {
            return .legacyFlatZip(programEntry: legacyProgramEntry)
        }
        guard let first = entryNames.first, let slash = first.firstIndex(of: "/") else { return nil }
        let root = String(first[..<slash])
        guard entryNames.contains("\(root)/archive_format"),
              readText("\(root)/archive_format")?.trimmingCharacters(in: .whitespacesAndNewlines) == "pt2"
        else { return nil }
        let models = entryNames.filter {
            $0.hasPrefix("\(root)/models/") && $0.hasSuffix(".json") && !$0.dropFirst(root.count + 8).contains("/")
        }.sorted()
        return .pt2Archive(root: root, modelEntries: models)
    }
}
