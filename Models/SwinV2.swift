// The SwinV2 family (swinv2_tiny_window8_256, swinv2_tiny_window16_256 and other widths/depths of
// the same code): configuration as timm builds it, and the plain float32 graph from a timm-named
// state dict. The continuous relative position bias (a small MLP over log-spaced coordinates, then
// 16·sigmoid) and the shifted-window masks do not depend on the image: they are computed here, once,
// into constants of each attention node.
import Edgebone
#if canImport(Glibc)
import Glibc
#endif

public struct SwinV2Config: Architecture, Equatable {
    public static let archNames = ["swinv2_tiny_window8_256", "swinv2_tiny_window16_256"]
    public static let optionKeys = ["embed_dim", "depths", "num_heads", "window_size", "num_classes"]

    public var arch: String
    public var embedDim: Int
    public var depths: [Int]
    public var heads: [Int]
    public var window: Int
    public var numClasses: Int
    public var imageSize = 256
    public var patchSize = 4
    public var mlpRatio = 4
    public var preprocessing: Preprocessing

    /// Registry entry. Options: `embed_dim` (multiple of every stage's heads), `depths` and `num_heads`
    /// (four comma-separated numbers), `window_size`, `num_classes`.
    public init(arch: String, options: [String: String]) throws {
        guard Self.archNames.contains(arch) else { throw ArchitectureError.unknown(arch, known: Architectures.archNames) }
        if let bad = options.keys.sorted().first(where: { !Self.optionKeys.contains($0) }) {
            throw ArchitectureError.badParameter("\(arch) has no option '\(bad)' (it reads \(Self.optionKeys.joined(separator: ", ")))")
        }
        func list(_ key: String, _ value: [Int]) throws -> [Int] {
            guard let s = options[key] else { return value }
            let parts = s.split(separator: ",").map { Int($0.filter { $0 != " " }) }
            guard parts.count == 4, parts.allSatisfy({ ($0 ?? 0) >= 1 && ($0 ?? 0) <= 64 }) else {
                throw ArchitectureError.badParameter("\(key) '\(s)' must be four numbers in 1…64")
            }
            return parts.map { $0! }
        }
        func whole(_ key: String, _ value: Int, _ range: ClosedRange<Int>) throws -> Int {
            let v = try numberOption(options, key, default: Double(value), range: Double(range.lowerBound)...Double(range.upperBound))
            guard v == v.rounded() else { throw ArchitectureError.badParameter("\(key) must be a whole number") }
            return Int(v)
        }
        self.arch = arch
        embedDim = try whole("embed_dim", 96, 1...1024)
        depths = try list("depths", [2, 2, 6, 2])
        heads = try list("num_heads", [3, 6, 12, 24])
        window = try whole("window_size", arch.contains("window16") ? 16 : 8, 1...64)
        numClasses = try whole("num_classes", 1000, 1...100_000)
        for (i, h) in heads.enumerated() where (embedDim << i) % h != 0 {
            throw ArchitectureError.badParameter("stage \(i): \(embedDim << i) channels do not split into \(h) heads")
        }
        let imagenet = (mean: [Float(0.485), 0.456, 0.406], std: [Float(0.229), 0.224, 0.225])
        preprocessing = Preprocessing(inputSize: imageSize, cropFraction: 0.9, interpolation: .bicubic, mean: imagenet.mean, std: imagenet.std)
    }

    public var summary: String {
        "\(arch) (embed_dim \(embedDim), depths \(depths.map(String.init).joined(separator: ",")), heads " +
            "\(heads.map(String.init).joined(separator: ",")), window \(window), \(numClasses) classes)"
    }

    /// Side of the token map in stage i.
    func resolution(_ stage: Int) -> Int { (imageSize / patchSize) >> stage }
    func dim(_ stage: Int) -> Int { embedDim << stage }
    /// Window and shift of block j of stage i, as timm adjusts them to the map: a window no larger
    /// than the map, and no shift when one window covers it.
    func windowAndShift(stage: Int, block: Int) -> (window: Int, shift: Int) {
        let r = resolution(stage)
        if r <= window { return (r, 0) }
        return (window, block % 2 == 1 ? window / 2 : 0)
    }

