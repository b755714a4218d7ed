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
}
