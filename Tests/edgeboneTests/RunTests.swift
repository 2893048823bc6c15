// edgebone run end to end: the bundled sample, Y4M from a pipe, MJPEG streams and image folders with
// damaged frames, SIGTERM mid-stream, the metrics file.
import Foundation
import EdgeboneTestSupport
import Testing
@testable import Edgebone

/// Starts `edgebone` with `args`, optionally feeding `stdin`.
func startEdgebone(_ args: [String], stdin: Data? = nil, keepStdinOpen: Bool = false) throws -> (Process, Pipe, Pipe) {
    let p = Process()
    p.executableURL = edgeboneExecutable()
    p.arguments = args
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    if keepStdinOpen {
        p.standardInput = Pipe()
        try p.run()
    } else if let stdin {
        let input = Pipe()
        p.standardInput = input
        try p.run()
        input.fileHandleForWriting.write(stdin)
        try input.fileHandleForWriting.close()
    } else {
        try p.run()
    }
    return (p, out, err)
}

extension Process {
    /// The pipe on stdin, when the process was started with one.
    var stdinPipe: Pipe? { standardInput as? Pipe }
}

func jsonLines(_ text: String) throws -> [[String: Any]] {
    try text.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
}

@Suite struct RunTests {
    let dir = Fixtures.scratchDirectory()

    func checkLine(_ o: [String: Any]) {
        #expect(o["frame"] is Int && o["captured_at"] is Double && o["inference_ms"] is Double && o["latency_ms"] is Double && o["dropped"] is Int)
        let top = o["top"] as? [[String: Any]] ?? []
        #expect(!top.isEmpty && top.allSatisfy { $0["class"] is Int && $0["label"] is String && $0["score"] is Double })
    }

    @Test func bundledSampleByDefault() throws {
        let r = try edgebone(["run", "--summary-interval", "0"])
        #expect(r.status == 0, "\(r.err)")
        let lines = try jsonLines(r.out)
        #expect(lines.count == 10)
        lines.forEach(checkLine)
        #expect((lines[0]["top"] as! [[String: Any]])[0]["label"] as? String == "tiger cat")
        #expect(r.err.contains("summary: 10 frames, 0 dropped, 0 bad"))
    }

    @Test func y4mFromAPipe() throws {
        let clip = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("../../Models/sample.y4m")))
        let (p, out, err) = try startEdgebone(["run", "--source", "-", "--summary-interval", "0"], stdin: clip)
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(String(decoding: e, as: UTF8.self))")
        // A pipe is live: frames may be dropped when inference is slower, but every line is complete.
        let lines = try jsonLines(String(decoding: o, as: UTF8.self))
        #expect(!lines.isEmpty)
        lines.forEach(checkLine)
    }

    @Test func mjpegStreamWithACorruptFrame() throws {
        var stream = Data()
        for name in ["rocket.jpg", "astronaut.jpg"] { stream += try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("photos/" + name))) }
        let good = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("photos/motorcycle.jpg")))
        var broken = Data(good.prefix(3000))
        broken += Data([0xFF, 0xD9])  // ends early: a damaged frame
        stream += broken + good
        let path = dir + "/clip.mjpeg"
        try stream.write(to: URL(fileURLWithPath: path))
        let r = try edgebone(["run", "--source", path, "--summary-interval", "0"])
        #expect(r.status == 0, "\(r.err)")
        #expect(try jsonLines(r.out).count == 3)
        #expect(r.err.contains("3 frames, 0 dropped, 1 bad"), "\(r.err)")
        #expect(r.err.contains("skipped frame 2"))
    }

    @Test func imageFolderAndTruncatedY4M() throws {
        let folder = dir + "/frames"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for name in ["chelsea.png", "coffee.png"] {
            try FileManager.default.copyItem(atPath: Fixtures.path("photos/" + name), toPath: folder + "/" + name)
        }
        try Data("not a png".utf8).write(to: URL(fileURLWithPath: folder + "/broken.png"))
        let r = try edgebone(["run", "--source", folder, "--summary-interval", "0"])
        #expect(r.status == 0 && r.err.contains("2 frames, 0 dropped, 1 bad"), "\(r.err)")

        let clip = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("../../Models/sample.y4m")))
        let cut = dir + "/cut.y4m"
        try clip.prefix(clip.count - 1000).write(to: URL(fileURLWithPath: cut))
        let t = try edgebone(["run", "--source", cut, "--summary-interval", "0"])
        #expect(t.status == 0 && t.err.contains("9 frames, 0 dropped, 1 bad"), "\(t.err)")
    }

    @Test func sigtermGivesSummaryAndExitZero() throws {
        let metrics = dir + "/edgebone.prom"
        let (p, out, err) = try startEdgebone(["run", "--loop", "--summary-interval", "0", "--metrics-file", metrics])
        // Wait for a few lines, then ask it to stop.
        var seen = Data()
        let deadline = Date().addingTimeInterval(60)
        while seen.split(separator: UInt8(ascii: "\n")).count < 5 && Date() < deadline {
            seen += out.fileHandleForReading.availableData
        }
        kill(p.processIdentifier, SIGTERM)
        seen += out.fileHandleForReading.readDataToEndOfFile()
        let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0 && p.terminationReason == .exit, "\(e)")
        #expect(e.contains("summary:"))
        let lines = try jsonLines(String(decoding: seen, as: UTF8.self))
        #expect(lines.count >= 5)
        // Prometheus text format: comments, or `name{labels} value` lines.
        let text = try String(contentsOfFile: metrics, encoding: .utf8)
        let sample = try Regex(#"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"]*")*\})? [-+0-9.eE]+(Inf)?$"#)
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            #expect(line.wholeMatch(of: sample) != nil, "not Prometheus text: \(line)")
        }
        // Every classified frame printed one line before the summary: the counter agrees with stdout.
        #expect(text.contains("edgebone_frames_total \(lines.count)\n"), "frames_total vs \(lines.count) lines")
        #expect(text.contains("edgebone_inference_seconds_bucket{le=\"+Inf\"}"))
    }

    @Test func missingSourceIsAnError() throws {
        let r = try edgebone(["run", "--source", dir + "/nothing.y4m"])
        #expect(r.status != 0 && r.err.contains("nothing.y4m: no such file"), "\(r.err)")
        let bad = try edgebone(["run", "--max-frames", "0"])
        #expect(bad.status != 0 && bad.err.contains("--max-frames"))
    }
}

