// Drawings of a bench run: a latency histogram for the terminal, and a standalone SVG (latency
// histogram with median/p90/p99, latency frame by frame, time per op kind).

/// Equal-width bins from the fastest frame to the 99th percentile, plus one bin for the slower tail
/// (so a few outliers do not squeeze the body of the distribution into one bar).
struct LatencyBins {
    let lower: [Double]     // lower edge of each bin; the last bin is [lower.last, max]
    let counts: [Int]
    let width: Double

    init(_ samples: [Double], stats: LatencyStats, bins requested: Int) {
        // Frames within a microsecond of each other (one frame, or a very steady run) share one bin.
        let bins = stats.p99 - stats.min < 1e-3 ? 1 : requested
        let lo = stats.min, hi = Swift.max(stats.p99, lo + 1e-3)
        width = (hi - lo) / Double(bins)
        lower = (0...bins).map { lo + Double($0) * ((hi - lo) / Double(bins)) }
        var c = [Int](repeating: 0, count: bins + 1)
        for s in samples {
            let i = s >= hi ? bins : Swift.min(bins - 1, Swift.max(0, Int((s - lo) / width)))
            c[i] += 1
        }
        // An empty tail bin means nothing was slower than the 99th percentile: drop it.
        if c[bins] == 0 { c.removeLast() }
        counts = c
    }

    var hasTail: Bool { counts.count == lower.count }
}

/// The terminal histogram: one line per bin, bar lengths proportional to the frame counts.
func textHistogram(_ samples: [Double], stats: LatencyStats, bins: Int = 12, barWidth: Int = 40) -> [String] {
    let b = LatencyBins(samples, stats: stats, bins: bins)
    let peak = Swift.max(1, b.counts.max() ?? 1)
    let eighths = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]
    var lines = ["latency histogram (ms), \(samples.count) frame\(samples.count == 1 ? "" : "s"):"]
    for (i, n) in b.counts.enumerated() {
        let label: String
        if b.hasTail && i == b.counts.count - 1 {
            label = "≥ \(format3(b.lower[i]))".leftPad(15)
        } else {
            label = "\(format3(b.lower[i]))–\(format3(b.lower[i] + b.width))".leftPad(15)
        }
        let units = Int((Double(n) / Double(peak) * Double(barWidth * 8)).rounded())
        let bar = String(repeating: "█", count: units / 8) + eighths[units % 8]
        lines.append("  \(label) │\(bar) \(n)")
    }
    return lines
}

/// Colours of op kinds, in the order of their time (slowest first).
private let kindPalette = ["#4a7ab5", "#6a9f58", "#d08a3c", "#8e6bb0", "#c0504d", "#4bacc6", "#a0a0a0", "#7a5c00", "#2f4f4f", "#b5a04a"]

