import Foundation

/// The 16-bit floating types' bit layouts, for the writers that convert weights (reading them as float32 is exact).
public enum HalfPrecision {
    /// An fp16 or bf16 element's bits as a float32.
    public static func float(bits: UInt16, as dtype: DType) -> Float {
        dtype == .bfloat16 ? Float(bitPattern: UInt32(bits) << 16) : Float(Float16(bitPattern: bits))
    }

    /// float32 → bfloat16 bits, rounding to nearest even (NaN kept quiet).
    public static func bfloat16Bits(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(bits >> 16) | 0x40 }
        let rounding = ((bits >> 16) & 1) + 0x7FFF
        return UInt16((bits &+ rounding) >> 16)
    }

    /// fp16 or bf16 little-endian elements widened to float32 (exact); `nil` for an odd number of bytes.
    public static func widenedToFloat32(_ payload: Data, from dtype: DType) -> Data? {
        guard payload.count % 2 == 0 else { return nil }
        var out = Data(capacity: payload.count * 2)
        payload.withUnsafeBytes { bytes in
            for offset in stride(from: 0, to: bytes.count - 1, by: 2) {
                let bits = UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
                withUnsafeBytes(of: float(bits: bits, as: dtype).bitPattern.littleEndian) { out.append(contentsOf: $0) }
            }
        }
        return out
    }
}
