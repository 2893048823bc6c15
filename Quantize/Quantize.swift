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
        q.tableBits = options.tableBits
        q.shiftRequant = options.shiftRequant
        let fixed = try q.floatNodes(options.keepFloat)  // checked before any image is read
        let paths = try calibrationImagePaths(calibration)
        let views = try calibrationViews(paths: paths, preset: config.preprocessing, augment: options.augment, seed: options.seed) {
            progress?("reading images", $0, $1)
        }
        var calib: [[UInt8]] = [], heldout: [[UInt8]] = []
        for (i, v) in views.enumerated() {
            if options.holdoutEvery > 0 && views.count >= 2 && i % options.holdoutEvery == options.holdoutEvery - 1 { heldout.append(v) } else { calib.append(v) }
        }
        let heldOut = !heldout.isEmpty
        if !heldOut { heldout = views }
        q.calibrate(calib, progress: progress)

        var keep = fixed
        var allInt8: Double?
        if options.keepFloat == .auto {
            (keep, allInt8) = try q.searchFloatNodes(views: heldout, method: options.method, target: options.targetCosine,
                                                     maxShare: options.maxFloatShare, progress: progress)
        }
        let model = try q.quantize(method: options.method, keepFloat: keep)
        let net = try Network(graph: model.graph, foldingBoundaries: true)
        var report = q.evaluate(try Network(graph: model.graph), deployed: net, views: heldout, method: options.method,
                                calibrationViews: calib.count, progress: progress)
        report.heldOut = heldOut
        report.floatOps = graph.nodes.filter { keep.contains($0.name) && $0.op != .activation }.map(\.name)
        report.floatShare = q.floatShare(keep)
        report.allInt8Cosine = allInt8
        report.targetCosine = options.keepFloat == .auto ? options.targetCosine : nil
        if !keep.isEmpty {
            report.floatLatencyRatio = latency(net) / latency(try Network(graph: try q.quantize(method: options.method).graph, foldingBoundaries: true))
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

    /// `--keep-float auto`. Sensitivity first: for every op (with the activations that follow it), the
    /// held-out logits cosine lost when that op alone runs in int8 and everything else in float. Ops are
    /// then ranked by loss per multiply-add, and the shortest head of that ranking whose float set reaches
    /// `target` is found by bisection (the float share capped at `maxShare`). Returns the set (the best
    /// one measured when none reaches the target) and the all-int8 cosine.
    func searchFloatNodes(views: [[UInt8]], method: RangeMethod, target: Double, maxShare: Double,
                          progress: ((String, Int, Int) -> Void)?) throws -> (Set<String>, Double) {
        let reference = floatLogits(views)
        func cosine(_ keep: Set<String>) throws -> Double {
            meanCosine(try Network(graph: try quantize(method: method, keepFloat: keep).graph, foldingBoundaries: true), views: views,
                       reference: reference)
        }
        let base = try cosine([])
        guard base < target else { return ([], base) }
        let units = graph.nodes.filter { $0.op != .activation && !Self.floatOnly.contains($0.op) }.map { node -> Set<String> in
            var s: Set<String> = [node.name]
            for n in graph.nodes where n.op == .activation && n.inputs[0] == node.output { s.insert(n.name) }
            return s
        }
        let everything = Set(graph.nodes.map(\.name))
        var ranked: [(unit: Set<String>, loss: Double, share: Double)] = []
        for (k, unit) in units.enumerated() {
            ranked.append((unit, 1 - (try cosine(everything.subtracting(unit))), floatShare(unit)))
            progress?("sensitivity per op", k + 1, units.count)
        }
        ranked.sort { a, b in
            let ra = a.loss / max(a.share, 1e-6), rb = b.loss / max(b.share, 1e-6)
            return ra != rb ? ra > rb : a.loss > b.loss
        }
        // Float sets along the ranking: heads[k] keeps the first k units.
        var heads: [Set<String>] = [[]]
        for u in ranked {
            let next = heads.last!.union(u.unit)
            guard floatShare(next) <= maxShare else { break }
            heads.append(next)
        }
        var measured: [Int: Double] = [0: base]
        var step = 0
        func measure(_ k: Int) throws -> Double {
            if let c = measured[k] { return c }
            let c = try cosine(heads[k])
            measured[k] = c
            step += 1
            progress?("choosing float ops", step, Int(log2(Double(max(heads.count, 2)))) + 2)
            return c
        }
        var lo = 0, hi = heads.count - 1
        if try measure(hi) >= target {
            while hi - lo > 1 {
                let mid = (lo + hi) / 2
                if try measure(mid) >= target { hi = mid } else { lo = mid }
            }
            return (heads[hi], base)
        }
        let best = measured.max { $0.value < $1.value }!.key
        return (heads[best], base)
    }
}

public enum QuantizeError: Error, CustomStringConvertible {
    case invalidOption(String)
    public var description: String {
        switch self { case let .invalidOption(m): return m }
    }
}
