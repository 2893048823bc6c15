// edgebone inspect: what a model file holds and how the runtime lays it out.
import ArgumentParser
import Edgebone
import EdgeboneModels

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a model's architecture, tensors, arena plan and quantization report.")

    @Option(name: .long, help: "Model file (default: the bundled int8 model).")
    var model: String?

    @Flag(name: .long, help: "Also print the arena plan: every buffer's offset, size and lifetime.")
    var plan = false

    func run() throws {
        do {
            guard let path = model ?? BundledModel.path else { throw ValidationError("no --model given and no bundled model found") }
            let file = try SafeTensorsFile(path: path)
            guard file.metadata["edgebone.format"] != nil else {
                let config = try EfficientNetConfig(checkpoint: file)
                print("\(path): float checkpoint, \(config.arch) (channel × \(config.channelMultiplier), depth × \(config.depthMultiplier)), \(file.tensors.count) tensors")
                print("stages: " + config.stages.map { "\($0.count)×\($0[0].kind.rawValue) k\($0[0].kernel) → \($0[0].outChannels)" }.joined(separator: ", "))
                return
            }
            let net = try Int8Network(file: file, isa: try ISA.fromEnvironment())
            let p = net.program
            print("\(path): Edgebone int8 model, format \(file.metadata["edgebone.format_version"] ?? "?"), arch \(file.metadata["arch"] ?? "?"), \(p.outputCount) classes")
            if let pre = file.metadata["preprocessing"] { print("preprocessing: \(pre)") }
            if let src = file.metadata["source"] { print("source: \(src); license: \(file.metadata["license"] ?? "-")") }
            print("kernels: \(net.isa.rawValue) (\(net.kernelName)); weights \(net.weightsBytes) B")
            print("arena: \(net.plan.arenaBytes) B, lower bound \(net.plan.lowerBoundBytes) B (\(format3(Double(net.plan.arenaBytes) / Double(max(net.plan.lowerBoundBytes, 1))))×)")
            if let f = net.floatPrefix {
                let share = Double(f.graph.macs) / Double(f.graph.macs + (0..<p.ops.count).reduce(0) { $0 + net.macs(op: $1) })
                print("\nfloat32 prefix (\(f.graph.ops.count) ops, \(format3(share * 100))% of the multiply-adds, arena \(f.plan.arenaBytes) B), " +
                      "its output quantized into '\(p.input)':")
                for (i, op) in f.graph.ops.enumerated() {
                    print("  " + f.graph.opNames[i].padding(30) + ("f32 " + op.kind).padding(24) + f.graph.tensors[op.output].shape.map(String.init).joined(separator: "x"))
                }
            }
            print("\nops (\(p.ops.count)):")
            print("  " + "name".padding(30) + "kind".padding(24) + "output".padding(16) + "scale".padding(12) + "zero point")
            for op in p.ops {
                let spec = net.spec(of: op.output)
                let shape = spec.map { $0.shape.map(String.init).joined(separator: "x") } ?? "[\(p.outputCount)] f32"
                let kind = op.kind.rawValue + (op.kernel.map { " \($0)x\($0)/\(op.stride ?? 1)" } ?? "") + (op.activation.map { "+" + $0.rawValue } ?? "")
                print("  " + op.name.padding(30) + kind.padding(24) + shape.padding(16) +
                      (spec.map { String($0.quant.scale) } ?? "-").padding(12) + (spec.map { String($0.quant.zeroPoint) } ?? "-"))
            }
            if plan {
                print("\narena plan (offset, bytes, live steps):")
                let names = Dictionary(uniqueKeysWithValues: net.tensorRequestIndex.map { ($1, $0) })
                for i in net.requests.indices.sorted(by: { net.plan.offsets[$0] < net.plan.offsets[$1] }) {
                    let r = net.requests[i]
                    print("  " + String(net.plan.offsets[i]).leftPad(9) + "  " + String(r.size).leftPad(9) + "  " +
                          "\(r.first)…\(r.last)".padding(10) + (names[i] ?? "scratch"))
                }
            }
            if let report = file.metadata["quantization.report"] { print("\nquantization report: \(report)") }
        } catch let e as ValidationError {
            throw e
        } catch {
            throw fail(error)
        }
    }
}
