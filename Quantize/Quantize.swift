// One call from checkpoint to int8 model file: load, calibrate, quantize, evaluate, write.
import Edgebone
import EdgeboneModels
#if canImport(Glibc)
import Glibc
#endif

public enum QuantizeJob {
    /// Quantizes `weights` (timm safetensors) with images from `calibration`, writes `out`
    /// atomically, returns the fidelity report. Progress goes to `progress`.
    public static func run(weights: String, config: EfficientNetConfig, calibration: String, out: String,
                           options: QuantizeOptions, labels: [String],
                           progress: ((String, Int, Int) -> Void)? = nil) throws -> FidelityReport {
        let file = try SafeTensorsFile(path: weights)
        let graph = try config.floatGraph(checkpoint: file, decomposed: true)
        let fused = options.floatPrefix == .none ? nil : try config.floatGraph(checkpoint: file, decomposed: false)
        // Candidate cuts (checked before any image is read): all int8 first, then ever longer float prefixes (auto), or the one asked for.
        // Share of the multiply-adds done by the first n ops.
        var macsBefore = [0]
        for op in graph.ops { macsBefore.append(macsBefore.last! + op.macs(graph.tensors)) }
        func floatShare(_ cut: Int) -> Double { Double(macsBefore[cut]) / Double(graph.macs) }
        let cuts: [Int]
        switch options.floatPrefix {
        case .none: cuts = [0]
        case .auto:
            cuts = [0] + graph.prefixCuts.filter { floatShare($0) <= options.maxFloatShare }
        case let .through(name):
            let valid = graph.prefixCuts
            var cut = (graph.opNames.lastIndex(of: name) ?? -2) + 1
            if cut > 0, cut < graph.ops.count, case .activation = graph.ops[cut] { cut += 1 }
            guard valid.contains(cut) else {
                let names = valid.map { graph.opNames[$0 - 1] }.map { $0.hasSuffix(".act") ? String($0.dropLast(4)) : $0 }
                throw QuantizeError.invalidOption("--float-prefix \(name): not an op after which exactly one tensor is handed over; use none, auto or one of: \(names.joined(separator: ", "))")
            }
            cuts = [cut]
        }
        let paths = try calibrationImagePaths(calibration)
        let views = try calibrationViews(paths: paths, preset: config.preprocessing, augment: options.augment, seed: options.seed) {
            progress?("reading images", $0, $1)
        }
        var calib: [[UInt8]] = [], heldout: [[UInt8]] = []
        for (i, v) in views.enumerated() {
            if options.holdoutEvery > 0 && views.count >= 2 && i % options.holdoutEvery == options.holdoutEvery - 1 { heldout.append(v) } else { calib.append(v) }
        }
        if heldout.isEmpty { heldout = views }
        let q = Quantizer(graph: graph, preset: config.preprocessing)
        q.calibrate(calib, progress: progress)
        // Evaluate from a temporary file, then move it into place: nothing half-written at `out`.
        let temp = out + ".quantizing-\(getpid())"
        do {
            var best: (model: QuantizedModel, report: FidelityReport)?
            var allInt8: Double?  // the all-int8 candidate's cosine, when it was one
            // The same for every candidate: made once (the labels alone are 1000 JSON strings).
            var metadata = ["arch": config.arch, "num_classes": String(config.numClasses),
                            "labels": JSONValue.array(labels.map { .string($0) }).serialized,
                            "source": String(weights.split(separator: "/").last ?? "")]
            for key in ["license", "notice"] { if let v = file.metadata[key] { metadata[key] = v } }
            for (n, cut) in cuts.enumerated() {
                var model = try q.quantize(method: options.method, floatOps: cut, fused: cut > 0 ? fused : nil)
                model.writer.metadata.merge(metadata) { _, new in new }
                try model.writer.write(to: temp)
                let net = try Int8Network(path: temp)
                var report = q.evaluate(net, views: heldout, method: options.method, calibrationViews: calib.count, progress: progress)
                report.floatOps = graph.opNames[..<cut].filter { !$0.hasSuffix(".act") }.uniqued()
                report.floatShare = floatShare(cut)
                if cut == 0 { allInt8 = report.meanCosine }
                report.allInt8Cosine = allInt8
                report.targetCosine = options.floatPrefix == .auto ? options.targetCosine : nil
                if options.floatPrefix == .auto { progress?("float prefix search", n + 1, cuts.count) }
                if best == nil || report.meanCosine > best!.report.meanCosine { best = (model, report) }
                if report.meanCosine >= options.targetCosine { break }
            }
            var (model, report) = best!
            model.writer.metadata["quantization.report"] = report.json
            try model.writer.write(to: temp)
            guard rename(temp, out) == 0 else { throw ModelFileError.writeFailed(path: out, reason: String(cString: strerror(errno))) }
            return report
        } catch {
            unlink(temp)
            throw error
        }
    }
}

public enum QuantizeError: Error, CustomStringConvertible {
    case invalidOption(String)
    public var description: String {
        switch self { case let .invalidOption(m): return m }
    }
}

extension Array where Element: Hashable {
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}
