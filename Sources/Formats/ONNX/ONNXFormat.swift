import Foundation
import TensorlintIR

/// Reads ONNX models (`ModelProto`, protobuf) by memory-mapping the file and walking the wire format with
/// field numbers from `onnx.proto` (docs/formats.md §3). Tensor payloads (`raw_data`, `float_data` …)
/// are skipped, never copied; external data files are only looked up (size), never read.
public enum ONNXFormat: ModelFormat {
    public static let id = Model.Format.onnx
    public static let displayName = "an ONNX model"
    public static let fileExtensions = ["onnx"]
    public static let writer: (any ModelWriter.Type)? = ONNXWriter.self

    /// ONNX has no magic number. A `ModelProto` written by onnx's serializer starts with `ir_version`
    /// (field 1, varint: 0x08) followed by a small version number.
    static func hasIRVersionFirst(_ prefix: [UInt8]) -> Bool {
        prefix.count >= 2 && prefix[0] == 0x08 && prefix[1] > 0 && prefix[1] < 0x40
    }

    /// Recognised: a file named `.onnx` whose first field is a ModelProto field, or any file whose prefix (its
    /// first 256 bytes) reads as ModelProto fields (right numbers, right wire types) up to the graph or its end.
    /// A file that only starts with `ir_version` carries the signature.
    public static func recognize(_ file: ModelFile) -> Recognition {
        let (path, prefix) = (file.path, file.prefix)
        let signature = hasIRVersionFirst(prefix)
            ? Recognition.signature(reason: "starts with an ONNX ir_version but does not read as a ModelProto") : .unrecognized
        return prefix.withUnsafeBytes { bytes in
            var reader = WireReader(bytes, range: 0..<bytes.count, message: "ModelProto")
            var fields = 0
            while true {
                guard let field = try? reader.nextField() else { return fields > 0 ? .recognized : signature }
                guard ModelParser.fieldWireTypes[field.number] == field.wireType else { return signature }
                fields += 1
                if path.lowercased().hasSuffix(".onnx") || field.number == ONNXField.Model.graph { return .recognized }
                do { try reader.skip(field.wireType) } catch { return signature == .unrecognized ? .unrecognized : .recognized }
            }
        }
    }

    public static func read(_ file: ModelFile) throws(ReadError) -> Model {
        let mapped = try MappedFile(path: file.path)
        guard mapped.bytes.count > 0 else { throw .notThisFormat("the file is empty") }
        var parser = ModelParser(bytes: mapped.bytes, modelFolder: URL(fileURLWithPath: file.path).deletingLastPathComponent().path)
        return try parser.parseModel(path: file.path)
    }
}

/// Turns `ModelProto` bytes into the IR. One instance per file.
struct ModelParser {
    /// The fields of `ModelProto` and their wire types, used to recognise a model by its first field.
    static let fieldWireTypes: [Int: WireReader.WireType] = [
        1: .varint, 2: .lengthDelimited, 3: .lengthDelimited, 4: .lengthDelimited, 5: .varint, 6: .lengthDelimited,
        7: .lengthDelimited, 8: .lengthDelimited, 14: .lengthDelimited, 20: .lengthDelimited, 25: .lengthDelimited,
        26: .lengthDelimited,
    ]
    /// Control-flow bodies nested deeper than this are refused rather than followed.
    static let maximumGraphDepth = 64

    let bytes: UnsafeRawBufferPointer
    let modelFolder: String
    /// Graph 0 is the main graph; nested graphs and functions follow, filled in as they are met.
    private var graphs: [Graph?] = []
    /// Byte range of each graph's message (GraphProto or FunctionProto), by graph index: what the writer edits.
    private(set) var graphRanges: [Range<Int>] = []

    init(bytes: UnsafeRawBufferPointer, modelFolder: String) {
        self.bytes = bytes
        self.modelFolder = modelFolder
    }