@Suite struct SystemdNotifyTests {
    /// With $NOTIFY_SOCKET set, the daemon says READY=1, pings WATCHDOG=1 while frames flow and
    /// STOPPING=1 at the end.
    @Test func notifiesReadyWatchdogAndStopping() throws {
        let path = Fixtures.scratchDirectory() + "/notify.sock"
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        #expect(fd >= 0)
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() { raw[i] = b }
        }
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        #expect(bound == 0)
        let p = Process()
        p.executableURL = edgeboneExecutable()
        p.arguments = ["run", "--summary-interval", "0"]
        var env = ProcessInfo.processInfo.environment
        env["NOTIFY_SOCKET"] = path
        p.environment = env
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        var messages: [String] = []
        var buf = [UInt8](repeating: 0, count: 256)
        while true {
            let n = recv(fd, &buf, buf.count, Int32(MSG_DONTWAIT))
            if n <= 0 { break }
            messages.append(String(decoding: buf[0..<n], as: UTF8.self))
        }
        #expect(messages.first == "READY=1", "\(messages)")
        #expect(messages.contains("WATCHDOG=1"), "\(messages)")
        #expect(messages.last == "STOPPING=1", "\(messages)")
    }
}

@Suite struct BlockedReadTests {
    /// SIGTERM while the capture thread is blocked reading an idle pipe: summary and exit 0, promptly.
    @Test func sigtermWhileBlockedOnAnIdlePipe() throws {
        let p = Process()
        p.executableURL = edgeboneExecutable()
        p.arguments = ["run", "--source", "-", "--summary-interval", "0"]
        let input = Pipe(), err = Pipe()
        p.standardInput = input
        p.standardOutput = FileHandle.nullDevice
        p.standardError = err
        try p.run()
        // One frame header so the stream opens, then nothing: the reader blocks inside the frame.
        input.fileHandleForWriting.write(Data("YUV4MPEG2 W16 H16 F25:1 C444\nFRAME\n".utf8))
        usleep(1_500_000)
        let t0 = Date()
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        let elapsed = Date().timeIntervalSince(t0)
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(p.terminationStatus == 0 && p.terminationReason == .exit, "\(text)")
        #expect(text.contains("summary: 0 frames"), "\(text)")
        #expect(elapsed < 5, "took \(elapsed) s to stop")
        try? input.fileHandleForWriting.close()
    }

    /// Starts `run` with `args` and stdin from a pipe left open, sends `signal` after `delay`, and
    /// returns the exit status, whether it was a normal exit, and stderr.
    func stop(_ args: [String], signal: Int32, after delay: UInt32, write: String? = nil) throws -> (Int32, Bool, String) {
        let (p, _, err) = try startEdgebone(["run", "--summary-interval", "0"] + args, stdin: nil, keepStdinOpen: true)
        if let write { p.stdinPipe?.fileHandleForWriting.write(Data(write.utf8)) }
        usleep(delay)
        kill(p.processIdentifier, signal)
        waitOrKill(p, seconds: 15, what: "after signal \(signal)")
        try? p.stdinPipe?.fileHandleForWriting.close()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return (p.terminationStatus, p.terminationReason == .exit, text)
    }

    /// Before the first byte on stdin: no frame yet, but a summary and exit 0.
    @Test func sigtermBeforeTheFirstByteOnStdin() throws {
        let (status, exited, text) = try stop(["--source", "-"], signal: SIGTERM, after: 1_500_000)
        #expect(status == 0 && exited, "\(text)")
        #expect(text.contains("summary: 0 frames (stopped by SIGTERM before the first frame)"), "\(text)")
    }

