// The greedy planner on hand-built lifetimes: no overlaps, alignment, and the lower bound.
import Testing
@testable import Edgebone

@Suite struct ArenaPlannerTests {
    @Test func chainReusesMemory() {
        // A → B → C → D: each buffer lives two steps; only neighbours overlap.
        let r = (0..<4).map { BufferRequest(size: 1000, first: $0, last: $0 + 1) }
        let plan = ArenaPlan(r)
        #expect(ArenaPlan.isValid(plan, for: r))
        #expect(plan.arenaBytes == 2 * 1024)
        #expect(plan.lowerBoundBytes == 2 * 1024)
    }

    @Test func residualKeepsShortcutAlive() {
        let r = [BufferRequest(size: 4096, first: 0, last: 3),  // shortcut, read by the add at step 3
                 BufferRequest(size: 8192, first: 1, last: 2),
                 BufferRequest(size: 8192, first: 2, last: 3),
                 BufferRequest(size: 4096, first: 3, last: 4)]
        let plan = ArenaPlan(r)
        #expect(ArenaPlan.isValid(plan, for: r))
        // Step 2 holds the shortcut and both 8 KiB buffers.
        #expect(plan.lowerBoundBytes == 4096 + 8192 + 8192)
        #expect(plan.arenaBytes == plan.lowerBoundBytes)
    }

    @Test func randomLifetimesAreValidAndNearTheBound() {
        var rng = SystemRandomNumberGenerator()
        var worst = 1.0
        for _ in 0..<200 {
            let n = Int.random(in: 1...40, using: &rng)
            let r = (0..<n).map { _ -> BufferRequest in
                let a = Int.random(in: 0..<30, using: &rng)
                return BufferRequest(size: Int.random(in: 0...100_000, using: &rng), first: a, last: a + Int.random(in: 0..<6, using: &rng))
            }
            let plan = ArenaPlan(r)
            #expect(ArenaPlan.isValid(plan, for: r))
            #expect(plan.arenaBytes >= plan.lowerBoundBytes)
            if plan.lowerBoundBytes > 0 { worst = max(worst, Double(plan.arenaBytes) / Double(plan.lowerBoundBytes)) }
        }
        #expect(worst < 2.0, "greedy plan \(worst)× its lower bound")
    }

    @Test func overlapCheckerCatchesOverlap() {
        let r = [BufferRequest(size: 100, first: 0, last: 1), BufferRequest(size: 100, first: 1, last: 2)]
        let bad = ArenaPlan(offsets: [0, 64], arenaBytes: 192, lowerBoundBytes: 256)
        #expect(!ArenaPlan.isValid(bad, for: r))
    }
}