    /// Every tensor a timm state dict of this configuration holds.
    public var checkpointTensorNames: [String] {
        var names = ["patch_embed.proj.weight", "patch_embed.proj.bias", "patch_embed.norm.weight", "patch_embed.norm.bias"]
        for (i, depth) in depths.enumerated() {
            if i > 0 { names += ["reduction.weight", "norm.weight", "norm.bias"].map { "layers.\(i).downsample." + $0 } }
            for j in 0..<depth {
                let p = "layers.\(i).blocks.\(j)."
                names += ["logit_scale", "q_bias", "v_bias", "qkv.weight", "proj.weight", "proj.bias", "cpb_mlp.0.weight", "cpb_mlp.0.bias",
                          "cpb_mlp.2.weight"].map { p + "attn." + $0 }
                names += ["norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias", "mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight",
                          "mlp.fc2.bias"].map { p + $0 }
            }
        }
        return names + ["norm.weight", "norm.bias", "head.fc.weight", "head.fc.bias"]
    }

    public func graph(checkpoint file: SafeTensorsFile) throws -> Graph {
        let expected = Set(checkpointTensorNames)
        for name in checkpointTensorNames where file.tensors[name] == nil {
            throw ModelFileError.missingTensor(path: file.path, tensor: name)
        }
        let extra = file.names.filter { !expected.contains($0) && !$0.hasSuffix("relative_position_index") && !$0.hasSuffix("relative_coords_table")
            && !$0.hasSuffix("attn_mask") }
        if !extra.isEmpty { throw ModelFileError.unexpectedTensors(path: file.path, tensors: extra) }

        var g = Graph()
        g.input = g.addTensor("input", shape: [imageSize, imageSize, 3])
        g.normalization = InputNormalization(scale: preprocessing.normalizationScale, offset: preprocessing.normalizationOffset)
        func floats(_ name: String, _ shape: [Int]) throws -> [Float] { try file.floats(name, shape: shape) }
        func layerNorm(_ name: String, _ x: Int) throws -> Int {
            let c = g.tensors[x].shape.last!
            return g.addNode(name, .layerNorm, inputs: [x], outputShape: g.tensors[x].shape, attributes: Attributes(epsilon: 1e-5),
                             constants: ["weight": Constant(floats: try floats(name + ".weight", [c]), shape: [c]),
                                         "bias": Constant(floats: try floats(name + ".bias", [c]), shape: [c])])
        }
        func linear(_ name: String, _ x: Int, out: Int, weight: [Float]? = nil, bias: [Float]? = nil) throws -> Int {
            let k = g.tensors[x].shape.last!
            let w = try weight ?? floats(name + ".weight", [out, k])
            let b = try bias ?? floats(name + ".bias", [out])
            return g.addNode(name, .linear, inputs: [x], outputShape: g.tensors[x].shape.dropLast() + [out],
                             constants: ["weight": Constant(floats: w, shape: [out, k]), "bias": Constant(floats: b, shape: [out])])
        }

        // Patch embedding: a 4×4 stride-4 convolution (weights to [out][ky][kx][in]), then LayerNorm.
        let e = embedDim, p = patchSize
        let pw = try floats("patch_embed.proj.weight", [e, 3, p, p])
        var hwc = [Float](repeating: 0, count: pw.count)
        for o in 0..<e { for c in 0..<3 { for ky in 0..<p { for kx in 0..<p { hwc[((o * p + ky) * p + kx) * 3 + c] = pw[((o * 3 + c) * p + ky) * p + kx] } } } }
        let r0 = resolution(0)
        var x = g.addNode("patch_embed.proj", .conv, inputs: [g.input], outputShape: [r0, r0, e],
                          attributes: Attributes(kernel: p, stride: p, padding: .valid),
                          constants: ["weight": Constant(floats: hwc, shape: [e, p * p * 3]),
                                      "bias": Constant(floats: try floats("patch_embed.proj.bias", [e]), shape: [e])])
        x = try layerNorm("patch_embed.norm", x)

        for (i, depth) in depths.enumerated() {
            let c = dim(i), r = resolution(i)
            if i > 0 {
                let d = "layers.\(i).downsample"
                let merged = g.addNode(d + ".merge", .patchMerge, inputs: [x], outputShape: [r, r, 2 * c])
                x = try linear(d + ".reduction", merged, out: c, bias: [Float](repeating: 0, count: c))
                x = try layerNorm(d + ".norm", x)
            }
            for j in 0..<depth {
                let b = "layers.\(i).blocks.\(j)", a = b + ".attn"
                let (ws, shift) = windowAndShift(stage: i, block: j)
                let n = ws * ws, h = heads[i]
                let shortcut = x
                let windows = g.addNode(b + ".partition", .windowPartition, inputs: [x], outputShape: [r * r, c],
                                        attributes: Attributes(window: ws, shift: shift))
                let qBias = try floats(a + ".q_bias", [c]), vBias = try floats(a + ".v_bias", [c])
                let qkv = try linear(a + ".qkv", windows, out: 3 * c, bias: qBias + [Float](repeating: 0, count: c) + vBias)
                var constants = ["logit_scale": Constant(floats: try floats(a + ".logit_scale", [h, 1, 1]).map { expf(min($0, logf(100))) }, shape: [h]),
                                 "position_bias": Constant(floats: try positionBias(file, a, window: ws, heads: h), shape: [h, n, n])]
                if shift > 0 { constants["mask"] = Constant(floats: shiftMask(size: r, window: ws, shift: shift), shape: [(r / ws) * (r / ws), n, n]) }
                let attended = g.addNode(a, .attention, inputs: [qkv], outputShape: [r * r, c], attributes: Attributes(heads: h, tokens: n),
                                         constants: constants)
                let projected = try linear(a + ".proj", attended, out: c)
                let back = g.addNode(b + ".reverse", .windowReverse, inputs: [projected], outputShape: [r, r, c],
                                     attributes: Attributes(window: ws, shift: shift))
                x = g.addNode(b + ".add1", .add, inputs: [shortcut, try layerNorm(b + ".norm1", back)], outputShape: [r, r, c])
                let hidden = try linear(b + ".mlp.fc1", x, out: mlpRatio * c)
                let activated = g.addNode(b + ".mlp.act", .activation, inputs: [hidden], outputShape: [r, r, mlpRatio * c],
                                          attributes: Attributes(activation: .gelu))
                let mlp = try linear(b + ".mlp.fc2", activated, out: c)
                x = g.addNode(b + ".add2", .add, inputs: [x, try layerNorm(b + ".norm2", mlp)], outputShape: [r, r, c])
            }
        }
        x = try layerNorm("norm", x)
        let features = dim(depths.count - 1)
        x = g.addNode("head.global_pool", .globalAvgPool, inputs: [x], outputShape: [features])
        g.output = try linear("head.fc", x, out: numClasses)
        return g
    }