    mutating func parseModel(path: String) throws(ReadError) -> Model {
        var reader = WireReader(bytes, range: 0..<bytes.count, message: "ModelProto")
        var irVersion: Int64?
        var producer = "", producerVersion = ""
        var opsets: [String: Int] = [:]
        var metadata: [String: String] = [:]
        var graphRange: Range<Int>?
        var functionRanges: [Range<Int>] = []
        while let field = try reader.nextField() {
            switch field.number {
            case ONNXField.Model.irVersion: irVersion = try reader.int(field)
            case ONNXField.Model.producerName: producer = try reader.string(field)
            case ONNXField.Model.producerVersion: producerVersion = try reader.string(field)
            case ONNXField.Model.graph:
                try reader.expect(field, .lengthDelimited)
                graphRange = try reader.lengthDelimited()
            case ONNXField.Model.opsetImport:
                let (domain, version) = try Self.opsetImport(try reader.message(field, "OperatorSetIdProto"))
                opsets[domain] = version
            case ONNXField.Model.metadataProps:
                let (key, value) = try Self.entry(try reader.message(field, "StringStringEntryProto"))
                metadata[key] = value
            case ONNXField.Model.functions:
                try reader.expect(field, .lengthDelimited)
                functionRanges.append(try reader.lengthDelimited())
            default:
                try reader.skip(field.wireType)
            }
        }
        guard let irVersion else { throw .notThisFormat("no ir_version field: not an ONNX ModelProto") }
        guard let graphRange else { throw .malformed("ModelProto has no graph") }
        graphs.append(nil)
        graphRanges.append(graphRange)
        graphs[0] = try parseGraph(reader.reader(graphRange, message: "GraphProto"), owner: .model, depth: 0)
        for range in functionRanges {
            let index = graphs.count
            graphs.append(nil)
            graphRanges.append(range)
            graphs[index] = try parseFunction(reader.reader(range, message: "FunctionProto"))
        }
        let opsetText = opsets.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        let producerText = [producer, producerVersion].filter { !$0.isEmpty }.joined(separator: " ")
        let model = Model(path: path, format: .onnx, layout: "ONNX IR \(irVersion), opset \(opsetText.isEmpty ? "none" : opsetText)",
                          producerVersion: producerText.isEmpty ? nil : producerText, graphs: graphs.map { $0! },
                          opsetImports: opsets, metadata: metadata)
        try ONNXStructure.check(model)
        return model
    }

    // MARK: graphs

    private mutating func parseGraph(_ message: WireReader, owner: Graph.Owner, depth: Int) throws(ReadError) -> Graph {
        guard depth <= Self.maximumGraphDepth else {
            throw .malformed("graphs nested more than \(Self.maximumGraphDepth) levels deep")
        }
        let index = owner == .model ? 0 : graphs.count - 1
        var reader = message
        var name = ""
        var nodeRanges: [Range<Int>] = []
        var inputs: [String] = [], outputs: [String] = []
        var declared: [String: (DType?, [Int?]?)] = [:]
        var initializers: [String: Value] = [:]
        var initializerOrder: [String] = []
        while let field = try reader.nextField() {
            switch field.number {
            case ONNXField.Graph.node:
                try reader.expect(field, .lengthDelimited)
                nodeRanges.append(try reader.lengthDelimited())
            case ONNXField.Graph.name: name = try reader.string(field)
            case ONNXField.Graph.initializer:
                let value = try parseInitializer(try reader.message(field, "TensorProto"))
                if initializers[value.name] == nil { initializerOrder.append(value.name) }
                initializers[value.name] = value
            case ONNXField.Graph.sparseInitializer:
                let value = try parseSparseInitializer(try reader.message(field, "SparseTensorProto"))
                if initializers[value.name] == nil { initializerOrder.append(value.name) }
                initializers[value.name] = value
            case ONNXField.Graph.input, ONNXField.Graph.output, ONNXField.Graph.valueInfo:
                let (valueName, dtype, shape) = try Self.valueInfo(try reader.message(field, "ValueInfoProto"))
                declared[valueName] = (dtype, shape)
                if field.number == ONNXField.Graph.input { inputs.append(valueName) }
                if field.number == ONNXField.Graph.output { outputs.append(valueName) }
            default:
                try reader.skip(field.wireType)
            }
        }
        let inputSet = Set(inputs)
        var values: [String: Value] = [:]
        for (valueName, (dtype, shape)) in declared {
            values[valueName] = Value(name: valueName, dtype: dtype, declaredDType: dtype, shape: shape,
                                      role: inputSet.contains(valueName) ? .userInput : .intermediate)
        }
        for (valueName, var initializer) in initializers {
            // Only a graph input gives an initializer a declared type (the overridable-input case).
            initializer.declaredDType = inputSet.contains(valueName) ? declared[valueName]?.0 : nil
            values[valueName] = initializer
        }
        // Initializers that are not graph inputs (IR ≥ 4) are still inputs of the graph as far as nodes are concerned.
        let graphInputs = inputs + initializerOrder.filter { !inputSet.contains($0) }
        var nodes: [Node] = []
        nodes.reserveCapacity(nodeRanges.count)
        for range in nodeRanges {
            nodes.append(try parseNode(reader.reader(range, message: "NodeProto"), graphIndex: index, depth: depth))
        }
        return Graph(name: name, nodes: nodes, values: values, inputs: graphInputs, outputs: outputs, owner: owner)
    }

