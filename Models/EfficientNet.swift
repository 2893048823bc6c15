// The EfficientNet family (B0, Lite0, TF-Lite0 and other widths/depths): configuration computed
// with timm's own rounding rules, and a float32 network built from a timm-named state dict with
// BatchNorm folded into the convolutions.
import Edgebone

/// A fully resolved EfficientNet: every block's channels, kernel and stride.
public struct EfficientNetConfig: Architecture, Equatable, Codable {
    public enum BlockKind: String, Sendable, Codable {
        /// Depthwise-separable: dw k×k → (SE) → pw 1×1 (timm DepthwiseSeparableConv).
        case depthwiseSeparable = "ds"
        /// Inverted residual: pw expand → dw k×k → (SE) → pw project (timm InvertedResidual).
        case invertedResidual = "ir"
    }

    public struct Block: Sendable, Equatable, Codable {
        public var kind: BlockKind
        public var inChannels: Int
        public var midChannels: Int
        public var outChannels: Int
        public var kernel: Int
        public var stride: Int
        /// Squeeze-and-excite reduced channels; 0 when the block has none.
        public var seChannels: Int
        public var hasSkip: Bool { stride == 1 && inChannels == outChannels }
    }

    /// timm model name of the family member this was derived from.
    public var arch: String
    public var channelMultiplier: Double
    public var depthMultiplier: Double
    public var stemChannels: Int
    public var headChannels: Int
    public var numClasses: Int
    /// Blocks grouped by stage (timm's `blocks.<stage>.<index>`).
    public var stages: [[Block]]
    public var activation: Activation
    public var padding: PaddingMode
    public var batchNormEpsilon: Double
    public var preprocessing: Preprocessing

    /// Architectures this family accepts.
    public static let archNames = ["efficientnet_b0", "efficientnet_lite0", "tf_efficientnet_lite0"]
    public static let optionKeys = ["channel_multiplier", "depth_multiplier", "num_classes"]

    /// Registry entry: `channel_multiplier` (0.1…8), `depth_multiplier` (0.1…8), `num_classes` (1…100000).
    public init(arch: String, options: [String: String]) throws {
        if let bad = options.keys.sorted().first(where: { !Self.optionKeys.contains($0) }) {
            throw ArchitectureError.badParameter("\(arch) has no option '\(bad)' (it reads \(Self.optionKeys.joined(separator: ", ")))")
        }
        let classes = try numberOption(options, "num_classes", default: 1000, range: 1...100_000)
        guard classes == classes.rounded() else { throw ArchitectureError.badParameter("num_classes must be a whole number") }
        try self.init(arch: arch, channelMultiplier: try numberOption(options, "channel_multiplier", default: 1, range: 0.1...8),
                      depthMultiplier: try numberOption(options, "depth_multiplier", default: 1, range: 0.1...8), numClasses: Int(classes))
    }

    public var summary: String {
        "\(arch) (channel × \(channelMultiplier), depth × \(depthMultiplier), \(numClasses) classes); stages: " +
            stages.map { "\($0.count)×\($0[0].kind.rawValue) k\($0[0].kernel) → \($0[0].outChannels)" }.joined(separator: ", ")
    }

