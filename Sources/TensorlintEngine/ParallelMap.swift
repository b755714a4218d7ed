import Dispatch
import Foundation

extension Array where Element: Sendable {
    /// `transform` applied to every element on up to `jobs` threads, the results in the elements' order.
    /// Threads take the next element as they finish one, so that a slow element does not hold up a thread's share.
    public func parallelMap<Result: Sendable>(jobs: Int, _ transform: @Sendable (Element) -> Result) -> [Result] {
        guard jobs > 1, count > 1 else { return map(transform) }
        let results = UnsafeMutableBufferPointer<Result?>.allocate(capacity: count)
        results.initialize(repeating: nil)
        defer { results.deallocate() }
        let claims = NSLock()
        nonisolated(unsafe) var next = 0
        nonisolated(unsafe) let slots = results
        DispatchQueue.concurrentPerform(iterations: Swift.min(jobs, count)) { _ in
            while true {
                claims.lock()
                let index = next
                next += 1
                claims.unlock()
                guard index < count else { return }
                // Each index is claimed once, so no two threads write one slot.
                slots[index] = transform(self[index])
            }
        }
        // Moved out, so that the buffer holds nothing when it is freed.
        return results.indices.map { (results.baseAddress! + $0).move()! }
    }
}