    private mutating func parseFunction(_ message: WireReader) throws(ReadError) -> Graph {
        var reader = message
        var name = "", domain = "", overload: String?
        var inputs: [String] = [], outputs: [String] = []
        var opsets: [String: Int] = [:]
        var nodeRanges: [Range<Int>] = []
        var values: [String: Value] = [:]
        while let field = try reader.nextField() {
            switch field.number {
            case ONNXField.Function.name: name = try reader.string(field)
            case ONNXField.Function.input: inputs.append(try reader.string(field))
            case ONNXField.Function.output: outputs.append(try reader.string(field))
            case ONNXField.Function.node:
                try reader.expect(field, .lengthDelimited)
                nodeRanges.append(try reader.lengthDelimited())
            case ONNXField.Function.opsetImport:
                let (opsetDomain, version) = try Self.opsetImport(try reader.message(field, "OperatorSetIdProto"))
                opsets[opsetDomain] = version
            case ONNXField.Function.domain: domain = try reader.string(field)
            case ONNXField.Function.valueInfo:
                let (valueName, dtype, shape) = try Self.valueInfo(try reader.message(field, "ValueInfoProto"))
                values[valueName] = Value(name: valueName, dtype: dtype, declaredDType: dtype, shape: shape, role: .intermediate)
            case ONNXField.Function.overload: overload = try reader.string(field)
            default: try reader.skip(field.wireType)
            }
        }
        for input in inputs where values[input] == nil {
            values[input] = Value(name: input, dtype: nil, shape: nil, role: .userInput)
        }
        let index = graphs.count - 1
        var nodes: [Node] = []
        for range in nodeRanges {
            nodes.append(try parseNode(reader.reader(range, message: "NodeProto"), graphIndex: index, depth: 1))
        }
        let op = OpName(namespace: domain, name: name, overload: overload?.isEmpty == false ? overload : nil)
        return Graph(name: op.description, nodes: nodes, values: values, inputs: inputs, outputs: outputs,
                     owner: .function(op, opsetImports: opsets))
    }

    // MARK: nodes

    private mutating func parseNode(_ message: WireReader, graphIndex: Int, depth: Int) throws(ReadError) -> Node {
        var reader = message
        var inputs: [NodeInput] = []
        var outputs: [String?] = []
        var name = "", opType = "", domain = "", overload: String?
        var attributeRanges: [Range<Int>] = []
        var metadata: [String: String] = [:]
        var docString = ""
        while let field = try reader.nextField() {
            switch field.number {
            case ONNXField.Node.input:
                let input = try reader.string(field)
                inputs.append(NodeInput(name: "", argument: input.isEmpty ? .none : .tensor(input)))
            case ONNXField.Node.output:
                let output = try reader.string(field)
                outputs.append(output.isEmpty ? nil : output)
            case ONNXField.Node.name: name = try reader.string(field)
            case ONNXField.Node.opType: opType = try reader.string(field)
            case ONNXField.Node.attribute:
                try reader.expect(field, .lengthDelimited)
                attributeRanges.append(try reader.lengthDelimited())
            case ONNXField.Node.docString: docString = try reader.string(field)
            case ONNXField.Node.domain: domain = try reader.string(field)
            case ONNXField.Node.overload: overload = try reader.string(field)
            case ONNXField.Node.metadataProps:
                let (key, value) = try Self.entry(try reader.message(field, "StringStringEntryProto"))
                metadata[key] = value
            default: try reader.skip(field.wireType)
            }
        }
        guard !opType.isEmpty else { throw reader.damaged("node without op_type") }
        let displayName = name.isEmpty ? "\(opType) → \(outputs.compactMap { $0 }.first ?? "no output")" : name
        var attributes: [String: Argument] = [:]
        for range in attributeRanges {
            let (attributeName, value) = try parseAttribute(reader.reader(range, message: "AttributeProto"),
                                                            graphIndex: graphIndex, node: displayName, depth: depth)
            attributes[attributeName] = value
        }
        let op = OpName(namespace: domain == "ai.onnx" ? "" : domain, name: opType, overload: overload?.isEmpty == false ? overload : nil)
        return Node(name: displayName, op: op, inputs: inputs, outputs: outputs, attributes: attributes,
                    source: SourceLocations.parse(metadata: metadata, docString: docString))
    }

