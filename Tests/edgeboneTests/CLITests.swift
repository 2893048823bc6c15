// The edgebone command as a user runs it: outputs, files written, and errors for bad input.
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import EdgeboneTestSupport
import Testing
@testable import Edgebone

/// Runs the `edgebone` binary built beside this test bundle.
/// The built `edgebone` beside the test bundle.
func edgeboneExecutable() -> URL {
    let exe = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("edgebone")
    if FileManager.default.fileExists(atPath: exe.path) { return exe }
    // swift-testing on Linux runs from the .xctest bundle inside the products directory.
    return URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("edgebone")
}

/// Waits for `p` at most `seconds`; a process still running then is killed and recorded as an issue
/// (a regression must fail the test, not hang the suite).
func waitOrKill(_ p: Process, seconds: Int, what: String) {
    var waited = 0
    while p.isRunning && waited < seconds * 10 { usleep(100_000); waited += 1 }
    if p.isRunning {
        Issue.record("\(what): still running after \(seconds) s")
        kill(p.processIdentifier, SIGKILL)
    }
    p.waitUntilExit()
}

func edgebone(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
    let binary = edgeboneExecutable()
    let p = Process()
    p.executableURL = binary
    p.arguments = args
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

@Suite struct CLITests {
    let tiny = Fixtures.path("tiny/efficientnet_b0_tiny.safetensors")

    @Test func classifyPrintsJSONPerImage() throws {
        let r = try edgebone(["classify", "--model", tiny, "--top", "3", "--json",
                              Fixtures.path("photos/chelsea.png"), Fixtures.path("photos/rocket.jpg")])
        #expect(r.status == 0, "\(r.err)")
        let lines = r.out.split(separator: "\n")
        #expect(lines.count == 2)
        for line in lines {
            let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            let top = obj["top"] as! [[String: Any]]
            #expect(top.count == 3)
            #expect(top.allSatisfy { $0["class"] is Int && $0["label"] is String && $0["score"] is Double })
        }
    }

    @Test func classifyWritesLogitsInArgumentOrder() throws {
        let out = Fixtures.scratchDirectory() + "/logits.npy"
        let inputs = ["rocket", "chelsea"].map { Fixtures.path("inputs/\($0).png") }
        let r = try edgebone(["classify", "--model", tiny, "--logits", out] + inputs)
        #expect(r.status == 0, "\(r.err)")
        let got = try #require(NPY.decode(Array(try Data(contentsOf: URL(fileURLWithPath: out)))))
        #expect(got.shape == [2, 100])
        // timm's rows are in sorted name order: astronaut, chelsea, coffee, motorcycle, rocket.
        let ref = try #require(NPY.decode(Array(try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("tiny/efficientnet_b0_tiny.logits.npy"))))))
        let rocket = Array(ref.values[400..<500]), chelsea = Array(ref.values[100..<200])
        let delta = zip(got.values, rocket + chelsea).map { abs($0 - $1) }.max()!
        #expect(delta < 1e-4)
    }

    @Test func benchPrintsLatencyJSON() throws {
        let r = try edgebone(["bench", "--model", tiny, "--frames", "5", "--warmup", "1", "--json"])
        #expect(r.status == 0, "\(r.err)")
        let obj = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
        for key in ["median_ms", "p90_ms", "p99_ms", "min_ms"] {
            #expect((obj[key] as? Double ?? -1) > 0, "\(key) missing or not positive")
        }
    }

    @Test func benchDrawsHistogramAndSVG() throws {
        let svg = Fixtures.scratchDirectory() + "/bench.svg"
        let r = try edgebone(["bench", "--model", tiny, "--frames", "20", "--warmup", "1", "--profile", "--histogram", "--svg", svg])
        #expect(r.status == 0, "\(r.err)")
        // Every measured frame lands in exactly one histogram line.
        let lines = r.out.split(separator: "\n")
        let start = try #require(lines.firstIndex { $0.hasPrefix("latency histogram") })
        let bins = lines[(start + 1)...].prefix { $0.contains("│") }
        #expect(bins.count >= 12)
        #expect(bins.reduce(0) { $0 + Int($1.split(separator: " ").last!)! } == 20)
        // The picture is well-formed XML with a bar per bin, percentile markers and a bar per op kind.
        let data = try Data(contentsOf: URL(fileURLWithPath: svg))
        let doc = try XMLDocument(data: data)
        #expect(doc.rootElement()?.name == "svg")
        let classes = try doc.nodes(forXPath: "//*[local-name()='rect']/@class").compactMap(\.stringValue)
        #expect(classes.filter { $0.hasPrefix("bin") }.count >= 40)
        #expect(classes.contains("kind"))
        // One bar per op in network order, as many as the profile has steps.
        let profile = try edgebone(["bench", "--model", tiny, "--frames", "2", "--warmup", "0", "--profile", "--json"])
        let ops = ((try JSONSerialization.jsonObject(with: Data(profile.out.utf8)) as! [String: Any])["profile"] as! [Any]).count
        #expect(classes.filter { $0 == "step" }.count == ops)
        let texts = try doc.nodes(forXPath: "//*[local-name()='text']").compactMap(\.stringValue)
        #expect(["median", "p90", "p99"].allSatisfy(texts.contains))
        #expect(texts.contains { $0.hasPrefix("f32 conv 1x1") })  // the tiny fixture is a float checkpoint: float op kinds

        // A path that cannot be written fails before the run, naming it.
        let bad = try edgebone(["bench", "--model", tiny, "--frames", "5", "--svg", "/nonexistent/dir/bench.svg"])
        #expect(bad.status != 0 && bad.err.contains("/nonexistent/dir/bench.svg") && !bad.out.contains("latency"), "\(bad.err)")
        let dir = try edgebone(["bench", "--model", tiny, "--frames", "5", "--svg", Fixtures.scratchDirectory()])
        #expect(dir.status != 0 && dir.err.contains("is a folder") && !dir.out.contains("latency"), "\(dir.err)")
    }

    @Test func quantizeDrawsItsReport() throws {
        let dir = Fixtures.scratchDirectory()
        let args = ["quantize", "--weights", tiny, "--arch-option", "channel_multiplier=0.25", "--arch-option", "depth_multiplier=0.3", "--arch-option", "num_classes=100",
                    "--calibration", Fixtures.path("photos"), "--out", dir + "/q.safetensors", "--report", dir + "/q.json", "--svg", dir + "/q.svg",
                    "--keep-float", "blocks.1.0.conv_dw"]
        let r = try edgebone(args)
        #expect(r.status == 0, "\(r.err)")
        // One bar per layer of the JSON report, and the float32 op named.
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/q.json"))) as! [String: Any]
        let layers = (report["layers"] as! [[String: Any]]).count
        let doc = try XMLDocument(data: Data(contentsOf: URL(fileURLWithPath: dir + "/q.svg")))
        let bars = try doc.nodes(forXPath: "//*[local-name()='rect']/@class").compactMap(\.stringValue).filter { $0.hasPrefix("layer ") }
        #expect(bars.count == layers + 5, "\(bars.count) bars (5 in the legend) for \(layers) layers")
        let texts = try doc.nodes(forXPath: "//*[local-name()='text']").compactMap(\.stringValue)
        #expect(texts.contains { $0.hasPrefix("kept in float32") && $0.contains("blocks.1.0.conv_dw") })
        // inspect counts the activation tables by grid (SiLU and sigmoid on 9 bits by default).
        let shown = try edgebone(["inspect", "--model", dir + "/q.safetensors"])
        #expect(shown.status == 0 && shown.out.contains(" silu 9-bit") && shown.out.contains(" sigmoid 9-bit"), "\(shown.out)")
        // … and the convolutions that requantize by shifting (the default for table layers).
        #expect(shown.out.contains("shift requantization: "), "\(shown.out)")
        let wide = try edgebone(Array(args.dropLast(2)) + ["--table-bits", "13"])
        #expect(wide.status != 0 && wide.err.contains("--table-bits must be 8…12"), "\(wide.err)")
        let requant = try edgebone(Array(args.dropLast(2)) + ["--requant", "float"])
        #expect(requant.status != 0 && requant.err.contains("--requant must be shift, shift-all or fp32"), "\(requant.err)")

        // A name the graph does not have is refused before any image is read, and nothing is left behind.
        let bad = try edgebone(Array(args.dropLast()) + ["blocks.9.0"])
        #expect(bad.status == 1 && bad.err.contains("--keep-float blocks.9.0") && !bad.err.contains("reading images"), "\(bad.err)")
        let unknown = try edgebone(["inspect", "--model", tiny, "--arch-option", "window_size=8"])
        #expect(unknown.status == 1 && unknown.err.contains("window_size"), "\(unknown.err)")
        let left = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains("partial") || $0.contains("quantizing") }
        #expect(left.isEmpty, "left behind: \(left)")
    }

    @Test func quantizeRefusesAnUnwritableReportBeforeWorking() throws {
        let out = Fixtures.scratchDirectory() + "/never.int8.safetensors"
        let r = try edgebone(["quantize", "--weights", tiny, "--arch-option", "channel_multiplier=0.25", "--arch-option", "depth_multiplier=0.3", "--arch-option", "num_classes=100",
                              "--calibration", Fixtures.path("photos"), "--out", out, "--report", "/nonexistent/dir/report.json"])
        #expect(r.status == 1 && r.err.contains("/nonexistent/dir/report.json"), "\(r.err)")
        #expect(!r.err.contains("calibrating") && !FileManager.default.fileExists(atPath: out))
    }

    @Test func badInputGivesClearErrors() throws {
        let missing = try edgebone(["classify", "--model", "/nonexistent/model.safetensors", Fixtures.path("photos/chelsea.png")])
        #expect(missing.status != 0 && missing.err.contains("/nonexistent/model.safetensors"))

        let dir = Fixtures.scratchDirectory()
        let corrupt = dir + "/corrupt.safetensors"
        try Data(repeating: 0x7B, count: 100).write(to: URL(fileURLWithPath: corrupt))
        let c = try edgebone(["classify", "--model", corrupt, Fixtures.path("photos/chelsea.png")])
        #expect(c.status == 1 && c.err.contains("corrupt.safetensors") && c.err.contains("header"), "\(c.err)")

        let flag = try edgebone(["classify", "--model", tiny, "--top", "0", Fixtures.path("photos/chelsea.png")])
        #expect(flag.status != 0 && flag.err.contains("--top"))

        let arch = try edgebone(["classify", "--model", tiny, "--arch", "resnet50", Fixtures.path("photos/chelsea.png")])
        #expect(arch.status == 1 && arch.err.contains("unknown architecture 'resnet50'"))

        let notImage = dir + "/x.png"
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: notImage))
        let img = try edgebone(["classify", "--model", tiny, notImage, Fixtures.path("photos/chelsea.png")])
        #expect(img.status == 1 && img.err.contains("x.png: not a PNG or JPEG"), "\(img.err)")
        #expect(img.out.contains("chelsea.png"), "the good image is still classified")
    }
}

