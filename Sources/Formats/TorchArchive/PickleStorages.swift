import Foundation
import TensorlintIR

/// Reads the storage records of a `torch.save` pickle (protocol 2, as torch writes `data.pkl`) at the opcode
/// level, without executing anything: which storage key has which storage class (`torch HalfStorage`), and
/// where each storage-class GLOBAL sits so it can be renamed. Any opcode outside the plain-data subset
/// torch uses makes it give up.
public struct PickleStorages {
    /// Storage key (the `data/<key>` record) → storage class name (`HalfStorage`).
    public private(set) var classOfKey: [String: String] = [:]
    /// Byte ranges of the `torch\nXStorage\n` arguments of GLOBAL opcodes, with the class named.
    public private(set) var globals: [(range: Range<Int>, name: String)] = []

    public struct Unsupported: Error, CustomStringConvertible {
        public let description: String
    }

    public init(_ pickle: [UInt8]) throws {
        var memo: [Int: String] = [:]
        var lastProduced: String?
        var pending: [String] = []  // recent strings and globals, to read ('storage', class, key, …) tuples
        var position = 0
        func take(_ count: Int) throws -> Range<Int> {
            guard count >= 0, position + count <= pickle.count else { throw Unsupported(description: "truncated pickle") }
            defer { position += count }
            return position..<position + count
        }
        func integer(_ count: Int) throws -> Int {
            let range = try take(count)
            return range.reversed().reduce(0) { $0 << 8 | Int(pickle[$1]) }
        }
        func line() throws -> (String, Range<Int>) {
            guard let end = pickle[position...].firstIndex(of: 0x0A) else { throw Unsupported(description: "unterminated GLOBAL") }
            let range = position..<end
            position = end + 1
            return (String(decoding: pickle[range], as: UTF8.self), range)
        }
        while position < pickle.count {
            let opcode = pickle[position]
            position += 1
            var produced: String?
            switch opcode {
            case 0x80: _ = try take(1)                                  // PROTO
            case 0x2E: return                                           // STOP
            case 0x7D, 0x28, 0x29, 0x5D, 0x4E, 0x88, 0x89: break        // EMPTY_DICT MARK EMPTY_TUPLE EMPTY_LIST NONE NEWTRUE NEWFALSE
            case 0x74, 0x85, 0x86, 0x87, 0x52, 0x75, 0x73, 0x65, 0x61, 0x62, 0x51: break // TUPLE… REDUCE SETITEMS SETITEM APPENDS APPEND BUILD BINPERSID
            case 0x4B: _ = try take(1)                                  // BININT1
            case 0x4D: _ = try take(2)                                  // BININT2
            case 0x4A: _ = try take(4)                                  // BININT
            case 0x47: _ = try take(8)                                  // BINFLOAT
            case 0x8A: _ = try take(try integer(1))                     // LONG1
            case 0x71: memo[try integer(1)] = lastProduced              // BINPUT
            case 0x72: memo[try integer(4)] = lastProduced              // LONG_BINPUT
            case 0x68: produced = memo[try integer(1)]                  // BINGET
            case 0x6A: produced = memo[try integer(4)]                  // LONG_BINGET
            case 0x58:                                                  // BINUNICODE
                let range = try take(try integer(4))
                produced = "'" + String(decoding: pickle[range], as: UTF8.self)
            case 0x8C:                                                  // SHORT_BINUNICODE
                let range = try take(try integer(1))
                produced = "'" + String(decoding: pickle[range], as: UTF8.self)
            case 0x63:                                                  // GLOBAL module\nname\n
                let start = position
                let (module, _) = try line()
                let (name, _) = try line()
                produced = "\(module).\(name)"
                if module == "torch", name.hasSuffix("Storage") { globals.append((start..<position, name)) }
            default:
                throw Unsupported(description: "pickle opcode 0x\(String(opcode, radix: 16)) is outside what tensorlint reads")
            }
            // BINPUT memoizes the string or global just pushed (nothing for other values).
            lastProduced = opcode == 0x71 || opcode == 0x72 ? lastProduced : produced
            if let produced {
                pending.append(produced)
                if pending.count > 3 { pending.removeFirst() }
                // ('storage', torch.XStorage, 'key', …): the persistent id of a storage record.
                if pending.count == 3, pending[0] == "'storage", pending[1].hasPrefix("torch."), pending[2].hasPrefix("'") {
                    classOfKey[String(pending[2].dropFirst())] = String(pending[1].dropFirst("torch.".count))
                }
            }
        }
        throw Unsupported(description: "pickle without STOP")
    }
}
