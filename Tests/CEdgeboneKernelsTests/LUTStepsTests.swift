// The step planes of a table (eb_lut_steps_encode): every entry comes back from the planes by the
// documented formula, and tables the planes cannot hold are refused rather than approximated.
import CEdgeboneKernels
import Foundation
import Testing

/// Entry i of the table the planes hold, by the formula of eb_qs8.h.
private func entry(_ planes: [Int8], _ i: Int) -> Int {
    let b = i / 16, l = i % 16
    var v = Int(planes[b])
    for j in 1...4 where l >= Int(planes[256 * j + b]) { v += 1 }
    if l >= Int(planes[1280 + b]) { v -= 1 }
    return v
}

/// The most rises of any block of 16 entries (missing entries repeat the last).
private func mostRises(_ table: [Int8], entries: Int) -> Int {
    (0..<256).map { b in
        (1..<16).filter { l in
            let i = min(16 * b + l, entries - 1), j = min(16 * b + l - 1, entries - 1)
            return Int(table[i]) == Int(table[j]) + 1
        }.count
    }.max()!
}

@Suite struct LUTStepsTests {
    @Test func walksComeBackEntryForEntry() {
        var rng = SeededGenerator(5)
        for (qmin, qmax) in [(Int32(-2048), Int32(2047)), (-128, 127), (0, 30), (-7, -7)] {
            for _ in 0..<20 {
                let (table, planes) = makeTable(qmin: qmin, qmax: qmax, steps: true, rng: &rng)
                let entries = Int(qmax - qmin) + 1
                let bad = (0..<entries).filter { entry(planes!, $0) != Int(table[$0]) }
                #expect(bad.isEmpty, "[\(qmin), \(qmax)]: \(bad.count) entries differ, first at \(bad.first ?? -1)")
                #expect(Int(planes![Int(EB_LUT_STEPS_RISES)]) == mostRises(table, entries: entries), "[\(qmin), \(qmax)]: rise planes")
            }
        }
    }

    /// What the runtime builds: SiLU on a 12-bit grid into int8, for a spread of scales.
    @Test func siluTablesEncode() {
        for (preScale, outScale, outZero) in [(Float(0.004), Float(0.03), -110), (0.01, 0.05, -120), (0.002, 0.012, -100)] {
            let table = (0..<4096).map { i -> Int8 in
                let x = Float(i - 2048) * preScale, y = x / (1 + exp(-x))
                return Int8(max(-128, min(127, (y / outScale).rounded(.toNearestOrEven) + Float(outZero))))
            }
            var planes = [Int8](repeating: 0, count: Int(EB_LUT_STEPS_BYTES))
            #expect(eb_lut_steps_encode(table, 4096, &planes) == 1, "scales \(preScale) → \(outScale)")
            #expect((0..<4096).allSatisfy { entry(planes, $0) == Int(table[$0]) })
            // The trailer counts the rise planes in use (here 3, 4 and 3); past them every threshold is
            // "never", so the lookups may skip them.
            let rises = mostRises(table, entries: 4096)
            #expect(Int(planes[Int(EB_LUT_STEPS_RISES)]) == rises && (3...4).contains(rises))
            #expect(planes[(256 + 256 * rises)..<1280].allSatisfy { $0 == 16 })
        }
    }

    @Test func tablesBeyondThePlanesAreRefused() {
        var planes = [Int8](repeating: 0, count: Int(EB_LUT_STEPS_BYTES))
        let flat = [Int8](repeating: 3, count: 4096)
        var fiveRises = flat, twoFalls = flat, jump = flat, random = flat
        for i in 20..<4096 { fiveRises[i] = 4 + Int8(min(4, (i - 20) / 2)) }  // rises at 20, 22, 24, 26, 28: one block
        for i in 33..<4096 { twoFalls[i] = i < 40 ? 2 : 1 }
        for i in 100..<4096 { jump[i] = 5 }
        var rng = SeededGenerator(9)
        for i in random.indices { random[i] = Int8.random(in: -128...127, using: &rng) }
        #expect(eb_lut_steps_encode(flat, 4096, &planes) == 1)
        for (name, t) in [("five rises", fiveRises), ("two falls", twoFalls), ("a jump of two", jump), ("random", random)] {
            #expect(eb_lut_steps_encode(t, 4096, &planes) == 0, "\(name) was accepted")
        }
        #expect(eb_lut_steps_encode(flat, 4097, &planes) == 0 && eb_lut_steps_encode(flat, 0, &planes) == 0)
    }
}
