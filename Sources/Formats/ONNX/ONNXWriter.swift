#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TensorlintIR

/// Writes an edited copy of an ONNX model. Every field an edit does not touch is copied byte for byte
/// from the memory-mapped original (tensor payloads are streamed, never decoded); only the messages on
/// the path to an edit are re-encoded, with their lengths recomputed. New nodes go right before or after
/// the node they serve, so the graph stays topologically sorted; new values get names unused in the model.
public struct ONNXWriter: ModelWriter {

    public static func supports(_ edit: ModelEdit, in model: Model) -> Bool {
        switch edit {
        case .convertModel, .replaceNode:
            return false
        case .convertWeight(let graph, let name, let dtype):
            guard graph < model.graphs.count, let value = model.graphs[graph].values[name], let from = value.dtype else { return false }
            return value.role.isWeight && value.external == nil && !value.isSparse
                && WeightConversion.supports(from) && WeightConversion.supports(dtype)
        default:
            return true
        }
    }

    public static func write(_ edits: [ModelEdit], model: Model, from source: String, to destination: String) throws(WriteError) -> [String] {
        let (pieces, summary, _) = try rewrite(edits, model: model, from: source)
        try Self.write(pieces, from: source, to: destination)
        return summary
    }

    /// One parse of the file serves every set of edits: a large model with many findings is read once.
    public static func replacements(_ editSets: [[ModelEdit]], model: Model, from source: String) -> [[ByteReplacement]?] {
        guard let (file, graphRanges) = try? parse(source) else { return editSets.map { _ in nil } }
        return editSets.map { edits in
            var rewriter = Rewriter(bytes: file.bytes, graphRanges: graphRanges, model: model)
            guard (try? rewriter.plan(Array(Set(edits)))) != nil, let pieces = try? rewriter.rewriteModel() else { return nil }
            return byteReplacements(pieces, size: file.bytes.count)
        }
    }

    /// The pieces as replacements of the original's bytes: each run of new bytes, with the original span it stands for.
    private static func byteReplacements(_ pieces: [Piece], size: Int) -> [ByteReplacement] {
        var replacements: [ByteReplacement] = []
        var cursor = 0
        var inserted: [UInt8] = []
        func flush(upTo end: Int) {
            if end > cursor || !inserted.isEmpty { replacements.append(ByteReplacement(offset: cursor, length: end - cursor, inserted: inserted)) }
            inserted = []
        }
        for piece in pieces {
            switch piece {
            case .original(let range):
                guard !range.isEmpty else { continue }
                flush(upTo: range.lowerBound)
                cursor = range.upperBound
            case .new(let bytes):
                inserted += bytes
            }
        }
        flush(upTo: size)
        return replacements
    }

    private static func parse(_ source: String) throws(WriteError) -> (MappedFile, [Range<Int>]) {
        do {
            let file = try MappedFile(path: source)
            var parser = ModelParser(bytes: file.bytes, modelFolder: "")
            _ = try parser.parseModel(path: source)
            return (file, parser.graphRanges)
        } catch {
            throw WriteError("cannot read \(source) again: \(error)")
        }
    }

    /// The edited file as pieces, the summary of the changes and the original's size.
    private static func rewrite(_ edits: [ModelEdit], model: Model, from source: String) throws(WriteError) -> ([Piece], [String], Int) {
        let (file, graphRanges) = try parse(source)
        var rewriter = Rewriter(bytes: file.bytes, graphRanges: graphRanges, model: model)
        try rewriter.plan(Array(Set(edits)))
        return (try rewriter.rewriteModel(), rewriter.summary, file.bytes.count)
    }

