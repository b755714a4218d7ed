import Foundation
import SwiftProtobuf

// The subset of onnx.proto that linting reads, written as protoc-gen-swift would generate it (field
// numbers from onnx.proto). Decoding the bytes fields (`raw_data`) into `Data` is what generated code does:
// swift-protobuf has no lazy or zero-copy bytes fields.

struct TensorProto: SwiftProtobuf.Message, SwiftProtobuf._MessageImplementationBase, SwiftProtobuf._ProtoNameProviding {
    static let protoMessageName = "onnx.TensorProto"
    static let _protobuf_nameMap: SwiftProtobuf._NameMap = [1: .same(proto: "dims"), 2: .same(proto: "data_type"),
                                                            8: .same(proto: "name"), 9: .same(proto: "raw_data")]
    var unknownFields = SwiftProtobuf.UnknownStorage()
    var dims: [Int64] = []
    var dataType: Int32 = 0
    var name = ""
    var rawData = Data()

    mutating func decodeMessage<D: SwiftProtobuf.Decoder>(decoder: inout D) throws {
        while let number = try decoder.nextFieldNumber() {
            switch number {
            case 1: try decoder.decodeRepeatedInt64Field(value: &dims)
            case 2: try decoder.decodeSingularInt32Field(value: &dataType)
            case 8: try decoder.decodeSingularStringField(value: &name)
            case 9: try decoder.decodeSingularBytesField(value: &rawData)
            default: break
            }
        }
    }

    func traverse<V: SwiftProtobuf.Visitor>(visitor: inout V) throws {
        if !dims.isEmpty { try visitor.visitPackedInt64Field(value: dims, fieldNumber: 1) }
        if dataType != 0 { try visitor.visitSingularInt32Field(value: dataType, fieldNumber: 2) }
        if !name.isEmpty { try visitor.visitSingularStringField(value: name, fieldNumber: 8) }
        if !rawData.isEmpty { try visitor.visitSingularBytesField(value: rawData, fieldNumber: 9) }
        try unknownFields.traverse(visitor: &visitor)
    }

    static func == (lhs: TensorProto, rhs: TensorProto) -> Bool {
        lhs.dims == rhs.dims && lhs.dataType == rhs.dataType && lhs.name == rhs.name && lhs.rawData == rhs.rawData
    }
}

struct NodeProto: SwiftProtobuf.Message, SwiftProtobuf._MessageImplementationBase, SwiftProtobuf._ProtoNameProviding {
    static let protoMessageName = "onnx.NodeProto"
    static let _protobuf_nameMap: SwiftProtobuf._NameMap = [1: .same(proto: "input"), 2: .same(proto: "output"),
                                                            3: .same(proto: "name"), 4: .same(proto: "op_type")]
    var unknownFields = SwiftProtobuf.UnknownStorage()
    var input: [String] = []
    var output: [String] = []
    var name = ""
    var opType = ""

    mutating func decodeMessage<D: SwiftProtobuf.Decoder>(decoder: inout D) throws {
        while let number = try decoder.nextFieldNumber() {
            switch number {
            case 1: try decoder.decodeRepeatedStringField(value: &input)
            case 2: try decoder.decodeRepeatedStringField(value: &output)
            case 3: try decoder.decodeSingularStringField(value: &name)
            case 4: try decoder.decodeSingularStringField(value: &opType)
            default: break
            }
        }
    }

    func traverse<V: SwiftProtobuf.Visitor>(visitor: inout V) throws {
        try visitor.visitRepeatedStringField(value: input, fieldNumber: 1)
        try visitor.visitRepeatedStringField(value: output, fieldNumber: 2)
        try visitor.visitSingularStringField(value: name, fieldNumber: 3)
        try visitor.visitSingularStringField(value: opType, fieldNumber: 4)
        try unknownFields.traverse(visitor: &visitor)
    }

    static func == (lhs: NodeProto, rhs: NodeProto) -> Bool {
        lhs.input == rhs.input && lhs.output == rhs.output && lhs.name == rhs.name && lhs.opType == rhs.opType
    }
}

struct GraphProto: SwiftProtobuf.Message, SwiftProtobuf._MessageImplementationBase, SwiftProtobuf._ProtoNameProviding {
    static let protoMessageName = "onnx.GraphProto"
    static let _protobuf_nameMap: SwiftProtobuf._NameMap = [1: .same(proto: "node"), 5: .same(proto: "initializer")]
    var unknownFields = SwiftProtobuf.UnknownStorage()
    var node: [NodeProto] = []
    var initializer: [TensorProto] = []

    mutating func decodeMessage<D: SwiftProtobuf.Decoder>(decoder: inout D) throws {
        while let number = try decoder.nextFieldNumber() {
            switch number {
            case 1: try decoder.decodeRepeatedMessageField(value: &node)
            case 5: try decoder.decodeRepeatedMessageField(value: &initializer)
            default: break
            }
        }
    }

    func traverse<V: SwiftProtobuf.Visitor>(visitor: inout V) throws {
        try visitor.visitRepeatedMessageField(value: node, fieldNumber: 1)
        try visitor.visitRepeatedMessageField(value: initializer, fieldNumber: 5)
        try unknownFields.traverse(visitor: &visitor)
    }

    static func == (lhs: GraphProto, rhs: GraphProto) -> Bool { lhs.node == rhs.node && lhs.initializer == rhs.initializer }
}

struct ModelProto: SwiftProtobuf.Message, SwiftProtobuf._MessageImplementationBase, SwiftProtobuf._ProtoNameProviding {
    static let protoMessageName = "onnx.ModelProto"
    static let _protobuf_nameMap: SwiftProtobuf._NameMap = [1: .same(proto: "ir_version"), 7: .same(proto: "graph")]
    var unknownFields = SwiftProtobuf.UnknownStorage()
    var irVersion: Int64 = 0
    var graph = GraphProto()

    mutating func decodeMessage<D: SwiftProtobuf.Decoder>(decoder: inout D) throws {
        while let number = try decoder.nextFieldNumber() {
            switch number {
            case 1: try decoder.decodeSingularInt64Field(value: &irVersion)
            case 7: try decoder.decodeSingularMessageField(value: &graphOptional)
            default: break
            }
        }
    }

    private var graphOptional: GraphProto? {
        get { graph }
        set { graph = newValue ?? GraphProto() }
    }

    func traverse<V: SwiftProtobuf.Visitor>(visitor: inout V) throws {
        try visitor.visitSingularInt64Field(value: irVersion, fieldNumber: 1)
        try visitor.visitSingularMessageField(value: graph, fieldNumber: 7)
        try unknownFields.traverse(visitor: &visitor)
    }

    static func == (lhs: ModelProto, rhs: ModelProto) -> Bool { lhs.irVersion == rhs.irVersion && lhs.graph == rhs.graph }
}

let path = CommandLine.arguments[1]
let start = DispatchTime.now().uptimeNanoseconds
let bytes = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
var options = BinaryDecodingOptions()
options.discardUnknownFields = true
options.messageDepthLimit = 100
let model = try ModelProto(serializedBytes: bytes, options: options)
let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
let weightBytes = model.graph.initializer.reduce(0) { $0 + $1.rawData.count }
print(String(format: "swift-protobuf decode: %.1f ms, %d nodes, %d initializers, %d weight bytes held",
             elapsed, model.graph.node.count, model.graph.initializer.count, weightBytes))
