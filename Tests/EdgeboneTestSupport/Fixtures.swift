// Paths to the committed fixtures (Tests/Fixtures) and scratch directories, shared by the test targets.
#if canImport(Glibc)
import Glibc
#endif

public enum Fixtures {
    public static let root: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(2)  // EdgeboneTestSupport/Fixtures.swift
        return parts.joined(separator: "/") + "/Fixtures"
    }()

    public static func path(_ relative: String) -> String { root + "/" + relative }

    public static func exists(_ relative: String) -> Bool { access(path(relative), F_OK) == 0 }

    /// A fresh directory under /tmp for one test.
    public static func scratchDirectory() -> String {
        var template = Array("/tmp/edgebone-test-XXXXXX".utf8CString)
        let dir = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        return String(cString: dir!)
    }

    public static func write(_ bytes: [UInt8], to path: String) {
        let f = fopen(path, "wb")!
        _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
        fclose(f)
    }
}
