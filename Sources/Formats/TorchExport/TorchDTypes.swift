import TensorlintIR

/// torch's *serializer* ScalarType numbering (`torch/_export/serde/schema.py`), which is not c10's, in
/// both directions.
enum TorchSerializedDType {
    static let table: [(code: Int, dtype: DType)] = [
        (1, .uint8), (2, .int8), (3, .int16), (4, .int32), (5, .int64), (6, .float16), (7, .float32), (8, .float64),
        (9, .complex32), (10, .complex64), (11, .complex128), (12, .bool), (13, .bfloat16), (28, .uint16),
        (29, .float8e4m3fn), (30, .float8e5m2), (31, .float8e4m3fnuz), (32, .float8e5m2fnuz), (33, .float8e8m0fnu),
        (34, .uint32), (35, .uint64),
    ]
    private static let dtypes = Dictionary(uniqueKeysWithValues: table.map { ($0.code, $0.dtype) })
    private static let codes = Dictionary(uniqueKeysWithValues: table.map { ($0.dtype, $0.code) })

    static func dtype(_ code: Int) -> DType? { dtypes[code] }
    static func code(_ dtype: DType) -> Int? { codes[dtype] }
}