    /// Streams the pieces to the destination; spans of the original are read with `pread` through a small
    /// buffer rather than from the mapping, so copying a 1 GB model does not map 1 GB into the process.
    private static func write(_ pieces: [Piece], from source: String, to path: String) throws(WriteError) {
        let input = open(source, O_RDONLY)
        guard input >= 0 else { throw WriteError("cannot read \(source): \(String(cString: strerror(errno)))") }
        defer { close(input) }
        // A new file only (never through a link), flushed to disk before anyone renames it into place.
        let descriptor = open(path, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, 0o644)
        guard descriptor >= 0, let stream = fdopen(descriptor, "wb") else {
            throw WriteError("cannot create \(path): \(String(cString: strerror(errno)))")
        }
        var buffer = [UInt8](repeating: 0, count: 1 << 22)
        /// The cause of the first failure, read from `errno` when it happens.
        var failure: String?
        func fail(_ what: String) { failure = failure ?? "\(what): \(String(cString: strerror(errno)))" }
        for piece in pieces where failure == nil {
            switch piece {
            case .original(let range):
                var offset = range.lowerBound
                while offset < range.upperBound, failure == nil {
                    let count = buffer.withUnsafeMutableBytes { pread(input, $0.baseAddress, min($0.count, range.upperBound - offset), off_t(offset)) }
                    if count <= 0 {
                        failure = count == 0 ? "\(source) ended early" : nil
                        fail("cannot read \(source)")
                    } else if buffer.withUnsafeBytes({ fwrite($0.baseAddress, 1, count, stream) }) != count {
                        fail("cannot write \(path)")
                    }
                    offset += max(count, 0)
                }
            case .new(let data):
                if data.withUnsafeBytes({ fwrite($0.baseAddress, 1, data.count, stream) }) != data.count { fail("cannot write \(path)") }
            }
        }
        if failure == nil, fflush(stream) != 0 || fsync(fileno(stream)) != 0 { fail("cannot flush \(path)") }
        if fclose(stream) != 0 { fail("cannot close \(path)") }
        if let failure { throw WriteError(failure) }
    }
}

/// Output as a list of spans of the original file and new bytes.
enum Piece {
    case original(Range<Int>)
    case new([UInt8])

    var count: Int {
        switch self {
        case .original(let range): return range.count
        case .new(let bytes): return bytes.count
        }
    }
}

/// Protobuf encoding of the few things the writer creates.
enum Encode {
    static func varint(_ value: UInt64) -> [UInt8] {
        var value = value, out: [UInt8] = []
        while value >= 0x80 {
            out.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        out.append(UInt8(value))
        return out
    }

    static func key(_ field: Int, _ wireType: WireReader.WireType) -> [UInt8] { varint(UInt64(field << 3 | wireType.rawValue)) }
    static func int(_ field: Int, _ value: Int64) -> [UInt8] { key(field, .varint) + varint(UInt64(bitPattern: value)) }
    static func bytes(_ field: Int, _ data: [UInt8]) -> [UInt8] { key(field, .lengthDelimited) + varint(UInt64(data.count)) + data }
    static func string(_ field: Int, _ text: String) -> [UInt8] { bytes(field, Array(text.utf8)) }

    /// `key + length` for a message made of pieces.
    static func header(_ field: Int, length: Int) -> [UInt8] { key(field, .lengthDelimited) + varint(UInt64(length)) }

    /// NodeProto `Cast(input) -> output` with `to` set.
    static func cast(_ input: String, _ output: String, name: String, to dataType: Int64) -> [UInt8] {
        typealias Attribute = ONNXField.Attribute
        typealias Node = ONNXField.Node
        let attribute = string(Attribute.name, "to") + int(Attribute.type, ONNXField.AttributeType.int) + int(Attribute.i, dataType)
        return string(Node.input, input) + string(Node.output, output) + string(Node.name, name) + string(Node.opType, "Cast")
            + bytes(Node.attribute, attribute)
    }
}

/// The edits of one run, sorted by graph, and the re-encoding of the messages they touch.
struct Rewriter {
    let bytes: UnsafeRawBufferPointer
    let graphRanges: [Range<Int>]
    let model: Model
    private(set) var summary: [String] = []

