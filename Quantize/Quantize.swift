// One call from checkpoint to model file: build the plain graph, calibrate, choose what stays float,
// quantize, evaluate, write.
import Edgebone
import EdgeboneModels
#if canImport(Glibc)
import Glibc
#endif

public enum QuantizeJob {
    /// Quantizes `weights` (timm safetensors) as `config` with images from `calibration`, writes `out`
    /// atomically, returns the fidelity report. Progress goes to `progress`.
    public static func run(weights: String, config: any Architecture, calibration: String, out: String,
                           options: QuantizeOptions, progress: ((String, Int, Int) -> Void)? = nil) throws -> FidelityReport {
        let file = try SafeTensorsFile(path: weights)
        let graph = try config.graph(checkpoint: file)
        let q = try Quantizer(graph: graph, preset: config.preprocessing)
        let fixed = try q.floatNodes(options.keepFloat)  // checked before any image is read
        let paths = try calibrationImagePaths(calibration)
        let views = try calibrationViews(paths: paths, preset: config.preprocessing, augment: options.augment, seed: options.seed) {
            progress?("reading images", $0, $1)
        }
        var calib: [[UInt8]] = [], heldout: [[UInt8]] = []
        for (i, v) in views.enumerated() {
            if options.holdoutEvery > 0 && views.count >= 2 && i % options.holdoutEvery == options.holdoutEvery - 1 { heldout.append(v) } else { calib.append(v) }
        }
        if heldout.isEmpty { heldout = views }
        q.calibrate(calib, progress: progress)

        var keep = fixed
        var allInt8: Double?
        if options.keepFloat == .auto {
            (keep, allInt8) = try q.searchFloatNodes(views: heldout, method: options.method, target: options.targetCosine,
                                                     maxShare: options.maxFloatShare, progress: progress)
        }
        let model = try q.quantize(method: options.method, keepFloat: keep)
        let net = try Network(graph: model.graph)
        var report = q.evaluate(net, views: heldout, method: options.method, calibrationViews: calib.count, progress: progress)
        report.floatOps = graph.nodes.filter { keep.contains($0.name) && $0.op != .activation }.map(\.name)
        report.floatShare = q.floatShare(keep)
        report.allInt8Cosine = allInt8
        report.targetCosine = options.keepFloat == .auto ? options.targetCosine : nil
        if !keep.isEmpty {
            report.floatLatencyRatio = latency(net) / latency(try Network(graph: try q.quantize(method: options.method).graph))
        }
        var metadata = ["arch": config.arch, "num_classes": String(config.numClasses),
                        "labels": JSONValue.array(config.labels.map { .string($0) }).serialized,
                        "source": String(weights.split(separator: "/").last ?? ""),
                        "preprocessing": config.preprocessing.json, "quantization.method": options.method.rawValue,
                        "quantization.report": report.json]
        for key in ["license", "notice"] { if let v = file.metadata[key] { metadata[key] = v } }
        // Written beside `out`, then moved into place: nothing half-written at `out`.
        let temp = out + ".quantizing-\(getpid())"
        do {
            try model.writer(metadata: metadata).write(to: temp)
            _ = try Classifier(modelFile: temp)  // what was written loads
            guard rename(temp, out) == 0 else { throw ModelFileError.writeFailed(path: out, reason: String(cString: strerror(errno))) }
        } catch {
            unlink(temp)
            throw error
        }
        return report
    }

    /// Median seconds of one run of `net` (on whatever its input holds), over 15 runs after 3 warm-ups.
    static func latency(_ net: Network) -> Double {
        for _ in 0..<3 { net.run() }
        var times: [UInt64] = []
        for _ in 0..<15 {
            let t0 = monotonicNanos()
            net.run()
            times.append(monotonicNanos() - t0)
        }
        return Double(times.sorted()[times.count / 2]) / 1e9
    }
}

extension Quantizer {
    /// Share of the plain graph's multiply-adds done by `nodes`.
    public func floatShare(_ nodes: Set<String>) -> Double {
        let total = Double(max(graph.macs, 1))
        return Double(graph.nodes.indices.filter { nodes.contains(graph.nodes[$0].name) }.reduce(0) { $0 + graph.macs($1) }) / total
    }

    /// `--keep-float auto`: measures, for every op on its own, how much keeping it in float32 raises the
    /// held-out logits cosine over all-int8; then adds ops in order of gain per multiply-add until the
    /// cosine reaches `target` (or the float share would pass `maxShare`). Returns the set and the
    /// all-int8 cosine.
    func searchFloatNodes(views: [[UInt8]], method: RangeMethod, target: Double, maxShare: Double,
                          progress: ((String, Int, Int) -> Void)?) throws -> (Set<String>, Double) {
        let reference = floatLogits(views)
        func cosine(_ keep: Set<String>) throws -> Double {
            meanCosine(try Network(graph: try quantize(method: method, keepFloat: keep).graph), views: views, reference: reference)
        }
        let base = try cosine([])
        guard base < target else { return ([], base) }
        // Units: each op with the activations that follow it.
        let exact = graph.nodes.filter { $0.op != .activation }.map { node -> Set<String> in
            var s: Set<String> = [node.name]
            for n in graph.nodes where n.op == .activation && n.inputs[0] == node.output { s.insert(n.name) }
            return s
        }
        var gains: [(unit: Set<String>, gain: Double, share: Double)] = []
        for (k, unit) in exact.enumerated() {
            let share = floatShare(unit)
            if share <= maxShare { gains.append((unit, try cosine(unit) - base, share)) }
            progress?("sensitivity per op", k + 1, exact.count)
        }
        let order = gains.filter { $0.gain > 0 }.sorted { $0.gain / max($0.share, 1e-6) > $1.gain / max($1.share, 1e-6) }
        var keep = Set<String>(), best = (keep, base)
        for (k, u) in order.enumerated() {
            let next = keep.union(u.unit)
            guard floatShare(next) <= maxShare else { continue }
            keep = next
            let c = try cosine(keep)
            progress?("choosing float ops", k + 1, order.count)
            if c > best.1 { best = (keep, c) }
            if c >= target { return (keep, base) }
        }
        return (best.0, base)
    }
}

public enum QuantizeError: Error, CustomStringConvertible {
    case invalidOption(String)
    public var description: String {
        switch self { case let .invalidOption(m): return m }
    }
}
