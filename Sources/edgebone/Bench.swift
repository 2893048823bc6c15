// edgebone bench: per-frame latency distribution over synthetic frames.
import ArgumentParser
import COpenBLAS
import Edgebone
import EdgeboneModels

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Measure per-frame inference latency on synthetic frames.")

    @OptionGroup var model: ModelOptions

    @Option(name: .long, help: "Measured frames (after warm-up).")
    var frames: Int = 200

    @Option(name: .long, help: "Warm-up frames, not measured.")
    var warmup: Int = 20

    @Flag(name: .long, help: "Print one JSON object instead of text.")
    var json = false

    @Flag(name: .long, help: "Also time every op and print a per-op profile (kinds summed, slowest ops).")
    var profile = false

    func validate() throws {
        guard frames >= 1 else { throw ValidationError("--frames must be at least 1") }
        guard warmup >= 0 else { throw ValidationError("--warmup must not be negative") }
    }

    func run() throws {
        let classifier: FloatClassifier
        do { classifier = try model.load() } catch { throw fail(error) }
        let net = classifier.network
        let pre = classifier.preprocessor
        // Synthetic frames: deterministic noise at input size, a new one every frame.
        var rng = SplitMix64(seed: 1)
        let s = classifier.config.preprocessing.inputSize
        let frame = RGBImage(width: s, height: s)
        var samples = [Double](repeating: 0, count: frames)
        for i in 0..<(warmup + frames) {
            for p in 0..<(s * s * 3) { frame.pixels[p] = UInt8(truncatingIfNeeded: rng.next() >> 56) }
            let t0 = monotonicNanos()
            pre.crop(frame)
            pre.normalize(into: net.input)
            net.run()
            let t1 = monotonicNanos()
            if i >= warmup { samples[i - warmup] = Double(t1 - t0) / 1e6 }
        }
        let st = LatencyStats(samples)
        if profile { printProfile(net, frames: frames) }
        let core = String(cString: openblas_get_corename())
        if json {
            print("{\"arch\":\"\(classifier.config.arch)\",\"precision\":\"fp32\",\"isa\":\"\(net.kernels.isa.rawValue)\",\"threads\":\(model.threads),\"frames\":\(frames),\"openblas_core\":\"\(core)\",\"min_ms\":\(st.min),\"median_ms\":\(st.median),\"p90_ms\":\(st.p90),\"p99_ms\":\(st.p99),\"max_ms\":\(st.max),\"mean_ms\":\(st.mean),\"gmac\":\(Double(net.graph.macs) / 1e9),\"arena_bytes\":\(net.plan.arenaBytes)}")
        } else {
            print("\(classifier.config.arch) fp32, \(model.threads) thread(s), ISA \(net.kernels.isa.rawValue), OpenBLAS core \(core)")
            print("\(frames) frames after \(warmup) warm-up; \(String(format3(Double(net.graph.macs) / 1e9))) GMAC per frame")
            print("latency ms: min \(format3(st.min))  median \(format3(st.median))  p90 \(format3(st.p90))  p99 \(format3(st.p99))  max \(format3(st.max))")
        }
    }
}

/// Order statistics of a latency sample (nearest-rank percentiles).
struct LatencyStats {
    let min, median, p90, p99, max, mean: Double
    init(_ samples: [Double]) {
        let s = samples.sorted()
        func pct(_ p: Double) -> Double { s[Swift.min(s.count - 1, Swift.max(0, Int((p / 100 * Double(s.count)).rounded(.up)) - 1))] }
        min = s.first!; max = s.last!
        median = pct(50); p90 = pct(90); p99 = pct(99)
        mean = s.reduce(0, +) / Double(s.count)
    }
}

func format3(_ v: Double) -> String {
    let scaled = Int((v * 1000).rounded())
    return String(scaled / 1000) + "." + String(scaled % 1000).leftPad(3, "0")
}

/// Small deterministic generator for synthetic frames.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Times each op over `frames` extra runs and prints time per op kind and the slowest ops.
func printProfile(_ net: FloatNetwork, frames: Int) {
    let g = net.graph
    var nanos = [UInt64](repeating: 0, count: g.ops.count)
    nanos.withUnsafeMutableBufferPointer { buf in
        for _ in 0..<frames { net.run(profile: buf) }
    }
    let total = Double(nanos.reduce(0, +))
    var kinds: [String: (ns: UInt64, macs: Int, count: Int)] = [:]
    for (i, op) in g.ops.enumerated() {
        let k = op.kind
        let prev = kinds[k] ?? (0, 0, 0)
        kinds[k] = (prev.ns + nanos[i], prev.macs + op.macs(g.tensors), prev.count + 1)
    }
    print("per-op profile over \(frames) frames (ms per frame):")
    print("  kind          ops   time_ms  share   GMAC/s")
    for (k, v) in kinds.sorted(by: { $0.value.ns > $1.value.ns }) {
        let ms = Double(v.ns) / Double(frames) / 1e6
        let gmacs = Double(v.macs) / (Double(v.ns) / Double(frames))
        print("  \(k.padding(12)) \(String(v.count).leftPad(4))  \(format3(ms).leftPad(8))  \(format3(Double(v.ns) / total * 100).leftPad(6))%  \(format3(gmacs).leftPad(7))")
    }
    print("  slowest ops:")
    for i in nanos.indices.sorted(by: { nanos[$0] > nanos[$1] }).prefix(10) {
        let ms = Double(nanos[i]) / Double(frames) / 1e6
        let shape = g.tensors[g.ops[i].output].shape.map(String.init).joined(separator: "x")
        print("  \(g.opNames[i].padding(28)) \(g.ops[i].kind.padding(10)) \(shape.padding(12)) \(format3(ms).leftPad(8)) ms  \(format3(Double(g.ops[i].macs(g.tensors)) / (Double(nanos[i]) / Double(frames))).leftPad(7)) GMAC/s")
    }
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
