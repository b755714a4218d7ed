import Foundation
import TensorlintIR
import ZIPFoundation

/// The two zip layouts `torch.export.save` has written (see research/formats.md §1).
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

/// Bounded reads of zip entries: a hostile archive cannot make us allocate more than `limit`.
struct ZipEntries {
    let archive: Archive
    let path: String
    let entriesByName: [String: Entry]
    let names: [String]

    static let maximumJSONBytes: UInt64 = 1 << 30

    init(path: String) throws(ReadError) {
        let url = URL(fileURLWithPath: path)
        let archive: Archive
        do {
            archive = try Archive(url: url, accessMode: .read)
        } catch {
            throw .malformed("unreadable zip archive (truncated or corrupted)")
        }
        var byName: [String: Entry] = [:]
        var names: [String] = []
        for entry in archive {
            names.append(entry.path)
            byName[entry.path] = entry
        }
        self.archive = archive
        self.path = path
        self.entriesByName = byName
        self.names = names
    }

    func data(_ name: String, limit: UInt64 = maximumJSONBytes) throws(ReadError) -> Data {
        guard let entry = entriesByName[name] else { throw .malformed("missing archive entry \(name)") }
        guard entry.uncompressedSize <= limit else {
            throw .tooLarge("archive entry \(name) declares \(entry.uncompressedSize) bytes (limit \(limit))")
        }
        var data = Data()
        data.reserveCapacity(Int(entry.uncompressedSize))
        do {
            _ = try archive.extract(entry, bufferSize: 1 << 16, skipCRC32: false) { chunk in
                guard UInt64(data.count + chunk.count) <= limit else { throw ReadError.tooLarge("archive entry \(name)") }
                data.append(chunk)
            }
        } catch let error as ReadError {
            throw error
        } catch {
            throw .malformed("archive entry \(name) cannot be extracted (truncated or corrupted)")
        }
        return data
    }

    func text(_ name: String) -> String? {
        guard let data = try? data(name, limit: 4096) else { return nil }
        return String(data: data, encoding: .utf8)
    }
}
