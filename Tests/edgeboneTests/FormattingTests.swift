// Number formatting of the commands' output for values a corrupt model can produce.
import Testing
@testable import edgebone

struct FormattingTests {
    @Test func scoresNeverTrap() {
        #expect(formatScore(0.12345) == "0.1235")
        #expect(formatScore(-0.5) == "-0.5000")
        #expect(formatScore(3e38) == "3e+38")
        #expect(formatScore(.nan) == "nan")
        #expect(formatScore(-.infinity) == "-inf")
    }

    @Test func jsonHasNoNaN() {
        #expect(jsonNumber(0.25) == "0.25")
        #expect(jsonNumber(.nan) == "null" && jsonNumber(.infinity) == "null")
    }
}
