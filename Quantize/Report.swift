// Fidelity of an int8 model against its float original: per-layer SQNR and end-to-end logits cosine
// and top-1 agreement on held-out views.
import Edgebone
#if canImport(Glibc)
import Glibc
#endif

/// What quantization cost, layer by layer and end to end.
public struct FidelityReport: Sendable {
    public struct Layer: Sendable {
        public var name: String
        public var kind: String
        /// 10·log10(Σ f² / Σ (f − q)²) over all held-out views, dB.
        public var sqnr: Double
        /// How many values that sum is over (output elements × views).
        public var values: Int
    }
    public var layers: [Layer]
    public var views: Int
    public var meanCosine: Double
    public var minCosine: Double
    public var top1Agreement: Double
    public var method: String
    public var calibrationViews: Int
    /// Whether the report's views were kept out of calibration. With too few views (or --holdout 0)
    /// they are the calibration views themselves, and the figures are optimistic.
    public var heldOut = true
    /// Nodes kept in float32, and their share of the network's multiply-adds.
    public var floatOps: [String] = []
    public var floatShare: Double = 0
    /// With `--keep-float auto`: the all-int8 cosine it started from, and the target.
    public var allInt8Cosine: Double?
    public var targetCosine: Double?

    /// Measured cost of the float nodes: latency of this model over the all-int8 one (1 thread), when measured.
    public var floatLatencyRatio: Double?

    /// "N ops: a, b, … (x% of the multiply-adds)" for the nodes kept in float32; nil when all int8.
    public var floatSummary: String? {
        guard !floatOps.isEmpty else { return nil }
        let shown = floatOps.count <= 6 ? floatOps.joined(separator: ", ") : floatOps.prefix(3).joined(separator: ", ") + " … " + floatOps.suffix(2).joined(separator: ", ")
        var s = "\(floatOps.count) ops: \(shown) (\(format1(floatShare * 100))% of the multiply-adds"
        if let r = floatLatencyRatio { s += ", \(format2(r))× the all-int8 latency" }
        return s + ")"
    }

    /// Human-readable table.
    public var text: String {
        let over = heldOut ? "\(views) held-out view(s)" : "the \(views) calibration view(s) themselves — none held out, so these figures are optimistic"
        var out = "per-layer SQNR (int8 vs float, dB) over \(over):\n"
        for l in layers {
            out += "  " + l.name.padded(34) + l.kind.padded(11) + String(format1(l.sqnr)).leftPadded(7) + (l.sqnr < 15 ? "  ← low" : "") + "\n"
        }
        let worst = layers.min { $0.sqnr < $1.sqnr }
        out += "worst layer: \(worst?.name ?? "-") at \(format1(worst?.sqnr ?? 0)) dB\n"
        out += "end to end: logits cosine mean \(format4(meanCosine)), min \(format4(minCosine)); top-1 agreement \(format1(top1Agreement * 100))%"
        out += heldOut ? " (\(views) held-out views; ranges by \(method) over \(calibrationViews) calibration views)\n"
            : " (on the \(views) calibration views, none held out; ranges by \(method))\n"
        if let prefix = floatSummary {
            out += "kept in float32: " + prefix
            if let all = allInt8Cosine { out += "; all int8 reached \(format4(all))" }
            out += "\n"
        }
        if let target = targetCosine, meanCosine < target {
            out += "target cosine \(target) not reached within the allowed float share\n"
        } else if targetCosine == nil, floatOps.isEmpty, meanCosine < 0.99 {
            out += "note: below 0.99; --keep-float auto keeps the most sensitive layers in float32\n"
        }
        return out
    }

    public var json: String {
        let layerJSON = layers.map { JSONValue.object(["name": .string($0.name), "kind": .string($0.kind), "sqnr_db": .double($0.sqnr.isFinite ? $0.sqnr : 999), "values": .int($0.values)]) }
        return JSONValue.object([
            "layers": .array(layerJSON), "heldout_views": .int(heldOut ? views : 0), "evaluation_views": .int(views),
            "evaluated_on": .string(heldOut ? "held-out views" : "calibration views (none held out)"), "calibration_views": .int(calibrationViews),
            "logits_cosine_mean": .double(meanCosine), "logits_cosine_min": .double(minCosine),
            "top1_agreement": .double(top1Agreement), "range_method": .string(method),
            "float_ops": .array(floatOps.map { .string($0) }), "float_macs_share": .double(floatShare),
            "all_int8_cosine_mean": allInt8Cosine.map { .double($0) } ?? .null,
            "float_latency_ratio": floatLatencyRatio.map { .double($0) } ?? .null,
        ]).serialized
    }
}

