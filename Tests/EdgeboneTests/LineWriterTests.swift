// The result-line formatter the daemon writes every frame with: exact formatting, and no heap
// allocation once its buffer has grown.
import CEdgeboneTestSupport
import Testing
@testable import Edgebone

@Suite struct LineWriterTests {
    func text(_ build: (LineWriter) -> Void) -> String {
        let w = LineWriter()
        build(w)
        return String(decoding: w.bytes, as: UTF8.self)
    }

    @Test func formatsNumbers() {
        #expect(text { $0.append(0) } == "0")
        #expect(text { $0.append(-1234567) } == "-1234567")
        #expect(text { $0.append(Int.max) } == String(Int.max))
        #expect(text { $0.append(3.14159, decimals: 3) } == "3.142")
        #expect(text { $0.append(-0.0004, decimals: 3) } == "0.000")
        #expect(text { $0.append(-2.5, decimals: 0) } == "-3")
        #expect(text { $0.append(0.05, decimals: 4) } == "0.0500")
        #expect(text { $0.append(1_764_190_000.123456, decimals: 6) } == "1764190000.123456")
        #expect(text { $0.append(Double.nan, decimals: 2) } == "null")
        #expect(text { $0.append(Double.infinity, decimals: 2) } == "null")
        #expect(text { $0.append(1e300, decimals: 2) } == "null")
    }

    @Test func escapesLabels() {
        #expect(String(decoding: jsonStringBytes("tabby, \"cat\"\\\n"), as: UTF8.self) == "\"tabby, \\\"cat\\\"\\\\\\n\"")
        #expect(String(decoding: jsonStringBytes("café"), as: UTF8.self) == "\"café\"")
    }

    @Test func aLinePerFrameAllocatesNothing() {
        let w = LineWriter(capacity: 16)  // grows during warm-up
        let label = jsonStringBytes("tiger cat")
        func line(_ i: Int) {
            w.reset()
            w.append("{\"frame\":"); w.append(i)
            w.append(",\"label\":"); w.append(label)
            w.append(",\"score\":"); w.append(Double(i) * 0.001, decimals: 6)
            w.append("}")
        }
        for i in 0..<10 { line(i) }
        eb_test_alloc_begin()
        for i in 0..<1000 { line(i) }
        let n = eb_test_alloc_end()
        #expect(n == 0, "\(n) allocations formatting 1000 lines")
        #expect(String(decoding: w.bytes, as: UTF8.self) == "{\"frame\":999,\"label\":\"tiger cat\",\"score\":0.999000}")
    }
}
