// ISA selection: the probe's best level, and EDGEBONE_ISA forcing or refusing a level.
import Testing
@testable import Edgebone
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct ISATests {
    func withISA<T>(_ value: String?, _ body: () throws -> T) rethrows -> T {
        let old = getenv("EDGEBONE_ISA").map { String(cString: $0) }
        if let value { setenv("EDGEBONE_ISA", value, 1) } else { unsetenv("EDGEBONE_ISA") }
        defer { if let old { setenv("EDGEBONE_ISA", old, 1) } else { unsetenv("EDGEBONE_ISA") } }
        return try body()
    }

    @Test func bestIsSupportedAndDefault() throws {
        #expect(ISA.supported.contains(ISA.best))
        #expect(ISA.supported.first == .scalar)
        #expect(try withISA(nil) { try ISA.fromEnvironment() } == ISA.best)
    }

    @Test func forcingAndRefusing() throws {
        #expect(try withISA("scalar") { try ISA.fromEnvironment() } == .scalar)
        #expect(throws: ISAError.unknown("sse9")) { try withISA("sse9") { try ISA.fromEnvironment() } }
        #if arch(x86_64)
        #expect(throws: ISAError.self) { try withISA("neondot") { try ISA.fromEnvironment() } }
        let refusal = try? withISA("neon") { try ISA.fromEnvironment() }
        #expect(refusal == nil)
        #endif
    }
}
