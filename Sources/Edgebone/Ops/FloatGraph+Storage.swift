// A float graph stored inside an int8 model file (ops kept in float by the quantizer): its structure
// as JSON, its parameters as one F32 tensor. Loading validates every index, parameter range and shape
// before anything runs, so a corrupt description is an error, never a crash.

/// The structure of a FloatGraph without its parameter values.
public struct FloatGraphSpec: Codable, Equatable, Sendable {
    public var tensors: [FloatTensor]
    public var ops: [FloatOp]
    public var opNames: [String]
    public var input: TensorIndex
    public var output: TensorIndex
    public var parameterCount: Int

    public init(_ graph: FloatGraph) {
        tensors = graph.tensors; ops = graph.ops; opNames = graph.opNames
        input = graph.input; output = graph.output; parameterCount = graph.parameters.count
    }

    /// The graph with `parameters` (which must hold `parameterCount` values), after `validate()`.
    public func graph(parameters: [Float]) throws(FloatGraphError) -> FloatGraph {
        guard parameters.count == parameterCount else { throw FloatGraphError("has \(parameters.count) parameters, the description needs \(parameterCount)") }
        try validate()
        var g = FloatGraph()
        g.tensors = tensors; g.ops = ops; g.opNames = opNames; g.input = input; g.output = output; g.parameters = parameters
        return g
    }

    /// Every tensor index in range and produced before it is read, parameter blocks inside the
    /// parameters, shapes consistent with each op's geometry and weights.
    public func validate() throws(FloatGraphError) {
        guard opNames.count == ops.count else { throw FloatGraphError("\(ops.count) ops but \(opNames.count) names") }
        for t in tensors {
            guard !t.shape.isEmpty, t.shape.count <= 3, t.shape.allSatisfy({ $0 > 0 && $0 <= 1 << 16 }), t.elementCount <= 1 << 28 else {
                throw FloatGraphError("tensor '\(t.name)' has an invalid shape \(t.shape)")
            }
        }
        func tensor(_ i: TensorIndex) throws(FloatGraphError) -> [Int] {
            guard tensors.indices.contains(i) else { throw FloatGraphError("tensor index \(i) out of range") }
            return tensors[i].shape
        }
        _ = try tensor(input)
        _ = try tensor(output)
        guard try tensor(input).count == 3 else { throw FloatGraphError("the input must be [h, w, c]") }
        var produced: Set<TensorIndex> = [input]
        for (i, op) in ops.enumerated() {
            let name = opNames[i]
            func fail(_ detail: String) -> FloatGraphError { FloatGraphError("op '\(name)': \(detail)") }
            func params(_ r: ParamRef, _ count: Int) throws(FloatGraphError) {
                guard r.offset >= 0, r.count == count, r.offset <= parameterCount - count else {
                    throw fail("parameter block (\(r.offset), \(r.count)) does not hold \(count) values inside \(parameterCount)")
                }
            }
            func geometry(_ g: ConvGeometry, _ x: [Int], _ y: [Int], cout: Int) throws(FloatGraphError) {
                guard x.count == 3, y.count == 3, (1...7).contains(g.kernel), (1...2).contains(g.stride), g.inH == x[0], g.inW == x[1],
                      g == ConvGeometry(inH: x[0], inW: x[1], kernel: g.kernel, stride: g.stride, padding: .symmetric)
                        || g == ConvGeometry(inH: x[0], inW: x[1], kernel: g.kernel, stride: g.stride, padding: .same),
                      y == [g.outH, g.outW, cout] else { throw fail("geometry does not match \(x) → \(y)") }
            }
            for t in op.inputs {
                _ = try tensor(t)
                guard produced.contains(t) else { throw fail("reads tensor \(t) before it is written") }
            }
            let y = try tensor(op.output)
            switch op {
            case let .conv(x, _, w, b, g, _):
                let xs = try tensor(x), cout = y.count == 3 ? y[2] : 0
                try geometry(g, xs, y, cout: cout)
                try params(w, cout * g.kernel * g.kernel * xs[2]); try params(b, cout)
            case let .depthwise(x, _, w, b, g, _):
                let xs = try tensor(x)
                try geometry(g, xs, y, cout: xs.count == 3 ? xs[2] : 0)
                try params(w, g.kernel * g.kernel * xs[2]); try params(b, xs[2])
            case let .squeezeExcite(t, wr, br, we, be, rd, _):
                let s = try tensor(t)
                guard s.count == 3, rd > 0, rd <= 1 << 16 else { throw fail("needs [h, w, c] and a positive reduction") }
                try params(wr, rd * s[2]); try params(br, rd); try params(we, s[2] * rd); try params(be, s[2])
            case let .add(a, b, _):
                guard try tensor(a) == y, try tensor(b) == y else { throw fail("adds tensors of different shapes") }
            case let .globalAvgPool(x, _):
                let xs = try tensor(x)
                guard xs.count == 3, y == [xs[2]] else { throw fail("pools [h, w, c] into [c]") }
            case let .linear(x, _, w, b):
                guard y.count == 1 else { throw fail("writes a vector") }
                try params(w, y[0] * tensors[x].elementCount); try params(b, y[0])
            case .activation:
                break
            case let .mulChannel(x, gate, _):
                let xs = try tensor(x)
                guard xs.count == 3, try tensor(gate) == [xs[2]], y == xs else { throw fail("scales [h, w, c] by a [c] gate") }
            }
            produced.insert(op.output)
        }
        guard produced.contains(output) else { throw FloatGraphError("the output tensor is never written") }
    }
}