    /// 16·sigmoid of the continuous position MLP at every pair of tokens in a window: [heads][n][n].
    func positionBias(_ file: SafeTensorsFile, _ a: String, window w: Int, heads h: Int) throws -> [Float] {
        let w1 = try file.floats(a + ".cpb_mlp.0.weight", shape: [512, 2]), b1 = try file.floats(a + ".cpb_mlp.0.bias", shape: [512])
        let w2 = try file.floats(a + ".cpb_mlp.2.weight", shape: [h, 512])
        let span = 2 * w - 1
        // The MLP over the log-spaced relative coordinates (dy, dx) ∈ [−(w−1), w−1]², in float as timm.
        var table = [Float](repeating: 0, count: span * span * h)
        for a0 in 0..<span {
            for b0 in 0..<span {
                func coordinate(_ d: Int) -> Float {
                    let v = Float(d) / Float(max(w - 1, 1)) * 8
                    return (v > 0 ? 1 : v < 0 ? -1 : 0) * log2f(abs(v) + 1) / log2f(8)
                }
                let cy = coordinate(a0 - (w - 1)), cx = coordinate(b0 - (w - 1))
                var hidden = [Float](repeating: 0, count: 512)
                for u in 0..<512 { hidden[u] = max(0, w1[2 * u] * cy + w1[2 * u + 1] * cx + b1[u]) }
                for k in 0..<h {
                    var s: Float = 0
                    for u in 0..<512 { s += w2[k * 512 + u] * hidden[u] }
                    table[(a0 * span + b0) * h + k] = s
                }
            }
        }
        let n = w * w
        var bias = [Float](repeating: 0, count: h * n * n)
        for i in 0..<n {
            for j in 0..<n {
                let index = ((i / w) - (j / w) + w - 1) * span + ((i % w) - (j % w) + w - 1)
                for k in 0..<h { bias[(k * n + i) * n + j] = 16 / (1 + expf(-table[index * h + k])) }
            }
        }
        return bias
    }

    /// The shifted-window mask: −100 between tokens of a window that came from different regions of
    /// the map before the cyclic shift, 0 elsewhere. [windows][n][n].
    func shiftMask(size r: Int, window w: Int, shift s: Int) -> [Float] {
        func region(_ v: Int) -> Int { v < r - w ? 0 : v < r - s ? 1 : 2 }
        let perSide = r / w, n = w * w
        var mask = [Float](repeating: 0, count: perSide * perSide * n * n)
        for wy in 0..<perSide {
            for wx in 0..<perSide {
                let win = wy * perSide + wx
                let labels = (0..<n).map { t in 3 * region(wy * w + t / w) + region(wx * w + t % w) }
                for i in 0..<n { for j in 0..<n where labels[i] != labels[j] { mask[(win * n + i) * n + j] = -100 } }
            }
        }
        return mask
    }
}
