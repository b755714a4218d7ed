import TensorlintIR

/// A bounds-checked cursor over protobuf wire format (varint, I64, LEN, I32). Length-delimited fields are
/// returned as byte ranges into the mapped file, so skipping a tensor's `raw_data` costs nothing.
struct WireReader {
    enum WireType: Int {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, startGroup = 3, endGroup = 4, fixed32 = 5
    }

    struct Field {
        var number: Int
        var wireType: WireType
    }

    let bytes: UnsafeRawBufferPointer
    private(set) var position: Int
    let end: Int
    /// The message being read, for error messages (`GraphProto`).
    let message: String

    init(_ bytes: UnsafeRawBufferPointer, range: Range<Int>, message: String) {
        self.bytes = bytes
        self.position = range.lowerBound
        self.end = range.upperBound
        self.message = message
    }

    var isAtEnd: Bool { position >= end }

    func damaged(_ what: String) -> ReadError {
        .malformed("\(what) in \(message) at byte \(position)")
    }

    mutating func nextField() throws(ReadError) -> Field? {
        guard position < end else { return nil }
        let key = try varint()
        let number = key >> 3
        guard number > 0, number < (1 << 29) else { throw damaged("invalid field number \(number)") }
        guard let wireType = WireType(rawValue: Int(key & 7)), wireType != .startGroup, wireType != .endGroup else {
            throw damaged("unsupported wire type \(key & 7) for field \(number)")
        }
        return Field(number: Int(number), wireType: wireType)
    }

    mutating func varint() throws(ReadError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw damaged("truncated varint") }
            let byte = bytes[position]
            position += 1
            guard shift < 64 else { throw damaged("varint longer than 10 bytes") }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    mutating func fixed32() throws(ReadError) -> UInt32 { try littleEndian(UInt32.self) }

    mutating func fixed64() throws(ReadError) -> UInt64 { try littleEndian(UInt64.self) }

    private mutating func littleEndian<Integer: FixedWidthInteger & UnsignedInteger>(_: Integer.Type) throws(ReadError) -> Integer {
        let size = Integer.bitWidth / 8
        guard end - position >= size else { throw damaged("truncated \(size)-byte field") }
        var value: Integer = 0
        for offset in 0..<size { value |= Integer(bytes[position + offset]) << (8 * offset) }
        position += size
        return value
    }

    /// The byte range of a length-delimited field, checked against the enclosing message.
    mutating func lengthDelimited() throws(ReadError) -> Range<Int> {
        let length = try varint()
        guard length <= UInt64(end - position) else {
            throw damaged("length \(length) runs past the end of the enclosing message (\(end - position) bytes left)")
        }
        let range = position..<(position + Int(length))
        position = range.upperBound
        return range
    }

    mutating func skip(_ wireType: WireType) throws(ReadError) {
        switch wireType {
        case .varint: _ = try varint()
        case .fixed64: _ = try fixed64()
        case .fixed32: _ = try fixed32()
        case .lengthDelimited: _ = try lengthDelimited()
        case .startGroup, .endGroup: throw damaged("groups are not used by ONNX")
        }
    }

    func string(_ range: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    func reader(_ range: Range<Int>, message: String) -> WireReader {
        WireReader(bytes, range: range, message: message)
    }

    // MARK: typed field access, checking the wire type the schema expects

    mutating func expect(_ field: Field, _ wireType: WireType) throws(ReadError) {
        guard field.wireType == wireType else {
            throw damaged("field \(field.number) has wire type \(field.wireType.rawValue), expected \(wireType.rawValue)")
        }
    }

    mutating func int(_ field: Field) throws(ReadError) -> Int64 {
        try expect(field, .varint)
        return Int64(bitPattern: try varint())
    }

    mutating func string(_ field: Field) throws(ReadError) -> String {
        try expect(field, .lengthDelimited)
        return string(try lengthDelimited())
    }

    mutating func message(_ field: Field, _ name: String) throws(ReadError) -> WireReader {
        try expect(field, .lengthDelimited)
        return reader(try lengthDelimited(), message: name)
    }

    /// A repeated integer field, packed (LEN) or one value per field (varint).
    mutating func ints(_ field: Field, into values: inout [Int64]) throws(ReadError) {
        switch field.wireType {
        case .varint:
            values.append(Int64(bitPattern: try varint()))
        case .lengthDelimited:
            var packed = reader(try lengthDelimited(), message: message)
            while !packed.isAtEnd { values.append(Int64(bitPattern: try packed.varint())) }
        default:
            throw damaged("field \(field.number) has wire type \(field.wireType.rawValue), expected a varint or packed varints")
        }
    }

    /// A repeated float field, packed (LEN) or one value per field (I32).
    mutating func floats(_ field: Field, into values: inout [Double]) throws(ReadError) {
        switch field.wireType {
        case .fixed32:
            values.append(Double(Float(bitPattern: try fixed32())))
        case .lengthDelimited:
            var packed = reader(try lengthDelimited(), message: message)
            while !packed.isAtEnd { values.append(Double(Float(bitPattern: try packed.fixed32()))) }
        default:
            throw damaged("field \(field.number) has wire type \(field.wireType.rawValue), expected a float or packed floats")
        }
    }
}