public struct FloatGraphError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension FloatGraph {
    /// Tensors written before op `b` (or the input) and read at or after it: what a cut before op
    /// `b` must hand over.
    public func liveTensors(cutBefore b: Int) -> [TensorIndex] {
        var producedBefore: Set<TensorIndex> = [input]
        for op in ops[..<b] { producedBefore.insert(op.output) }
        var live: [TensorIndex] = []
        for op in ops[b...] { for t in op.inputs where producedBefore.contains(t) && !live.contains(t) { live.append(t) } }
        return live
    }

    /// Cuts where the first `b` ops can run on their own and hand over exactly one [h, w, c] tensor in
    /// its final form (not between an op and its activation).
    public var prefixCuts: [Int] {
        (1..<ops.count).filter { b in
            if case .activation = ops[b] { return false }
            let live = liveTensors(cutBefore: b)
            return live.count == 1 && live[0] != input && tensors[live[0]].shape.count == 3
        }
    }

    /// The first `b` ops as a graph of their own, with only the tensors and parameters they use;
    /// its output is the tensor handed over at the cut.
    public func prefix(ops b: Int) -> FloatGraph {
        let live = liveTensors(cutBefore: b)
        precondition(live.count == 1, "not a prefix cut")
        var g = FloatGraph()
        var map: [TensorIndex: TensorIndex] = [:]
        func t(_ i: TensorIndex) -> TensorIndex {
            if let m = map[i] { return m }
            let m = g.addTensor(tensors[i].name, shape: tensors[i].shape)
            map[i] = m
            return m
        }
        func p(_ r: ParamRef) -> ParamRef { g.addParameters(Array(parameters[r.offset..<(r.offset + r.count)])) }
        g.input = t(input)
        for (i, op) in ops[..<b].enumerated() {
            let copy: FloatOp
            switch op {
            case let .conv(x, y, w, bias, geo, act): copy = .conv(input: t(x), output: t(y), weights: p(w), bias: p(bias), geometry: geo, activation: act)
            case let .depthwise(x, y, w, bias, geo, act): copy = .depthwise(input: t(x), output: t(y), weights: p(w), bias: p(bias), geometry: geo, activation: act)
            case let .squeezeExcite(x, wr, br, we, be, rd, act):
                copy = .squeezeExcite(tensor: t(x), reduceWeights: p(wr), reduceBias: p(br), expandWeights: p(we), expandBias: p(be), reduced: rd, activation: act)
            case let .add(a, bb, y): copy = .add(a: t(a), b: t(bb), output: t(y))
            case let .globalAvgPool(x, y): copy = .globalAvgPool(input: t(x), output: t(y))
            case let .linear(x, y, w, bias): copy = .linear(input: t(x), output: t(y), weights: p(w), bias: p(bias))
            case let .activation(x, act): copy = .activation(tensor: t(x), activation: act)
            case let .mulChannel(x, gate, y): copy = .mulChannel(x: t(x), gate: t(gate), output: t(y))
            }
            g.ops.append(copy)
            g.opNames.append(opNames[i])
        }
        g.output = t(live[0])
        return g
    }
}
