// Paths to the committed fixtures (Tests/Fixtures) and a scratch directory for tests.
#if canImport(Glibc)
import Glibc
#endif

enum Fixtures {
    static let root: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(2)  // EdgeboneTests/Fixtures.swift
        return parts.joined(separator: "/") + "/Fixtures"
    }()

    static func path(_ relative: String) -> String { root + "/" + relative }

    static func exists(_ relative: String) -> Bool { access(path(relative), F_OK) == 0 }

    /// A fresh directory under /tmp for one test.
    static func scratchDirectory() -> String {
        var template = Array("/tmp/edgebone-test-XXXXXX".utf8CString)
        let dir = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        return String(cString: dir!)
    }

    static func write(_ bytes: [UInt8], to path: String) {
        let f = fopen(path, "wb")!
        _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
        fclose(f)
    }
}
