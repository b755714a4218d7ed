import Dispatch

/// Frees `value`, on another thread when the caller was given more than one (`--jobs 1` means one): what a
/// large model is read into takes milliseconds to free (a tenth of a second at 100,000 nodes), which neither
/// the reading nor the report need wait for.
public func letGo(_ value: consuming some Sendable, threads: Int) {
    guard threads > 1 else { return }
    let held = consume value
    DispatchQueue.global(qos: .utility).async { withExtendedLifetime(held) {} }
}
