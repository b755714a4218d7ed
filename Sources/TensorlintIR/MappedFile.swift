#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only memory map of a whole file: bytes a reader skips (tensor payloads) are never paged in, and
/// reading a zip's many small headers costs no system call each. A small file is read into memory instead:
/// unmapping costs every thread of the process a TLB flush, which made a folder's files lint slower in parallel.
public final class MappedFile: @unchecked Sendable {
    public let bytes: UnsafeRawBufferPointer
    private let isMapped: Bool
    /// Files up to this size are read, not mapped.
    static let largestReadFile = 1 << 20

    public init(path: String) throws(ReadError) {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw .unreadable(String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw .unreadable(String(cString: strerror(errno))) }
        guard (status.st_mode & S_IFMT) == S_IFREG else { throw .unreadable("not a regular file") }
        let size = Int(status.st_size)
        guard size > 0 else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            isMapped = false
            return
        }
        if size <= Self.largestReadFile {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
            var filled = 0
            while filled < size {
                let count = read(descriptor, buffer.baseAddress! + filled, size - filled)
                if count < 0, errno == EINTR { continue }
                guard count > 0 else {
                    let reason = count < 0 ? String(cString: strerror(errno)) : "the file shrank while it was read"
                    buffer.deallocate()
                    throw .unreadable(reason)
                }
                filled += count
            }
            bytes = UnsafeRawBufferPointer(buffer)
            isMapped = false
            return
        }
        guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0), address != MAP_FAILED else {
            throw .unreadable("cannot map the file: \(String(cString: strerror(errno)))")
        }
        bytes = UnsafeRawBufferPointer(start: address, count: size)
        isMapped = true
    }

    deinit {
        guard let start = bytes.baseAddress else { return }
        if isMapped { munmap(UnsafeMutableRawPointer(mutating: start), bytes.count) } else { start.deallocate() }
    }
}