    /// The configuration timm builds for `arch` with the given multipliers.
    public init(arch: String, channelMultiplier: Double = 1, depthMultiplier: Double = 1, numClasses: Int = 1000) throws {
        // (kind, repeats, kernel, stride, expansion, channels) per stage: timm's arch_def.
        let base: [(BlockKind, Int, Int, Int, Double, Int)] = [
            (.depthwiseSeparable, 1, 3, 1, 1, 16), (.invertedResidual, 2, 3, 2, 6, 24),
            (.invertedResidual, 2, 5, 2, 6, 40), (.invertedResidual, 3, 3, 2, 6, 80),
            (.invertedResidual, 3, 5, 1, 6, 112), (.invertedResidual, 4, 5, 2, 6, 192),
            (.invertedResidual, 1, 3, 1, 6, 320),
        ]
        let lite: Bool
        let imagenet = (mean: [Float(0.485), 0.456, 0.406], std: [Float(0.229), 0.224, 0.225])
        var pre = Preprocessing(inputSize: 224, cropFraction: 0.875, interpolation: .bicubic, mean: imagenet.mean, std: imagenet.std)
        switch arch {
        case "efficientnet_b0":
            lite = false; activation = .silu; padding = .symmetric; batchNormEpsilon = 1e-5
        case "efficientnet_lite0":
            lite = true; activation = .relu6; padding = .symmetric; batchNormEpsilon = 1e-5
        case "tf_efficientnet_lite0":
            lite = true; activation = .relu6; padding = .same; batchNormEpsilon = 1e-3
            pre.mean = [0.5, 0.5, 0.5]; pre.std = [0.5, 0.5, 0.5]
        default:
            throw ArchitectureError.unknown(arch, known: Self.archNames)
        }
        guard channelMultiplier > 0, depthMultiplier > 0, numClasses > 0 else {
            throw ArchitectureError.badParameter("multipliers and class count must be positive")
        }
        self.arch = arch
        self.channelMultiplier = channelMultiplier
        self.depthMultiplier = depthMultiplier
        self.numClasses = numClasses
        preprocessing = pre
        let round = { (c: Int) in timmRoundChannels(Double(c), multiplier: channelMultiplier) }
        // Lite keeps the stem at 32 and the head at 1280 ("fix_stem"), and does not scale the depth of
        // the first and last stages ("fix_first_last").
        stemChannels = lite ? 32 : round(32)
        headChannels = lite ? 1280 : round(1280)
        var inChannels = stemChannels
        var stages: [[Block]] = []
        for (s, (kind, repeats, kernel, stride, expansion, channels)) in base.enumerated() {
            let fixed = lite && (s == 0 || s == base.count - 1)
            let count = fixed ? repeats : Int((Double(repeats) * depthMultiplier).rounded(.up))
            let out = round(channels)
            var blocks: [Block] = []
            for i in 0..<count {
                let mid = kind == .depthwiseSeparable ? inChannels : timmMakeDivisible(Double(inChannels) * expansion)
                // timm: SE ratio 0.25 of the block input, expressed on mid channels, rounded half-even.
                let se = lite ? 0 : Int((Double(mid) * (0.25 / expansion)).rounded(.toNearestOrEven))
                blocks.append(Block(kind: kind, inChannels: inChannels, midChannels: mid, outChannels: out,
                                    kernel: kernel, stride: i == 0 ? stride : 1, seChannels: se))
                inChannels = out
            }
            stages.append(blocks)
        }
        self.stages = stages
    }
}

/// timm's make_divisible: nearest multiple of `divisor`, at least `divisor`, never below 90%.
public func timmMakeDivisible(_ v: Double, divisor: Int = 8) -> Int {
    var n = max(divisor, Int(v + Double(divisor) / 2) / divisor * divisor)
    if Double(n) < 0.9 * v { n += divisor }
    return n
}

/// timm's round_channels.
public func timmRoundChannels(_ c: Double, multiplier: Double) -> Int {
    timmMakeDivisible(c * multiplier)
}

// MARK: - Float network from a timm state dict

extension EfficientNetConfig {
    /// Every tensor name a timm state dict of this configuration holds (BatchNorm's
    /// `num_batches_tracked` counters excluded: they are accepted and ignored).
    public var checkpointTensorNames: [String] {
        var names = ["conv_stem.weight"] + bnNames("bn1")
        for (s, stage) in stages.enumerated() {
            for (i, b) in stage.enumerated() {
                let p = "blocks.\(s).\(i)."
                switch b.kind {
                case .depthwiseSeparable:
                    names += [p + "conv_dw.weight"] + bnNames(p + "bn1") + [p + "conv_pw.weight"] + bnNames(p + "bn2")
                case .invertedResidual:
                    names += [p + "conv_pw.weight"] + bnNames(p + "bn1") + [p + "conv_dw.weight"] + bnNames(p + "bn2")
                        + [p + "conv_pwl.weight"] + bnNames(p + "bn3")
                }
                if b.seChannels > 0 {
                    names += ["weight", "bias"].flatMap { [p + "se.conv_reduce." + $0, p + "se.conv_expand." + $0] }
                }
            }
        }
        names += ["conv_head.weight"] + bnNames("bn2") + ["classifier.weight", "classifier.bias"]
        return names
    }

    private func bnNames(_ p: String) -> [String] {
        ["weight", "bias", "running_mean", "running_var"].map { p + "." + $0 }
    }

