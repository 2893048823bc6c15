// edgebone run: continuous inference from a frame source, one JSON line per processed frame on
// stdout, a summary on stderr, optional Prometheus metrics. Capture runs on its own thread into a
// latest-frame slot; bad frames are counted and skipped; SIGINT/SIGTERM end the run cleanly.
import ArgumentParser
import CEdgeboneSystem
import Edgebone
import EdgeboneModels
import EdgeboneMQTT
import Histogram
#if canImport(Glibc)
import Glibc
#endif

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Classify frames continuously from a video, pipe, stream or image folder.")

    @OptionGroup var model: ModelOptions

    @Option(name: .long, help: "Frame source: a .y4m file or FIFO, - (stdin, Y4M or MJPEG), an .mjpeg stream, a PNG/JPEG file or folder (default: the bundled sample clip).")
    var source: String?

    @Flag(name: .long, help: "Start a file source again at its end.")
    var loop = false

    @Option(name: .long, help: "Stop after this many processed frames.")
    var maxFrames: Int?

    @Option(name: .long, help: "Classes per JSON line.")
    var top: Int = 5

    @Option(name: .long, help: "Seconds between summaries on stderr (0: only at exit).")
    var summaryInterval: Double = 10

    @Option(name: .long, help: "Write Prometheus text-format metrics here (atomically) with every summary and at exit.")
    var metricsFile: String?

    @Flag(name: .long, help: "Drop frames inference cannot keep up with even for file sources (default: only live sources drop).")
    var live = false

    @OptionGroup(title: "MQTT") var mqtt: MQTTOptions

    func validate() throws {
        guard top >= 1 else { throw ValidationError("--top must be at least 1") }
        if let m = maxFrames, m < 1 { throw ValidationError("--max-frames must be at least 1") }
        guard summaryInterval >= 0 else { throw ValidationError("--summary-interval must not be negative") }
    }

    func run() throws {
        // First: a signal while the model loads, or while a FIFO waits for its writer or stdin for its
        // first byte, ends the run cleanly instead of killing it.
        eb_install_stop_handlers()
        let classifier: ImageClassifier
        let src: FrameSource
        let sourcePath: String
        let publisher: MQTTPublisher?
        let metrics: MetricsFile?
        do {
            metrics = try metricsFile.map { try MetricsFile($0) }  // a bad path fails now, not silently for months
            classifier = try model.load()
            publisher = try mqtt.makePublisher(classifier: classifier, threads: model.threads, top: top) { message in
                var err = StandardError()
                print("edgebone run: \(message)", to: &err)
            }
            guard let path = source ?? BundledSample.path else { throw ValidationError("no --source given and no bundled sample found") }
            sourcePath = path
            src = try openFrameSource(path, loop: loop) { message in
                var err = StandardError()
                print("edgebone run: \(message)", to: &err)
            }
        } catch let e as ValidationError { throw e } catch {
            if stoppedBeforeStart() { return }
            throw fail(error)
        }
        if stoppedBeforeStart() { return }
        var st = stat()
        let isPipe = sourcePath == "-" || (stat(sourcePath, &st) == 0 && (st.st_mode & S_IFMT) == S_IFIFO)
        let slot = LatestFrameSlot(live: live || isPipe || sourcePath.hasPrefix("/dev/"))
        let stats = RunStats(model: classifier, source: src, publisher: publisher)
        var err = StandardError()
        print("edgebone run: \(classifier.arch) \(classifier.precision) on \(classifier.isa.rawValue), source \(sourcePath)" +
              (slot.live ? " (live: late frames are dropped)" : ""), to: &err)

        let capture = CaptureThread(source: src, slot: slot, stats: stats)
        capture.start()
        publisher?.start()
        var policy = mqtt.publishPolicy
        // systemd Type=notify: ready once the model is loaded and capture runs; watchdog pings while
        // frames flow (at most every half watchdog period, or every second without one).
        _ = eb_sd_notify("READY=1")
        let watchdogEvery = eb_sd_watchdog_usec() > 0 ? eb_sd_watchdog_usec() * 500 : 1_000_000_000
        var lastPing: UInt64 = 0

        var processed = 0
        var best = [ClassScore](repeating: ClassScore(index: 0, score: 0), count: min(top, classifier.labels.count))
        var lastSummary = monotonicNanos()
        // Result lines are formatted into one reused buffer: nothing is allocated per frame.
        let line = LineWriter()
        let labelJSON = classifier.labels.map(jsonStringBytes)
        while eb_stop_requested() == 0 {
            let taken = slot.take(milliseconds: 200)
            guard case let .frame(image, meta) = taken else {
                if case .finished = taken { break }
                continue
            }
            let t0 = monotonicNanos()
            classifier.preprocessor.crop(image)
            let logits = classifier.runCropped()
            let t1 = monotonicNanos()
            best.withUnsafeMutableBufferPointer { TopK.select(logits, into: $0) }
            let inferenceMs = Double(t1 - t0) / 1e6, latencyMs = Double(t1 &- meta.capturedNanos) / 1e6
            stats.record(inference: t1 - t0, latency: t1 &- meta.capturedNanos)
            line.reset()
            line.append("{\"frame\":"); line.append(meta.index)
            line.append(",\"captured_at\":"); line.append(meta.capturedEpoch, decimals: 6)
            line.append(",\"top\":[")
            for i in best.indices {
                if i > 0 { line.append(",") }
                line.append("{\"class\":"); line.append(best[i].index)
                line.append(",\"label\":"); line.append(labelJSON[best[i].index])
                line.append(",\"score\":"); line.append(Double(best[i].score), decimals: 6)
                line.append("}")
            }
            line.append("],\"inference_ms\":"); line.append(inferenceMs, decimals: 4)
            line.append(",\"latency_ms\":"); line.append(latencyMs, decimals: 4)
            line.append(",\"dropped\":"); line.append(slot.dropped)
            line.append("}")
            if let publisher, policy.shouldPublish(top1: best[0].index, score: Double(best[0].score), nanos: t1) {
                publisher.publish(.result, line.bytes)
            }
            guard line.writeLine(to: stdout) else {
                // A reader that went away (`run | head -1`) or a full disk: classifying on into the
                // void would burn the board's CPU for nothing.
                stats.fail("writing results to stdout failed: \(String(cString: strerror(errno)))")
                break
            }
            processed += 1
            if t1 &- lastPing >= watchdogEvery {
                _ = eb_sd_notify("WATCHDOG=1")
                lastPing = t1
            }
            if let m = maxFrames, processed >= m { break }
            if summaryInterval > 0 && Double(monotonicNanos() - lastSummary) / 1e9 >= summaryInterval {
                lastSummary = monotonicNanos()
                stats.report(dropped: slot.dropped, final: false, metricsFile: metrics)
            }
        }
        _ = eb_sd_notify("STOPPING=1")
        capture.stop()
        stats.report(dropped: slot.dropped, final: true, metricsFile: metrics)
        if let fatal = stats.fatalError {
            print("edgebone: error: \(fatal)", to: &err)
            throw ExitCode(1)
        }
    }
}