    private mutating func parseAttribute(_ message: WireReader, graphIndex: Int, node: String, depth: Int) throws(ReadError) -> (String, Argument) {
        var reader = message
        var name = ""
        var float: Double?, int: Int64?, string: String?, tensor: DType??, bodyRanges: [Range<Int>] = []
        var floats: [Double] = [], ints: [Int64] = [], strings: [String] = []
        var reference: String?
        var declaredType: Int64?
        while let field = try reader.nextField() {
            switch field.number {
            case ONNXField.Attribute.name: name = try reader.string(field)
            case ONNXField.Attribute.f:
                try reader.expect(field, .fixed32)
                float = Double(Float(bitPattern: try reader.fixed32()))
            case ONNXField.Attribute.i: int = try reader.int(field)
            case ONNXField.Attribute.s: string = try reader.string(field)
            case ONNXField.Attribute.t: tensor = .some(try Self.tensorHeader(try reader.message(field, "TensorProto")).dtype)
            case ONNXField.Attribute.g, ONNXField.Attribute.graphs:
                try reader.expect(field, .lengthDelimited)
                bodyRanges.append(try reader.lengthDelimited())
            case ONNXField.Attribute.floats: try reader.floats(field, into: &floats)
            case ONNXField.Attribute.ints: try reader.ints(field, into: &ints)
            case ONNXField.Attribute.strings: strings.append(try reader.string(field))
            case ONNXField.Attribute.type: declaredType = try reader.int(field)
            case ONNXField.Attribute.refAttrName: reference = try reader.string(field)
            default: try reader.skip(field.wireType)
            }
        }
        if let reference { return (name, .symbol(reference)) }
        var subgraphs: [Int] = []
        for range in bodyRanges {
            let index = graphs.count
            graphs.append(nil)
            self.graphRanges.append(range)
            graphs[index] = try parseGraph(reader.reader(range, message: "GraphProto"),
                                           owner: .node(graph: graphIndex, node: node, attribute: name), depth: depth + 1)
            subgraphs.append(index)
        }
        switch declaredType {
        case ONNXField.AttributeType.floats?: return (name, .floats(floats))
        case ONNXField.AttributeType.ints?: return (name, .ints(ints))
        case ONNXField.AttributeType.strings?: return (name, .other("strings [\(strings.joined(separator: ", "))]"))
        default: break
        }
        if let first = subgraphs.first { return (name, subgraphs.count == 1 ? .subgraph(first) : .other("\(subgraphs.count) graphs")) }
        if let tensor { return (name, .tensorLiteral(tensor)) }
        if let float, declaredType == nil || declaredType == ONNXField.AttributeType.float { return (name, .float(float)) }
        if let int { return (name, .int(int)) }
        if let string { return (name, .string(string)) }
        if !ints.isEmpty { return (name, .ints(ints)) }
        if !floats.isEmpty { return (name, .floats(floats)) }
        return (name, .none)
    }

    // MARK: tensors and types

    private func parseInitializer(_ message: WireReader) throws(ReadError) -> Value {
        let header = try Self.tensorHeader(message)
        var external: Value.ExternalData?
        if header.isExternal {
            guard let location = header.external["location"] else {
                throw message.damaged("initializer '\(header.name)' has external data without a location")
            }
            let (size, refusal) = Self.externalFile(location, folder: modelFolder)
            func count(_ key: String) throws(ReadError) -> Int? {
                guard let text = header.external[key] else { return nil }
                guard let value = Int(text), value >= 0 else {
                    throw message.damaged("initializer '\(header.name)' has external data \(key) '\(text)', not a byte count")
                }
                return value
            }
            external = Value.ExternalData(location: location, offset: try count("offset") ?? 0, length: try count("length"),
                                          availableBytes: size, refusal: refusal)
        }
        return Value(name: header.name, dtype: header.dtype, shape: header.dims.map { Int($0) },
                     role: .constant(header.name), external: external)
    }

