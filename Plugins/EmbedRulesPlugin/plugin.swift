import Foundation
import PackagePlugin

/// Embeds every file under `rules/` into the engine as Swift string literals, so that
/// the built `tensorlint` binary carries its rules and knowledge and runs when copied alone.
@main
struct EmbedRulesPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let rulesDirectory = context.package.directoryURL.appending(path: "rules")
        let files = try embeddableFiles(under: rulesDirectory)
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedRules.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(files.count) rule and knowledge files",
                executable: try context.tool(named: "EmbedRules").url,
                arguments: [rulesDirectory.path(), output.path()] + files.map { $0.path() },
                inputFiles: files,
                outputFiles: [output]
            ),
        ]
    }

    private func embeddableFiles(under directory: URL) throws -> [URL] {
        guard let enumerator = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil) else {
            return []
        }
        return enumerator.compactMap { $0 as? URL }
            .filter { ["yml", "yaml", "json", "jsonl"].contains($0.pathExtension) }
            .sorted { $0.path() < $1.path() }
    }
}
