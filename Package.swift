// swift-tools-version:6.1
import PackageDescription

// Layers, bottom up: IR <- readers <- engine <- reporters <- CLI.
let package = Package(
    name: "tensorlint",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "tensorlint", targets: ["tensorlint"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
    ],
    targets: [
        // Format-neutral graph IR: what every reader produces and every rule reads.
        .target(name: "TensorlintIR"),
        // torch.export archives (.pt2), both the legacy flat zip and the PT2 archive layout.
        .target(name: "TorchExportReader", dependencies: [
            "TensorlintIR",
            .product(name: "ZIPFoundation", package: "ZIPFoundation"),
        ]),
        // ONNX models (.onnx): memory-mapped protobuf wire format, tensor payloads skipped.
        .target(name: "ONNXReader", dependencies: ["TensorlintIR"]),
        // Rule definitions (YAML), knowledge tables, configuration and the matcher.
        .target(
            name: "TensorlintEngine",
            dependencies: ["TensorlintIR", .product(name: "Yams", package: "Yams")],
            plugins: ["EmbedRulesPlugin"]
        ),
        .target(name: "TensorlintReporters", dependencies: ["TensorlintEngine", "TensorlintIR"]),
        // Everything the command line does, as a library so that tests can drive it.
        .target(name: "TensorlintCLI", dependencies: [
            "TensorlintIR", "TorchExportReader", "ONNXReader", "TensorlintEngine", "TensorlintReporters",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "tensorlint", dependencies: ["TensorlintCLI"]),
        // Build-time tool: turns rules/ into Swift source so the binary works when copied alone.
        .executableTarget(name: "EmbedRules"),
        .plugin(name: "EmbedRulesPlugin", capability: .buildTool(), dependencies: ["EmbedRules"]),
        .testTarget(
            name: "TensorlintTests",
            dependencies: ["TensorlintIR", "TorchExportReader", "ONNXReader", "TensorlintEngine", "TensorlintReporters", "TensorlintCLI"]
        ),
    ]
)
