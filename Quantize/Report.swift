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
    }
    public var layers: [Layer]
    public var views: Int
    public var meanCosine: Double
    public var minCosine: Double
    public var top1Agreement: Double
    public var method: String
    public var calibrationViews: Int
    /// Ops kept in float32 (a prefix of the network), and their share of its multiply-adds.
    public var floatOps: [String] = []
    public var floatShare: Double = 0
    /// With an automatic float prefix: the all-int8 cosine it started from, and the target.
    public var allInt8Cosine: Double?
    public var targetCosine: Double?

    /// "N ops, first … last (x% of the multiply-adds)" for the float32 prefix; nil when all int8.
    public var floatPrefixSummary: String? {
        guard let first = floatOps.first, let last = floatOps.last else { return nil }
        return "\(floatOps.count) ops, \(first) … \(last) (\(format1(floatShare * 100))% of the multiply-adds)"
    }

    /// Human-readable table.
    public var text: String {
        var out = "per-layer SQNR (int8 vs float, dB) over \(views) held-out view(s):\n"
        for l in layers {
            out += "  " + l.name.padded(34) + l.kind.padded(11) + String(format1(l.sqnr)).leftPadded(7) + (l.sqnr < 15 ? "  ← low" : "") + "\n"
        }
        let worst = layers.min { $0.sqnr < $1.sqnr }
        out += "worst layer: \(worst?.name ?? "-") at \(format1(worst?.sqnr ?? 0)) dB\n"
        out += "end to end: logits cosine mean \(format4(meanCosine)), min \(format4(minCosine)); top-1 agreement \(format1(top1Agreement * 100))%"
        out += " (\(views) held-out views; ranges by \(method) over \(calibrationViews) calibration views)\n"
        if let prefix = floatPrefixSummary {
            out += "kept in float32: " + prefix
            if let all = allInt8Cosine { out += "; all int8 reached \(format4(all))" }
            out += "\n"
        }
        if let target = targetCosine, meanCosine < target {
            out += "target cosine \(target) not reached within the allowed float share\n"
        } else if targetCosine == nil, floatOps.isEmpty, meanCosine < 0.99 {
            out += "note: below 0.99; --float-prefix auto keeps the most sensitive leading layers in float32\n"
        }
        return out
    }

    public var json: String {
        let layerJSON = layers.map { JSONValue.object(["name": .string($0.name), "kind": .string($0.kind), "sqnr_db": .double($0.sqnr.isFinite ? $0.sqnr : 999)]) }
        return JSONValue.object([
            "layers": .array(layerJSON), "heldout_views": .int(views), "calibration_views": .int(calibrationViews),
            "logits_cosine_mean": .double(meanCosine), "logits_cosine_min": .double(minCosine),
            "top1_agreement": .double(top1Agreement), "range_method": .string(method),
            "float_ops": .array(floatOps.map { .string($0) }), "float_macs_share": .double(floatShare),
            "all_int8_cosine_mean": allInt8Cosine.map { .double($0) } ?? .null,
        ]).serialized
    }
}

extension Quantizer {
    /// Compares `model` (loaded) with the float graph on `views`.
    public func evaluate(_ model: Int8Network, views: [[UInt8]], method: RangeMethod, calibrationViews: Int,
                         progress: ((String, Int, Int) -> Void)? = nil) -> FidelityReport {
        // Which float op finalizes each int8 op's tensor (the activation op when one is fused).
        var floatFinal: [String: Int] = [:]
        for (i, op) in graph.ops.enumerated() {
            if case .activation = op { continue }
            floatFinal[graph.opNames[i]] = fusedActivation[i] != nil ? i + 1 : i
        }
        let opNames = model.program.ops.map(\.name)
        var signal = [Double](repeating: 0, count: opNames.count), noise = signal
        var cosines: [Double] = []
        var agree = 0
        for (n, view) in views.enumerated() {
            // Float: copy each mapped tensor when it is final.
            var reference: [String: [Float]] = [:]
            let wanted = Dictionary(uniqueKeysWithValues: opNames.compactMap { name in floatFinal[name].map { ($0, name) } })
            setInput(view)
            network.run { i in
                guard let name = wanted[i] else { return }
                let t = graph.ops[i].output
                reference[name] = Array(UnsafeBufferPointer(start: network.pointer(to: t), count: graph.tensors[t].elementCount))
            }
            let floatLogits = Array(network.output)
            view.withUnsafeBufferPointer { model.setInput(rgb: $0.baseAddress!) }
            model.run { i in
                let op = model.program.ops[i]
                guard op.kind != .classifier, let ref = reference[op.name] else { return }
                let q = model.values(of: op.output)
                for j in ref.indices {
                    signal[i] += Double(ref[j]) * Double(ref[j])
                    noise[i] += Double(ref[j] - q[j]) * Double(ref[j] - q[j])
                }
            }
            let qLogits = Array(model.output)
            cosines.append(cosine(floatLogits, qLogits))
            if argmax(floatLogits) == argmax(qLogits) { agree += 1 }
            progress?("evaluating", n + 1, views.count)
        }
        var layers: [FidelityReport.Layer] = []
        for (i, op) in model.program.ops.enumerated() where op.kind != .classifier {
            layers.append(.init(name: op.name, kind: op.kind.rawValue + (op.activation.map { "+" + $0.rawValue } ?? ""),
                                sqnr: noise[i] > 0 ? 10 * log10(signal[i] / noise[i]) : .infinity))
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
func format4(_ v: Double) -> String { String(Double(Int((v * 10000).rounded())) / 10000) }

extension String {
    func padded(_ n: Int) -> String { count >= n ? self + " " : self + String(repeating: " ", count: n - count) }
    func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
