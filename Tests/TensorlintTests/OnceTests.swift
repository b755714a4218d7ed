import Foundation
import Testing
@testable import TensorlintEngine

@Suite struct OnceTests {
    /// Threads ask while the value is still being made: it is made by one of them, once, and all get it.
    @Test func madeOnceWhicheverThreadAsksFirst() {
        let counter = Counter()
        let once = Once { () -> Int in
            Thread.sleep(forTimeInterval: 0.02)
            return counter.increment()
        }
        let values = Array(0..<16).parallelMap(jobs: 8) { _ in once.value }
        #expect(counter.count == 1)
        #expect(values == Array(repeating: 1, count: 16))
    }
}

/// How many times a value was made.
private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var made = 0

    var count: Int { lock.withLock { made } }

    func increment() -> Int { lock.withLock { made += 1; return made } }
}
