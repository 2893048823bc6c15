// edgebone quantize: float checkpoint + calibration images → one int8 model file and a report.
import ArgumentParser
import Edgebone
import EdgeboneModels
import EdgeboneQuantize
#if canImport(Glibc)
import Glibc
#endif

struct Quantize: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Quantize a float checkpoint to an int8 model file, with a fidelity report.")

    @Option(name: .long, help: "Float checkpoint: timm-named safetensors.")
    var weights: String

    @OptionGroup var architecture: ArchOptions

    @Option(name: .long, help: "Calibration images: a folder of PNG/JPEG files or Y4M videos, one image, or one .y4m video.")
    var calibration: String

    @Option(name: .long, help: "Output int8 model file (written atomically).")
    var out: String

    @Option(name: .long, help: "Write the fidelity report as JSON here.")
    var report: String?

    @Option(name: .long, help: ArgumentHelp("Draw the fidelity report as an SVG: per-layer SQNR in network order, the float32 prefix if any.", valueName: "file"))
    var svg: String?

    @Option(name: .long, help: "Activation range method: minmax, percentile or mse.")
    var method: String = "mse"

    @Option(name: .long, help: "Random crops/flips added per calibration image.")
    var augment: Int = 0

    @Option(name: .long, help: "Hold every N-th view out of calibration for the report (0: report on all).")
    var holdout: Int = 5

    @Option(name: .long, help: ArgumentHelp("Ops kept in float32: none (all int8), auto (the cheapest set, by measured sensitivity, that reaches --target-cosine on held-out views), or op or block names (e.g. blocks.3.0.conv_dw,blocks.1.1).", valueName: "none|auto|OP[,OP…]"))
    var keepFloat: String?

    @Option(name: .long, help: ArgumentHelp("Keep every op up to and including OP (an op or block name) in float32; none and auto as for --keep-float.", valueName: "none|auto|OP"))
    var floatPrefix: String?

    @Option(name: .long, help: "Logits cosine --keep-float auto aims for.")
    var targetCosine: Double = 0.99

    @Option(name: .long, help: ArgumentHelp("Bits of the grid a fused SiLU, sigmoid or GELU table is indexed by, 8…12 (default: 9 for SiLU and sigmoid, looked up by byte permutes on AVX-512 VBMI; 12 for GELU).", valueName: "bits"))
    var tableBits: Int?

    @Option(name: .long, help: ArgumentHelp("How int8 convolutions requantize: shift (weight scales chosen so that each channel's scale is a power of two and the epilogue shifts instead of multiplying; depthwise keeps fp32), shift-all (depthwise too: faster, less accurate) or fp32 (a float multiply per output everywhere).", valueName: "shift|shift-all|fp32"))
    var requant: String = "shift"

    func validate() throws {
        guard targetCosine > 0 && targetCosine <= 1 else { throw ValidationError("--target-cosine must be in (0, 1]") }
        guard RangeMethod(rawValue: method) != nil else { throw ValidationError("--method must be minmax, percentile or mse") }
        guard augment >= 0 && augment <= 1000 else { throw ValidationError("--augment must be 0…1000") }
        guard tableBits.map({ QuantParams.tableBits.contains($0) }) ?? true else { throw ValidationError("--table-bits must be 8…12") }
        guard ShiftRequant(rawValue: requant) != nil else { throw ValidationError("--requant must be shift, shift-all or fp32") }
        guard holdout >= 0 else { throw ValidationError("--holdout must not be negative") }
        guard keepFloat == nil || floatPrefix == nil else { throw ValidationError("give --keep-float or --float-prefix, not both") }
        // An output that is an input (or another output) would be destroyed or overwritten halfway:
        // `--out X --weights X` replaced the checkpoint with the model.
        let outputs = [("--out", out), ("--report", report), ("--svg", svg)].compactMap { name, path in path.map { (name, $0) } }
        let inputs = [("--weights", weights), ("--calibration", calibration)]
        for (i, (name, path)) in outputs.enumerated() {
            for (other, otherPath) in inputs + outputs.prefix(i) where samePath(path, otherPath) {
                throw ValidationError("\(name) \(path) is also \(other): give each output a path of its own")
            }
        }
    }

    var keepFloatChoice: KeepFloat {
        if let p = floatPrefix { return p == "none" ? .none : p == "auto" ? .auto : .prefix(p) }
        guard let k = keepFloat, k != "none" else { return .none }
        return k == "auto" ? .auto : .nodes(k.split(separator: ",").map { String($0.filter { $0 != " " }) })
    }

    func run() throws {
        do {
            let reportFile = try report.map { try OutputFile($0) }  // bad paths fail now, not after the work
            let svgFile = try svg.map { try OutputFile($0) }
            let file = try SafeTensorsFile(path: weights)
            let config = try Architectures.configuration(checkpoint: file, arch: architecture.arch, options: try architecture.options())
            var options = QuantizeOptions()
            options.method = RangeMethod(rawValue: method)!
            options.tableBits = tableBits
            options.shiftRequant = ShiftRequant(rawValue: requant)!
            options.augment = augment
            options.holdoutEvery = holdout
            options.keepFloat = keepFloatChoice
            options.targetCosine = targetCosine
            var bar = ProgressBar()
            let result = try QuantizeJob.run(weights: weights, config: config, calibration: calibration, out: out, options: options) {
                bar.update($0, $1, $2)
            }
            bar.finish()
            print(result.text, terminator: "")
            try reportFile?.write(Array(result.json.utf8))
            if let svgFile {
                let summary = "logits cosine mean \(format3(result.meanCosine)), min \(format3(result.minCosine)); top-1 agreement " +
                    "\(format1(result.top1Agreement * 100))% over \(result.views) \(result.heldOut ? "held-out views" : "calibration views, none held out") (ranges: \(result.method))"
                let floatNote = result.floatSummary.map { "kept in float32: " + $0 }
                let drawing = fidelitySVG(title: "edgebone quantize: \(config.arch), per-layer SQNR (int8 vs float)",
                                          layers: result.layers.map { ($0.name, $0.kind, $0.sqnr) }, summary: summary, floatNote: floatNote)
                try svgFile.write(Array(drawing.utf8))
            }
            print("wrote \(out)")
        } catch let e as ExitCode {
            throw e
        } catch {
            throw fail(error)
        }
    }
}

/// A one-line progress bar on stderr (only when stderr is a terminal, else a line per phase).
struct ProgressBar {
    var phase = ""
    let tty = isatty(2) != 0

    mutating func update(_ phase: String, _ done: Int, _ total: Int) {
        var err = StandardError()
        if phase != self.phase {
            if tty && !self.phase.isEmpty { print("", to: &err) }
            if !tty { print("\(phase): \(total) step(s)", to: &err) }
            self.phase = phase
        }
        guard tty else { return }
        let width = 30, filled = total > 0 ? width * done / total : width
        print("\r\(phase.padding(26)) [\(String(repeating: "#", count: filled))\(String(repeating: ".", count: width - filled))] \(done)/\(total)",
              terminator: "", to: &err)
    }

    func finish() {
        var err = StandardError()
        if tty && !phase.isEmpty { print("", to: &err) }
    }
}
