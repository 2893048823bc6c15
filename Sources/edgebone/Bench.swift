// edgebone bench: per-frame latency distribution over synthetic frames, memory figures, per-op profile.
import ArgumentParser
import COpenBLAS
import Edgebone
import EdgeboneModels
#if canImport(Glibc)
import Glibc
#endif

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

    @Flag(name: .long, help: "Also draw the latency distribution as a text histogram.")
    var histogram = false

    @Option(name: .long, help: ArgumentHelp("Also draw the run as an SVG: latency histogram, latency by frame, and with --profile the time per op kind.", valueName: "file"))
    var svg: String?

    func validate() throws {
        guard (1...10_000_000).contains(frames) else { throw ValidationError("--frames must be 1 to 10000000, got \(frames)") }
        guard (0...1_000_000).contains(warmup) else { throw ValidationError("--warmup must be 0 to 1000000, got \(warmup)") }
    }

    func run() throws {
        let classifier: ImageClassifier
        let picture: OutputFile?
        do {
            picture = try svg.map { try OutputFile($0) }
            classifier = try model.load()
        } catch { throw fail(error) }
        let pre = classifier.preprocessor
        // Synthetic frames at input size: deterministic noise, a new one every frame. A frame's time
        // covers what the network does with it (int8: pixel conversion; fp32: normalization) + the network.
        var rng = SplitMix64(seed: 1)
        let s = pre.preset.inputSize
        let frame = RGBImage(width: s, height: s)
        var samples = [Double](repeating: 0, count: frames)
        // Which frames ran on the calling thread alone (several threads: see FrameSplitChooser).
        var alone = [Bool](repeating: false, count: frames)
        for i in 0..<(warmup + frames) {
            for p in 0..<(s * s * 3) { frame.pixels[p] = UInt8(truncatingIfNeeded: rng.next() >> 56) }
            pre.crop(frame)
            let before = classifier.threadStats?.framesAlone ?? 0
            let t0 = monotonicNanos()
            _ = classifier.runCropped()
            let t1 = monotonicNanos()
            if i >= warmup {
                samples[i - warmup] = Double(t1 - t0) / 1e6
                alone[i - warmup] = (classifier.threadStats?.framesAlone ?? 0) > before
            }
        }
        let st = LatencyStats(samples)
        let aloneSamples = zip(samples, alone).filter { $0.1 }.map(\.0), splitSamples = zip(samples, alone).filter { !$0.1 }.map(\.0)
        let prof = profile ? Profile(classifier, frames: max(20, frames / 4)) : nil
        let usesOpenBLAS = classifier.precision != "int8"
        let core = usesOpenBLAS ? String(cString: openblas_get_corename()) : "-"
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let peakRSS = Int(usage.ru_maxrss) * 1024
        // How avx512vbmi looks this model's activation tables up: tables of at most 512 entries (9-bit
        // grids) directly by byte permutes; larger ones from step planes or by gathers, as measured.
        let nodes = (classifier as? Classifier)?.network.graph.nodes ?? []
        let gridBits = nodes.filter { $0.attributes.preQuant != nil }.map { $0.attributes.gridBits }
        let large = gridBits.contains { !StepPlanes.lookedUpDirectly(bits: $0) }
        let tables = classifier.isa != .avx512vbmi || gridBits.isEmpty ? "" :
            !large ? " (tables looked up directly by byte permutes)" :
            " (\(gridBits.max()!)-bit tables \(StepPlanes.used ? "from step planes" : "gathered"), planes \(format1(StepPlanes.gain))× the gathers' speed)"
        let heading = "\(classifier.arch) \(classifier.precision), \(model.threads) thread(s), ISA \(classifier.isa.rawValue)" + tables
        let macs = (0..<classifier.opNames.count).reduce(0) { $0 + classifier.opMACs($1) }
        if json {
            var fields: [String: JSONValue] = [
                "arch": .string(classifier.arch), "precision": .string(classifier.precision), "isa": .string(classifier.isa.rawValue),
                "threads": .int(model.threads), "frames": .int(frames), "min_ms": .double(st.min), "median_ms": .double(st.median),
                "p90_ms": .double(st.p90), "p99_ms": .double(st.p99), "max_ms": .double(st.max), "mean_ms": .double(st.mean),
                "gmac": .double(Double(macs) / 1e9), "arena_bytes": .int(classifier.arenaBytes), "weights_bytes": .int(classifier.weightsBytes),
                "peak_rss_bytes": .int(peakRSS),
            ]
            if classifier.isa == .avx512vbmi { fields["step_planes"] = .bool(StepPlanes.used); fields["step_planes_gain"] = .double(StepPlanes.gain) }
            if usesOpenBLAS { fields["openblas_core"] = .string(core) }
            if let t = classifier.threadStats {
                fields["split_steps"] = .int(t.split); fields["steps_alone"] = .int(t.alone); fields["thread_fallbacks"] = .int(t.fallbacks)
                fields["frames_alone"] = .int(t.framesAlone)
                // Medians of the measured frames each way (absent where no frame ran that way).
                if !aloneSamples.isEmpty { fields["alone_median_ms"] = .double(LatencyStats(aloneSamples).median) }
                if !splitSamples.isEmpty { fields["split_median_ms"] = .double(LatencyStats(splitSamples).median) }
            }
            if let prof { fields["profile"] = prof.json }
            print(JSONValue.object(fields).serialized)
        } else {
            print(heading + (usesOpenBLAS ? ", OpenBLAS core \(core)" : ""))
            print("\(frames) frames after \(warmup) warm-up; \(format3(Double(macs) / 1e9)) GMAC per frame")
            print("latency ms: min \(format3(st.min))  median \(format3(st.median))  p90 \(format3(st.p90))  p99 \(format3(st.p99))  max \(format3(st.max))")
            if let t = classifier.threadStats, t.fallbacks > 0 || t.framesAlone > 0 {
                let share = Double(t.alone) / Double(max(t.split + t.alone, 1)) * 100
                print("threads: splitting did not pay (a busy machine): \(t.framesAlone) of \(t.frames) frames ran on the calling thread alone, " +
                      "and within split frames \(format1(share))% of split steps (\(t.fallbacks) fallback(s))")
            }
            print("memory: arena \(classifier.arenaBytes) B, weights \(classifier.weightsBytes) B, peak RSS \(peakRSS) B")
            if histogram { textHistogram(samples, stats: st).forEach { print($0) } }
            if let prof { prof.printTable() }
        }
        if let picture {
            let drawing = benchSVG(title: "edgebone bench: " + heading, samples: samples, stats: st, kinds: prof?.byKind.map { ($0.kind, $0.ms, $0.share) },
                                   steps: prof.map { p in p.names.indices.map { (p.names[$0], p.kinds[$0], p.ms($0)) } })
            do { try picture.write(Array(drawing.utf8)) } catch { throw fail(error) }
            if !json { print("drew \(picture.path)") }
        }
    }
}