    /// Per graph: what happens around each node, which weights are converted, which declarations change.
    struct NodePlan {
        var renamedInputs: [Int: String] = [:]
        var renamedOutputs: [Int: String] = [:]
        var before: [[UInt8]] = []
        var after: [[UInt8]] = []
    }

    struct GraphPlan {
        var nodes: [Int: NodePlan] = [:]
        var weights: [String: DType] = [:]
        var declarations: [String: DType] = [:]
    }

    private var plans: [Int: GraphPlan] = [:]
    private var names = UniqueNames()

    init(bytes: UnsafeRawBufferPointer, graphRanges: [Range<Int>], model: Model) {
        self.bytes = bytes
        self.graphRanges = graphRanges
        self.model = model
        for graph in model.graphs {
            names.reserve(graph.values.keys)
            for node in graph.nodes {
                names.reserve(node.outputs.compactMap { $0 } + node.inputs.flatMap(\.argument.tensorNames) + [node.name])
            }
        }
    }

    private mutating func freshName(_ base: String) -> String { names.make(base) }

    mutating func plan(_ edits: [ModelEdit]) throws(WriteError) {
        for edit in edits.sorted() {
            guard edit.graph < model.graphs.count, edit.graph < graphRanges.count else { throw WriteError("edit for a graph the model does not have: \(edit)") }
            let graph = model.graphs[edit.graph]
            var plan = plans[edit.graph, default: GraphPlan()]
            switch edit {
            case .convertWeight(_, let name, let dtype):
                guard ONNXWriter.supports(edit, in: model), let from = graph.values[name]?.dtype else {
                    throw WriteError("cannot convert weight `\(name)` to \(dtype.rawValue)")
                }
                plan.weights[name] = dtype
                // A value_info or graph input naming the initializer follows it (onnx's checker compares them).
                plan.declarations[name] = dtype
                summary.append("converted initializer `\(name)` from \(from.rawValue) to \(dtype.rawValue)")
            case .redeclare(_, let name, let dtype):
                guard graph.values[name]?.declaredDType != nil else { throw WriteError("`\(name)` has no declaration to change") }
                plan.declarations[name] = dtype
                summary.append("declared `\(name)` as \(dtype.rawValue)")
            case .castInput(_, let index, let input, let dtype):
                guard index < graph.nodes.count, input < graph.nodes[index].inputs.count,
                      case .tensor(let value) = graph.nodes[index].inputs[input].argument else {
                    throw WriteError("no input \(input) on node #\(index) to cast")
                }
                let node = graph.nodes[index]
                let cast = freshName("\(value)_as_\(dtype.shortName)")
                plan.nodes[index, default: NodePlan()].renamedInputs[input] = cast
                plan.nodes[index, default: NodePlan()].before.append(
                    Encode.cast(value, cast, name: freshName("tensorlint_cast_\(cast)"), to: try dataType(dtype)))
                summary.append("inserted Cast(to=\(dtype.rawValue)) on `\(value)` before `\(node.op.description)` node `\(node.name)`")
            case .castOutput(_, let index, let output, let dtype):
                guard index < graph.nodes.count, output < graph.nodes[index].outputs.count,
                      let value = graph.nodes[index].outputs[output] else {
                    throw WriteError("no output \(output) on node #\(index) to cast")
                }
                let node = graph.nodes[index]
                guard plan.nodes[index]?.renamedOutputs[output] == nil else { throw WriteError("output \(output) of node #\(index) is cast twice") }
                let computed = freshName("\(value)_computed")
                plan.nodes[index, default: NodePlan()].renamedOutputs[output] = computed
                plan.nodes[index, default: NodePlan()].after.append(
                    Encode.cast(computed, value, name: freshName("tensorlint_cast_\(value)"), to: try dataType(dtype)))
                summary.append("inserted Cast(to=\(dtype.rawValue)) on output `\(value)` of `\(node.op.description)` node `\(node.name)`")
            case .convertModel, .replaceNode:
                throw WriteError("converting a whole ONNX model or replacing its nodes is not supported")
            }
            plans[edit.graph] = plan
        }
    }

