// The safetensors reader never trusts its input: each kind of damage has its own typed error.
import EdgeboneTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import Edgebone

@Suite struct SafeTensorsTests {
    let dir = Fixtures.scratchDirectory()

    func sample() -> [UInt8] {
        var w = SafeTensorsWriter()
        w.add("a.weight", dtype: .f32, shape: [2, 3], elements: [Float](repeating: 1.5, count: 6))
        w.add("a.bias", dtype: .i32, shape: [2], elements: [Int32(7), -7])
        w.add("q", dtype: .i8, shape: [5], elements: [Int8](arrayLiteral: 1, -2, 3, -4, 5))
        w.metadata = ["format": "edgebone-test", "arch": "x"]
        return w.serialized()
    }

    /// Writes a file whose header is `json` followed by `dataBytes` zero bytes.
    func file(header json: String, dataBytes: Int = 64, declaredLength: UInt64? = nil) -> String {
        let h = Array(json.utf8)
        var bytes: [UInt8] = []
        withUnsafeBytes(of: (declaredLength ?? UInt64(h.count)).littleEndian) { bytes += $0 }
        bytes += h + [UInt8](repeating: 0, count: dataBytes)
        let p = dir + "/t\(bytes.count)-\(json.hashValue).safetensors"
        Fixtures.write(bytes, to: p)
        return p
    }

    func error(_ path: String) -> ModelFileError? {
        do { _ = try SafeTensorsFile(path: path); return nil } catch let e as ModelFileError { return e } catch { return nil }
    }

    @Test func roundTrip() throws {
        let p = dir + "/ok.safetensors"
        Fixtures.write(sample(), to: p)
        let f = try SafeTensorsFile(path: p)
        #expect(f.names == ["a.bias", "a.weight", "q"])
        #expect(f.metadata["format"] == "edgebone-test")
        #expect(try f.floats("a.weight", shape: [2, 3]) == [Float](repeating: 1.5, count: 6))
        #expect(f.copyElements(try f.info("a.bias"), as: Int32.self) == [7, -7])
        #expect(f.copyElements(try f.info("q"), as: Int8.self) == [1, -2, 3, -4, 5])
        // The data section starts 8-byte aligned, wide tensors first.
        #expect(Int(bitPattern: f.dataStart) % 8 == 0)
        #expect(try f.info("a.bias").begin == 0 && f.info("q").end == f.dataBytes)
    }

    @Test func atomicWriteLeavesNoTemporary() throws {
        var w = SafeTensorsWriter()
        w.add("x", dtype: .f32, shape: [1], elements: [Float(1)])
        try w.write(to: dir + "/atomic.safetensors")
        #expect(access(dir + "/atomic.safetensors", F_OK) == 0)
        #expect(access(dir + "/atomic.safetensors.tmp-\(getpid())", F_OK) != 0)
        #expect(throws: ModelFileError.self) { try w.write(to: "/nonexistent-dir/x.safetensors") }
    }

    @Test func missingFile() {
        guard case .unreadable? = error(dir + "/nope.safetensors") else { Issue.record("expected unreadable"); return }
    }

    @Test func directoryIsNotAFile() {
        guard case .unreadable? = error(dir) else { Issue.record("expected unreadable"); return }
    }

    @Test func truncatedFile() {
        let p = dir + "/short.safetensors"
        Fixtures.write([1, 2, 3], to: p)
        #expect(error(p) == .truncated(path: p, fileSize: 3))
    }

    @Test func headerLengthPastEnd() {
        let p = file(header: "{}", dataBytes: 0, declaredLength: 1 << 40)
        guard case .headerLengthOutOfRange(_, let n, _)? = error(p) else { Issue.record("expected headerLengthOutOfRange"); return }
        #expect(n == 1 << 40)
    }

    @Test func garbageHeader() {
        guard case .headerNotJSON? = error(file(header: "this is {not json")) else { Issue.record("expected headerNotJSON"); return }
        guard case .headerNotJSON? = error(file(header: "[1, 2, 3]")) else { Issue.record("expected headerNotJSON for an array"); return }
        // A raw control character inside a string is an error, not a trap (Swift 6.0's JSONDecoder traps).
        for header in ["{\"__metadata__\":{\"a\":\"x\u{0}y\"}}", "{\"t\u{1c}\":1}", "{\"a\":\"\n\"}"] {
            guard case .headerNotJSON? = error(file(header: header)) else { Issue.record("expected headerNotJSON for \(Array(header.utf8))"); return }
        }
    }

