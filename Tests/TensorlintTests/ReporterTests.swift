import Foundation
import Testing
@testable import TensorlintCLI
import TensorlintEngine
import TensorlintIR
@testable import TensorlintReporters
#if canImport(FoundationXML)
import FoundationXML
#endif

/// What GitHub code scanning documents for SARIF uploads (docs.github.com, "SARIF support for code scanning"),
/// beyond the schema: each requirement that a result or rule breaks, as one line.
enum GitHubSARIFRequirements {
    static let precisions: Set<String> = ["very-high", "high", "medium", "low"]
    static let problemSeverities: Set<String> = ["error", "warning", "recommendation"]

    static func violations(_ log: [String: Any], repository: URL) -> [String] {
        var found: [String] = []
        guard log["version"] as? String == "2.1.0", let runs = log["runs"] as? [[String: Any]], !runs.isEmpty, runs.count <= 20 else {
            return ["version 2.1.0 with 1 to 20 runs"]
        }
        for run in runs {
            guard let driver = (run["tool"] as? [String: Any])?["driver"] as? [String: Any],
                  let rules = driver["rules"] as? [[String: Any]], let results = run["results"] as? [[String: Any]] else {
                return ["run without tool.driver.rules or results"]
            }
            if results.count > 25_000 || rules.count > 25_000 { found.append("more than 25,000 results or rules in a run") }
            if ((run["automationDetails"] as? [String: Any])?["id"] as? String ?? "").isEmpty { found.append("no automationDetails.id (category)") }
            guard let root = ((run["originalUriBaseIds"] as? [String: Any])?["SRCROOT"] as? [String: Any])?["uri"] as? String,
                  root.hasPrefix("file:///"), root.hasSuffix("/") else { return found + ["SRCROOT is not an absolute file URI of a folder"] }
            let invocation = (run["invocations"] as? [[String: Any]])?.first
            if ((invocation?["workingDirectory"] as? [String: Any])?["uri"] as? String) == nil { found.append("no invocations[0].workingDirectory") }
            for rule in rules {
                let id = rule["id"] as? String ?? "?"
                for key in ["shortDescription", "fullDescription"] {
                    let text = (rule[key] as? [String: Any])?["text"] as? String ?? ""
                    if text.isEmpty || text.count > 1024 { found.append("\(id): \(key) empty or over 1,024 characters (\(text.count))") }
                }
                let help = rule["help"] as? [String: String] ?? [:]
                if help["text"] == nil || help["markdown"] == nil { found.append("\(id): no help text and markdown") }
                for text in help.values where text.contains(/\{[a-z_0-9]+\}/) { found.append("\(id): help has an unfilled placeholder") }
                if let uri = rule["helpUri"] as? String {
                    // The page the URI names is in this repository (at the version's tag).
                    let page = uri.split(separator: "/docs/rules/").last.map { "docs/rules/\($0)" } ?? ""
                    if !uri.hasSuffix("/docs/rules/\(id).md") || !FileManager.default.fileExists(atPath: repository.appendingPathComponent(page).path) {
                        found.append("\(id): helpUri \(uri) is not the rule's page")
                    }
                } else {
                    found.append("\(id): no helpUri")
                }
                let properties = rule["properties"] as? [String: Any] ?? [:]
                if !precisions.contains(properties["precision"] as? String ?? "") { found.append("\(id): properties.precision") }
                if !problemSeverities.contains(properties["problem.severity"] as? String ?? "") { found.append("\(id): properties.problem.severity") }
                if (properties["tags"] as? [String] ?? []).count > 20 { found.append("\(id): more than 20 tags") }
            }
            let ruleIds = rules.map { $0["id"] as? String ?? "" }
            for (number, result) in results.enumerated() {
                let name = "result \(number) (\(result["ruleId"] as? String ?? "?"))"
                guard let ruleId = result["ruleId"] as? String, ruleIds.contains(ruleId) else { found.append("\(name): ruleId not among the rules"); continue }
                if let index = result["ruleIndex"] as? Int, ruleIds.indices.contains(index) ? ruleIds[index] != ruleId : true {
                    found.append("\(name): ruleIndex names another rule")
                }
                if ((result["message"] as? [String: Any])?["text"] as? String ?? "").isEmpty { found.append("\(name): no message text") }
                let locations = result["locations"] as? [[String: Any]] ?? []
                let related = result["relatedLocations"] as? [[String: Any]] ?? []
                if locations.isEmpty || locations.count > 1000 || related.count > 1000 { found.append("\(name): 1 to 1,000 locations"); continue }
                var uris: [String] = []
                for location in locations + related {
                    guard let physical = location["physicalLocation"] as? [String: Any],
                          let artifact = physical["artifactLocation"] as? [String: Any], let uri = artifact["uri"] as? String else {
                        found.append("\(name): a location without physicalLocation.artifactLocation.uri"); continue
                    }
                    // Relative to the repository's top folder, where code scanning looks the file up.
                    if uri.hasPrefix("/") || uri.contains("://") || artifact["uriBaseId"] as? String != "SRCROOT" {
                        found.append("\(name): \(uri) is not relative to SRCROOT")
                    }
                    if ((physical["region"] as? [String: Any])?["startLine"] as? Int ?? 0) < 1 { found.append("\(name): \(uri) has no region.startLine") }
                    uris.append(uri)
                }
                if !uris.contains(where: { uri in ModelExtensions.contains { uri.hasSuffix($0) } }) { found.append("\(name): the model file is in no location") }
                if ((result["partialFingerprints"] as? [String: String])?["primaryLocationLineHash"] ?? "").isEmpty {
                    found.append("\(name): no partialFingerprints.primaryLocationLineHash")
                }
            }
        }
        return found
    }

