import Foundation
import TensorlintIR

/// A value of a pickle torch wrote (protocol 2, `torch::jit::Pickler`), as data: classes and reconstructors are
/// names, never looked up or called.
public indirect enum PickleValue: Sendable {
    case none
    case bool(Bool)
    case int(Int64)
    case float(Double)
    case string(String)
    case tuple([PickleValue])
    case list([PickleValue])
    case dict([(key: PickleValue, value: PickleValue)])
    /// An instance of a TorchScript class (`__torch__.…`) with its attribute dict or `__setstate__` state.
    case object(className: String, state: PickleValue?)
    case tensor(PickleTensor)
    case device(String)
    /// A storage class GLOBAL (`torch.HalfStorage`) or a class used only as a value.
    case global(module: String, name: String)
    /// The persistent id of a storage record: `('storage', torch.HalfStorage, key, device, numel)`.
    case storage(PickleStorage)

    public var string: String? { if case .string(let text) = self { return text } else { return nil } }
    public var int: Int64? { if case .int(let value) = self { return value } else { return nil } }
    /// Items of a tuple or list.
    public var items: [PickleValue]? {
        switch self {
        case .tuple(let items), .list(let items): return items
        default: return nil
        }
    }
}

public struct PickleStorage: Sendable {
    /// The record name under the archive's tensor folder (`data/<key>`, `constants/<key>`).
    public var key: String
    /// `HalfStorage`, `FloatStorage` …
    public var storageClass: String
    public var elementCount: Int64
}

/// Tensor metadata from `torch._utils._rebuild_tensor_v2` (or `_rebuild_parameter` around it); no bytes.
public struct PickleTensor: Sendable {
    public var storage: PickleStorage
    public var storageOffset: Int64
    public var shape: [Int64]
    public var strides: [Int64]
    public var dtype: DType? { TorchStorageClass.dtype[storage.storageClass] }
}

/// Why a pickle was not read: one line, naming what it contained.
public struct PickleError: Error, CustomStringConvertible, Sendable, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Runs a torch-written pickle as a stack machine over inert values. Only the opcodes of protocol 2 that
/// torch's pickler emits, and only the globals a TorchScript archive names, are accepted: anything else,
/// `os.system` first of all, stops the reading with an error, before any value would have been called.
public struct PickleMachine {
    /// Bounds against hostile input: values on the stack, memo entries, nested MARKs.
    public static let maximumValues = 5_000_000
    public static let maximumMarkDepth = 1_000
    /// Container items copied while building lists and dicts: APPEND after APPEND on one list is quadratic.
    public static let maximumWork = 50_000_000

    /// The reconstructors TorchScript archives call (REDUCE), by `module.name`.
    static let reconstructors: Set<String> = [
        "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter", "collections.OrderedDict",
        "torch.jit._pickle.restore_type_tag", "torch.jit._pickle.build_intlist", "torch.jit._pickle.build_doublelist",
        "torch.jit._pickle.build_boollist", "torch.jit._pickle.build_tensorlist", "torch.device", "builtins.complex",
    ]

    public static func load(_ bytes: [UInt8], name: String) throws(PickleError) -> PickleValue {
        try read(bytes, name: name).value
    }

    /// The value, and where the pickle names each global (the `module\nname\n` bytes of its GLOBAL opcodes)
    /// and each storage record it references, for writers that rename storage classes in place.
    public static func read(_ bytes: [UInt8], name: String) throws(PickleError)
        -> (value: PickleValue, globals: [(range: Range<Int>, module: String, name: String)], storages: [PickleStorage]) {
        var machine = PickleMachine(bytes: bytes, name: name)
        let value = try machine.run()
        return (value, machine.globals, machine.storages)
    }

