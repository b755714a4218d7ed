import TensorlintIR

/// torch's *serializer* ScalarType numbering (`torch/_export/serde/schema.py`), which is not c10's.
enum TorchSerializedDType {
    /// The serializer code of a dtype (the inverse of `dtype(_:)`).
    static func code(_ dtype: DType) -> Int? {
        (0...64).first { self.dtype($0) == dtype }
    }

    static func dtype(_ code: Int) -> DType? {
        switch code {
        case 1: return .uint8
        case 2: return .int8
        case 3: return .int16
        case 4: return .int32
        case 5: return .int64
        case 6: return .float16
        case 7: return .float32
        case 8: return .float64
        case 9: return .complex32
        case 10: return .complex64
        case 11: return .complex128
        case 12: return .bool
        case 13: return .bfloat16
        case 28: return .uint16
        case 29: return .float8e4m3fn
        case 30: return .float8e5m2
        case 31: return .float8e4m3fnuz
        case 32: return .float8e5m2fnuz
        case 33: return .float8e8m0fnu
        case 34: return .uint32
        case 35: return .uint64
        default: return nil
        }
    }
}