    private func dataType(_ dtype: DType) throws(WriteError) -> Int64 {
        guard let number = ONNXDataType.number(dtype) else { throw WriteError("ONNX has no element type for \(dtype.rawValue)") }
        return number
    }

    // MARK: rewriting

    /// The graphs whose messages contain an edited graph (or are one): only these are re-encoded.
    private func touches(_ range: Range<Int>) -> Bool {
        plans.keys.contains { range.lowerBound <= graphRanges[$0].lowerBound && graphRanges[$0].upperBound <= range.upperBound }
    }

    func rewriteModel() throws(WriteError) -> [Piece] {
        try rewrite(0..<bytes.count, message: "ModelProto") { field, content, rewriter throws(WriteError) in
            guard field == ONNXField.Model.graph || field == ONNXField.Model.functions, rewriter.touches(content) else { return nil }
            return try rewriter.rewriteGraph(content, isFunction: field == ONNXField.Model.functions)
        }
    }

    private func graphIndex(_ range: Range<Int>) -> Int? { graphRanges.firstIndex(of: range) }

    private func rewriteGraph(_ range: Range<Int>, isFunction: Bool) throws(WriteError) -> [Piece] {
        let plan = graphIndex(range).flatMap { plans[$0] } ?? GraphPlan()
        var nodeIndex = 0
        let nodeField = isFunction ? ONNXField.Function.node : ONNXField.Graph.node
        return try rewrite(range, message: isFunction ? "FunctionProto" : "GraphProto", around: { field, content, rewriter throws(WriteError) in
            guard field == nodeField else { return nil }
            defer { nodeIndex += 1 }
            let nodePlan = plan.nodes[nodeIndex]
            guard nodePlan != nil || rewriter.touches(content) else { return nil }
            let node = try rewriter.rewriteNode(content, plan: nodePlan ?? NodePlan())
            let length = node.reduce(0) { $0 + $1.count }
            let before = (nodePlan?.before ?? []).map { Piece.new(Encode.bytes(nodeField, $0)) }
            let after = (nodePlan?.after ?? []).map { Piece.new(Encode.bytes(nodeField, $0)) }
            return before + [.new(Encode.header(nodeField, length: length))] + node + after
        }) { field, content, rewriter throws(WriteError) in
            switch field {
            case ONNXField.Graph.initializer where !isFunction:
                let header = try rewriter.tensorHeader(content)
                guard let dtype = plan.weights[header.name] else { return nil }
                return [.new(try WeightConversion.convert(rewriter.bytes, tensor: content, header: header, to: dtype))]
            case ONNXField.Graph.input, ONNXField.Graph.output, ONNXField.Graph.valueInfo:
                guard !isFunction, let (name, _, _) = try? ModelParser.valueInfo(WireReader(rewriter.bytes, range: content, message: "ValueInfoProto")),
                      let dtype = plan.declarations[name] else { return nil }
                return try rewriter.redeclare(content, to: dtype)
            default:
                return nil
            }
        }
    }

    private func rewriteNode(_ range: Range<Int>, plan: NodePlan) throws(WriteError) -> [Piece] {
        var inputIndex = 0, outputIndex = 0
        return try rewrite(range, message: "NodeProto", around: { _, _, _ in nil }) { field, content, rewriter throws(WriteError) in
            switch field {
            case ONNXField.Node.input:
                defer { inputIndex += 1 }
                return plan.renamedInputs[inputIndex].map { [.new(Array($0.utf8))] }
            case ONNXField.Node.output:
                defer { outputIndex += 1 }
                return plan.renamedOutputs[outputIndex].map { [.new(Array($0.utf8))] }
            case ONNXField.Node.attribute:
                guard rewriter.touches(content) else { return nil }
                return try rewriter.rewrite(content, message: "AttributeProto") { field, body, rewriter throws(WriteError) in
                    guard field == ONNXField.Attribute.g || field == ONNXField.Attribute.graphs, rewriter.touches(body) else { return nil }
                    return try rewriter.rewriteGraph(body, isFunction: false)
                }
            default:
                return nil
            }
        }
    }