/// A stop signal that came before the first frame (while loading, opening a FIFO, or waiting for
/// stdin): says so, and the run ends with status 0.
private func stoppedBeforeStart() -> Bool {
    let sig = eb_stop_requested()
    guard sig != 0 else { return false }
    var err = StandardError()
    let name = sig == SIGINT ? "SIGINT" : sig == SIGHUP ? "SIGHUP" : "SIGTERM"
    print("edgebone run summary: 0 frames (stopped by \(name) before the first frame)", to: &err)
    return true
}

/// The sample clip that `edgebone run` plays without --source: Models/sample.y4m.
enum BundledSample {
    static var path: String? {
        guard let model = BundledModel.path else { return nil }
        let dir = model.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let p = dir + "/sample.y4m"
        return access(p, R_OK) == 0 ? p : nil
    }
}

/// Reads frames on its own thread into the slot until the source ends or a stop is requested.
final class CaptureThread: @unchecked Sendable {
    let source: FrameSource
    let slot: LatestFrameSlot
    let stats: RunStats
    private var thread = pthread_t()
    private var stopping = false

    init(source: FrameSource, slot: LatestFrameSlot, stats: RunStats) {
        self.source = source
        self.slot = slot
        self.stats = stats
    }

    func start() {
        let me = Unmanaged.passRetained(self).toOpaque()
        pthread_create(&thread, nil, { arg in
            let t = Unmanaged<CaptureThread>.fromOpaque(arg!).takeRetainedValue()
            t.loop()
            return nil
        }, me)
    }

    /// Asks the thread to stop; does not wait for a read blocked on a pipe.
    func stop() { stopping = true }

    private func loop() {
        var index = 0
        var err = StandardError()
        var skipLog = LogThrottle()
        while !stopping && eb_stop_requested() == 0 {
            let image = slot.captureBuffer
            let result: FrameRead
            do { result = try source.next(into: image) } catch {
                stats.fail("\(error)")
                break
            }
            switch result {
            case .frame:
                var ts = timespec()
                clock_gettime(CLOCK_REALTIME, &ts)
                slot.publish(LatestFrameSlot.Meta(index: index, capturedNanos: monotonicNanos(), capturedEpoch: Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9)) {
                    self.stopping || eb_stop_requested() != 0
                }
            case let .bad(reason):
                stats.badFrame()
                if let line = skipLog.admit(now: monotonicNanos()) {
                    print(line == 0 ? "edgebone run: skipped frame \(index): \(reason)"
                        : "edgebone run: \(line) more frames skipped in the last \(LogThrottle.windowSeconds) s (the metrics count them all)", to: &err)
                    if line > 0 { print("edgebone run: skipped frame \(index): \(reason)", to: &err) }
                }
            case .end:
                slot.finish()
                return
            }
            index += 1
        }
        slot.finish()
    }
}

