// swift-tools-version:6.1
import PackageDescription

// Layers: format support (read and write) → the format-neutral IR ← the generic rule engine ← converter
// packs. Formats and the engine are siblings on the IR: a rule never sees bytes, a reader never sees a rule.
// Reporters sit on the engine; the CLI joins everything through one registry of formats and packs.
let package = Package(
    name: "tensorlint",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "tensorlint", targets: ["tensorlint"]),
        // The readers, writers, engine and command line as one library: what the fuzzing harnesses in Fuzz/ drive.
        .library(name: "TensorlintLibrary", targets: ["TensorlintIR", "TorchArchive", "TorchExport", "TorchScript", "ONNX",
                                                      "TensorlintEngine", "TensorlintPacks", "TensorlintCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
    ],
    targets: [
        // Format-neutral graph IR: what every format reads into and every rule reads; the ModelFormat protocol.
        .target(name: "TensorlintIR"),
        // JSON without Foundation's costs: a streaming reader that decodes documents straight into typed
        // structures, and a writer of the reports' layout. Release builds let the optimizer carry its generic
        // readers into the modules that call them, specialized with their closures (a seventh of a program's
        // decoding; the flag gained nothing measurable on the other targets).
        .target(name: "TensorlintJSON", path: "Sources/Support/TensorlintJSON",
                swiftSettings: [.unsafeFlags(["-cross-module-optimization"], .when(configuration: .release))]),
        // A rule or configuration file as a tree of text with lines, from YAML or from the compiled form the
        // build gives the built-in rules (so that no YAML is parsed at start).
        .target(name: "RuleDocument", dependencies: [.product(name: "Yams", package: "Yams")], path: "Sources/Support/RuleDocument"),
        // The system's zlib, for the deflated zip entries another zip tool may write (torch stores every entry).
        .systemLibrary(name: "SystemZlib", path: "Sources/Support/SystemZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // torch's zip container and its pickles read at the opcode level: shared by every torch format.
        .target(name: "TorchArchive", dependencies: [
            "TensorlintIR", "SystemZlib",
            .product(name: "ZIPFoundation", package: "ZIPFoundation"),
        ], path: "Sources/Formats/TorchArchive"),
        // torch.export archives (.pt2), both the legacy flat zip and the PT2 archive layout: reader and writer.
        .target(name: "TorchExport", dependencies: [
            "TensorlintIR", "TorchArchive", "TensorlintJSON",
            .product(name: "ZIPFoundation", package: "ZIPFoundation"),
        ], path: "Sources/Formats/TorchExport"),
        // TorchScript archives (.pt from torch.jit.save): pickles walked as data, code parsed, never run.
        .target(name: "TorchScript", dependencies: [
            "TensorlintIR", "TorchArchive",
            .product(name: "ZIPFoundation", package: "ZIPFoundation"),
        ], path: "Sources/Formats/TorchScript"),
        // ONNX models (.onnx): memory-mapped protobuf wire format, tensor payloads skipped; reader and writer.
        .target(name: "ONNX", dependencies: ["TensorlintIR"], path: "Sources/Formats/ONNX"),
        // Rule definitions (YAML), the match language, configuration, the linter, the ConverterPack protocol.
        .target(
            name: "TensorlintEngine",
            dependencies: ["TensorlintIR", "TensorlintJSON", "RuleDocument", .product(name: "Yams", package: "Yams")],
            plugins: ["EmbedRulesPlugin"]
        ),
        // What each converter knows: one folder per pack (coremltools, onnxruntime).
        .target(name: "TensorlintPacks", dependencies: ["TensorlintEngine", "TensorlintIR", "TensorlintJSON"]),
        .target(name: "TensorlintReporters", dependencies: ["TensorlintEngine", "TensorlintIR", "TensorlintJSON"]),
        // Everything the command line does, as a library so that tests can drive it.
        .target(name: "TensorlintCLI", dependencies: [
            "TensorlintIR", "TensorlintJSON", "TorchExport", "TorchScript", "ONNX", "TensorlintEngine", "TensorlintPacks", "TensorlintReporters",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "tensorlint", dependencies: ["TensorlintCLI"]),
        // Build-time tool: turns rules/ into Swift source so the binary works when copied alone: rule files
        // compiled into RuleDocument's form, YAML knowledge tables into JSON, so that no YAML is parsed at start.
        .executableTarget(name: "EmbedRules", dependencies: ["TensorlintJSON", "RuleDocument", .product(name: "Yams", package: "Yams")]),
        .plugin(name: "EmbedRulesPlugin", capability: .buildTool(), dependencies: ["EmbedRules"]),
        .testTarget(
            name: "TensorlintTests",
            dependencies: ["TensorlintIR", "TensorlintJSON", "RuleDocument", "TorchArchive", "TorchExport", "TorchScript", "ONNX", "TensorlintEngine", "TensorlintPacks",
                           "TensorlintReporters", "TensorlintCLI", .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                           .product(name: "Yams", package: "Yams")]
        ),
    ]
)