    /// A FIFO nobody writes to: opening it blocks; SIGINT ends the run cleanly.
    @Test func sigintWhileAFIFOWaitsForItsWriter() throws {
        let dir = Fixtures.scratchDirectory()
        let fifo = dir + "/cam.y4m"
        unlink(fifo)
        #expect(mkfifo(fifo, 0o600) == 0)
        let (status, exited, text) = try stop(["--source", fifo], signal: SIGINT, after: 1_500_000)
        #expect(status == 0 && exited, "\(text)")
        #expect(text.contains("stopped by SIGINT before the first frame"), "\(text)")
    }

    /// SIGHUP mid-stream ends the run like SIGTERM: summary, exit 0.
    @Test func sighupIsACleanStop() throws {
        let (status, exited, text) = try stop(["--source", "-"], signal: SIGHUP, after: 1_500_000,
                                              write: "YUV4MPEG2 W16 H16 F25:1 C444\nFRAME\n")
        #expect(status == 0 && exited, "\(text)")
        #expect(text.contains("summary: 0 frames"), "\(text)")
    }
}

@Suite struct HostileSourceTests {
    let dir = Fixtures.scratchDirectory()

    func run(_ args: [String], seconds: Int = 60) throws -> (Int32, String, String) {
        let (p, out, err) = try startEdgebone(args)
        // Read both pipes while waiting, so a chatty process cannot block on a full pipe.
        let o = Drained(out), e = Drained(err)
        waitOrKill(p, seconds: seconds, what: "\(args)")
        return (p.terminationStatus, o.text, e.text)
    }

    /// A FIFO and a link to /dev/zero inside an image folder are passed over, not read forever.
    @Test func foldersHoldOnlyRegularFiles() throws {
        let folder = dir + "/mixed"
        mkdir(folder, 0o755)
        #expect(mkfifo(folder + "/a-fifo.png", 0o600) == 0)
        #expect(symlink("/dev/zero", folder + "/b-zero.jpg") == 0)
        let png = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("photos/chelsea.png")))
        try png.write(to: URL(fileURLWithPath: folder + "/c-cat.png"))
        let (status, out, err) = try run(["run", "--source", folder, "--summary-interval", "0"])
        #expect(status == 0, "\(err)")
        #expect(out.split(separator: "\n").count == 1, "\(out)")
    }

    /// An image path that is a device or too large is refused with the reason, at once.
    @Test func imageFilesAreBounded() throws {
        let zero = try edgebone(["classify", "/dev/zero"])
        #expect(zero.status == 1 && zero.err.contains("/dev/zero: cannot read: not a regular file"), "\(zero.err)")
        let big = dir + "/huge.png"
        let fd = open(big, O_CREAT | O_WRONLY | O_TRUNC, 0o644)
        #expect(ftruncate(fd, 65 << 20) == 0)  // sparse: no disk used
        close(fd)
        let r = try edgebone(["classify", big])
        #expect(r.status == 1 && r.err.contains("more than the 64 MiB limit for an image file"), "\(r.err)")
    }

    /// A looping source with nothing decodable stops with an error after one pass, and the log stays
    /// short (it printed hundreds of thousands of "skipped" lines a second, forever).
    @Test(arguments: ["folder", "mjpeg"])
    func loopingOverNothingDecodableStops(kind: String) throws {
        let source: String
        if kind == "folder" {
            source = dir + "/broken"
            mkdir(source, 0o755)
            for i in 0..<40 { try Data([0x89, 0x50, 0x4E, 0x47, 0, 1, 2, UInt8(i)]).write(to: URL(fileURLWithPath: source + "/\(i).png")) }
        } else {
            source = dir + "/broken.mjpeg"
            var bytes = Data()
            for i in 0..<40 { bytes.append(contentsOf: [0xFF, 0xD8, 0xFF, 0xE0, 0, 4, UInt8(i), 0, 0xFF, 0xD9]) }
            try bytes.write(to: URL(fileURLWithPath: source))
        }
        let (status, out, err) = try run(["run", "--source", source, "--loop", "--summary-interval", "0"])
        #expect(status == 1, "\(err.suffix(500))")
        #expect(err.contains("a whole pass gave no decodable frame"), "\(err.suffix(500))")
        #expect(out.isEmpty)
        let skipped = err.split(separator: "\n").filter { $0.contains("skipped frame") }.count
        #expect(skipped <= LogLimits.burst, "\(skipped) skipped lines")
    }
}

/// A pipe read to its end on a thread of its own.
final class Drained: @unchecked Sendable {
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ pipe: Pipe) {
        DispatchQueue.global().async {
            self.data = pipe.fileHandleForReading.readDataToEndOfFile()
            self.done.signal()
        }
    }

    var text: String {
        done.wait()
        done.signal()
        return String(decoding: data, as: UTF8.self)
    }
}

/// The daemon's log limit (edgebone's LogThrottle.burst).
enum LogLimits { static let burst = 5 }