    static let ModelExtensions = [".pt2", ".pt", ".onnx"]
}

@Suite(.serialized) struct ReporterTests {
    static let models = ["leaky_relu.fp16.aten.pt2", "celu.fp32.aten.pt2", "add_fp16_fp32_initializer.onnx", "add_fp32.onnx"]

    /// Each report format over the same models, pinned by a golden file (`TENSORLINT_RECORD_SNAPSHOTS=1` records).
    @Test(arguments: [("concise", "txt", [String]()), ("github", "txt", []), ("gitlab", "json", []), ("junit", "xml", []),
                      ("text", "txt", ["--statistics"])])
    func everyFormatMatchesItsGoldenFile(_ format: String, _ suffix: String, _ extra: [String]) throws {
        let out = temporaryDirectory().appendingPathComponent("report").path
        let arguments = ["lint", "--format", format, "--minimum-deployment-target", "iOS16", "--source-root", Repo.root.path]
            + extra + Self.models.map(Repo.example) + [Repo.broken("text.pt2"), "-o", out]
        #expect(runTensorlint(arguments) == 2, "the broken file is unreadable")
        let text = try String(contentsOfFile: out, encoding: .utf8).replacingOccurrences(of: Repo.root.path + "/", with: "")
        let name = extra.isEmpty ? "\(format).\(suffix)" : "statistics.txt"
        let golden = Repo.root.appendingPathComponent("Tests/Snapshots/reporters/\(name)")
        if ProcessInfo.processInfo.environment["TENSORLINT_RECORD_SNAPSHOTS"] == "1" {
            try FileManager.default.createDirectory(at: golden.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: golden, atomically: true, encoding: .utf8)
        }
        #expect(try String(contentsOf: golden, encoding: .utf8) == text, "Tests/Snapshots/reporters/\(name) differs")
    }

    /// GitHub's workflow-command syntax: `%`, `\r` and `\n` escaped in the message; `:` and `,` too in properties.
    @Test func githubAnnotationsEscapeAsTheActionsToolkit() {
        let line = GitHubReporter.command("error", ["file": "a,b:c.onnx", "title": "x%y"], "50% of\r\nnodes: a, b")
        #expect(line == "::error file=a%2Cb%3Ac.onnx,title=x%25y::50%25 of%0D%0Anodes: a, b")
        #expect(!line.dropFirst(2).contains("\n"))
    }

    @Test func junitIsWellFormedXML() throws {
        let out = temporaryDirectory().appendingPathComponent("report.xml").path
        _ = runTensorlint(["lint", "--format", "junit", Repo.example("celu.fp32.aten.pt2"), Repo.example("add_fp32.onnx"), "-o", out])
        let document = try XMLDocument(contentsOf: URL(fileURLWithPath: out))
        let root = try #require(document.rootElement())
        #expect(root.name == "testsuites")
        #expect(root.attribute(forName: "failures")?.stringValue == "1")
        #expect(root.elements(forName: "testsuite").count == 2)
    }

