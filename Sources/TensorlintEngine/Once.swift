import Foundation

/// A value made the first time it is asked for, by whichever thread asks first, and kept.
final class Once<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var make: (@Sendable () -> Value)?
    private var made: Value?

    init(_ make: @escaping @Sendable () -> Value) { self.make = make }

    var value: Value {
        lock.withLock {
            if let made { return made }
            let value = make!()
            (made, make) = (value, nil)
            return value
        }
    }
}
