// Element types of safetensors tensors that Edgebone reads or writes.

/// A safetensors dtype. Only the ones Edgebone reads or writes; others are rejected by name.
public enum DType: String, Sendable, CaseIterable {
    case f32 = "F32"
    case f16 = "F16"
    case bf16 = "BF16"
    case i64 = "I64"
    case i32 = "I32"
    case i16 = "I16"
    case i8 = "I8"
    case u8 = "U8"
    case bool = "BOOL"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .f32, .i32: return 4
        case .f16, .bf16, .i16: return 2
        case .i64: return 8
        case .i8, .u8, .bool: return 1
        }
    }
}
