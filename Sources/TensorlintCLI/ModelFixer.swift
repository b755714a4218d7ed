import Foundation
import TensorlintEngine
import TensorlintIR

/// Applies the automatic fixes of a model's findings, round after round (a fix can uncover the next
/// finding: a retyped value meets another op), and checks each round by reading and linting the result.
enum ModelFixer {
    static let maximumRounds = 8

    struct Outcome {
        /// One line per change made, in order.
        var changes: [String] = []
        /// What the last round still finds.
        var remaining: [Finding] = []
        /// The fixed copy (a temporary file beside the destination), when anything changed.
        var fixedFile: String?
        /// External data files copied beside the destination (onnxruntime only reads them there).
        var providedFiles: [String] = []
        /// Why nothing was attempted, when the model must not be rewritten at all.
        var refusal: String?

        /// Removes what was written, when the fix is not kept.
        func discard() {
            for file in providedFiles + [fixedFile].compactMap({ $0 }) { try? FileManager.default.removeItem(atPath: file) }
        }
    }

    /// A model written into another folder needs its external data files there too: onnxruntime refuses
    /// absolute paths and paths leaving the model's folder. The originals stay untouched. Each copy holds the
    /// bytes the model's tensors use, at their offsets, and nothing else (a sparse file: the rest is a hole),
    /// so a 10 GB file of which a model uses 32 bytes costs 32 bytes; a location the reader refused (absolute,
    /// out of the folder, not a regular file) is never copied. A file already there must hold the same bytes.
    static func provideExternalData(of model: Model, besides path: String, in folder: String) throws -> [String] {
        let sourceFolder = URL(fileURLWithPath: path).deletingLastPathComponent().standardizedFileURL.path
        guard URL(fileURLWithPath: folder).standardizedFileURL.path != sourceFolder else { return [] }
        var ranges: [String: [Range<Int>]] = [:]
        for graph in model.graphs {
            for case let external? in graph.values.values.map(\.external) {
                if let range = external.usableRange { ranges[external.location, default: []].append(range) }
            }
        }
        var provided: [String] = []
        for (location, used) in ranges.sorted(by: { $0.key < $1.key }) {
            let original = "\(sourceFolder)/\(location)", copy = "\(folder)/\(location)"
            do {
                if FileManager.default.fileExists(atPath: copy) {
                    guard try ExternalDataCopy.sameBytes(original, copy, in: used) else {
                        throw CommandFailure(description: "\(copy): another file of this name is already there; the fixed model's external data would not match")
                    }
                    continue
                }
                try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: copy).deletingLastPathComponent().path,
                                                        withIntermediateDirectories: true)
                // A copy, not a link: whatever later writes to the fixed model's data must not reach the original.
                try ExternalDataCopy.copy(original, to: copy, ranges: used)
            } catch let failure as CommandFailure {
                throw failure
            } catch {
                throw CommandFailure(description: "\(copy): cannot place the external data file beside the fixed model: \(error)")
            }
            provided.append(copy)
        }
        return provided
    }

    /// Fixes `path` into a temporary file in `folder`; the caller moves it into place or deletes it. `loaded`:
    /// the model as the caller has already read it from `path`.
    /// `isAccepted`: findings the configuration or a baseline accepts, which are left as they are.
    static func fix(path: String, in folder: String, linter: Linter, settings: Settings, allowUnsafe: Bool,
                    formats: [any ModelFormat.Type] = Registry.formats, loaded: Model? = nil,
                    isAccepted: (Finding) -> Bool = { _ in false }) throws -> Outcome {
        var model: Model
        do { model = try loaded ?? ModelLoader.load(path: path, formats: formats) } catch { throw CommandFailure(description: "\(path): \(error)") }
        var outcome = Outcome()
        var findings = linter.lint(model, settings: settings)
        let initialErrors = findings.filter { $0.severity == .error }.count
        outcome.remaining = findings
        // A copy of a file whose pickles name code would carry the code on: no fix writes one.
        if let global = model.unsafePickleGlobals.first {
            outcome.refusal = "not fixed: pickle `\(global.pickle)` names `\(global.qualifiedName)`, which \(global.loader) does not allow; no copy of this file is written"
            return outcome
        }
        guard let writer = formats.first(where: { $0.id == model.format })?.writer else { return outcome }
        outcome.providedFiles = try provideExternalData(of: model, besides: path, in: folder)
        var source = path
        var seen: Set<Set<ModelEdit>> = []
        for round in 1...maximumRounds {
            let edits = findings.filter { allowed($0.fixApplicability, allowUnsafe: allowUnsafe) && !isAccepted($0) }.flatMap(\.edits)
                .filter { writer.supports($0, in: model) }
                .uniqued()
            // Stop when nothing is left to do, or when a round would repeat an earlier one (no progress).
            guard !edits.isEmpty, seen.insert(Set(edits)).inserted else { break }
            let next = "\(folder)/.tensorlint-fix-\(ProcessInfo.processInfo.processIdentifier)-\(round)-\(URL(fileURLWithPath: path).lastPathComponent)"
            do {
                outcome.changes += try writer.write(edits, model: model, from: source, to: next)
            } catch {
                try? FileManager.default.removeItem(atPath: next)
                outcome.discard()
                throw CommandFailure(description: "\(path): cannot write the fixed model: \(error)")
            }
            if let previous = outcome.fixedFile { try? FileManager.default.removeItem(atPath: previous) }
            outcome.fixedFile = next
            source = next
            do { model = try ModelLoader.load(path: next, formats: formats) } catch {
                outcome.discard()
                throw CommandFailure(description: "\(path): the fixed model does not read back (\(error)); nothing written")
            }
            findings = linter.lint(model, settings: settings)
        }
        outcome.remaining = findings
        let before = initialErrors, after = findings.filter { $0.severity == .error }.count
        if outcome.fixedFile != nil, after > before {
            outcome.discard()
            throw CommandFailure(description: "\(path): the fixes would leave \(after) errors where there were \(before); nothing written")
        }
        return outcome
    }

    /// Fixes a model in place (for `lint --fix`): the changes made, or `nil` when none applies. A file that
    /// cannot be fixed is left as it is, and the error says why.
    static func fixInPlace(_ model: Model, linter: Linter, settings: Settings, allowUnsafe: Bool,
                           isAccepted: (Finding) -> Bool = { _ in false }) throws -> [String]? {
        let path = model.path
        guard access(path, W_OK) == 0 else { throw CommandFailure(description: "\(path): the file is read-only") }
        let outcome = try fix(path: path, in: try writableFolder(of: path), linter: linter, settings: settings, allowUnsafe: allowUnsafe,
                              loaded: model, isAccepted: isAccepted)
        if let refusal = outcome.refusal { throw CommandFailure(description: "\(path): \(refusal)") }
        guard let fixed = outcome.fixedFile else { return nil }
        try move(fixed, to: path, modeOf: path)
        return outcome.changes
    }

    /// Each fixable finding's edits as byte replacements of the file, for SARIF `fixes`: a grouped finding's
    /// are every node's edits, written as one change (replacements computed apart would each rewrite the
    /// lengths the others change).
    static func attachReplacements(_ findings: inout [Finding], model: Model, path: String) {
        guard let writer = Registry.format(model.format)?.writer, model.unsafePickleGlobals.isEmpty else { return }
        let fixable = findings.indices.compactMap { index -> (Int, [ModelEdit])? in
            guard findings[index].fixApplicability != .displayOnly else { return nil }
            let edits = findings[index].occurrences.flatMap(\.edits)
                .uniqued()
                .filter { writer.supports($0, in: model) }
            return edits.isEmpty ? nil : (index, edits)
        }
        guard !fixable.isEmpty else { return }
        let replacements = writer.replacements(fixable.map(\.1), model: model, from: path)
        for ((index, _), replacement) in zip(fixable, replacements) {
            // Whole converted tensors do not belong in a log: past 1 MiB the result keeps its text fix only.
            if (replacement?.reduce(0) { $0 + $1.inserted.count } ?? 0) <= 1 << 20 { findings[index].replacements = replacement }
        }
    }

    static func allowed(_ applicability: FixApplicability, allowUnsafe: Bool) -> Bool {
        applicability == .safe || (applicability == .unsafe && allowUnsafe)
    }

    /// Replaces `destination` by `fixed` atomically (rename within one folder), with the permissions of the
    /// file it replaces (or of the original), and the folder flushed so the rename survives a crash.
    static func move(_ fixed: String, to destination: String, modeOf original: String) throws {
        var status = stat()
        if stat(FileManager.default.fileExists(atPath: destination) ? destination : original, &status) == 0 {
            chmod(fixed, status.st_mode & 0o7777)
        }
        guard rename(fixed, destination) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: fixed)
            throw CommandFailure(description: "\(destination): cannot write the fixed model: \(reason)")
        }
        let folder = open(URL(fileURLWithPath: destination).deletingLastPathComponent().path, O_RDONLY)
        if folder >= 0 {
            fsync(folder)
            close(folder)
        }
    }

    /// The folder a destination will be written in, checked to be writable before any work.
    static func writableFolder(of destination: String) throws -> String {
        let folder = URL(fileURLWithPath: destination).deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CommandFailure(description: "\(destination): no such folder \(folder)")
        }
        guard access(folder, W_OK) == 0 else { throw CommandFailure(description: "\(destination): folder \(folder) is not writable") }
        return folder
    }
}