extension Quantizer {
    /// Float logits of each view (the reference every candidate is compared with).
    public func floatLogits(_ views: [[UInt8]]) -> [[Float]] {
        views.map { v in setInput(v); network.run(); return Array(network.output) }
    }

    /// Mean logits cosine of `model` against `reference` (from `floatLogits`) over `views`.
    public func meanCosine(_ model: Network, views: [[UInt8]], reference: [[Float]]) -> Double {
        var sum = 0.0
        for (v, ref) in zip(views, reference) {
            v.withUnsafeBufferPointer { model.setInput(rgb: $0.baseAddress!) }
            model.run()
            sum += cosine(ref, Array(model.output))
        }
        return sum / Double(max(views.count, 1))
    }

    /// Compares `model` (loaded) with the float graph on `views`: per-node SQNR of every tensor the two
    /// graphs share by name, and end-to-end logits cosine and top-1 agreement — of `deployed` where given
    /// (the same model as classifiers run it, its precision boundaries folded).
    public func evaluate(_ model: Network, deployed: Network? = nil, views: [[UInt8]], method: RangeMethod, calibrationViews: Int,
                         progress: ((String, Int, Int) -> Void)? = nil) -> FidelityReport {
        let q = model.graph
        let floatTensor = Dictionary(uniqueKeysWithValues: graph.tensors.indices.map { (graph.tensors[$0].name, $0) })
        // Nodes whose output has a float counterpart (not conversions, not the logits).
        let compared = q.nodes.indices.filter { i in
            let n = q.nodes[i]
            return n.op != .quantize && n.op != .dequantize && n.output != q.output && floatTensor[q.tensors[n.output].name] != nil
        }
        let wanted = Dictionary(uniqueKeysWithValues: compared.map { (floatTensor[q.tensors[q.nodes[$0].output].name]!, $0) })
        var signal = [Double](repeating: 0, count: q.nodes.count), noise = signal
        var cosines: [Double] = []
        var agree = 0
        for (n, view) in views.enumerated() {
            var reference: [Int: [Float]] = [:]
            setInput(view)
            network.run { i in
                let t = graph.nodes[i].output
                guard let node = wanted[t] else { return }
                reference[node] = Array(UnsafeBufferPointer(start: network.pointer(to: t).assumingMemoryBound(to: Float.self), count: graph.tensors[t].elementCount))
            }
            let floatLogits = Array(network.output)
            view.withUnsafeBufferPointer { model.setInput(rgb: $0.baseAddress!) }
            model.run { i in
                guard let ref = reference[i] else { return }
                let v = model.values(of: q.nodes[i].output)
                for j in ref.indices {
                    signal[i] += Double(ref[j]) * Double(ref[j])
                    noise[i] += Double(ref[j] - v[j]) * Double(ref[j] - v[j])
                }
            }
            var qLogits = Array(model.output)
            if let deployed {
                view.withUnsafeBufferPointer { deployed.setInput(rgb: $0.baseAddress!) }
                deployed.run()
                qLogits = Array(deployed.output)
            }
            cosines.append(cosine(floatLogits, qLogits))
            if argmax(floatLogits) == argmax(qLogits) { agree += 1 }
            progress?("evaluating", n + 1, views.count)
        }
        let layers = compared.map { i in
            FidelityReport.Layer(name: q.nodes[i].name, kind: q.kindLabel(i), sqnr: noise[i] > 0 ? 10 * log10(signal[i] / noise[i]) : .infinity,
                                 values: q.tensors[q.nodes[i].output].elementCount * views.count)
        }
        return FidelityReport(layers: layers, views: views.count, meanCosine: cosines.reduce(0, +) / Double(max(cosines.count, 1)),
                              minCosine: cosines.min() ?? 0, top1Agreement: Double(agree) / Double(max(views.count, 1)),
                              method: method.rawValue, calibrationViews: calibrationViews)
    }
}

func cosine(_ a: [Float], _ b: [Float]) -> Double {
    var ab = 0.0, aa = 0.0, bb = 0.0
    for i in a.indices { ab += Double(a[i]) * Double(b[i]); aa += Double(a[i]) * Double(a[i]); bb += Double(b[i]) * Double(b[i]) }
    return ab / max((aa * bb).squareRoot(), 1e-30)
}

func argmax(_ v: [Float]) -> Int { v.indices.max { v[$0] < v[$1] }! }

func format1(_ v: Double) -> String { v.isFinite ? String(Double(Int((v * 10).rounded())) / 10) : "inf" }
func format2(_ v: Double) -> String { String(Double(Int((v * 100).rounded())) / 100) }
func format4(_ v: Double) -> String { String(Double(Int((v * 10000).rounded())) / 10000) }

extension String {
    func padded(_ n: Int) -> String { count >= n ? self + " " : self + String(repeating: " ", count: n - count) }
    func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
