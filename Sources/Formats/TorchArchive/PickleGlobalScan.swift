import Foundation
import TensorlintIR

/// Every global a pickle names, found by walking its opcodes (all protocols, 0 to 5) without running any:
/// what Python's unpickler would import, and so call, when the file is loaded. `STACK_GLOBAL` takes its
/// names from the strings pushed before it; when they cannot be told (built at run time), the global is
/// reported as `?`, and so is an `EXT` code, which names a global through the copyreg registry.
public enum PickleGlobalScan {
    public struct Reference: Equatable {
        public var module: String
        public var name: String
        public var offset: Int
    }

    /// Lines (protocol 0 arguments) longer than this are not a pickle's.
    static let maximumLine = 4096

    /// The globals of the pickle that starts at `start`, and where it ends (after STOP); `nil` when the bytes
    /// stop being a pickle (an unknown opcode, a truncated argument): Python stops there too, after having
    /// run what came before, so what was found is kept.
    public static func scan(_ bytes: [UInt8], from start: Int = 0) -> (globals: [Reference], end: Int?) {
        var globals: [Reference] = []
        var position = start
        // The last values pushed, as far as STACK_GLOBAL needs them: a string, or nil for anything else.
        var pushed: [String?] = []
        var memo: [Int: String?] = [:]
        var memoCount = 0
        func unsigned(_ width: Int) -> Int? {
            guard bytes.count - position >= width else { return nil }
            defer { position += width }
            return (0..<width).reduce(0) { $0 | Int(bytes[position + $1]) << (8 * $1) }
        }
        func line() -> String? {
            guard let end = bytes[position...].prefix(maximumLine).firstIndex(of: 0x0A) else { return nil }
            defer { position = end + 1 }
            return String(decoding: bytes[position..<end], as: UTF8.self)
        }
        func text(_ width: Int) -> String? {
            guard let count = unsigned(width), count >= 0, bytes.count - position >= count else { return nil }
            defer { position += count }
            return String(decoding: bytes[position..<position + count], as: UTF8.self)
        }
        func skip(_ count: Int?) -> Bool {
            guard let count, count >= 0, bytes.count - position >= count else { return false }
            position += count
            return true
        }
        func push(_ value: String?) {
            pushed.append(value)
            if pushed.count > 64 { pushed.removeFirst(32) }
        }
        while position < bytes.count {
            let opcodeOffset = position
            let opcode = bytes[position]
            position += 1
            switch opcode {
            case 0x2E:                                                              // STOP
                return (globals, position)
            case 0x63, 0x69:                                                        // GLOBAL, INST
                guard let module = line(), let name = line() else { return (globals, nil) }
                globals.append(Reference(module: module, name: name, offset: opcodeOffset))
                push(nil)
            case 0x93:                                                              // STACK_GLOBAL
                let name = pushed.popLast() ?? nil, module = pushed.popLast() ?? nil
                globals.append(Reference(module: module ?? "?", name: name ?? "?", offset: opcodeOffset))
                push(nil)
            case 0x82, 0x83, 0x84:                                                  // EXT1, EXT2, EXT4
                guard let code = unsigned(opcode == 0x82 ? 1 : opcode == 0x83 ? 2 : 4) else { return (globals, nil) }
                globals.append(Reference(module: "?", name: "copyreg extension \(code)", offset: opcodeOffset))
                push(nil)
            case 0x58, 0x8C, 0x8D:                                                  // BINUNICODE, SHORT_BINUNICODE, BINUNICODE8
                guard let value = text(opcode == 0x58 ? 4 : opcode == 0x8C ? 1 : 8) else { return (globals, nil) }
                push(value)
            case 0x54, 0x55:                                                        // BINSTRING, SHORT_BINSTRING
                guard let value = text(opcode == 0x54 ? 4 : 1) else { return (globals, nil) }
                push(value)
            case 0x53, 0x56:                                                        // STRING, UNICODE
                guard var value = line() else { return (globals, nil) }
                if opcode == 0x53, value.count >= 2, let quote = value.first, quote == "'" || quote == "\"" { value = String(value.dropFirst().dropLast()) }
                push(value)
            case 0x94:                                                              // MEMOIZE
                memo[memoCount] = pushed.last ?? nil
                memoCount += 1
            case 0x70:                                                              // PUT
                guard let key = line().flatMap({ Int($0) }) else { return (globals, nil) }
                memo[key] = pushed.last ?? nil
            case 0x71, 0x72:                                                        // BINPUT, LONG_BINPUT
                guard let key = unsigned(opcode == 0x71 ? 1 : 4) else { return (globals, nil) }
                memo[key] = pushed.last ?? nil
            case 0x67:                                                              // GET
                guard let key = line().flatMap({ Int($0) }) else { return (globals, nil) }
                push(memo[key] ?? nil)
            case 0x68, 0x6A:                                                        // BINGET, LONG_BINGET
                guard let key = unsigned(opcode == 0x68 ? 1 : 4) else { return (globals, nil) }
                push(memo[key] ?? nil)
            case 0x46, 0x49, 0x4C, 0x50:                                            // FLOAT, INT, LONG, PERSID
                guard line() != nil else { return (globals, nil) }
                push(nil)
            default:
                guard let width = fixedArgumentWidth[opcode] else { return (globals, nil) }
                if let counted = countedArgumentWidth[opcode] {
                    guard skip(unsigned(counted)) else { return (globals, nil) }
                } else {
                    guard skip(width) else { return (globals, nil) }
                }
                if pushes.contains(opcode) { push(nil) }
            }
        }
        return (globals, nil)
    }

    /// Opcodes with an argument of fixed width (0: none), other than those `scan` handles itself.
    static let fixedArgumentWidth: [UInt8: Int] = {
        var widths: [UInt8: Int] = [:]
        for opcode in Array("()012NQRabdelostu}]".utf8) + [0x81, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8F, 0x90, 0x91, 0x92, 0x97, 0x98] {
            widths[opcode] = 0
        }
        widths[0x80] = 1                                                           // PROTO
        widths[0x95] = 8                                                           // FRAME
        widths[UInt8(ascii: "J")] = 4                                              // BININT
        widths[UInt8(ascii: "K")] = 1                                              // BININT1
        widths[UInt8(ascii: "M")] = 2                                              // BININT2
        widths[UInt8(ascii: "G")] = 8                                              // BINFLOAT
        for opcode: UInt8 in [0x8A, 0x8B, UInt8(ascii: "B"), UInt8(ascii: "C"), 0x8E, 0x96] { widths[opcode] = 0 }
        return widths
    }()

    /// Opcodes whose argument is a length of this many bytes followed by that many bytes (LONG1, LONG4,
    /// BINBYTES, SHORT_BINBYTES, BINBYTES8, BYTEARRAY8).
    static let countedArgumentWidth: [UInt8: Int] = [0x8A: 1, 0x8B: 4, UInt8(ascii: "B"): 4, UInt8(ascii: "C"): 1, 0x8E: 8, 0x96: 8]

    /// Opcodes that push a value (not a string STACK_GLOBAL could use).
    static let pushes: Set<UInt8> = Set(Array("(NJKMGRlotd}])".utf8) + [0x81, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8B, 0x8F, 0x91, 0x92, 0x97,
                                                                         UInt8(ascii: "B"), UInt8(ascii: "C"), 0x8E, 0x96])
}
