import Dispatch

/// Lets go of `value` on another thread: what a large model is read into takes milliseconds to free (a tenth
/// of a second at 100,000 nodes), which neither the reading nor the report need wait for. Only for callers given
/// more than one thread.
public func freeInTheBackground(_ value: some Sendable) {
    DispatchQueue.global(qos: .utility).async { withExtendedLifetime(value) {} }
}