/// A standalone SVG of a bench run. `kinds`: time per op kind, slowest first (nil without --profile).
/// `steps`: every op's time in network order (nil without --profile).
func benchSVG(title: String, samples: [Double], stats: LatencyStats, kinds: [(kind: String, ms: Double, share: Double)]?,
              steps: [(name: String, kind: String, ms: Double)]? = nil) -> String {
    let width = 760.0, left = 70.0, right = 20.0, plotW = width - left - right
    var y = 0.0
    var body: [String] = []
    func text(_ x: Double, _ y: Double, _ s: String, anchor: String = "start", size: Int = 12, cls: String = "", rotate: Bool = false) -> String {
        svgText(x, y, s, anchor: anchor, size: size, cls: cls, rotate: rotate)
    }

    body.append(text(left, 24, title, size: 15, cls: "title"))
    y = 44

    // 1. Histogram.
    let bins = LatencyBins(samples, stats: stats, bins: 40)
    let hTop = y + 20, hH = 180.0
    body.append(text(left, y + 12, "per-frame latency (ms): \(samples.count) frame\(samples.count == 1 ? "" : "s"), median \(format3(stats.median)), p90 \(format3(stats.p90)), p99 \(format3(stats.p99))", size: 13))
    let peak = Double(Swift.max(1, bins.counts.max() ?? 1))
    let slots = Double(bins.counts.count)
    for (i, n) in bins.counts.enumerated() {
        let x = left + Double(i) / slots * plotW, w = plotW / slots - 1
        let h = Double(n) / peak * hH
        let tail = bins.hasTail && i == bins.counts.count - 1
        body.append("<rect class=\"\(tail ? "bin tail" : "bin")\" x=\"\(fmt(x))\" y=\"\(fmt(hTop + hH - h))\" width=\"\(fmt(w))\" height=\"\(fmt(h))\"><title>\(tail ? "≥ \(format3(bins.lower[i]))" : "\(format3(bins.lower[i]))–\(format3(bins.lower[i] + bins.width))") ms: \(n) frames</title></rect>")
    }
    // Axes and percentile markers (on the body's linear scale; the tail bin sits past p99).
    let bodySlots = Double(bins.lower.count - 1)
    func xOf(_ ms: Double) -> Double { left + (ms - stats.min) / Swift.max(1e-9, bins.width * bodySlots) * (bodySlots / slots) * plotW }
    body.append("<line class=\"axis\" x1=\"\(fmt(left))\" y1=\"\(fmt(hTop + hH))\" x2=\"\(fmt(left + plotW))\" y2=\"\(fmt(hTop + hH))\"/>")
    let ticks = bins.counts.count > 1 ? 4 : 0  // one bin: a single tick
    for t in 0...ticks {
        let ms = stats.min + Double(t) / Double(Swift.max(1, ticks)) * (stats.p99 - stats.min)
        body.append(text(xOf(ms), hTop + hH + 16, format3(ms), anchor: "middle", size: 11))
    }
    if bins.hasTail { body.append(text(left + plotW - plotW / slots / 2, hTop + hH + 30, "> p99", anchor: "middle", size: 11, cls: "marker-label")) }
    body.append(text(left - 8, hTop + 10, "\(Int(peak))", anchor: "end", size: 11))
    body.append(text(left - 8, hTop + hH, "0", anchor: "end", size: 11))
    var labelEnd = -Double.infinity  // a marker label closer than that to the previous one moves down a line
    var labelRow = 0
    for (name, v) in [("median", stats.median), ("p90", stats.p90), ("p99", stats.p99)] {
        let x = xOf(v)
        labelRow = x < labelEnd ? labelRow + 1 : 0
        body.append("<line class=\"marker\" x1=\"\(fmt(x))\" y1=\"\(fmt(hTop - 4))\" x2=\"\(fmt(x))\" y2=\"\(fmt(hTop + hH))\"/>")
        body.append(text(x + 3, hTop + 6 + 13 * Double(labelRow), name, size: 11, cls: "marker-label"))
        labelEnd = x + 3 + 7 * Double(name.count)
    }
    y = hTop + hH + 48

    // 2. Latency frame by frame.
    let lTop = y + 20, lH = 120.0
    let yMax = Swift.max(stats.max, stats.min + 1e-6), yMin = stats.min
    body.append(text(left, y + 12, "latency by frame (ms), in measurement order", size: 13))
    let pts = samples.enumerated().map { i, s -> String in
        let x = left + (samples.count > 1 ? Double(i) / Double(samples.count - 1) : 0) * plotW
        let yy = lTop + lH - (s - yMin) / (yMax - yMin) * lH
        return "\(fmt(x)),\(fmt(yy))"
    }
    body.append("<polyline class=\"series\" points=\"\(pts.joined(separator: " "))\"/>")
    let medY = lTop + lH - (stats.median - yMin) / (yMax - yMin) * lH
    body.append("<line class=\"marker\" x1=\"\(fmt(left))\" y1=\"\(fmt(medY))\" x2=\"\(fmt(left + plotW))\" y2=\"\(fmt(medY))\"/>")
    body.append(text(left - 8, lTop + 10, format3(yMax), anchor: "end", size: 11))
    body.append(text(left - 8, lTop + lH, format3(yMin), anchor: "end", size: 11))
    body.append("<line class=\"axis\" x1=\"\(fmt(left))\" y1=\"\(fmt(lTop + lH))\" x2=\"\(fmt(left + plotW))\" y2=\"\(fmt(lTop + lH))\"/>")
    y = lTop + lH + 30

    // 3. Time per op kind.
    if let kinds, !kinds.isEmpty {
        let barH = 18.0, labelW = 170.0
        body.append(text(left, y + 12, "time per op kind (ms per frame)", size: 13))
        let most = Swift.max(1e-9, kinds.map(\.ms).max() ?? 1)
        var by = y + 24
        for (n, k) in kinds.enumerated() {
            let w = k.ms / most * (plotW - labelW - 120)
            body.append(text(left + labelW - 6, by + 13, k.kind, anchor: "end", size: 12))
            body.append("<rect class=\"kind\" fill=\"\(kindPalette[n % kindPalette.count])\" x=\"\(fmt(left + labelW))\" y=\"\(fmt(by))\" width=\"\(fmt(Swift.max(1, w)))\" height=\"\(fmt(barH - 4))\"/>")
            body.append(text(left + labelW + w + 6, by + 13, "\(format3(k.ms)) ms (\(format1(k.share))%)", size: 12))
            by += barH
        }
        y = by + 10
    }

    // 4. Time per op in network order, coloured by kind (the kinds' order above).
    if let steps, !steps.isEmpty, let kinds {
        let sTop = y + 30, sH = 140.0
        body.append(text(left, y + 12, "time per op in network order (ms per frame; colours as above, hover a bar for its name)", size: 13))
        let most = Swift.max(1e-9, steps.map(\.ms).max() ?? 1)
        let colour = Dictionary(uniqueKeysWithValues: kinds.enumerated().map { ($1.kind, kindPalette[$0 % kindPalette.count]) })
        let slot = plotW / Double(steps.count)
        var lastBlock = "", lastLabelX = -Double.infinity
        for (i, st) in steps.enumerated() {
            let x = left + Double(i) * slot, h = st.ms / most * sH
            body.append("<rect class=\"step\" fill=\"\(colour[st.kind] ?? "#a0a0a0")\" x=\"\(fmt(x))\" y=\"\(fmt(sTop + sH - h))\" width=\"\(fmt(Swift.max(0.5, slot - 0.5)))\" height=\"\(fmt(Swift.max(0.5, h)))\"><title>\(xmlEscape(st.name)) (\(xmlEscape(st.kind))): \(format3(st.ms)) ms</title></rect>")
            let parts = st.name.split(separator: ".")
            let block = parts.first == "blocks" && parts.count >= 2 ? parts[0...1].joined(separator: ".") : String(parts.first ?? "")
            if block != lastBlock {
                if x - lastLabelX >= 24 {
                    body.append(text(x + 2, sTop + sH + 14, block, anchor: "end", size: 10, cls: "", rotate: true))
                    lastLabelX = x
                }
                lastBlock = block
            }
        }
        body.append("<line class=\"axis\" x1=\"\(fmt(left))\" y1=\"\(fmt(sTop + sH))\" x2=\"\(fmt(left + plotW))\" y2=\"\(fmt(sTop + sH))\"/>")
        body.append(text(left - 8, sTop + 10, format3(most), anchor: "end", size: 11))
        body.append(text(left - 8, sTop + sH, "0", anchor: "end", size: 11))
        y = sTop + sH + 50
    }

    return svgDocument(width: width, height: y, body: body, style: """
      .bin { fill: #4a7ab5; } .tail { fill: #c0504d; }
      .axis { stroke: #444; stroke-width: 1; }
      .series { fill: none; stroke: #4a7ab5; stroke-width: 1; }
    """)
}

/// A text element; `rotate` turns it 45° up around its anchor (axis labels).
private func svgText(_ x: Double, _ y: Double, _ s: String, anchor: String, size: Int, cls: String, rotate: Bool) -> String {
    "<text x=\"\(fmt(x))\" y=\"\(fmt(y))\" text-anchor=\"\(anchor)\" font-size=\"\(size)\"\(cls.isEmpty ? "" : " class=\"\(cls)\"")" +
        "\(rotate ? " transform=\"rotate(-45 \(fmt(x)) \(fmt(y)))\"" : "")>\(xmlEscape(s))</text>"
}

