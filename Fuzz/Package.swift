// swift-tools-version:6.1
import PackageDescription

// libFuzzer harnesses, one executable each, kept out of the main package so that its build is untouched.
// Build and run them with scripts/fuzz.sh: every target is compiled with AddressSanitizer and libFuzzer's
// coverage instrumentation, and libFuzzer's driver is linked without its `main`: each harness's main.swift
// hands its input callback to `LLVMFuzzerRunDriver`.
let harnesses = ["fuzz-onnx-reader", "fuzz-onnx-fix", "fuzz-torch-export-reader", "fuzz-torch-export-fix", "fuzz-pickle",
                 "fuzz-config", "fuzz-torchscript-code"]

let package = Package(
    name: "tensorlint-fuzz",
    platforms: [.macOS(.v13)],
    dependencies: [.package(name: "tensorlint", path: "..")],
    targets: [
        .target(name: "CFuzzer"),
        .target(name: "FuzzSupport", dependencies: ["CFuzzer", .product(name: "TensorlintLibrary", package: "tensorlint")]),
    ] + harnesses.map { name in
        .executableTarget(name: name, dependencies: ["FuzzSupport", .product(name: "TensorlintLibrary", package: "tensorlint")])
    }
)