    /// The plain float32 graph from a timm-named checkpoint: BatchNorm folded into the convolutions,
    /// activations and squeeze-and-excite as separate nodes (the fusion passes join them).
    public func graph(checkpoint file: SafeTensorsFile) throws -> Graph {
        let expected = Set(checkpointTensorNames)
        let extra = file.names.filter { !expected.contains($0) && !$0.hasSuffix(".num_batches_tracked") }
        for name in checkpointTensorNames where file.tensors[name] == nil {
            throw ModelFileError.missingTensor(path: file.path, tensor: name)
        }
        if !extra.isEmpty { throw ModelFileError.unexpectedTensors(path: file.path, tensors: extra) }

        let loader = CheckpointLoader(file: file, epsilon: batchNormEpsilon)
        var g = Graph()
        let s = preprocessing.inputSize
        g.input = g.addTensor("input", shape: [s, s, 3])
        g.normalization = InputNormalization(scale: preprocessing.normalizationScale, offset: preprocessing.normalizationOffset)
        func act(_ name: String, _ x: Int, _ f: Activation) -> Int {
            g.addNode(name + ".act", .activation, inputs: [x], outputShape: g.tensors[x].shape, attributes: Attributes(activation: f))
        }
        func conv(_ name: String, _ x: Int, _ wb: ([Float], [Float]), out: Int, kernel: Int, stride: Int) -> Int {
            let sh = g.tensors[x].shape
            let geo = ConvGeometry(inH: sh[0], inW: sh[1], kernel: kernel, stride: stride, padding: padding)
            return g.addNode(name, .conv, inputs: [x], outputShape: [geo.outH, geo.outW, out],
                             attributes: Attributes(kernel: kernel, stride: stride, padding: padding),
                             constants: ["weight": Constant(floats: wb.0, shape: [out, kernel * kernel * sh[2]]), "bias": Constant(floats: wb.1, shape: [out])])
        }
        func linear(_ name: String, _ x: Int, _ w: [Float], _ b: [Float]) -> Int {
            let k = g.tensors[x].shape.last!
            return g.addNode(name, .linear, inputs: [x], outputShape: g.tensors[x].shape.dropLast() + [b.count],
                             constants: ["weight": Constant(floats: w, shape: [b.count, k]), "bias": Constant(floats: b, shape: [b.count])])
        }
        var x = g.input
        x = act("conv_stem", conv("conv_stem", x, try loader.conv("conv_stem", bn: "bn1", out: stemChannels, in: 3, kernel: 3),
                                  out: stemChannels, kernel: 3, stride: 2), activation)
        for (si, stage) in stages.enumerated() {
            for (bi, blk) in stage.enumerated() {
                let p = "blocks.\(si).\(bi)."
                let shortcut = x
                var bnIndex = 1
                if blk.kind == .invertedResidual {
                    let wb = try loader.conv(p + "conv_pw", bn: p + "bn1", out: blk.midChannels, in: blk.inChannels, kernel: 1)
                    x = act(p + "conv_pw", conv(p + "conv_pw", x, wb, out: blk.midChannels, kernel: 1, stride: 1), activation)
                    bnIndex = 2
                }
                let (dw, db) = try loader.depthwise(p + "conv_dw", bn: p + "bn\(bnIndex)", channels: blk.midChannels, kernel: blk.kernel)
                let sh = g.tensors[x].shape
                let geo = ConvGeometry(inH: sh[0], inW: sh[1], kernel: blk.kernel, stride: blk.stride, padding: padding)
                x = g.addNode(p + "conv_dw", .depthwise, inputs: [x], outputShape: [geo.outH, geo.outW, sh[2]],
                              attributes: Attributes(kernel: blk.kernel, stride: blk.stride, padding: padding),
                              constants: ["weight": Constant(floats: dw, shape: [blk.kernel * blk.kernel, sh[2]]), "bias": Constant(floats: db, shape: [sh[2]])])
                x = act(p + "conv_dw", x, activation)
                if blk.seChannels > 0 {
                    let (c, rd) = (blk.midChannels, blk.seChannels)
                    let rw = try file.floats(p + "se.conv_reduce.weight", shape: [rd, c, 1, 1])
                    let rb = try file.floats(p + "se.conv_reduce.bias", shape: [rd])
                    let ew = try file.floats(p + "se.conv_expand.weight", shape: [c, rd, 1, 1])
                    let eb = try file.floats(p + "se.conv_expand.bias", shape: [c])
                    let pooled = g.addNode(p + "se.pool", .globalAvgPool, inputs: [x], outputShape: [c])
                    let reduced = act(p + "se.conv_reduce", linear(p + "se.conv_reduce", pooled, rw, rb), activation)
                    let gate = act(p + "se.conv_expand", linear(p + "se.conv_expand", reduced, ew, eb), .sigmoid)
                    x = g.addNode(p + "se", .mulChannel, inputs: [x, gate], outputShape: g.tensors[x].shape)
                }
                let project = blk.kind == .invertedResidual ? "conv_pwl" : "conv_pw"
                x = conv(p + project, x, try loader.conv(p + project, bn: p + "bn\(bnIndex + 1)", out: blk.outChannels, in: blk.midChannels, kernel: 1),
                         out: blk.outChannels, kernel: 1, stride: 1)
                if blk.hasSkip { x = g.addNode(p + "add", .add, inputs: [x, shortcut], outputShape: g.tensors[x].shape) }
            }
        }
        let last = stages.last!.last!.outChannels
        x = act("conv_head", conv("conv_head", x, try loader.conv("conv_head", bn: "bn2", out: headChannels, in: last, kernel: 1),
                                  out: headChannels, kernel: 1, stride: 1), activation)
        x = g.addNode("global_pool", .globalAvgPool, inputs: [x], outputShape: [headChannels])
        g.output = linear("classifier", x, try file.floats("classifier.weight", shape: [numClasses, headChannels]),
                          try file.floats("classifier.bias", shape: [numClasses]))
        return g
    }
}

