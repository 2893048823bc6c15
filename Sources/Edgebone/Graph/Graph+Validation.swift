// Structural checks of a graph (indices, order, shapes, dtypes, quantization) before any op's own
// checks: a model file that breaks any rule is refused with the node and the reason, never run.

extension Graph {
    /// Largest tensor accepted (elements), and largest dimension.
    public static let maxElements = 1 << 28
    public static let maxDimension = 1 << 16

    /// Every rule of the graph and of each node's op kind. Throws the first broken one.
    public func validate() throws(GraphError) {
        for t in tensors {
            guard (1...4).contains(t.shape.count), t.shape.allSatisfy({ (1...Self.maxDimension).contains($0) }),
                  let n = t.checkedElementCount, n <= Self.maxElements else {
                throw GraphError(t.name, "tensor shape \(t.shape) is not valid (rank 1…4, dimensions 1…\(Self.maxDimension), at most \(Self.maxElements) elements)")
            }
            switch t.type {
            case .f32: guard t.quant == nil else { throw GraphError(t.name, "an f32 tensor carries no quantization") }
            case .qs8:
                guard let q = t.quant, q.isValid else {
                    throw GraphError(t.name, "qs8 tensor needs a finite positive scale and a zero point in -128…127, has \(t.quant.map { "\($0.scale) / \($0.zeroPoint)" } ?? "none")")
                }
            }
        }
        guard tensors.indices.contains(input), tensors.indices.contains(output) else {
            throw GraphError("graph", "input \(input) or output \(output) is not a tensor index (\(tensors.count) tensors)")
        }
        let x = tensors[input]
        guard x.shape.count == 3, x.shape[2] == 3, x.shape[0] == x.shape[1] else {
            throw GraphError(x.name, "the input must be a square [s, s, 3] image, is \(x.shape)")
        }
        switch x.type {
        case .qs8: guard x.quant == .pixels else { throw GraphError(x.name, "a qs8 input must hold the pixels (scale 1, zero point -128)") }
        case .f32:
            guard normalization.scale.count == 3, normalization.offset.count == 3,
                  (normalization.scale + normalization.offset).allSatisfy(\.isFinite) else {
                throw GraphError(x.name, "an f32 input needs 3 finite normalization scales and offsets")
            }
        }
        guard tensors[output].type == .f32, tensors[output].shape.count == 1 else {
            throw GraphError(tensors[output].name, "the output must be an f32 vector (logits)")
        }
        var names = Set<String>()
        var written = [Bool](repeating: false, count: tensors.count)
        written[input] = true
        for node in nodes {
            guard !node.name.isEmpty, names.insert(node.name).inserted else { throw node.fail("node name empty or used twice") }
            for t in node.inputs {
                guard tensors.indices.contains(t) else { throw node.fail("input \(t) is not a tensor index") }
                guard written[t] else { throw node.fail("reads '\(tensors[t].name)' before it is written") }
            }
            guard tensors.indices.contains(node.output) else { throw node.fail("output \(node.output) is not a tensor index") }
            guard !written[node.output] else { throw node.fail("writes '\(tensors[node.output].name)', which is already written") }
            written[node.output] = true
            try implementation(of: node.op).validate(node, in: self)
        }
        guard written[output], output != input else { throw GraphError(tensors[output].name, "the output is never written") }
    }
}