    private let bytes: [UInt8]
    private let name: String
    private var position = 0
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]
    private var produced = 0
    private var work = 0
    private var globals: [(range: Range<Int>, module: String, name: String)] = []
    private var storages: [PickleStorage] = []

    private init(bytes: [UInt8], name: String) {
        self.bytes = bytes
        self.name = name
    }

    private func fail(_ reason: String) -> PickleError { PickleError("\(name): \(reason)") }

    private mutating func take(_ count: Int) throws(PickleError) -> ArraySlice<UInt8> {
        guard count >= 0, count <= bytes.count - position else { throw fail("truncated pickle (at byte \(position))") }
        defer { position += count }
        return bytes[position..<position + count]
    }

    private mutating func unsigned(_ count: Int) throws(PickleError) -> Int {
        try take(count).reversed().reduce(0) { $0 << 8 | Int($1) }
    }

    private mutating func line() throws(PickleError) -> String {
        guard let end = bytes[position...].firstIndex(of: 0x0A), end - position < 1024 else { throw fail("unterminated GLOBAL") }
        defer { position = end + 1 }
        return String(decoding: bytes[position..<end], as: UTF8.self)
    }

    private mutating func push(_ value: PickleValue) throws(PickleError) {
        produced += 1
        guard produced <= Self.maximumValues else { throw fail("more than \(Self.maximumValues) values") }
        stack.append(value)
    }

    private mutating func count(_ items: Int) throws(PickleError) {
        work += items
        guard work <= Self.maximumWork else { throw fail("builds containers of more than \(Self.maximumWork) items in all") }
    }

    private mutating func pop() throws(PickleError) -> PickleValue {
        guard let value = stack.popLast(), stack.count >= (marks.last ?? 0) else { throw fail("pickle stack underflow (at byte \(position))") }
        return value
    }

    private mutating func popToMark() throws(PickleError) -> [PickleValue] {
        guard let mark = marks.popLast(), mark <= stack.count else { throw fail("pickle pops a MARK it never set (at byte \(position))") }
        defer { stack.removeSubrange(mark...) }
        return Array(stack[mark...])
    }

    private mutating func run() throws(PickleError) -> PickleValue {
        while position < bytes.count {
            let opcode = bytes[position]
            position += 1
            switch opcode {
            case 0x80:                                                          // PROTO
                let version = try unsigned(1)
                guard version <= 2 else { throw fail("pickle protocol \(version); torch writes protocol 2") }
            case 0x2E:                                                          // STOP
                guard stack.count == 1, marks.isEmpty else { throw fail("pickle ends with \(stack.count) values on its stack") }
                return stack[0]
            case 0x28:                                                          // MARK
                guard marks.count < Self.maximumMarkDepth else { throw fail("more than \(Self.maximumMarkDepth) nested values") }
                marks.append(stack.count)
            case 0x4E: try push(.none)
            case 0x88: try push(.bool(true))
            case 0x89: try push(.bool(false))
            case 0x4B: try push(.int(Int64(try unsigned(1))))                   // BININT1
            case 0x4D: try push(.int(Int64(try unsigned(2))))                   // BININT2
            case 0x4A: try push(.int(Int64(Int32(truncatingIfNeeded: try unsigned(4)))))  // BININT
            case 0x8A:                                                          // LONG1
                let count = try unsigned(1)
                guard count <= 8 else { throw fail("integer of \(count) bytes") }
                let digits = try take(count)
                var value: Int64 = 0
                for (index, byte) in digits.enumerated() { value |= Int64(byte) << (8 * Int64(index)) }
                if count > 0, count < 8, digits.last! & 0x80 != 0 { value -= Int64(1) << (8 * Int64(count)) }
                try push(.int(value))
            case 0x47:                                                          // BINFLOAT, big-endian
                let bits = try take(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                try push(.float(Double(bitPattern: bits)))
            case 0x58, 0x8C:                                                    // BINUNICODE, SHORT_BINUNICODE
                let count = try unsigned(opcode == 0x58 ? 4 : 1)
                try push(.string(String(decoding: try take(count), as: UTF8.self)))
            case 0x29: try push(.tuple([]))                                     // EMPTY_TUPLE
            case 0x85, 0x86, 0x87:                                              // TUPLE1, TUPLE2, TUPLE3
                let count = Int(opcode - 0x84)
                var items: [PickleValue] = []
                for _ in 0..<count { items.insert(try pop(), at: 0) }
                try push(.tuple(items))
            case 0x74: try push(.tuple(try popToMark()))                        // TUPLE
            case 0x5D: try push(.list([]))                                      // EMPTY_LIST
            case 0x7D: try push(.dict([]))                                      // EMPTY_DICT
            case 0x65, 0x61:                                                    // APPENDS, APPEND
                let added = opcode == 0x65 ? try popToMark() : [try pop()]
                guard case .list(let items) = try pop() else { throw fail("APPEND to something that is not a list") }
                try count(items.count + added.count)
                try push(.list(items + added))
            case 0x75, 0x73:                                                    // SETITEMS, SETITEM
                let added = opcode == 0x75 ? try popToMark() : [try pop(), try pop()].reversed()
                guard added.count % 2 == 0, case .dict(let pairs) = try pop() else { throw fail("SETITEMS on something that is not a dict") }
                try count(pairs.count + added.count)
                var all = pairs
                for index in stride(from: 0, to: added.count, by: 2) { all.append((added[index], added[index + 1])) }
                try push(.dict(all))
            case 0x71, 0x72:                                                    // BINPUT, LONG_BINPUT
                memo[try unsigned(opcode == 0x71 ? 1 : 4)] = stack.last
                guard memo.count <= Self.maximumValues else { throw fail("more than \(Self.maximumValues) memo entries") }
            case 0x68, 0x6A:                                                    // BINGET, LONG_BINGET
                let key = try unsigned(opcode == 0x68 ? 1 : 4)
                guard let value = memo[key] else { throw fail("memo entry \(key) is read before it is written") }
                try push(value)
            case 0x63:                                                          // GLOBAL
                let start = position
                let module = try line()
                let name = try line()
                globals.append((start..<position, module, name))
                try push(try global(module: module, name: name))
            case 0x81:                                                          // NEWOBJ
                let arguments = try pop()
                guard case .global(let module, let name) = try pop(), module.hasPrefix("__torch__"),
                      arguments.items?.isEmpty == true else { throw fail("NEWOBJ of something other than a TorchScript class") }
                try push(.object(className: "\(module).\(name)", state: nil))
            case 0x62:                                                          // BUILD
                let state = try pop()
                switch try pop() {
                case .object(let className, nil): try push(.object(className: className, state: state))
                case .dict(let pairs): try push(.dict(pairs))                  // an OrderedDict's `_metadata` (torch.save)
                default: throw fail("BUILD on something that is not a new object")
                }
            case 0x52:                                                          // REDUCE
                let arguments = try pop()
                guard case .global(let module, let name) = try pop() else { throw fail("REDUCE calls something that is not a global") }
                try push(try reduce("\(module).\(name)", arguments.items ?? []))
            case 0x51:                                                          // BINPERSID
                let storage = try persistentStorage(try pop())
                storages.append(storage)
                try push(.storage(storage))
            default:
                throw fail("pickle opcode 0x\(String(opcode, radix: 16, uppercase: true)) (at byte \(position - 1)) is not one torch's pickler writes")
            }
        }
        throw fail("pickle without STOP (truncated)")
    }

    /// Names only: a class of the archive's own code, a storage class, or a reconstructor tensorlint interprets.
    private func global(module: String, name: String) throws(PickleError) -> PickleValue {
        let qualified = "\(module).\(name)"
        let storageClass = module == "torch" && TorchStorageClass.dtype[name] != nil
        guard module == "__torch__" || module.hasPrefix("__torch__.") || storageClass || Self.reconstructors.contains(qualified) else {
            // torch's own reconstructors outside the list (quantized, sparse, nested tensors) are refused as unknown;
            // anything else is no torch archive's.
            let why = module == "torch" || module.hasPrefix("torch.") ? "a reconstructor tensorlint does not interpret" : "which no torch archive names"
            throw fail("names the global `\(qualified)`, \(why); nothing was run")
        }
        return .global(module: module, name: name)
    }

    private func reduce(_ callable: String, _ arguments: [PickleValue]) throws(PickleError) -> PickleValue {
        switch callable {
        case "torch._utils._rebuild_tensor_v2":
            guard (6...7).contains(arguments.count), case .storage(let storage) = arguments[0], let offset = arguments[1].int,
                  let shape = arguments[2].items?.compactMap(\.int), let strides = arguments[3].items?.compactMap(\.int),
                  shape.count == arguments[2].items?.count, strides.count == shape.count
            else { throw fail("_rebuild_tensor_v2 with arguments that are not (storage, offset, sizes, strides, …)") }
            return .tensor(PickleTensor(storage: storage, storageOffset: offset, shape: shape, strides: strides))
        case "torch._utils._rebuild_parameter":
            guard let tensor = arguments.first, case .tensor = tensor else { throw fail("_rebuild_parameter without a tensor") }
            return tensor
        case "collections.OrderedDict":
            return .dict([])
        case "torch.jit._pickle.restore_type_tag":
            guard let value = arguments.first else { throw fail("restore_type_tag without a value") }
            return value
        case "torch.jit._pickle.build_intlist", "torch.jit._pickle.build_doublelist", "torch.jit._pickle.build_boollist",
             "torch.jit._pickle.build_tensorlist":
            guard let list = arguments.first, case .list = list else { throw fail("\(callable) without a list") }
            return list
        case "torch.device":
            return .device(arguments.first?.string ?? "cpu")
        case "builtins.complex":
            return .tuple(arguments)
        default:
            throw fail("REDUCE of `\(callable)` is not one TorchScript archives use")
        }
    }

    private func persistentStorage(_ id: PickleValue) throws(PickleError) -> PickleStorage {
        guard let items = id.items, items.count == 5, items[0].string == "storage", case .global("torch", let storageClass) = items[1],
              let key = items[2].string, let count = items[4].int, count >= 0
        else { throw fail("a persistent id that is not ('storage', class, key, device, numel)") }
        return PickleStorage(key: key, storageClass: storageClass, elementCount: count)
    }
}
