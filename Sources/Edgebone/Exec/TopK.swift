// Softmax and top-k over logits, into caller-owned storage (no allocation per frame).

/// One ranked class.
public struct ClassScore: Sendable, Equatable {
    public var index: Int
    /// Softmax probability.
    public var score: Float
    public init(index: Int, score: Float) { self.index = index; self.score = score }
}

public enum TopK {
    /// Writes the `out.count` best classes of `logits` (softmax scores), best first. Ties keep the
    /// lower class index first.
    public static func select(_ logits: UnsafeBufferPointer<Float>, into out: UnsafeMutableBufferPointer<ClassScore>) {
        let k = min(out.count, logits.count)
        var maxLogit = -Float.infinity
        for v in logits where v > maxLogit { maxLogit = v }
        var sum: Float = 0
        for v in logits { sum += (v - maxLogit).exp }
        var filled = 0
        for (i, v) in logits.enumerated() {
            if filled == k && !(v > logits[out[k - 1].index]) { continue }
            var pos = filled < k ? filled : k - 1
            while pos > 0 && v > logits[out[pos - 1].index] {
                out[pos] = out[pos - 1]
                pos -= 1
            }
            out[pos] = ClassScore(index: i, score: v)
            if filled < k { filled += 1 }
        }
        for j in 0..<k { out[j].score = (logits[out[j].index] - maxLogit).exp / sum }
    }

    /// Convenience returning an array (tools and tests, not the per-frame path).
    public static func select(_ logits: [Float], k: Int) -> [ClassScore] {
        var out = [ClassScore](repeating: ClassScore(index: 0, score: 0), count: min(k, logits.count))
        logits.withUnsafeBufferPointer { l in out.withUnsafeMutableBufferPointer { select(l, into: $0) } }
        return out
    }
}

extension Float {
    @inline(__always) var exp: Float {
        #if canImport(Glibc)
        return Glibc.expf(self)
        #else
        return Darwin.expf(self)
        #endif
    }
}
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
