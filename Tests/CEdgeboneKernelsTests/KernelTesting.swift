// Shared pieces of the kernel testers: the naive requantization, ISA levels this host runs, and a
// deterministic generator so that a failure can be reproduced.
import CEdgeboneKernels

/// The requantization of eb_qs8.h, written independently in Swift.
func requantize(_ acc: Int32, scale: Float, zeroPoint: Int32, qmin: Int32, qmax: Int32, lut: [Int8]?) -> Int8 {
    var v = Float(acc) * scale
    v = max(v, Float(qmin - zeroPoint))
    v = min(v, Float(qmax - zeroPoint))
    let q = Int32(v.rounded(.toNearestOrEven)) + zeroPoint
    if let lut { return lut[Int(q - qmin)] }
    return Int8(q)
}

/// Kernel tables this host can execute, scalar first.
var hostConfigs: [eb_kernel_config] {
    let f = eb_cpu_features()
    return [EB_ISA_SCALAR, EB_ISA_AVX2, EB_ISA_AVX512VNNI, EB_ISA_NEON, EB_ISA_NEONDOT].compactMap { isa in
        guard eb_isa_supported(Int32(isa), f) != 0, let c = eb_kernel_config_for(Int32(isa)) else { return nil }
        return c.pointee
    }
}

extension eb_kernel_config {
    var isaName: String { String(cString: name) }
}

struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
