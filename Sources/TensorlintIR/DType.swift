/// Element type of a tensor, named as the formats' users know them.
/// Each reader maps its own numbering (torch's serializer enum, ONNX's DataType) onto this one.
public enum DType: String, Sendable, CaseIterable, Codable, Comparable {
    case bool
    case uint8, int8, int16, uint16, int32, uint32, int64, uint64
    case float16, bfloat16, float32, float64
    case complex32, complex64, complex128
    case float8e4m3fn, float8e5m2, float8e4m3fnuz, float8e5m2fnuz, float8e8m0fnu
    case string

    public var isFloatingPoint: Bool {
        switch self {
        case .float16, .bfloat16, .float32, .float64,
             .float8e4m3fn, .float8e5m2, .float8e4m3fnuz, .float8e5m2fnuz, .float8e8m0fnu:
            return true
        default:
            return false
        }
    }

    /// The short spelling that converters print (`fp16`, `fp32`, `int32`).
    public var shortName: String {
        switch self {
        case .float16: return "fp16"
        case .bfloat16: return "bf16"
        case .float32: return "fp32"
        case .float64: return "fp64"
        default: return rawValue
        }
    }

    public init?(name: String) {
        let aliases: [String: DType] = ["fp16": .float16, "half": .float16, "bf16": .bfloat16,
                                        "fp32": .float32, "float": .float32, "fp64": .float64, "double": .float64]
        if let dtype = DType(rawValue: name.lowercased()) ?? aliases[name.lowercased()] {
            self = dtype
        } else {
            return nil
        }
    }

    /// Whether every value of `other` is exactly a value of this type (float32 holds every fp16 and bf16
    /// value, fp16 and bf16 do not hold each other's). Only widening among the floating types, and no change,
    /// count; anything else may round.
    public func holdsEveryValue(of other: DType) -> Bool {
        switch (self, other) {
        case (.float32, .float16), (.float32, .bfloat16), (.float64, .float16), (.float64, .bfloat16), (.float64, .float32): return true
        default: return self == other
        }
    }

    public static func < (lhs: DType, rhs: DType) -> Bool { lhs.rawValue < rhs.rawValue }
}
