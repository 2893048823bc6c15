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
        var model = try q.quantize(method: options.method)
        model.writer.metadata["arch"] = config.arch
        model.writer.metadata["num_classes"] = String(config.numClasses)
        model.writer.metadata["labels"] = JSONValue.array(labels.map { .string($0) }).serialized
        model.writer.metadata["source"] = String(weights.split(separator: "/").last ?? "")
        for key in ["license", "notice"] { if let v = file.metadata[key] { model.writer.metadata[key] = v } }
        // Evaluate from a temporary file, then move it into place: nothing half-written at `out`.
        let temp = out + ".quantizing-\(getpid())"
        try model.writer.write(to: temp)
        do {
            let net = try Int8Network(path: temp)
            let report = q.evaluate(net, views: heldout, method: options.method, calibrationViews: calib.count, progress: progress)
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