/// The document around a drawing: size, the shared text and marker styles plus `style`, a white page.
private func svgDocument(width: Double, height: Double, body: [String], style: String) -> String {
    let w = Int(width), h = Int(height.rounded(.up))
    return """
    <?xml version="1.0" encoding="UTF-8"?>
    <svg xmlns="http://www.w3.org/2000/svg" width="\(w)" height="\(h)" viewBox="0 0 \(w) \(h)">
    <style>
      text { font-family: sans-serif; fill: #222; }
      .title { font-weight: bold; }
      .marker { stroke: #c0504d; stroke-width: 1; stroke-dasharray: 4 3; } .marker-label { fill: #c0504d; }
    \(style)
    </style>
    <rect width="100%" height="100%" fill="white"/>
    \(body.joined(separator: "\n"))
    </svg>

    """
}

private func fmt(_ v: Double) -> String {
    let r = (v * 10).rounded() / 10
    return r == r.rounded() ? String(Int(r)) : String(r)
}

func xmlEscape(_ s: String) -> String {
    var out = ""
    for ch in s {
        switch ch {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        default: out.append(ch)
        }
    }
    return out
}

/// A standalone SVG of a quantizer's fidelity report: per-layer SQNR in network order, coloured by
/// kind, the 15 dB line the text report flags, and the ops kept in float32, if any.
func fidelitySVG(title: String, layers: [(name: String, kind: String, sqnr: Double)], summary: String,
                 floatNote: String?) -> String {
    let width = 900.0, left = 60.0, right = 20.0, plotW = width - left - right
    let top = 70.0 + (floatNote == nil ? 0 : 18), plotH = 260.0
    let shown = layers.map { $0.sqnr.isFinite ? $0.sqnr : 99 }
    let yMax = Swift.max(30, ((shown.max() ?? 30) / 10).rounded(.up) * 10)
    func yOf(_ db: Double) -> Double { top + plotH - Swift.max(0, Swift.min(db, yMax)) / yMax * plotH }
    func family(_ kind: String) -> String {
        let k = kind.hasPrefix("f32 ") ? String(kind.dropFirst(4)) : kind
        if k.hasPrefix("conv 1x1/1") || k.hasPrefix("gated conv") || k.hasPrefix("gate+conv") || k.hasPrefix("linear") { return "gemm" }
        if k.hasPrefix("depthwise") { return "dw" }
        if k.hasPrefix("conv") { return "conv" }
        return "elementwise"
    }
    var body: [String] = []
    func text(_ x: Double, _ y: Double, _ s: String, anchor: String = "start", size: Int = 12, cls: String = "", rotate: Bool = false) -> String {
        svgText(x, y, s, anchor: anchor, size: size, cls: cls, rotate: rotate)
    }
    body.append(text(left, 24, title, size: 15, cls: "title"))
    body.append(text(left, 44, summary, size: 13))
    if let floatNote { body.append(text(left, 62, floatNote, size: 13, cls: "float-label")) }
    let slot = plotW / Double(Swift.max(1, layers.count))
    var lastBlock = "", lastLabelX = -Double.infinity
    for (i, l) in layers.enumerated() {
        let x = left + Double(i) * slot, db = shown[i]
        body.append("<rect class=\"layer \(family(l.kind))\(db < 15 ? " low" : "")\" x=\"\(fmt(x))\" y=\"\(fmt(yOf(db)))\" width=\"\(fmt(Swift.max(1, slot - 1)))\" height=\"\(fmt(top + plotH - yOf(db)))\"><title>\(xmlEscape(l.name)) (\(xmlEscape(l.kind))): \(format1(l.sqnr)) dB</title></rect>")
        // Label the first layer of each block (blocks.3.1, conv_head…).
        let parts = l.name.split(separator: ".")
        let block = parts.first == "blocks" && parts.count >= 3 ? parts[0...2].joined(separator: ".") : String(parts.first ?? "")
        if block != lastBlock {
            body.append("<line class=\"tick\" x1=\"\(fmt(x))\" y1=\"\(fmt(top + plotH))\" x2=\"\(fmt(x))\" y2=\"\(fmt(top + plotH + 4))\"/>")
            if x - lastLabelX >= 24 {  // labels closer than that would overlap; the tick still marks the block
                body.append(text(x + 2, top + plotH + 14, block, anchor: "end", size: 10, rotate: true))
                lastLabelX = x
            }
            lastBlock = block
        }
    }
    for db in stride(from: 0.0, through: yMax, by: 10) {
        body.append("<line class=\"grid\" x1=\"\(fmt(left))\" y1=\"\(fmt(yOf(db)))\" x2=\"\(fmt(left + plotW))\" y2=\"\(fmt(yOf(db)))\"/>")
        body.append(text(left - 6, yOf(db) + 4, "\(Int(db))", anchor: "end", size: 11))
    }
    body.append("<line class=\"marker\" x1=\"\(fmt(left))\" y1=\"\(fmt(yOf(15)))\" x2=\"\(fmt(left + plotW))\" y2=\"\(fmt(yOf(15)))\"/>")
    body.append(text(left - 6, top - 10, "dB", anchor: "end", size: 12))
    // Legend.
    let legendY = top + plotH + 78
    var lx = left
    for (cls, label) in [("gemm", "1×1 conv / linear"), ("dw", "depthwise"), ("conv", "stem conv"), ("elementwise", "pool, SE scale, add"),
                         ("low", "below 15 dB (dashed line)")] {
        body.append("<rect class=\"layer \(cls)\" x=\"\(fmt(lx))\" y=\"\(fmt(legendY - 10))\" width=\"12\" height=\"12\"/>")
        body.append(text(lx + 16, legendY, label, size: 12))
        lx += cls == "elementwise" ? 160 : 140
    }
    let height = legendY + 16
    return svgDocument(width: width, height: height, body: body, style: """
      .float-label { fill: #7a5c00; }
      .gemm { fill: #4a7ab5; } .dw { fill: #6a9f58; } .conv { fill: #8e6bb0; } .elementwise { fill: #a0a0a0; }
      .low { fill: #c0504d; }
      .grid { stroke: #ddd; stroke-width: 1; } .tick { stroke: #444; stroke-width: 1; }
    """)
}

/// One decimal ("inf" for an exact layer's SQNR).
func format1(_ v: Double) -> String {
    guard v.isFinite else { return "inf" }
    let t = Int((v * 10).rounded())
    return (t < 0 ? "-" : "") + String(abs(t) / 10) + "." + String(abs(t) % 10)
}