    /// The size of an external data file, as onnxruntime would find it: only inside the model's folder, links
    /// resolved (it refuses absolute paths and paths that lead out: "External data path … escapes model
    /// directory"), and only a regular file. A refused location is never looked at, so nothing is said of
    /// what lies outside the folder.
    static func externalFile(_ location: String, folder: String) -> (size: Int?, refusal: String?) {
        if location.hasPrefix("/") { return (nil, "its location is an absolute path, which onnxruntime refuses") }
        guard let base = realpath(folder, nil) else { return (nil, nil) }
        defer { free(base) }
        guard let resolved = realpath("\(folder)/\(location)", nil) else {
            // Missing; but a path that climbs out of the folder is refused before anything is looked up.
            let climbs = location.split(separator: "/").reduce(into: (depth: 0, out: false)) { state, part in
                state.depth += part == ".." ? -1 : part == "." ? 0 : 1
                state.out = state.out || state.depth < 0
            }.out
            return (nil, climbs ? "its location leads out of the model's folder, which onnxruntime refuses" : nil)
        }
        defer { free(resolved) }
        let folderPath = String(cString: base), path = String(cString: resolved)
        guard path.hasPrefix(folderPath == "/" ? "/" : folderPath + "/") else {
            return (nil, "its location leads out of the model's folder (links followed), which onnxruntime refuses")
        }
        var status = stat()
        guard stat(path, &status) == 0 else { return (nil, nil) }
        guard (status.st_mode & S_IFMT) == S_IFREG else { return (nil, "it is not a regular file") }
        return (Int(status.st_size), nil)
    }

    /// A sparse initializer: named and typed by its `values` tensor, shaped by its own `dims`.
    private func parseSparseInitializer(_ message: WireReader) throws(ReadError) -> Value {
        // Sparse weights are never converted in place (the writer rewrites dense ones only).
        var reader = message
        var values = TensorHeader()
        var dims: [Int64] = []
        while let field = try reader.nextField() {
            switch field.number {
            case ONNXField.SparseTensor.values: values = try Self.tensorHeader(try reader.message(field, "TensorProto"))
            case ONNXField.SparseTensor.dims: try reader.ints(field, into: &dims)
            default: try reader.skip(field.wireType)
            }
        }
        var value = Value(name: values.name, dtype: values.dtype, shape: dims.map { Int($0) }, role: .constant(values.name))
        value.isSparse = true
        return value
    }

    struct TensorHeader {
        var name = ""
        var dtype: DType?
        var dims: [Int64] = []
        var isExternal = false
        var external: [String: String] = [:]
    }

    /// A tensor's name, element type, dims and external-data entries; its payload is skipped.
    static func tensorHeader(_ message: WireReader) throws(ReadError) -> TensorHeader {
        var reader = message
        var header = TensorHeader()
        while let field = try reader.nextField() {
            switch field.number {
            case ONNXField.Tensor.dims: try reader.ints(field, into: &header.dims)
            case ONNXField.Tensor.dataType: header.dtype = ONNXDataType.dtype(try reader.int(field))
            case ONNXField.Tensor.name: header.name = try reader.string(field)
            case ONNXField.Tensor.externalData:
                let (key, value) = try entry(try reader.message(field, "StringStringEntryProto"))
                header.external[key] = value
            case ONNXField.Tensor.dataLocation: header.isExternal = try reader.int(field) == ONNXField.Tensor.external
            default: try reader.skip(field.wireType)
            }
        }
        // onnx counts elements in 64 bits: negative dims, or dims whose product overflows, are no tensor.
        var count: Int64 = 1
        for size in header.dims {
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard size >= 0, !overflow else {
                throw message.damaged("tensor '\(header.name)' has dims \(header.dims), which hold a negative size or more than 2^63 elements")
            }
            count = product
        }
        return header
    }

    static func valueInfo(_ message: WireReader) throws(ReadError) -> (String, DType?, [Int?]?) {
        var reader = message
        var name = ""
        var dtype: DType?
        var shape: [Int?]?
        while let field = try reader.nextField() {
            switch field.number {
            case ONNXField.ValueInfo.name: name = try reader.string(field)
            case ONNXField.ValueInfo.type: (dtype, shape) = try typeProto(try reader.message(field, "TypeProto"))
            default: try reader.skip(field.wireType)
            }
        }
        return (name, dtype, shape)
    }

