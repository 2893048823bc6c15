// Instruction-set levels and the one-time choice among them (CPU probe, EDGEBONE_ISA override).
import CEdgeboneKernels
#if canImport(Glibc)
import Glibc
#endif

/// A kernel instruction-set level, from the portable reference upwards.
public enum ISA: String, Sendable, CaseIterable, Comparable {
    case scalar, avx2, avx512vnni, avx512vbmi, neon, neondot

    var rank: Int { ISA.allCases.firstIndex(of: self)! }
    public static func < (a: ISA, b: ISA) -> Bool { a.rank < b.rank }

    /// The C kernel table's identifier for this level (EB_ISA_*).
    public var code: Int32 {
        switch self {
        case .scalar: return Int32(EB_ISA_SCALAR)
        case .avx2: return Int32(EB_ISA_AVX2)
        case .avx512vnni: return Int32(EB_ISA_AVX512VNNI)
        case .avx512vbmi: return Int32(EB_ISA_AVX512VBMI)
        case .neon: return Int32(EB_ISA_NEON)
        case .neondot: return Int32(EB_ISA_NEONDOT)
        }
    }

    /// Levels the running CPU can execute (the C probe and table decide, once).
    public static let supported: [ISA] = {
        let f = eb_cpu_features()
        return ISA.allCases.filter { eb_isa_supported($0.code, f) != 0 && eb_kernel_config_for($0.code) != nil }
    }()

    /// The best level this CPU runs.
    public static var best: ISA { ISA.allCases.first { $0.code == eb_best_isa(eb_cpu_features()) } ?? .scalar }

    /// The int8 kernel table of this level (function pointers and packing layouts).
    public var kernelConfig: UnsafePointer<eb_kernel_config> {
        guard let c = eb_kernel_config_for(code) else { preconditionFailure("no kernels for \(self) in this build") }
        return c
    }

    /// The level to use: `EDGEBONE_ISA` if set (it must be one this CPU runs), else the best.
    public static func fromEnvironment() throws -> ISA {
        guard let raw = getenv("EDGEBONE_ISA").map({ String(cString: $0) }), !raw.isEmpty else { return best }
        guard let isa = ISA(rawValue: raw.lowercased()) else {
            throw ISAError.unknown(raw)
        }
        guard supported.contains(isa) else { throw ISAError.unsupported(isa, supported) }
        return isa
    }
}

public enum ISAError: Error, CustomStringConvertible, Equatable {
    case unknown(String)
    case unsupported(ISA, [ISA])

    public var description: String {
        switch self {
        case let .unknown(s):
            return "EDGEBONE_ISA=\(s) is not a kernel level (one of: \(ISA.allCases.map(\.rawValue).joined(separator: ", ")))"
        case let .unsupported(isa, have):
            return "EDGEBONE_ISA=\(isa.rawValue): this CPU lacks it (it runs: \(have.map(\.rawValue).joined(separator: ", ")))"
        }
    }
}

/// The float helper kernels chosen for one ISA level.
public struct FloatKernels: Sendable {
    public let isa: ISA
    public let dwconv: eb_f32_dwconv_fn
    public let biasAct: eb_f32_bias_act_fn
    public let squeezeExcite: eb_f32_squeeze_excite_fn
    public let convHWIO: eb_f32_conv_hwio_fn
    public let layerNorm: eb_f32_layernorm_fn
    public let layerNorm8: eb_qs8_layernorm_fn
    public let gelu: eb_f32_gelu_fn
    public let attention: eb_f32_window_attention_fn
    /// Whether `attention`, given int8 input, reads only the int8 values (its float qkv may then be NULL).
    public let attentionInt8Only: eb_f32_window_attention_int8_only_fn
    public let quantize: eb_f32_qs8_quantize_fn
    public let dequantize: eb_qs8_f32_dequantize_fn

    public init(isa: ISA) {
        self.isa = isa
        #if arch(x86_64)
        let f = eb_cpu_features()
        if isa >= .avx512vnni && f & UInt32(EB_CPU_X86_AVX512F) != 0 {
            dwconv = eb_f32_dwconv_ukernel__avx512f
            biasAct = eb_f32_bias_act_ukernel__avx512f
            squeezeExcite = eb_f32_squeeze_excite_ukernel__avx512f
            convHWIO = eb_f32_conv_hwio_ukernel__avx512f
            layerNorm = eb_f32_layernorm_ukernel__avx512f
            layerNorm8 = eb_qs8_layernorm_ukernel__avx512f
            gelu = eb_f32_gelu_ukernel__avx512f
            attention = eb_f32_window_attention_ukernel__avx512f
            attentionInt8Only = eb_f32_window_attention_int8_only__avx512f
            quantize = eb_f32_qs8_quantize_ukernel__avx512f
            dequantize = eb_qs8_f32_dequantize_ukernel__avx512f
            return
        }
        if isa >= .avx2 && isa <= .avx512vbmi {
            dwconv = eb_f32_dwconv_ukernel__avx2
            biasAct = eb_f32_bias_act_ukernel__avx2
            squeezeExcite = eb_f32_squeeze_excite_ukernel__avx2
            convHWIO = eb_f32_conv_hwio_ukernel__avx2
            layerNorm = eb_f32_layernorm_ukernel__avx2
            layerNorm8 = eb_qs8_layernorm_ukernel__avx2
            gelu = eb_f32_gelu_ukernel__avx2
            attention = eb_f32_window_attention_ukernel__avx2
            attentionInt8Only = eb_f32_window_attention_int8_only__avx2
            quantize = eb_f32_qs8_quantize_ukernel__avx2
            dequantize = eb_qs8_f32_dequantize_ukernel__avx2
            return
        }
        #elseif arch(arm64)
        if isa >= .neon {
            dwconv = eb_f32_dwconv_ukernel__neon
            biasAct = eb_f32_bias_act_ukernel__neon
            squeezeExcite = eb_f32_squeeze_excite_ukernel__neon
            convHWIO = eb_f32_conv_hwio_ukernel__neon
            layerNorm = eb_f32_layernorm_ukernel__neon
            gelu = eb_f32_gelu_ukernel__neon
            // With the dot product (Pi 5), the attention's int8 forms take every sum from the int8 values, and
            // the int8 LayerNorm its row sums.
            let dot = isa >= .neondot
            layerNorm8 = dot ? eb_qs8_layernorm_ukernel__neondot : eb_qs8_layernorm_ukernel__neon
            attention = dot ? eb_f32_window_attention_ukernel__neondot : eb_f32_window_attention_ukernel__neon
            attentionInt8Only = dot ? eb_f32_window_attention_int8_only__neondot : eb_f32_window_attention_int8_only__neon
            quantize = eb_f32_qs8_quantize_ukernel__neon
            dequantize = eb_qs8_f32_dequantize_ukernel__neon
            return
        }
        #endif
        dwconv = eb_f32_dwconv_ukernel__scalar
        biasAct = eb_f32_bias_act_ukernel__scalar
        squeezeExcite = eb_f32_squeeze_excite_ukernel__scalar
        convHWIO = eb_f32_conv_hwio_ukernel__scalar
        layerNorm = eb_f32_layernorm_ukernel__scalar
        layerNorm8 = eb_qs8_layernorm_ukernel__scalar
        gelu = eb_f32_gelu_ukernel__scalar
        attention = eb_f32_window_attention_ukernel__scalar
        attentionInt8Only = eb_f32_window_attention_int8_only__scalar
        quantize = eb_f32_qs8_quantize_ukernel__scalar
        dequantize = eb_qs8_f32_dequantize_ukernel__scalar
    }
}
