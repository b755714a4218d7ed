// swift-tools-version:6.1
import PackageDescription

// Measures what decoding an ONNX model with swift-protobuf costs, for the reader-design decision in
// README ("ONNX reader"). Not part of the tensorlint build; run by scripts/benchmark_protobuf_choice.sh.
let package = Package(
    name: "protobuf-choice",
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        .executableTarget(name: "ProtobufChoice", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]),
    ]
)