    /// A tensor type's element type and shape; sequences, maps and optionals have no single element type here.
    static func typeProto(_ message: WireReader) throws(ReadError) -> (DType?, [Int?]?) {
        var reader = message
        var result: (DType?, [Int?]?) = (nil, nil)
        while let field = try reader.nextField() {
            switch field.number {
            case ONNXField.TypeProto.tensorType, ONNXField.TypeProto.sparseTensorType:
                var tensor = try reader.message(field, "TypeProto.Tensor")
                while let inner = try tensor.nextField() {
                    switch inner.number {
                    case ONNXField.TypeProtoTensor.elemType: result.0 = ONNXDataType.dtype(try tensor.int(inner))
                    case ONNXField.TypeProtoTensor.shape: result.1 = try shapeProto(try tensor.message(inner, "TensorShapeProto"))
                    default: try tensor.skip(inner.wireType)
                    }
                }
            default: try reader.skip(field.wireType)
            }
        }
        return result
    }

    static func shapeProto(_ message: WireReader) throws(ReadError) -> [Int?] {
        var reader = message
        var dims: [Int?] = []
        while let field = try reader.nextField() {
            guard field.number == ONNXField.TensorShape.dim else { try reader.skip(field.wireType); continue }
            var dimension = try reader.message(field, "TensorShapeProto.Dimension")
            var size: Int?
            while let inner = try dimension.nextField() {
                if inner.number == ONNXField.Dimension.dimValue { size = Int(truncatingIfNeeded: try dimension.int(inner)) } else { try dimension.skip(inner.wireType) }
            }
            dims.append(size)
        }
        return dims
    }

    static func opsetImport(_ message: WireReader) throws(ReadError) -> (String, Int) {
        var reader = message
        var domain = "", version: Int64 = 0
        while let field = try reader.nextField() {
            switch field.number {
            case ONNXField.OperatorSetId.domain: domain = try reader.string(field)
            case ONNXField.OperatorSetId.version: version = try reader.int(field)
            default: try reader.skip(field.wireType)
            }
        }
        return (domain.isEmpty ? "ai.onnx" : domain, Int(truncatingIfNeeded: version))
    }

    static func entry(_ message: WireReader) throws(ReadError) -> (String, String) {
        var reader = message
        var key = "", value = ""
        while let field = try reader.nextField() {
            switch field.number {
            case ONNXField.StringStringEntry.key: key = try reader.string(field)
            case ONNXField.StringStringEntry.value: value = try reader.string(field)
            default: try reader.skip(field.wireType)
            }
        }
        return (key, value)
    }
}

/// Source locations the exporters write into nodes. torch's dynamo exporter records the module hierarchy
/// as Python list literals (`pkg.torch.onnx.name_scopes`: `['', 'encoder', 'encoder.act', 'leaky_relu']`,
/// the node's own name last; `pkg.torch.onnx.class_hierarchy` alongside) and the Python stack in
/// `pkg.torch.onnx.stack_trace`; other producers put a stack in `doc_string`.
enum SourceLocations {
    static func parse(metadata: [String: String], docString: String) -> SourceInfo {
        var info = SourceInfo()
        let scopes = metadata["pkg.torch.onnx.name_scopes"].map(pythonStringList) ?? []
        let classes = metadata["pkg.torch.onnx.class_hierarchy"].map(pythonStringList) ?? []
        // Drop the node's own entry (an op, not a module).
        for (index, path) in scopes.dropLast().enumerated() {
            info.modules.append(SourceInfo.Module(path: path, type: index < classes.count ? classes[index] : ""))
        }
        let trace = metadata["pkg.torch.onnx.stack_trace"] ?? docString
        info.frames = PythonTraceback.frames(trace)
        return info
    }

    /// `['', 'a', "b'c"]` → ["", "a", "b'c"]: the repr of a Python list of strings.
    static func pythonStringList(_ text: String) -> [String] {
        var items: [String] = []
        var current: String?
        var quote: Character = "'"
        var escaped = false
        for character in text {
            if var item = current {
                if escaped {
                    item.append(character)
                    escaped = false
                    current = item
                } else if character == "\\" {
                    escaped = true
                } else if character == quote {
                    items.append(item)
                    current = nil
                } else {
                    item.append(character)
                    current = item
                }
            } else if character == "'" || character == "\"" {
                quote = character
                current = ""
            }
        }
        return items
    }
}
