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
    /// Whether `bytes` is a map of the file (else they were read into memory).
    public let isMapped: Bool
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

    /// A front-to-back reading of `part` (a part of `bytes`) that gives the pages it has passed back, when the
    /// file is mapped: bytes read into memory are kept, since anonymous pages given back would read as zeros.
    public func passedPages(of part: UnsafeRawBufferPointer) -> PassedPages {
        guard isMapped, let start = part.baseAddress, let base = bytes.baseAddress,
              start >= base, start + part.count <= base + bytes.count else { return .kept }
        return PassedPages(file: self, start: start, count: part.count)
    }

    deinit {
        guard let start = bytes.baseAddress else { return }
        if isMapped { munmap(UnsafeMutableRawPointer(mutating: start), bytes.count) } else { start.deallocate() }
    }
}

/// The pages of a mapped file that one reading from front to back has passed, given back to the kernel a few
/// megabytes at a time: a 200 MB program would otherwise stay resident beside the graph built from it. A page
/// given back and touched again is read back from the file (from the page cache, most often). Linux drops the
/// pages at once; Darwin takes `MADV_DONTNEED` as a hint only.
public struct PassedPages {
    /// Held, so that the map outlives every use of its pages.
    private let file: MappedFile?
    private let start: UnsafeRawPointer?
    private let count: Int
    /// Offset (from `start`) up to which pages were given back.
    private var givenBack = 0
    /// Pages are given back in steps of this many bytes: each step is a system call.
    public static let step = 4 << 20
    private static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// Nothing is given back.
    public static var kept: PassedPages { PassedPages(file: nil, start: nil, count: 0) }

    init(file: MappedFile?, start: UnsafeRawPointer?, count: Int) {
        self.file = file
        self.start = start
        self.count = count
    }

    /// Whether nothing is ever given back (bytes that are not a file's map).
    var isKept: Bool { start == nil }

    /// The reading has passed every byte before `offset`: the whole pages before it are given back. Giving back
    /// a page that also holds other bytes is harmless: the map is read-only, so a page touched again is read
    /// back from the file.
    public mutating func passed(_ offset: Int) {
        guard let start, offset - givenBack >= Self.step else { return }
        let from = Self.roundedDown(start + givenBack), to = Self.roundedDown(start + min(offset, count))
        guard from < to else { return }
        madvise(UnsafeMutableRawPointer(mutating: from), to - from, MADV_DONTNEED)
        givenBack = to - start
    }

    /// The same bytes, read on another thread from `offset`: it gives back what it passes from there on.
    public func resumed(at offset: Int) -> PassedPages {
        var pages = self
        pages.givenBack = max(givenBack, offset)
        return pages
    }

    private static func roundedDown(_ address: UnsafeRawPointer) -> UnsafeRawPointer {
        UnsafeRawPointer(bitPattern: UInt(bitPattern: address) & ~UInt(pageSize - 1))!
    }
}