/// Per-op times over extra runs.
struct Profile {
    let names: [String], kinds: [String], macs: [Int], nanos: [UInt64], frames: Int

    init(_ c: ImageClassifier, frames: Int) {
        names = c.opNames
        kinds = c.opKinds
        macs = (0..<names.count).map { c.opMACs($0) }
        var ns = [UInt64](repeating: 0, count: names.count)
        ns.withUnsafeMutableBufferPointer { buf in for _ in 0..<frames { c.profileCropped(buf) } }
        nanos = ns
        self.frames = frames
    }

    func ms(_ i: Int) -> Double { Double(nanos[i]) / Double(frames) / 1e6 }
    func gmacs(_ i: Int) -> Double { nanos[i] > 0 ? Double(macs[i]) * Double(frames) / Double(nanos[i]) : 0 }

    var json: JSONValue {
        .array(names.indices.map { i in
            .object(["step": .string(names[i]), "kernel": .string(kinds[i]), "ms": .double(ms(i)), "gmac_per_s": .double(gmacs(i))])
        })
    }

    /// Op kinds with their summed time, slowest first.
    var byKind: [(kind: String, ops: Int, ms: Double, share: Double, gmacs: Double)] {
        let total = Double(Swift.max(1, nanos.reduce(0, +)))
        var sums: [String: (ns: UInt64, macs: Int, count: Int)] = [:]
        for i in names.indices {
            let prev = sums[kinds[i]] ?? (0, 0, 0)
            sums[kinds[i]] = (prev.ns + nanos[i], prev.macs + macs[i], prev.count + 1)
        }
        // Typed steps: Swift 6.0 (Debian's, what a Pi user gets) cannot type-check this as one expression.
        let slowestFirst: [(key: String, value: (ns: UInt64, macs: Int, count: Int))] = sums.sorted { $0.value.ns > $1.value.ns }
        var rows: [(kind: String, ops: Int, ms: Double, share: Double, gmacs: Double)] = []
        for (kind, v) in slowestFirst {
            let ns = Double(v.ns)
            let ms: Double = ns / Double(frames) / 1e6
            let share: Double = ns / total * 100
            let gmacs: Double = v.ns > 0 ? Double(v.macs) * Double(frames) / ns : 0
            rows.append((kind: kind, ops: v.count, ms: ms, share: share, gmacs: gmacs))
        }
        return rows
    }

    func printTable() {
        print("per-op profile over \(frames) frames (ms per frame):")
        print("  kind                 ops   time_ms   share   GMAC/s")
        for k in byKind {
            print("  \(k.kind.padding(20)) \(String(k.ops).leftPad(4))  \(format3(k.ms).leftPad(8))  \(format3(k.share).leftPad(6))%  \(format3(k.gmacs).leftPad(7))")
        }
        print("  slowest steps:")
        for i in names.indices.sorted(by: { nanos[$0] > nanos[$1] }).prefix(12) {
            print("  \(names[i].padding(30)) \(kinds[i].padding(18)) \(format3(ms(i)).leftPad(8)) ms  \(format3(gmacs(i)).leftPad(7)) GMAC/s")
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
    return (scaled < 0 ? "-" : "") + String(abs(scaled) / 1000) + "." + String(abs(scaled) % 1000).leftPad(3, "0")
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self + " " : self + String(repeating: " ", count: width - count) }
}