    @Test func stringsJSONDecoderCannotDecodeAreRefusedFirst() throws {
        let ok = ["{\n\t\"a\": \"b\\n\\\"\\u0000\\/\"\r\n}", #"{"é": "\ud83d\ude00 \u00e9"}"#, #"["\\", "\""]"#]
        for text in ok {
            try JSONValue.refuseUndecodableStrings(Array(text.utf8))
            _ = try Array(text.utf8).withUnsafeBytes { try JSONValue.parse($0) }
        }
        let bad: [[UInt8]] = [Array("{\"a\": \"\\\"\t\"}".utf8), Array(#"["\x"]"#.utf8), Array(#"["\u12g4"]"#.utf8),
                              Array(#"["\ud83d"]"#.utf8), Array(#"["\ude00"]"#.utf8), Array(#"["\ud83d\u0041"]"#.utf8),
                              Array(#"["\u12"#.utf8), [0x5B, 0x22, 0xC3, 0x22, 0x5D], [0x5B, 0x22, 0xFF, 0x22, 0x5D]]
        for text in bad {
            #expect(throws: JSONValue.UndecodableString.self, "\(text)") { try JSONValue.refuseUndecodableStrings(text) }
            #expect(throws: (any Error).self, "\(text)") { try text.withUnsafeBytes { try JSONValue.parse($0) } }
        }
    }

    @Test func unsupportedDType() {
        let p = file(header: #"{"t":{"dtype":"F99","shape":[1],"data_offsets":[0,4]}}"#)
        #expect(error(p) == .unsupportedDType(path: p, tensor: "t", dtype: "F99"))
    }

    @Test func offsetsOutOfRange() {
        let p = file(header: #"{"t":{"dtype":"F32","shape":[100],"data_offsets":[0,400]}}"#, dataBytes: 64)
        #expect(error(p) == .offsetsOutOfRange(path: p, tensor: "t", begin: 0, end: 400, dataBytes: 64))
        let q = file(header: #"{"t":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}"#)
        guard case .offsetsOutOfRange? = error(q) else { Issue.record("expected offsetsOutOfRange for end < begin"); return }
    }

    @Test func byteCountMismatch() {
        let p = file(header: #"{"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#)
        #expect(error(p) == .byteCountMismatch(path: p, tensor: "t", expected: 12, found: 8))
    }

    @Test func overlappingTensors() {
        let p = file(header: #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}"#)
        #expect(error(p) == .overlappingTensors(path: p, first: "a", second: "b"))
    }

    @Test func malformedEntries() {
        for h in [#"{"t":5}"#, #"{"t":{"shape":[1],"data_offsets":[0,4]}}"#, #"{"t":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#,
                  #"{"t":{"dtype":"F32","shape":[1],"data_offsets":[0]}}"#, #"{"t":{"dtype":"F32","shape":"1","data_offsets":[0,4]}}"#] {
            guard case .malformedEntry? = error(file(header: h)) else { Issue.record("expected malformedEntry for \(h)"); continue }
        }
    }

    @Test func metadataMustBeStrings() {
        let p = file(header: #"{"__metadata__":{"version":1}}"#)
        #expect(error(p) == .invalidMetadata(path: p, key: "version", detail: "value is not a string"))
    }

    @Test func expectChecksDTypeAndShape() throws {
        let p = dir + "/ok2.safetensors"
        Fixtures.write(sample(), to: p)
        let f = try SafeTensorsFile(path: p)
        #expect(throws: ModelFileError.missingTensor(path: p, tensor: "nope")) { try f.info("nope") }
        #expect(throws: ModelFileError.shapeMismatch(path: p, tensor: "a.weight", expected: [3, 2], found: [2, 3])) {
            try f.floats("a.weight", shape: [3, 2])
        }
        #expect(throws: ModelFileError.dtypeMismatch(path: p, tensor: "a.bias", expected: .f32, found: .i32)) {
            try f.floats("a.bias")
        }
    }

    /// Every truncation and many single-byte corruptions of a valid file: an error or a valid read, never a crash.
    @Test func damagedFilesNeverCrash() {
        let good = sample()
        var outcomes = (ok: 0, failed: 0)
        for n in 0..<good.count {
            let p = dir + "/cut.safetensors"
            Fixtures.write(Array(good.prefix(n)), to: p)
            if error(p) == nil { outcomes.ok += 1 } else { outcomes.failed += 1 }
        }
        #expect(outcomes.ok == 0, "a truncated file was accepted")
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            var bad = good
            let i = Int.random(in: 0..<min(bad.count, 8 + 200), using: &rng)
            bad[i] = UInt8.random(in: 0...255, using: &rng)
            let p = dir + "/flip.safetensors"
            Fixtures.write(bad, to: p)
            _ = error(p)
        }
    }
}
