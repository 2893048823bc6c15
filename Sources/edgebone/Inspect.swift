// edgebone inspect: what a model file holds and how the runtime lays it out.
import ArgumentParser
import Edgebone
import EdgeboneModels

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a model's architecture, graph, arena plan and quantization report.")

    @Option(name: .long, help: "Model file or float checkpoint (default: the bundled int8 model).")
    var model: String?

    @OptionGroup var architecture: ArchOptions

    @Flag(name: .long, help: "Also print the arena plan: every buffer's offset, size and lifetime.")
    var plan = false

    func run() throws {
        do {
            guard let path = model ?? BundledModel.path else { throw ValidationError("no --model given and no bundled model found") }
            let file = try SafeTensorsFile(path: path)
            let classifier: Classifier
            if Graph.isModelFile(file) {
                classifier = try Classifier(modelFile: path, isa: try ISA.fromEnvironment())
                print("\(path): Edgebone model, format \(file.metadata["edgebone.format_version"] ?? "?"), arch \(file.metadata["arch"] ?? "?"), " +
                      "\(classifier.precision), \(classifier.labels.count) classes")
                if let pre = file.metadata["preprocessing"] { print("preprocessing: \(pre)") }
                if let src = file.metadata["source"] { print("source: \(src); license: \(file.metadata["license"] ?? "-")") }
            } else {
                let config = try Architectures.configuration(checkpoint: file, arch: architecture.arch, options: try architecture.options())
                classifier = try Classifier(checkpoint: file, config: config, isa: try ISA.fromEnvironment())
                print("\(path): float checkpoint, \(config.summary), \(file.tensors.count) tensors")
            }
            let net = classifier.network, g = net.graph
            print("kernels: \(net.isa.rawValue) (\(net.kernelName)); weights \(net.weightsBytes) B")
            let ratio = Double(net.plan.arenaBytes) / Double(max(net.plan.lowerBoundBytes, 1))
            print("arena: \(net.plan.arenaBytes) B, lower bound \(net.plan.lowerBoundBytes) B (\(format3(ratio))×)")
            // Table activations by function and grid bits (a file without tableBits means 12).
            var tables: [String: Int] = [:]
            for node in g.nodes where node.attributes.preQuant != nil {
                tables["\(node.attributes.activation?.rawValue ?? "?") \(node.attributes.gridBits)-bit", default: 0] += 1
            }
            if !tables.isEmpty {
                print("activation tables: " + tables.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))
            }
            let shifting = g.nodes.filter { $0.attributes.shiftRequant == true }.count
            if shifting > 0 {
                let weighted = g.nodes.filter { [.conv, .depthwise].contains($0.op) && g.tensors[$0.output].type == .qs8 }.count
                print("shift requantization: \(shifting) of \(weighted) int8 convolutions (power-of-two scales)")
            }
            let floatMACs = g.nodes.indices.filter { g.kindLabel($0).hasPrefix("f32 ") }.reduce(0) { $0 + g.macs($1) }
            if floatMACs > 0 && classifier.precision != "fp32" {
                print("float32 nodes: \(format3(100 * Double(floatMACs) / Double(max(g.macs, 1))))% of the multiply-adds")
            }
            print("\nops (\(g.nodes.count)):")
            print("  " + "name".padding(30) + "kind".padding(28) + "output".padding(16) + "scale".padding(14) + "zero point")
            for i in g.nodes.indices {
                let node = g.nodes[i], t = g.tensors[node.output]
                let shape = t.shape.map(String.init).joined(separator: "x") + (t.type == .f32 ? " f32" : "")
                let scale = t.quant.map { String($0.scale) } ?? "-", zero = t.quant.map { String($0.zeroPoint) } ?? "-"
                print("  " + node.name.padding(30) + g.kindLabel(i).padding(28) + shape.padding(16) + scale.padding(14) + zero)
            }
            if plan {
                print("\narena plan (offset, bytes, live steps):")
                let order = net.requests.indices.sorted { net.plan.offsets[$0] < net.plan.offsets[$1] }
                for i in order {
                    let r = net.requests[i]
                    let line = String(net.plan.offsets[i]).leftPad(9) + "  " + String(r.size).leftPad(9) + "  "
                    print("  " + line + "\(r.first)…\(r.last)".padding(10) + net.requestNames[i])
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