/// At most `burst` lines per window: a source that turns bad would otherwise print a line per frame,
/// hundreds of thousands a second from a looping file.
struct LogThrottle {
    static let windowSeconds = 10
    static let burst = 5
    private var windowStart: UInt64 = 0
    private var printed = 0
    private var suppressed = 0

    /// nil: stay quiet; 0: print the line; n > 0: first say that n lines were held back, then print it.
    mutating func admit(now: UInt64) -> Int? {
        if now &- windowStart >= UInt64(LogThrottle.windowSeconds) * 1_000_000_000 {
            let held = suppressed
            windowStart = now; printed = 1; suppressed = 0
            return held
        }
        guard printed < LogThrottle.burst else { suppressed += 1; return nil }
        printed += 1
        return 0
    }
}

/// Counters and latency histograms of a run.
final class RunStats: @unchecked Sendable {
    let model: ImageClassifier
    let source: FrameSource
    let publisher: MQTTPublisher?
    private var mutex = pthread_mutex_t()
    private var inference = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
    private var latency = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
    private var frames = 0, bad = 0
    private(set) var fatalError: String?
    private let started = monotonicNanos()
    /// Prometheus histogram bucket bounds, seconds.
    static let buckets: [Double] = [0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1]
    private var bucketCounts = [UInt64](repeating: 0, count: RunStats.buckets.count)
    private var inferenceSum = 0.0

    init(model: ImageClassifier, source: FrameSource, publisher: MQTTPublisher?) {
        self.model = model
        self.source = source
        self.publisher = publisher
        pthread_mutex_init(&mutex, nil)
    }

    func record(inference ns: UInt64, latency lat: UInt64) {
        pthread_mutex_lock(&mutex)
        _ = inference.record(max(ns, 1))
        _ = latency.record(max(lat, 1))
        frames += 1
        let s = Double(ns) / 1e9
        inferenceSum += s
        for (i, b) in RunStats.buckets.enumerated() where s <= b { bucketCounts[i] += 1 }
        pthread_mutex_unlock(&mutex)
    }

    func badFrame() {
        pthread_mutex_lock(&mutex); bad += 1; pthread_mutex_unlock(&mutex)
    }

    func fail(_ message: String) {
        pthread_mutex_lock(&mutex); fatalError = message; pthread_mutex_unlock(&mutex)
    }

    /// The periodic (or final) report: statistics to the broker, summary on stderr, metrics file.
    /// The final one then sends what is queued, the retained offline status and a clean disconnect.
    func report(dropped: Int, final: Bool, metricsFile: MetricsFile?) {
        if let publisher {
            var bytes = Array(summaryJSON(dropped: dropped).utf8)
            bytes.withUnsafeMutableBufferPointer { publisher.publish(.stats, UnsafeBufferPointer($0)) }
            if final { publisher.stop(timeout: 3) }
        }
        let mqtt = publisher?.snapshot
        printSummary(dropped: dropped, final: final, mqtt: mqtt)
        if let metricsFile { writeMetrics(to: metricsFile, dropped: dropped, mqtt: mqtt) }
    }

    func printSummary(dropped: Int, final: Bool, mqtt: MQTTCounters?) {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        var err = StandardError()
        let elapsed = Double(monotonicNanos() - started) / 1e9
        func ms(_ h: Histogram<UInt64>, _ p: Double) -> String { frames == 0 ? "-" : format3(Double(h.valueAtPercentile(p)) / 1e6) }
        print("edgebone run \(final ? "summary" : "so far"): \(frames) frames, \(dropped) dropped, \(bad) bad, \(source.reconnects) reconnects, " +
              "\(format3(Double(frames) / max(elapsed, 1e-9))) fps over \(format3(elapsed)) s", to: &err)
        print("  inference ms: min \(frames == 0 ? "-" : format3(Double(inference.min) / 1e6)) p50 \(ms(inference, 50)) p90 \(ms(inference, 90)) " +
              "p99 \(ms(inference, 99)) max \(frames == 0 ? "-" : format3(Double(inference.max) / 1e6))", to: &err)
        print("  capture-to-result ms: p50 \(ms(latency, 50)) p90 \(ms(latency, 90)) p99 \(ms(latency, 99)) max \(frames == 0 ? "-" : format3(Double(latency.max) / 1e6))", to: &err)
        if let mqtt { printMQTTLine(mqtt) }
    }

