import TensorlintIR

/// `TensorProto.DataType` numbers (onnx.proto), in both directions, for the reader and the writer.
/// 4-bit, 2-bit and 6-bit types have no DType and read as unknown.
public enum ONNXDataType {
    public static let table: [(number: Int64, dtype: DType)] = [
        (1, .float32), (2, .uint8), (3, .int8), (4, .uint16), (5, .int16), (6, .int32), (7, .int64), (8, .string),
        (9, .bool), (10, .float16), (11, .float64), (12, .uint32), (13, .uint64), (14, .complex64), (15, .complex128),
        (16, .bfloat16), (17, .float8e4m3fn), (18, .float8e4m3fnuz), (19, .float8e5m2), (20, .float8e5m2fnuz),
        (24, .float8e8m0fnu),
    ]
    private static let dtypes = Dictionary(uniqueKeysWithValues: table.map { ($0.number, $0.dtype) })
    private static let numbers = Dictionary(uniqueKeysWithValues: table.map { ($0.dtype, $0.number) })

    public static func dtype(_ number: Int64) -> DType? { dtypes[number] }
    public static func number(_ dtype: DType) -> Int64? { numbers[dtype] }
}