    private func redeclare(_ range: Range<Int>, to dtype: DType) throws(WriteError) -> [Piece] {
        let number = try dataType(dtype)
        return try rewrite(range, message: "ValueInfoProto") { field, type, rewriter throws(WriteError) in
            guard field == ONNXField.ValueInfo.type else { return nil }
            return try rewriter.rewrite(type, message: "TypeProto") { field, tensor, rewriter throws(WriteError) in
                guard field == ONNXField.TypeProto.tensorType || field == ONNXField.TypeProto.sparseTensorType else { return nil }
                return try rewriter.rewrite(tensor, message: "TypeProto.Tensor", around: { field, _, _ in
                    field == ONNXField.TypeProtoTensor.elemType ? [.new(Encode.int(ONNXField.TypeProtoTensor.elemType, number))] : nil
                }) { _, _, _ in nil }
            }
        }
    }

    private func tensorHeader(_ range: Range<Int>) throws(WriteError) -> ModelParser.TensorHeader {
        do {
            return try ModelParser.tensorHeader(WireReader(bytes, range: range, message: "TensorProto"))
        } catch {
            throw WriteError("\(error)")
        }
    }

    /// Copies a message field by field. `replaceContent` may give new content for a length-delimited field
    /// (re-wrapped with its key and new length); `around` may replace a whole field of any wire type, key
    /// included (its `content` is the field's value bytes).
    typealias FieldRewrite = (_ field: Int, _ content: Range<Int>, _ rewriter: Rewriter) throws(WriteError) -> [Piece]?

    private func rewrite(_ range: Range<Int>, message: String, around: FieldRewrite = { _, _, _ in nil },
                         replaceContent: FieldRewrite) throws(WriteError) -> [Piece] {
        var reader = WireReader(bytes, range: range, message: message)
        var pieces: [Piece] = []
        var copyStart = range.lowerBound
        while true {
            let fieldStart = reader.position
            let content: Range<Int>
            let number: Int
            let isMessage: Bool
            do {
                guard let field = try reader.nextField() else { break }
                number = field.number
                isMessage = field.wireType == .lengthDelimited
                if isMessage {
                    content = try reader.lengthDelimited()
                } else {
                    let valueStart = reader.position
                    try reader.skip(field.wireType)
                    content = valueStart..<reader.position
                }
            } catch {
                throw WriteError("\(error)")
            }
            let replacement: [Piece]?
            if let whole = try around(number, content, self) {
                replacement = whole
            } else if isMessage, let inner = try replaceContent(number, content, self) {
                replacement = [.new(Encode.header(number, length: inner.reduce(0) { $0 + $1.count }))] + inner
            } else {
                replacement = nil
            }
            guard let replacement else { continue }
            pieces.append(.original(copyStart..<fieldStart))
            pieces += replacement
            copyStart = content.upperBound
        }
        pieces.append(.original(copyStart..<range.upperBound))
        return pieces
    }
}



/// Converts a floating-point initializer to another floating-point type: the one place a tensor payload
/// is decoded. Upcasts (fp16/bf16 → fp32) are exact; downcasts round to nearest even.
enum WeightConversion {
    static func supports(_ dtype: DType) -> Bool { [.float16, .bfloat16, .float32, .float64].contains(dtype) }

