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

/// Shift requantization (eb_qs8.h), written independently: q = floor(acc / 2^e), clamped, zero point.
func requantize(_ acc: Int32, shift e: Int32, zeroPoint: Int32, qmin: Int32, qmax: Int32, lut: [Int8]?) -> Int8 {
    let floor = Int32((Double(acc) / Double(1 << Int(e))).rounded(.down))
    let q = min(max(floor, qmin - zeroPoint), qmax - zeroPoint) + zeroPoint
    if let lut { return lut[Int(q - qmin)] }
    return Int8(q)
}

/// The shift counts standing for scales (2^-e nearest each, within 0...30) and the slots that hold them
/// for the packers (the counts' bits where fp32 scales would be).
func shiftCounts(_ scales: [Float]) -> (counts: [Int32], slots: [Float]) {
    let counts = scales.map { Int32(min(30, max(0, -(Double($0) * 2.0.squareRoot()).exponent))) }  // nearest in log scale
    return (counts, counts.map { Float(bitPattern: UInt32(bitPattern: $0)) })
}

/// Kernel tables this host can execute, scalar first.
var hostConfigs: [eb_kernel_config] {
    let f = eb_cpu_features()
    return [EB_ISA_SCALAR, EB_ISA_AVX2, EB_ISA_AVX512VNNI, EB_ISA_AVX512VBMI, EB_ISA_NEON, EB_ISA_NEONDOT].compactMap { isa in
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

/// A table for indices 0...qmax − qmin, with readable slack past its end (SIMD kernels gather 4 bytes
/// per entry): random bytes, or with `steps` a walk like a quantized activation on a fine grid (per
/// block of 16 entries at most `maxRises` (up to four) rises and one fall, by one) together with its
/// step planes.
func makeTable(qmin: Int32, qmax: Int32, steps: Bool, maxRises: Int = 4, rng: inout SeededGenerator) -> (table: [Int8], planes: [Int8]?) {
    let entries = Int(qmax - qmin) + 1
    guard steps else { return ((0..<(entries + 64)).map { _ in Int8.random(in: -128...127, using: &rng) }, nil) }
    var table: [Int8] = []
    var v = Int.random(in: -128...0, using: &rng)
    while table.count < entries {
        let rises = Int.random(in: 0..<5, using: &rng) == 0 ? Int.random(in: 0...maxRises, using: &rng) : Int.random(in: 0...1, using: &rng)
        let places = Array((1...15).shuffled(using: &rng).prefix(rises + 1))
        let fall = Bool.random(using: &rng) ? places[rises] : 0
        table.append(Int8(v))
        for l in 1..<16 {
            if places.prefix(rises).contains(l), v < 127 { v += 1 } else if l == fall, v > -128 { v -= 1 }
            table.append(Int8(v))
        }
    }
    table = Array(table.prefix(entries)) + [Int8](repeating: 0, count: 64)
    var planes = [Int8](repeating: 0, count: Int(EB_LUT_STEPS_BYTES))
    precondition(eb_lut_steps_encode(table, entries, &planes) != 0, "a walk within the limits must encode")
    return (table, planes)
}