    private func printMQTTLine(_ m: MQTTCounters) {
        var err = StandardError()
        print("  mqtt: \(m.connected ? "connected" : "not connected"), \(m.published) published, \(m.dropped) dropped (mqtt_dropped), " +
              "\(m.reconnects) reconnects, \(m.failedAttempts) failed attempts", to: &err)
    }

    /// The summary's figures as one JSON object (the MQTT stats payload).
    func summaryJSON(dropped: Int) -> String {
        let mqtt = publisher?.snapshot
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        let elapsed = Double(monotonicNanos() - started) / 1e9
        func number(_ v: Double) -> String { v.isFinite ? format3(v) : "null" }
        func percentiles(_ h: Histogram<UInt64>) -> String {
            guard frames > 0 else { return "null" }
            let p = [50.0, 90, 99].map { number(Double(h.valueAtPercentile($0)) / 1e6) }
            return "{\"min\":\(number(Double(h.min) / 1e6)),\"p50\":\(p[0]),\"p90\":\(p[1]),\"p99\":\(p[2]),\"max\":\(number(Double(h.max) / 1e6))}"
        }
        var t = "{\"frames\":\(frames),\"dropped\":\(dropped),\"bad\":\(bad),\"reconnects\":\(source.reconnects)"
        t += ",\"fps\":\(number(Double(frames) / max(elapsed, 1e-9))),\"elapsed_s\":\(number(elapsed))"
        t += ",\"inference_ms\":\(percentiles(inference)),\"latency_ms\":\(percentiles(latency))"
        if let mqtt { t += ",\"mqtt_published\":\(mqtt.published),\"mqtt_dropped\":\(mqtt.dropped),\"mqtt_reconnects\":\(mqtt.reconnects)" }
        return t + "}"
    }

    /// Prometheus text format (see MetricsFile for how it is written).
    func writeMetrics(to file: MetricsFile, dropped: Int, mqtt: MQTTCounters?) {
        pthread_mutex_lock(&mutex)
        var t = "# HELP edgebone_inference_seconds Time to run the network on one frame.\n# TYPE edgebone_inference_seconds histogram\n"
        for (i, b) in RunStats.buckets.enumerated() { t += "edgebone_inference_seconds_bucket{le=\"\(b)\"} \(bucketCounts[i])\n" }
        t += "edgebone_inference_seconds_bucket{le=\"+Inf\"} \(frames)\nedgebone_inference_seconds_sum \(inferenceSum)\nedgebone_inference_seconds_count \(frames)\n"
        t += "# HELP edgebone_frames_total Frames classified.\n# TYPE edgebone_frames_total counter\nedgebone_frames_total \(frames)\n"
        t += "# HELP edgebone_dropped_frames_total Frames overwritten before inference could take them.\n# TYPE edgebone_dropped_frames_total counter\nedgebone_dropped_frames_total \(dropped)\n"
        t += "# HELP edgebone_frame_errors_total Damaged frames skipped.\n# TYPE edgebone_frame_errors_total counter\nedgebone_frame_errors_total \(bad)\n"
        t += "# HELP edgebone_reconnects_total Times the source was reopened.\n# TYPE edgebone_reconnects_total counter\nedgebone_reconnects_total \(source.reconnects)\n"
        if let mqtt {
            t += "# HELP edgebone_mqtt_published_total Messages handed to the MQTT broker.\n# TYPE edgebone_mqtt_published_total counter\nedgebone_mqtt_published_total \(mqtt.published)\n"
            t += "# HELP edgebone_mqtt_dropped_total Results and statistics dropped while the broker was slow or away.\n# TYPE edgebone_mqtt_dropped_total counter\nedgebone_mqtt_dropped_total \(mqtt.dropped)\n"
            t += "# HELP edgebone_mqtt_reconnects_total Connections to the broker after the first.\n# TYPE edgebone_mqtt_reconnects_total counter\nedgebone_mqtt_reconnects_total \(mqtt.reconnects)\n"
            t += "# HELP edgebone_mqtt_connected Whether the broker connection is up.\n# TYPE edgebone_mqtt_connected gauge\nedgebone_mqtt_connected \(mqtt.connected ? 1 : 0)\n"
        }
        t += "# HELP edgebone_info Model and kernels.\n# TYPE edgebone_info gauge\nedgebone_info{arch=\"\(prometheusLabel(model.arch))\",precision=\"\(prometheusLabel(model.precision))\",isa=\"\(model.isa.rawValue)\"} 1\n"
        pthread_mutex_unlock(&mutex)
        file.write(t) { message in
            var err = StandardError()
            print("edgebone run: \(message)", to: &err)
        }
    }
}