@Suite struct OutputErrorTests {
    /// Runs edgebone with stdout on `stdout` and returns its exit status and stderr; a process still
    /// running after 30 s is killed and recorded.
    func run(_ args: [String], stdout: FileHandle, closeAfterStart: FileHandle? = nil) throws -> (Int32, String) {
        let q = Process()
        q.executableURL = edgeboneExecutable()
        q.arguments = args
        let e = Pipe()
        q.standardOutput = stdout
        q.standardError = e
        try q.run()
        try closeAfterStart?.close()
        waitOrKill(q, seconds: 30, what: "\(args) with a broken stdout")
        return (q.terminationStatus, String(decoding: e.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }

    /// A full device under stdout: every command says so and exits 1 (they exited 0 before).
    @Test(arguments: [["inspect"], ["classify", "--json", Fixtures.path("photos/chelsea.png")], ["run", "--max-frames", "2"]])
    func fullDeviceIsAnError(args: [String]) throws {
        let full = try #require(FileHandle(forWritingAtPath: "/dev/full"))
        let (status, err) = try run(args, stdout: full)
        #expect(status == 1, "\(err)")
        #expect(err.contains("No space left on device"), "\(err)")
    }

    /// `edgebone run --loop | head -1`: when the reader goes away the daemon stops with the reason
    /// instead of classifying into a broken pipe forever.
    @Test func daemonStopsWhenItsReaderGoesAway() throws {
        let pipe = Pipe()
        let (status, err) = try run(["run", "--loop", "--summary-interval", "0"], stdout: pipe.fileHandleForWriting,
                                    closeAfterStart: pipe.fileHandleForReading)
        #expect(status == 1, "\(err)")
        #expect(err.contains("writing results to stdout failed: Broken pipe"), "\(err)")
    }
}

/// Numbers a corrupt or careless file can hold: refused with the tensor or key named, never a trap.
@Suite struct HostileNumberTests {
    let tiny = Fixtures.path("tiny/efficientnet_b0_tiny.safetensors")
    let options = ["--arch-option", "channel_multiplier=0.25", "--arch-option", "depth_multiplier=0.3", "--arch-option", "num_classes=100"]

    func poisoned(_ tensor: String, _ value: Float, as name: String) throws -> String {
        try Fixtures.rewritten(tiny, as: name) { tensors, _ in
            var t = tensors[tensor]!
            withUnsafeBytes(of: value) { v in for i in 0..<4 { t.2[i] = v[i] } }
            tensors[tensor] = t
        }
    }

    @Test(arguments: [Float.nan, .infinity])
    func nonFiniteWeightsAreNamed(value: Float) throws {
        let model = try poisoned("conv_stem.weight", value, as: "poisoned-\(value)")
        for command in [["classify", "--model", model] + options + [Fixtures.path("photos/chelsea.png")],
                        ["quantize", "--weights", model] + options + ["--calibration", Fixtures.path("photos"), "--out", Fixtures.scratchDirectory() + "/q.safetensors"]] {
            let r = try edgebone(command)
            #expect(r.status == 1 && r.err.contains("conv_stem.weight") && r.err.contains("weights must be finite"), "\(command[0]): \(r.err)")
        }
    }

    @Test func negativeVarianceIsNamed() throws {
        let model = try poisoned("bn1.running_var", -1, as: "negative-variance")
        let r = try edgebone(["classify", "--model", model] + options + [Fixtures.path("photos/chelsea.png")])
        #expect(r.status == 1 && r.err.contains("bn1.running_var") && r.err.contains("cannot be negative"), "\(r.err)")
    }

    @Test func cropFractionIsBounded() throws {
        for crop in ["1e-300", "1e-12", "0.1", "1.5"] {
            let model = try Fixtures.rewritten(tiny, as: "crop") { _, meta in
                meta["preprocessing"] = #"{"input_size":224,"crop_fraction":"# + crop + #","interpolation":"bicubic","mean":[0.485,0.456,0.406],"std":[0.229,0.224,0.225]}"#
            }
            let r = try edgebone(["classify", "--model", model] + options + [Fixtures.path("photos/chelsea.png")])
            #expect(r.status == 1 && r.err.contains("'crop_fraction' must be in [0.25, 1]"), "\(crop): \(r.err)")
        }
    }

    @Test func benchCountsAreBounded() throws {
        for (flag, value) in [("--warmup", "9223372036854775807"), ("--frames", "1000000000000"), ("--frames", "0")] {
            let r = try edgebone(["bench", flag, value])
            #expect(r.status != 0 && r.err.contains(flag + " must be"), "\(flag) \(value): \(r.err)")
        }
    }
}

@Suite struct OutputPathTests {
    let dir = Fixtures.scratchDirectory()

    /// A character device made here (the same device as /dev/null), or nil when not root.
    func device() -> String? {
        let p = dir + "/null-\(UInt32.random(in: 0...UInt32.max))"
        return mknod(p, S_IFCHR | 0o666, dev_t(1 << 8 | 3)) == 0 ? p : nil  // makedev(1, 3) in glibc's encoding
    }

    func isCharacterDevice(_ p: String) -> Bool {
        var st = stat()
        return stat(p, &st) == 0 && (st.st_mode & S_IFMT) == S_IFCHR
    }

    /// Outputs that name a device are written in place; the atomic rename used to replace the device
    /// node by a regular file (as root, /dev/null itself).
    @Test func devicesAreWrittenInPlace() throws {
        guard let logits = device(), let metrics = device() else { return }
        let c = try edgebone(["classify", "--logits", logits, Fixtures.path("photos/chelsea.png")])
        #expect(c.status == 0, "\(c.err)")
        #expect(isCharacterDevice(logits), "--logits replaced the device")
        let r = try edgebone(["run", "--max-frames", "2", "--metrics-file", metrics])
        #expect(r.status == 0, "\(r.err)")
        #expect(isCharacterDevice(metrics), "--metrics-file replaced the device")
    }

    /// A metrics path that cannot be written is an error at start, not months of silence.
    @Test func badMetricsPathsFailAtStart() throws {
        let missing = try edgebone(["run", "--max-frames", "1", "--metrics-file", dir + "/no/such/folder/m.prom"])
        #expect(missing.status == 1 && missing.err.contains("no/such/folder/m.prom") && missing.err.contains("No such file"), "\(missing.err)")
        #expect(!missing.out.contains("\"frame\""), "it ran before failing")
        let fifo = dir + "/m.fifo"
        unlink(fifo)
        #expect(mkfifo(fifo, 0o600) == 0)
        let pipe = try edgebone(["run", "--max-frames", "1", "--metrics-file", fifo])
        #expect(pipe.status == 1 && pipe.err.contains("not a regular file or a character device"), "\(pipe.err)")
    }

    /// Text from a model file cannot add lines to the Prometheus file.
    @Test func metricLabelsAreEscaped() throws {
        let model = try Fixtures.rewritten(Fixtures.path("../../Models/efficientnet_lite0.int8.safetensors"), as: "crafted") { _, meta in
            meta["arch"] = "x\"} 1\nevil_metric 1\n# \\"
        }
        let metrics = dir + "/crafted.prom"
        let r = try edgebone(["run", "--model", model, "--max-frames", "1", "--metrics-file", metrics])
        #expect(r.status == 0, "\(r.err)")
        let text = try String(contentsOfFile: metrics, encoding: .utf8)
        #expect(!text.split(separator: "\n").contains { $0.hasPrefix("evil_metric") }, "\(text)")
        #expect(text.contains(#"edgebone_info{arch="x\"} 1\nevil_metric 1\n# \\","#), "\(text)")
    }
}

@Suite struct QuantizeOutputTests {
    let tiny = Fixtures.path("tiny/efficientnet_b0_tiny.safetensors")
    let options = ["--arch-option", "channel_multiplier=0.25", "--arch-option", "depth_multiplier=0.3", "--arch-option", "num_classes=100"]

    /// Outputs that alias an input or each other are refused before anything is written.
    @Test func outputsMayNotAliasInputsOrEachOther() throws {
        let dir = Fixtures.scratchDirectory()
        let weights = dir + "/w.safetensors"
        try FileManager.default.copyItem(atPath: tiny, toPath: weights)
        let before = try Data(contentsOf: URL(fileURLWithPath: weights))
        let link = dir + "/link.safetensors"
        #expect(symlink(weights, link) == 0)
        let cases: [([String], String)] = [
            (["--out", weights], "--out \(weights) is also --weights"),
            (["--out", link], "is also --weights"),
            (["--out", dir + "/./w.safetensors"], "is also --weights"),
            (["--out", dir + "/m.safetensors", "--report", dir + "/m.safetensors"], "--report \(dir)/m.safetensors is also --out"),
        ]
        for (extra, message) in cases {
            let r = try edgebone(["quantize", "--weights", weights] + options + ["--calibration", Fixtures.path("photos")] + extra)
            #expect(r.status != 0 && r.err.contains(message), "\(extra): \(r.err)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: weights)) == before, "the checkpoint changed")
    }

    /// Fewer views than --holdout: the report says plainly that nothing was held out.
    @Test func reportSaysWhenNothingWasHeldOut() throws {
        let dir = Fixtures.scratchDirectory()
        let r = try edgebone(["quantize", "--weights", tiny] + options + ["--calibration", Fixtures.path("photos/chelsea.png"),
                              "--out", dir + "/one.safetensors", "--report", dir + "/one.json"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("none held out") && !r.out.contains("held-out view"), "\(r.out)")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/one.json"))) as! [String: Any]
        #expect(json["heldout_views"] as? Int == 0 && (json["evaluated_on"] as? String)?.contains("none held out") == true)
    }
}

/// What would not fit the memory budget is refused before the memory is asked for.
@Suite struct MemoryBudgetTests {
    let dir = Fixtures.scratchDirectory()
    let tiny = Fixtures.path("tiny/efficientnet_b0_tiny.safetensors")
    let options = ["--arch-option", "channel_multiplier=0.25", "--arch-option", "depth_multiplier=0.3", "--arch-option", "num_classes=100"]

    /// A Y4M header announcing 16384×16384 4:4:4: refused at the header (800 MB went resident before).
    @Test func hugeY4MFramesAreRefusedAtTheHeader() throws {
        let path = dir + "/huge.y4m"
        Fixtures.write(Array("YUV4MPEG2 W16384 H16384 F25:1 C444\n".utf8), to: path)
        let r = try edgebone(["run", "--source", path])
        #expect(r.status == 1 && r.err.contains("a 16384x16384 frame needs about 4096 MiB") && r.err.contains("512 MiB memory budget"), "\(r.err)")
    }

    /// A small PNG that would decode to 16000×16000: refused from its header; a larger budget lets the
    /// same check pass.
    @Test func hugeImagesAreRefusedFromTheirHeader() throws {
        var png = try ImageDecoder.readFile(Fixtures.path("photos/chelsea.png"))
        // IHDR: width and height at bytes 16…23, its CRC (over type and data) at 29…32.
        for (i, b) in [UInt8](arrayLiteral: 0, 0, 0x3E, 0x80, 0, 0, 0x3E, 0x80).enumerated() { png[16 + i] = b }
        let crc = crc32(Array(png[12..<29]))
        for i in 0..<4 { png[29 + i] = UInt8(truncatingIfNeeded: crc >> (24 - 8 * UInt32(i))) }
        let path = dir + "/huge.png"
        Fixtures.write(png, to: path)
        let r = try edgebone(["classify", path])
        #expect(r.status == 1 && r.err.contains("a 16000x16000 frame needs about 3906 MiB"), "\(r.err)")
    }

    /// A checkpoint whose input size makes a 512 MiB+ arena: refused before the arena is allocated.
    @Test func oversizedArenasAreRefused() throws {
        let model = try Fixtures.rewritten(tiny, as: "huge-input") { _, meta in
            meta["preprocessing"] = #"{"input_size":4096,"crop_fraction":1,"interpolation":"bicubic","mean":[0.485,0.456,0.406],"std":[0.229,0.224,0.225]}"#
        }
        let r = try edgebone(["classify", "--model", model] + options + [Fixtures.path("photos/chelsea.png")])
        #expect(r.status == 1 && r.err.contains("MiB arena, more than the 256 MiB of the 512 MiB memory budget"), "\(r.err)")
    }

    func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        }
        return ~c
    }
}