    /// The TensorProto re-encoded: same fields, `data_type` changed, elements in `raw_data`.
    static func convert(_ bytes: UnsafeRawBufferPointer, tensor range: Range<Int>, header: ModelParser.TensorHeader,
                        to dtype: DType) throws(WriteError) -> [UInt8] {
        guard let from = header.dtype, supports(from), supports(dtype), let number = ONNXDataType.number(dtype) else {
            throw WriteError("cannot convert initializer `\(header.name)`")
        }
        var reader = WireReader(bytes, range: range, message: "TensorProto")
        var kept: [UInt8] = []
        var values: [Double] = []
        do {
            while true {
                let start = reader.position
                guard let field = try reader.nextField() else { break }
                switch field.number {
                case ONNXField.Tensor.dataType:
                    _ = try reader.int(field)
                case ONNXField.Tensor.rawData:
                    try reader.expect(field, .lengthDelimited)
                    values += decode(UnsafeRawBufferPointer(rebasing: bytes[try reader.lengthDelimited()]), as: from)
                case ONNXField.Tensor.floatData:
                    var floats: [Double] = []
                    try reader.floats(field, into: &floats)
                    values += floats
                case ONNXField.Tensor.int32Data where from == .float16 || from == .bfloat16:
                    var ints: [Int64] = []
                    try reader.ints(field, into: &ints)
                    values += ints.map { widen(UInt16(truncatingIfNeeded: $0), from) }
                case ONNXField.Tensor.doubleData:
                    try reader.expect(field, .lengthDelimited)
                    let payload = UnsafeRawBufferPointer(rebasing: bytes[try reader.lengthDelimited()])
                    values += decode(payload, as: .float64)
                default:
                    try reader.skip(field.wireType)
                    kept += bytes[start..<reader.position]
                }
            }
        } catch {
            throw WriteError("initializer `\(header.name)`: \(error)")
        }
        let (expected, overflow) = header.dims.reduce((1, false)) { total, size in
            let (product, overflow) = total.0.multipliedReportingOverflow(by: Int(size))
            return (product, total.1 || overflow || size < 0)
        }
        guard !overflow, values.count == expected else {
            throw WriteError("initializer `\(header.name)` holds \(values.count) elements, its dims say \(expected)")
        }
        return kept + Encode.int(ONNXField.Tensor.dataType, number) + Encode.bytes(ONNXField.Tensor.rawData, encode(values, as: dtype))
    }

    private static func widen(_ bits: UInt16, _ dtype: DType) -> Double { Double(HalfPrecision.float(bits: bits, as: dtype)) }

    private static func decode(_ payload: UnsafeRawBufferPointer, as dtype: DType) -> [Double] {
        switch dtype {
        case .float16, .bfloat16:
            return stride(from: 0, to: payload.count - 1, by: 2).map {
                widen(UInt16(payload[$0]) | UInt16(payload[$0 + 1]) << 8, dtype)
            }
        case .float32:
            return stride(from: 0, to: payload.count - 3, by: 4).map { offset in
                var bits: UInt32 = 0
                for byte in 0..<4 { bits |= UInt32(payload[offset + byte]) << (8 * byte) }
                return Double(Float(bitPattern: bits))
            }
        default:
            return stride(from: 0, to: payload.count - 7, by: 8).map { offset in
                var bits: UInt64 = 0
                for byte in 0..<8 { bits |= UInt64(payload[offset + byte]) << (8 * byte) }
                return Double(bitPattern: bits)
            }
        }
    }

    private static func encode(_ values: [Double], as dtype: DType) -> [UInt8] {
        var out: [UInt8] = []
        func append<Integer: FixedWidthInteger>(_ bits: Integer) {
            for byte in 0..<(Integer.bitWidth / 8) { out.append(UInt8(truncatingIfNeeded: bits >> (8 * byte))) }
        }
        for value in values {
            switch dtype {
            case .float16: append(Float16(value).bitPattern)
            case .bfloat16: append(HalfPrecision.bfloat16Bits(Float(value)))
            case .float32: append(Float(value).bitPattern)
            default: append(value.bitPattern)
            }
        }
        return out
    }
}