    /// Every documented GitHub requirement, on the examples (a Python source line that exists, an unreadable
    /// file, both targets).
    @Test func sarifMeetsGitHubsRequirements() throws {
        let directory = temporaryDirectory()
        // A Python source that the export trace names, present in the "checkout": the result points at its line.
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("examples"), withIntermediateDirectories: true)
        var source = (1...30).map { "# \($0)" }
        source[11] = "        return self.act(x)"
        source[20] = "        return self.head(x) + self.bias"
        try source.joined(separator: "\n").write(to: directory.appendingPathComponent("examples/model.py"), atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(atPath: Repo.root.appendingPathComponent("examples/models").path,
                                         toPath: directory.appendingPathComponent("models").path)
        let out = directory.appendingPathComponent("report.sarif").path
        #expect(runTensorlint(["lint", "--format", "sarif", "--source-root", directory.path, "--minimum-deployment-target", "iOS16",
                               directory.appendingPathComponent("models").path, "-o", out]) == 1)
        let log = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any])
        #expect(GitHubSARIFRequirements.violations(log, repository: Repo.root) == [])
        let run = try #require((log["runs"] as? [[String: Any]])?.first)
        #expect((run["automationDetails"] as? [String: String])?["id"] == "tensorlint/", "the category depends on no model's format")
        let results = try #require(run["results"] as? [[String: Any]])
        let onSource = results.filter { result in
            let uri = ((result["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any])
                .flatMap { ($0["artifactLocation"] as? [String: Any])?["uri"] as? String }
            return uri == "examples/model.py"
        }
        #expect(!onSource.isEmpty, "results whose Python line exists point at it")
        #expect(onSource.allSatisfy { ($0["relatedLocations"] as? [[String: Any]])?.isEmpty == false })

        // A relative --source-root is relative to the working directory, as every path on the command line.
        #expect(runTensorlint(["lint", "--format", "sarif", "--category", "ios-models", "--source-root", "examples",
                               Repo.example("celu.fp32.aten.pt2"), "-o", out]) == 1)
        let categorized = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any]
        let categorizedRun = (categorized?["runs"] as? [[String: Any]])?.first
        #expect((categorizedRun?["automationDetails"] as? [String: String])?["id"] == "ios-models/")
        let root = ((categorizedRun?["originalUriBaseIds"] as? [String: Any])?["SRCROOT"] as? [String: String])?["uri"]
        #expect(root == URL(fileURLWithPath: FileManager.default.currentDirectoryPath + "/examples", isDirectory: true).absoluteString)
    }

    /// A checkout without `git lfs pull` fails the run, one line per pointer; a folder without models warns.
    @Test func gitLFSPointersFailAndAnEmptyRunWarns() throws {
        let directory = temporaryDirectory()
        for name in ["a.onnx", "b.pt2"] {
            try "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n"
                .write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        let out = directory.appendingPathComponent("report.json").path
        var status: Int32 = 0
        let lines = try captureStandardError { status = runTensorlint(["lint", "--format", "json", directory.path]) }
            .split(separator: "\n")
        #expect(status == 2)
        #expect(lines.count == 2)
        #expect(lines.allSatisfy { $0.contains("Git LFS pointer to a 12 KB object, not the model: run `git lfs pull`") })

        let empty = temporaryDirectory()
        try "notes".write(to: empty.appendingPathComponent("README.md"), atomically: true, encoding: .utf8)
        try "x".write(to: empty.appendingPathComponent(".hidden.onnx"), atomically: true, encoding: .utf8)
        let warning = try captureStandardError { status = runTensorlint(["lint", empty.path, "-o", out]) }
        #expect(status == 0)
        #expect(warning.contains("tensorlint: warning: no model found in \(empty.path) (2 passed by: 1 hidden, 1 not a model format tensorlint reads)"))
        // CI shows it where people look: an annotation, a SARIF notification.
        let annotations = try captureStandardError { status = runTensorlint(["lint", "--format", "github", empty.path, "-o", out]) }
        #expect(annotations.contains("no model found"))
        #expect(try String(contentsOfFile: out, encoding: .utf8).hasPrefix("::warning title=tensorlint::tensorlint: warning: no model found in"))
        // An LFS pointer that is no model by its name (an image, a dataset) is passed by, not an error.
        try "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a\nsize 10\n".write(to: empty.appendingPathComponent("logo.png"), atomically: true, encoding: .utf8)
        #expect(runTensorlint(["lint", empty.path, "-o", out]) == 0)
    }

    /// One run over a mixed folder: each model is checked by its format's converter, and a nested
    /// configuration applies below its folder.
    @Test func theTargetFollowsTheFormatAndTheNearestConfiguration() throws {
        let directory = temporaryDirectory()
        let nested = directory.appendingPathComponent("coreml")
        try FileManager.default.createDirectory(at: nested, withIntermediateDirectories: true)
        for (name, folder) in [("add_fp16_fp32_initializer.onnx", directory), ("celu.fp32.aten.pt2", directory), ("add_fp16.onnx", nested)] {
            try FileManager.default.copyItem(atPath: Repo.example(name), toPath: folder.appendingPathComponent(name).path)
        }
        try "target:\n  converter: coremltools\n".write(to: nested.appendingPathComponent(".tensorlint.yml"), atomically: true, encoding: .utf8)
        let out = directory.appendingPathComponent("report.json").path
        #expect(runTensorlint(["lint", "--format", "json", directory.path, "-o", out]) == 1)
        let document = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any]
        let files = try #require(document?["files"] as? [[String: Any]])
        let targets = Dictionary(uniqueKeysWithValues: files.map { file in
            (URL(fileURLWithPath: file["path"] as? String ?? "").lastPathComponent, (file["settings"] as? [String: Any])?["target"] as? String)
        })
        #expect(targets == ["add_fp16_fp32_initializer.onnx": "onnxruntime", "celu.fp32.aten.pt2": "coremltools", "add_fp16.onnx": "coremltools"])
        let rules = files.flatMap { ($0["findings"] as? [[String: Any]] ?? []).compactMap { $0["rule"] as? String } }
        #expect(rules.contains("ort-type-parameter-mismatch") && rules.contains("coreml-unsupported-op") && rules.contains("coreml-no-onnx-frontend"))

        // A model named by a path relative to the working directory (as pre-commit names them) meets the
        // nested configuration's `paths:` globs relative to that configuration's folder.
        try "target:\n  converter: coremltools\npaths:\n  'add_*.onnx':\n    converter: onnxruntime\n".write(to: nested.appendingPathComponent(".tensorlint.yml"), atomically: true, encoding: .utf8)
        let relative = String(repeating: "../", count: FileManager.default.currentDirectoryPath.split(separator: "/").count)
            + nested.appendingPathComponent("add_fp16.onnx").path.dropFirst()
        #expect(runTensorlint(["lint", "--format", "json", relative, "-o", out]) == 0)
        let viaRelative = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any]
        #expect((((viaRelative?["files"] as? [[String: Any]])?.first)?["settings"] as? [String: Any])?["target"] as? String == "onnxruntime")

        // `formats:` in the top configuration, `paths:` over it, and --target over everything.
        let config = directory.appendingPathComponent(".tensorlint.yml")
        try "formats:\n  onnx:\n    converter: coremltools\n".write(to: config, atomically: true, encoding: .utf8)
        #expect(runTensorlint(["lint", "--format", "json", directory.appendingPathComponent("add_fp16_fp32_initializer.onnx").path, "-o", out]) == 0)
        try "formats:\n  onnx:\n    converter: coremltools\npaths:\n  'add_*.onnx':\n    converter: onnxruntime\n".write(to: config, atomically: true, encoding: .utf8)
        #expect(runTensorlint(["lint", "--format", "json", directory.appendingPathComponent("add_fp16_fp32_initializer.onnx").path, "-o", out]) == 1)
        #expect(runTensorlint(["lint", "--format", "json", "--target", "onnxruntime", directory.path, "-o", out]) == 1)
        #expect(runTensorlint(["lint", "--exit-zero", directory.path, "-o", out]) == 0)
    }

    /// One configuration above several folders is read and warned about once, and its globs still apply in
    /// each folder of the walk.
    @Test func aConfigurationSharedByFoldersIsReadOnce() throws {
        let directory = temporaryDirectory()
        for folder in ["a", "b", "c"] {
            let url = directory.appendingPathComponent(folder)
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: Repo.example("leaky_relu.fp32.aten.pt2"), toPath: url.appendingPathComponent("m.pt2").path)
        }
        try "disabled_rules: [no-such-rule]\nexcluded: ['b/*']\n".write(to: directory.appendingPathComponent(".tensorlint.yml"), atomically: true, encoding: .utf8)
        let out = directory.appendingPathComponent("report.json").path
        let warnings = try captureStandardError {
            #expect(runTensorlint(["lint", "--format", "json", directory.path, "-o", out]) == 0)
        }
        #expect(warnings.components(separatedBy: "no rule has the id 'no-such-rule'").count == 2, "\(warnings)")
        let document = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any]
        let linted = (document?["files"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String }
        #expect(linted.map { URL(fileURLWithPath: $0).deletingLastPathComponent().lastPathComponent } == ["a", "c"])
    }

    @Test func coloursOnlyWhenAsked() throws {
        var report = LintReport(files: [.init(path: Repo.example("celu.fp32.aten.pt2"), format: .torchExport, layout: nil,
                                              findings: try Engine.lint(Repo.example("celu.fp32.aten.pt2")), error: nil)],
                                rules: Engine.rules, settings: Settings(pack: Engine.vocabulary.pack("coremltools")!),
                                knowledgeVersion: nil, toolVersion: toolVersion, workingDirectory: Repo.root.path)
        #expect(!TextReporter().render(report).contains("\u{1B}["))
        report.color = true
        #expect(TextReporter().render(report).contains("\u{1B}[1;31merror\u{1B}[0m"))
    }

    /// A command line parsed once (as the fuzzing harnesses run `fix`) runs as often as asked, each run with the
    /// status a fresh parse gives.
    @Test func aParsedCommandLineRunsAgainAndAgain() throws {
        for (model, status) in [(Repo.example("add_fp16_fp32_initializer.onnx"), ExitStatus.findings), (Repo.example("add_fp32.onnx"), ExitStatus.clean)] {
            let arguments = ["lint", "--target", "onnxruntime", "--quiet", model]
            let parsed = try ParsedCommandLine(arguments)
            var statuses: [Int32] = []
            _ = try captureStandardError { statuses = [parsed.run(), parsed.run(), runTensorlint(arguments)] }
            #expect(statuses == [status, status, status], "\(model)")
        }
        #expect(throws: (any Error).self) { try ParsedCommandLine(["lint", "--no-such-flag"]) }
    }

    /// A mistyped command is not taken for a model path; a mistyped flag is never answered with one that
    /// rewrites models; `rules` speaks JSON and filters by target; `--quiet` leaves the findings alone.
    @Test func commandLineEdges() throws {
        var status: Int32 = 0
        var said = try captureStandardError { status = runTensorlint(["explian", "coreml-unsupported-op"]) }
        #expect(status == 2 && said == "tensorlint: unknown command 'explian' (no file of that name either); did you mean `tensorlint explain`?\n")
        said = try captureStandardError { status = runTensorlint(["version"]) }
        #expect(status == 2 && said.contains("did you mean `tensorlint --version`?"))
        said = try captureStandardError { status = runTensorlint(["lint", "--diff", Repo.example("celu.fp32.aten.pt2")]) }
        #expect(status == 2 && said.contains("--diff") && !said.contains("--fix"), "\(said)")

        let onnxRules = Engine.rules.filter { $0.targets.contains("onnxruntime") }.map(\.id)
        let json = try RulesCommand.parse(["--format", "json", "--target", "onnxruntime"]).render()
        let listed = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
        #expect(listed.compactMap { $0["id"] as? String } == onnxRules)
        #expect(runTensorlint(["rules", "--target", "tflite"]) == 2)

        let quiet = temporaryDirectory().appendingPathComponent("quiet.txt").path
        said = try captureStandardError { status = runTensorlint(["lint", "--quiet", Repo.example("celu.fp32.aten.pt2"), "-o", quiet]) }
        #expect(status == 1 && said.isEmpty)
        let text = try String(contentsOfFile: quiet, encoding: .utf8)
        #expect(text.contains("[coreml-unsupported-op]") && !text.contains("file linted"))
    }

    /// A node name can hold a newline, `ESC[2K` or a carriage return: the text report and standard error
    /// show them escaped, so a model cannot forge a "0 errors" line or rewrite the terminal.
    @Test func modelTextCannotDriveTheTerminal() throws {
        var finding = try #require(try Engine.lint(Repo.example("celu.fp32.aten.pt2")).first)
        finding.node = "celu\n1 file linted: 0 errors, 0 warnings\u{1B}[2K\r"
        finding.headline = "node `\(finding.node!)`: no converter"
        let report = LintReport(files: [.init(path: Repo.example("celu.fp32.aten.pt2"), format: .torchExport, layout: nil, findings: [finding], error: nil)],
                                rules: Engine.rules, settings: Settings(pack: Engine.vocabulary.pack("coremltools")!),
                                knowledgeVersion: nil, toolVersion: toolVersion, workingDirectory: Repo.root.path)
        for text in [TextReporter().render(report), ConciseReporter().render(report)] {
            #expect(!text.contains("\u{1B}") && !text.contains("\r"))
            #expect(text.split(separator: "\n").filter { $0.hasPrefix("1 file linted") }.count == 1, "only the real summary line")
            #expect(text.contains("celu\\x0a1 file linted: 0 errors, 0 warnings\\x1b[2K\\x0d"))
        }
        #expect(TerminalText.safe("a\u{0}b\u{9B}c") == "a\\x00b\\x9bc")
    }

    /// A FIFO named as a model is refused at once, never read from (which would block the hook forever).
    @Test func aFIFOIsRefusedWithoutBlocking() throws {
        let fifo = temporaryDirectory().appendingPathComponent("model.onnx").path
        #expect(mkfifo(fifo, 0o644) == 0)
        var status: Int32 = 0
        let said = try captureStandardError { status = runTensorlint(["lint", "--format", "json", fifo]) }
        #expect(status == 2 && said.contains("a FIFO (named pipe), not a regular file"))
    }

    /// `fix -o` never replaces the model itself (another spelling, a link) without --in-place, nor a device
    /// or FIFO; a report goes through a device or FIFO instead of replacing it.
    @Test func outputsReplaceOnlyWhatTheyShould() throws {
        let folder = temporaryDirectory()
        let model = folder.appendingPathComponent("m.onnx").path
        try FileManager.default.copyItem(atPath: Repo.example("add_fp16_fp32_initializer.onnx"), toPath: model)
        let original = try Data(contentsOf: URL(fileURLWithPath: model))
        let link = folder.appendingPathComponent("link.onnx").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: model)
        let fifo = folder.appendingPathComponent("fifo.onnx").path
        #expect(mkfifo(fifo, 0o644) == 0)
        for destination in [folder.path + "/./m.onnx", link, fifo] {
            #expect(runTensorlint(["fix", "--unsafe-fixes", model, "-o", destination]) == 2, "\(destination)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: model)) == original)
        #expect(runTensorlint(["fix", "--unsafe-fixes", model, "-o", folder.appendingPathComponent("fixed.onnx").path]) == 0)
    }

    /// End records that put the central directory outside the file (a ZIP64 offset of 2^63 trapped inside
    /// ZIPFoundation) are exit 2 with one line, named or met in a folder walk.
    @Test func zipEndRecordsOutsideTheFileAreRefused() throws {
        func le(_ value: UInt64, _ width: Int) -> [UInt8] { (0..<width).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) } }
        let folder = temporaryDirectory()
        let head: [UInt8] = [0x50, 0x4B, 0x03, 0x04] + [UInt8](repeating: 0, count: 26)
        let zip64 = head + le(0x0706_4B50, 4) + le(0, 4) + le(1 << 63, 8) + le(1, 4)
            + le(0x0605_4B50, 4) + le(0, 4) + le(0xFFFF, 2) + le(0xFFFF, 2) + le(0xFFFF_FFFF, 4) + le(0xFFFF_FFFF, 4) + le(0, 2)
        let beyond = head + le(0x0605_4B50, 4) + le(0, 4) + le(1, 2) + le(1, 2) + le(46, 4) + le(1 << 31, 4) + le(0, 2)
        for (name, bytes, reason) in [("zip64.pt2", zip64, "the ZIP64 end record's offset 9223372036854775808 lies outside the file"),
                                      ("beyond.pt2", beyond, "the central directory (46 bytes at offset 2147483648) lies outside the file")] {
            let path = folder.appendingPathComponent(name).path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            var status: Int32 = 0
            let said = try captureStandardError { status = runTensorlint(["lint", "--format", "json", path]) }
            #expect(status == 2 && said.contains(reason), "\(name): \(said)")
        }
        // A walk reads only what a format recognises: the damaged archives are passed by, and the run goes on.
        #expect(runTensorlint(["lint", folder.path, "-o", folder.appendingPathComponent("r.txt").path]) == 0)
    }
}