/// Reads convolution weights and their BatchNorm, folds the BatchNorm and reorders to HWC.
struct CheckpointLoader {
    let file: SafeTensorsFile
    let epsilon: Double

    /// Per-channel BatchNorm as (scale, shift): y = x * scale + shift.
    func batchNorm(_ p: String, channels c: Int) throws -> (scale: [Double], shift: [Double]) {
        let gamma = try file.floats(p + ".weight", shape: [c]), beta = try file.floats(p + ".bias", shape: [c])
        let mean = try file.floats(p + ".running_mean", shape: [c]), variance = try file.floats(p + ".running_var", shape: [c])
        if let j = variance.firstIndex(where: { $0 < 0 }) {
            throw ModelFileError.malformedEntry(path: file.path, tensor: p + ".running_var", detail: "element \(j) is \(variance[j]) (a variance cannot be negative)")
        }
        var scale = [Double](repeating: 0, count: c), shift = scale
        for j in 0..<c {
            scale[j] = Double(gamma[j]) / (Double(variance[j]) + epsilon).squareRoot()
            shift[j] = Double(beta[j]) - Double(mean[j]) * scale[j]
        }
        return (scale, shift)
    }

    /// Dense conv: PyTorch [out][in][k][k] → [out][k][k][in], BatchNorm folded.
    func conv(_ name: String, bn: String, out: Int, in cin: Int, kernel k: Int) throws -> ([Float], [Float]) {
        let w = try file.floats(name + ".weight", shape: [out, cin, k, k])
        let (scale, shift) = try batchNorm(bn, channels: out)
        var folded = [Float](repeating: 0, count: w.count)
        for o in 0..<out {
            for i in 0..<cin {
                for ky in 0..<k {
                    for kx in 0..<k {
                        folded[((o * k + ky) * k + kx) * cin + i] = Float(Double(w[((o * cin + i) * k + ky) * k + kx]) * scale[o])
                    }
                }
            }
        }
        return (folded, shift.map { Float($0) })
    }

    /// Depthwise conv: PyTorch [c][1][k][k] → [k][k][c], BatchNorm folded.
    func depthwise(_ name: String, bn: String, channels c: Int, kernel k: Int) throws -> ([Float], [Float]) {
        let w = try file.floats(name + ".weight", shape: [c, 1, k, k])
        let (scale, shift) = try batchNorm(bn, channels: c)
        var folded = [Float](repeating: 0, count: w.count)
        for j in 0..<c {
            for t in 0..<(k * k) { folded[t * c + j] = Float(Double(w[j * k * k + t]) * scale[j]) }
        }
        return (folded, shift.map { Float($0) })
    }
}
