import CFuzzer
import Foundation

/// The readers take paths: each input is written to a file in a folder of this process's own on /dev/shm
/// (memory, not disk; `TENSORLINT_FUZZ_SCRATCH` names another), under the name the harness gives it.
public enum Scratch {
    public static let folder: String = {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let folder = ProcessInfo.processInfo.environment["TENSORLINT_FUZZ_SCRATCH"] ?? "\(base)/tensorlint-fuzz-\(getpid())"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }()

    /// The input written to `name` in the scratch folder; the output path beside it removed.
    public static func file(_ name: String, _ data: UnsafePointer<UInt8>, _ size: Int) -> String {
        let path = "\(folder)/\(name)"
        FileManager.default.createFile(atPath: path, contents: Data(bytes: data, count: size))
        return path
    }

    public static func clear(_ name: String) -> String {
        let path = "\(folder)/\(name)"
        try? FileManager.default.removeItem(atPath: path)
        return path
    }
}

extension Scratch {
    public static func file(_ name: String, _ data: Data) -> String {
        let path = "\(folder)/\(name)"
        FileManager.default.createFile(atPath: path, contents: data)
        return path
    }
}

/// Runs libFuzzer with this process's arguments on `callback`, then exits with its status.
public func runFuzzer(_ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, callback))
}
