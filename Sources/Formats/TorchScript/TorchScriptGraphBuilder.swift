import Foundation
import TensorlintIR
import TorchArchive

/// What a TorchScript archive holds, parsed: the module tree (`data.pkl`), the constant table, the traced
/// inputs and the classes of the code files.
struct TorchScriptProgram {
    /// Qualified class name (`__torch__.torch.nn.modules.conv.Conv2d`, mangling kept) → class and its code file.
    var classes: [String: (definition: ClassDefinition, file: String)]
    /// Qualified free function (`__torch__.torch.nn.functional._in_projection`) → definition and code file.
    var functions: [String: (definition: FunctionDefinition, file: String)]
    var root: PickleValue
    var constants: [PickleValue]
    /// Values of 0-dim constant tensors, by constant index (what CanonicalizeOps turns into Python scalars).
    var constantScalars: [Int: Argument]
    var tracedInputs: [PickleTensor]?
    /// Code file → line → the Python stack recorded for the code on that line (innermost last).
    var frames: [String: [Int: [SourceInfo.Frame]]]
}

/// Builds the graph coremltools' TorchScript frontend converts: the top `forward` with every submodule call
/// inlined (`_jit_pass_inline`), parameters and buffers resolved to their dotted state-dict paths
/// (`_jit_pass_lower_graph`: only the tensors forward reads), omitted arguments filled from the schemas,
/// 0-dim constant second operands of add/sub/mul/div made scalars (`CanonicalizeOps`), and the
/// `int(NumToTensor(x))` pairs of submodule code folded, as their optimized graphs are (`PeepholeOptimize`).
struct TorchScriptGraphBuilder {
    indirect enum Symbol {
        case tensor(String)
        /// A non-tensor value a node computes (`torch.size(x, 0)`), by its graph name.
        case computed(String)
        case literal(Argument)
        case list([Symbol])
        case tuple([Symbol])
        case module(ModuleInstance)
        case device
        /// A scripted free function named as a value (`_0 = __torch__.torch.nn.functional._canonical_mask`).
        case function(String)
    }

    struct ModuleInstance {
        /// Dotted attribute path from the root (empty for the root).
        var path: String
        var className: String
        var attributes: [(key: PickleValue, value: PickleValue)]
    }

    static let maximumCallDepth = 100
    static let maximumNodes = 500_000

    let program: TorchScriptProgram
    var nodes: [Node] = []
    var values: [String: Value] = [:]
    var nameCounts: [String: Int] = [:]
    /// Output of a `prim::NumToTensor` node → its input, for the peephole fold.
    var numToTensorInputs: [String: Symbol] = [:]
    var callStack: [SourceInfo.Module] = []

    init(program: TorchScriptProgram) { self.program = program }

    struct Failure: Error {
        var reason: String
    }

    /// The graph, with the user inputs first (named as forward's parameters), then the weights it reads.
    mutating func build() throws(Failure) -> Graph {
        guard case .object(let className, let state) = program.root, case .dict(let attributes)? = state else {
            throw Failure(reason: "data.pkl does not hold a module object")
        }
        let root = ModuleInstance(path: "", className: className, attributes: attributes)
        guard let forward = program.classes[className]?.definition.methods["forward"] else {
            let overloads = program.classes[className]?.definition.methods.keys.filter { $0.hasPrefix("forward__") }.sorted() ?? []
            throw Failure(reason: "class \(Self.displayType(className)) has no `forward` in code/"
                + (overloads.isEmpty ? "" : " (only the overloads \(overloads.joined(separator: ", ")), which make no single graph to convert)"))
        }
        var environment: [String: Symbol] = [:]
        var inputs: [String] = []
        for (index, parameter) in forward.parameters.enumerated() {
            if index == 0 {
                environment[parameter.name] = .module(root)
                continue
            }
            let name = unique(parameter.name)
            let traced = program.tracedInputs.flatMap { index - 1 < $0.count ? $0[index - 1] : nil }
            let isTensor = parameter.type == nil || parameter.type == "Tensor"
            // A scripted module records no example inputs: its tensors are taken to be fp32, as coremltools' default.
            values[name] = Value(name: name, dtype: traced?.dtype ?? (isTensor ? .float32 : Self.dtype(ofAnnotation: parameter.type)),
                                 shape: traced.map { $0.shape.map { Int($0) } }, role: .userInput)
            inputs.append(name)
            environment[parameter.name] = isTensor ? .tensor(name) : .computed(name)
        }
        callStack = [SourceInfo.Module(path: "", type: Self.displayType(className))]
        let result = try run(forward.body, in: &environment, file: program.classes[className]!.file, child: false)
        let weights = values.values.filter { $0.role.isWeight }.map(\.name).sorted()
        return Graph(name: "forward", nodes: nodes, values: values, inputs: inputs + weights,
                     outputs: result.map(Self.tensorNames) ?? [])
    }

    static func dtype(ofAnnotation type: String?) -> DType? {
        switch type {
        case "int": return .int64
        case "float": return .float64
        case "bool": return .bool
        default: return nil
        }
    }

    /// `torch.nn.modules.conv.Conv2d` for `__torch__.torch.nn.modules.conv.___torch_mangle_3.Conv2d`.
    static func displayType(_ className: String) -> String {
        var parts = className.split(separator: ".").map(String.init)
        if parts.first == "__torch__" { parts.removeFirst() }
        return parts.filter { !$0.hasPrefix("___torch_mangle_") }.joined(separator: ".")
    }

    static func tensorNames(_ symbol: Symbol) -> [String] {
        switch symbol {
        case .tensor(let name): return [name]
        case .list(let items), .tuple(let items): return items.flatMap(tensorNames)
        default: return []
        }
    }

    mutating func unique(_ base: String) -> String {
        let count = nameCounts[base, default: 0]
        nameCounts[base] = count + 1
        let name = count == 0 ? base : "\(base).\(count)"
        return values[name] == nil ? name : unique(name)
    }

    // MARK: statements

    /// Runs a body; the returned symbol of its `return`, if it has one.
    mutating func run(_ statements: [Statement], in environment: inout [String: Symbol], file: String, child: Bool) throws(Failure) -> Symbol? {
        for statement in statements {
            let at = Location(file: file, line: statement.line, child: child)
            switch statement.kind {
            case .assign(let targets, let value):
                let symbol = try evaluate(value, in: &environment, at: at, names: targets)
                if targets.count == 1 {
                    environment[targets[0]] = symbol
                } else {
                    let items = try unpack(symbol, into: targets, at: at)
                    for (target, item) in zip(targets, items) { environment[target] = item }
                }
            case .expression(let value):
                _ = try evaluate(value, in: &environment, at: at)
            case .return(let value):
                return try value.map { expression throws(Failure) in try evaluate(expression, in: &environment, at: at) } ?? .literal(.none)
            case .if(let condition, let then, let otherwise):
                // Both branches convert (prim::If); values assigned in them keep the branch's last binding.
                _ = try evaluate(condition, in: &environment, at: at)
                if let result = try run(then, in: &environment, file: file, child: child) { return result }
                if let result = try run(otherwise, in: &environment, file: file, child: child) { return result }
            case .for(let variable, let iterable, let body):
                // `for i in range(n)` is the loop itself (prim::Loop), not a call.
                if case .call(.name("range"), let bounds, _, _) = iterable {
                    for bound in bounds { _ = try evaluate(bound, in: &environment, at: at) }
                } else {
                    _ = try evaluate(iterable, in: &environment, at: at)
                }
                environment[variable] = .computed(unique(variable))
                if let result = try run(body, in: &environment, file: file, child: child) { return result }
            case .while(let condition, let body):
                _ = try evaluate(condition, in: &environment, at: at)
                if let result = try run(body, in: &environment, file: file, child: child) { return result }
            case .with(let context, let name, let body):
                let symbol = try evaluate(context, in: &environment, at: at)
                if let name { environment[name] = symbol }
                if let result = try run(body, in: &environment, file: file, child: child) { return result }
            case .pass:
                break
            }
        }
        return nil
    }

    /// `a, b = value`: a tuple's items; a list an op returned is unpacked by a `prim::ListUnpack` node, or,
    /// for `aten::chunk`, the chunk becomes `prim::ConstantChunk` with one output per target (CanonicalizeOps).
    mutating func unpack(_ symbol: Symbol, into targets: [String], at: Location) throws(Failure) -> [Symbol] {
        switch symbol {
        case .tuple(let items) where items.count == targets.count, .list(let items) where items.count == targets.count:
            return items
        case .computed(let list):
            let outputs = targets.map { unique($0) }
            for output in outputs { values[output] = Value(name: output, dtype: nil, shape: nil, role: .intermediate) }
            if let index = nodes.lastIndex(where: { $0.outputs.first == list }), nodes[index].op.name == "chunk" {
                values[list] = nil
                nodes[index].op = OpName(namespace: "prim", name: "ConstantChunk", spelling: .nodeKind)
                nodes[index].outputs = outputs
                nodes[index].name = outputs[0]
            } else {
                nodes.append(Node(name: outputs[0], op: OpName(namespace: "prim", name: "ListUnpack", spelling: .nodeKind),
                                  inputs: [NodeInput(name: "input", argument: .symbol(list))], outputs: outputs,
                                  source: SourceInfo(modules: callStack, frames: program.frames[at.file]?[at.line] ?? [])))
            }
            return outputs.map { .tensor($0) }
        default:
            throw at.failure("unpacks \(targets.count) values from something that is not a sequence of \(targets.count)")
        }
    }

    struct Location {
        var file: String
        var line: Int
        /// Inside a submodule's (peephole-optimized) graph rather than the top forward.
        var child: Bool
        /// The byte offset of the call being evaluated.
        var offset: Int?

        func failure(_ reason: String) -> Failure { Failure(reason: "\(file):\(line): \(reason)") }
    }

    // MARK: expressions

    mutating func evaluate(_ expression: Expression, in environment: inout [String: Symbol], at: Location,
                           names: [String] = []) throws(Failure) -> Symbol {
        var at = at
        at.offset = nil   // a node is written at a call's offset only
        switch expression {
        case .name(let name):
            guard let symbol = environment[name] else { throw at.failure("`\(name)` is used before it is assigned") }
            return symbol
        case .int(let value): return .literal(.int(value))
        case .float(let value): return .literal(.float(value))
        case .string(let value): return .literal(.string(value))
        case .bool(let value): return .literal(.bool(value))
        case .none: return .literal(.none)
        case .negate(let operand):
            switch try evaluate(operand, in: &environment, at: at) {
            case .literal(.int(let value)): return .literal(.int(-value))
            case .literal(.float(let value)): return .literal(.float(-value))
            case let other: return try emit("aten::neg", [other], [], at: at, names: names)
            }
        case .tuple(let items):
            return .tuple(try items.map { item throws(Failure) in try evaluate(item, in: &environment, at: at) })
        case .list(let items):
            return .list(try items.map { item throws(Failure) in try evaluate(item, in: &environment, at: at) })
        case .dict(let pairs):
            for pair in pairs {
                _ = try evaluate(pair.key, in: &environment, at: at)
                _ = try evaluate(pair.value, in: &environment, at: at)
            }
            return .literal(.other("dict"))
        case .slice:
            return .literal(.other("slice"))
        case .attribute(let base, let name):
            if base.dottedName == "CONSTANTS" { return try constant(name, at: at) }
            if let qualified = expression.dottedName, qualified.hasPrefix("__torch__.") {
                guard program.functions[qualified] != nil else { throw at.failure("`\(qualified)` is no function of code/") }
                return .function(qualified)
            }
            guard case .module(let module) = try evaluate(base, in: &environment, at: at) else {
                throw at.failure("attribute `\(name)` of something that is not a module")
            }
            return try attribute(name, of: module, at: at)
        case .subscripted(let base, let index):
            let container = try evaluate(base, in: &environment, at: at)
            let position = try evaluate(index, in: &environment, at: at)
            switch (container, position) {
            case (.tuple(let items), .literal(.int(let index))), (.list(let items), .literal(.int(let index))):
                let resolved = index < 0 ? Int64(items.count) + index : index
                guard items.indices.contains(Int(resolved)) else { throw at.failure("index \(index) of a sequence of \(items.count)") }
                return items[Int(resolved)]
            default:
                return try emit("aten::__getitem__", [container, position], [], at: at, names: names)
            }
        case .call(let callee, let arguments, let keywords, let offset):
            at.offset = offset
            return try call(callee, arguments, keywords, in: &environment, at: at, names: names)
        }
    }

    mutating func call(_ callee: Expression, _ arguments: [Expression], _ keywords: [(name: String, value: Expression)],
                       in environment: inout [String: Symbol], at: Location, names: [String]) throws(Failure) -> Symbol {
        // A method of a module: `(conv).forward(x, )` is inlined.
        if case .attribute(let base, let method) = callee, base.dottedName.map({ !$0.hasPrefix("torch") && !$0.hasPrefix("ops") }) ?? true,
           case .module(let module)? = try? evaluate(base, in: &environment, at: at) {
            let actuals = try arguments.map { argument throws(Failure) in try evaluate(argument, in: &environment, at: at) }
            return try inline(method, of: module, actuals, at: at)
        }
        guard var function = callee.dottedName else { throw at.failure("calls something that is not a name") }
        if case .name(let name) = callee, case .function(let qualified)? = environment[name] { function = qualified }
        // A scripted free function is inlined as a method is (prim::CallFunction).
        if let (definition, file) = program.functions[function] {
            let actuals = try arguments.map { argument throws(Failure) in try evaluate(argument, in: &environment, at: at) }
            let keywordActuals = try keywords.map { keyword throws(Failure) in (keyword.name, try evaluate(keyword.value, in: &environment, at: at)) }
            return try inline(definition, file: file, bound: actuals, keywords: keywordActuals, at: at, owner: nil)
        }
        switch function {
        case "annotate", "unchecked_cast":
            guard arguments.count == 2 else { throw at.failure("\(function) takes a type and a value") }
            return try evaluate(arguments[1], in: &environment, at: at, names: names)
        case "uninitialized":
            return .literal(.none)
        case "isinstance":
            return .literal(.bool(true))
        case "getattr":
            guard arguments.count == 2, case .string(let name) = arguments[1],
                  case .module(let module) = try evaluate(arguments[0], in: &environment, at: at) else {
                throw at.failure("getattr of something other than a module attribute")
            }
            return try attribute(name, of: module, at: at)
        case "torch.device":
            return .device
        default:
            break
        }
        let kind: String
        if function.hasPrefix("torch.") {
            kind = "aten::" + function.dropFirst("torch.".count)
        } else if function.hasPrefix("ops.") {
            let parts = function.split(separator: ".")
            guard parts.count == 3 else { throw at.failure("`\(function)` is not ops.<namespace>.<op>") }
            kind = "\(parts[1])::\(parts[2])"
        } else if let builtin = ["int": "aten::Int", "float": "aten::Float", "bool": "aten::Bool", "str": "aten::str",
                                 "len": "aten::len", "range": "prim::range", "fork": "prim::fork", "wait": "aten::wait"][function] {
            kind = builtin
        } else {
            throw at.failure("calls `\(function)`, which TorchScript code does not name")
        }
        var actuals = try arguments.map { argument throws(Failure) in try evaluate(argument, in: &environment, at: at) }
        let keywordActuals = try keywords.map { keyword throws(Failure) in (keyword.name, try evaluate(keyword.value, in: &environment, at: at)) }
        // `torch.append(l, x)` on a list the code builds grows that list (coremltools' transform_inplace_ops
        // rewires such appends into the list's construction).
        if kind == "aten::append", actuals.count == 2, case .name(let list) = arguments[0], case .list(let items)? = environment[list] {
            environment[list] = .list(items + [actuals[1]])
            return environment[list]!
        }
        if at.child, kind == "aten::Int", actuals.count == 1, case .tensor(let name) = actuals[0], let folded = numToTensorInputs[name] {
            return folded
        }
        // CanonicalizeOps: a 0-dim constant tensor as the second operand becomes the Python number it holds.
        if ["aten::add", "aten::sub", "aten::mul", "aten::div"].contains(kind), actuals.count >= 2, case .tensor(let other) = actuals[1],
           case .constant(let reference)? = values[other]?.role, let index = Int(reference.dropFirst("CONSTANTS.c".count)),
           let scalar = program.constantScalars[index] {
            actuals[1] = .literal(scalar)
        }
        return try emit(kind, actuals, keywordActuals, at: at, names: names)
    }

    mutating func inline(_ method: String, of module: ModuleInstance, _ actuals: [Symbol], at: Location) throws(Failure) -> Symbol {
        guard let (definition, file) = program.classes[module.className], let function = definition.methods[method] else {
            throw at.failure("calls \(method) of \(module.className), which code/ does not define")
        }
        return try inline(function, file: file, bound: [.module(module)] + actuals, keywords: [], at: at, owner: module)
    }

    /// A function's body run with its parameters bound (positionally, then by keyword, then to defaults),
    /// inside the module that owns it (a method) or the caller's (a free function).
    mutating func inline(_ function: FunctionDefinition, file: String, bound actuals: [Symbol], keywords: [(String, Symbol)],
                         at: Location, owner module: ModuleInstance?) throws(Failure) -> Symbol {
        guard callStack.count < Self.maximumCallDepth else { throw at.failure("calls nested deeper than \(Self.maximumCallDepth)") }
        var environment: [String: Symbol] = [:]
        for (index, parameter) in function.parameters.enumerated() {
            if index < actuals.count {
                environment[parameter.name] = actuals[index]
            } else if let keyword = keywords.first(where: { $0.0 == parameter.name }) {
                environment[parameter.name] = keyword.1
            } else if let value = parameter.defaultValue {
                environment[parameter.name] = try evaluate(value, in: &environment, at: at)
            } else {
                throw at.failure("calls \(function.name) without argument `\(parameter.name)`")
            }
        }
        callStack.append(module.map { SourceInfo.Module(path: $0.path, type: Self.displayType($0.className)) } ?? callStack.last!)
        defer { callStack.removeLast() }
        return try run(function.body, in: &environment, file: file, child: true) ?? .literal(.none)
    }

    mutating func attribute(_ name: String, of module: ModuleInstance, at: Location) throws(Failure) -> Symbol {
        guard let value = module.attributes.first(where: { $0.key.string == name })?.value else {
            throw at.failure("\(Self.displayType(module.className)) has no attribute `\(name)` in data.pkl")
        }
        let path = module.path.isEmpty ? name : "\(module.path).\(name)"
        switch value {
        case .object(let className, let state):
            guard case .dict(let attributes)? = state else { return .literal(.other("object")) }
            return .module(ModuleInstance(path: path, className: className, attributes: attributes))
        case .tensor(let tensor):
            if values[path] == nil {
                let definition = program.classes[module.className]?.definition
                let role: Value.Role = definition?.parameters.contains(name) == true ? .parameter(path) : .buffer(path)
                values[path] = Value(name: path, dtype: tensor.dtype, shape: tensor.shape.map { Int($0) }, role: role)
            }
            return .tensor(path)
        case .int(let number): return .literal(.int(number))
        case .float(let number): return .literal(.float(number))
        case .bool(let flag): return .literal(.bool(flag))
        case .string(let text): return .literal(.string(text))
        case .none: return .literal(.none)
        default: return .literal(.other("attribute"))
        }
    }

    mutating func constant(_ name: String, at: Location) throws(Failure) -> Symbol {
        guard name.hasPrefix("c"), let index = Int(name.dropFirst()), program.constants.indices.contains(index) else {
            throw at.failure("CONSTANTS.\(name) is not in constants.pkl")
        }
        let reference = "CONSTANTS.\(name)"
        switch program.constants[index] {
        case .tensor(let tensor):
            if values[reference] == nil {
                values[reference] = Value(name: reference, dtype: tensor.dtype, shape: tensor.shape.map { Int($0) }, role: .constant(reference))
            }
            return .tensor(reference)
        case .int(let number): return .literal(.int(number))
        case .float(let number): return .literal(.float(number))
        case .string(let text): return .literal(.string(text))
        default: return .literal(.other("constant"))
        }
    }

    // MARK: nodes

    mutating func emit(_ kind: String, _ positional: [Symbol], _ keywords: [(String, Symbol)], at: Location, names: [String]) throws(Failure) -> Symbol {
        guard nodes.count < Self.maximumNodes else { throw at.failure("more than \(Self.maximumNodes) nodes") }
        let keywordKinds = Dictionary(keywords.map { ($0.0, Self.kind(of: $0.1)) }) { first, _ in first }
        let schema = OperatorSchema.match(kind, positional: positional.map(Self.kind(of:)), keywords: keywordKinds)
        var inputs: [NodeInput] = []
        if let schema {
            var next = 0
            for formal in schema.arguments {
                if !formal.keywordOnly, next < positional.count {
                    inputs.append(NodeInput(name: formal.name, argument: argument(positional[next], formal: formal.name)))
                    next += 1
                } else if let keyword = keywords.first(where: { $0.0 == formal.name }) {
                    inputs.append(NodeInput(name: formal.name, argument: argument(keyword.1, formal: formal.name)))
                } else {
                    inputs.append(NodeInput(name: formal.name, argument: Self.defaultArgument(formal.defaultJSON ?? "null", formal: formal.name)))
                }
            }
        } else {
            inputs = positional.enumerated().map { NodeInput(name: "input\($0.offset)", argument: argument($0.element, formal: "")) }
            inputs += keywords.map { NodeInput(name: $0.0, argument: argument($0.1, formal: $0.0)) }
        }
        let returns = schema?.returns ?? ["Tensor"]
        let baseName = names.count == 1 ? names[0] : String(kind.split(separator: ":").last ?? "v")
        var outputs: [String] = []
        var symbols: [Symbol] = []
        for (index, type) in returns.enumerated() {
            let name = unique(names.count == returns.count && returns.count > 1 ? names[index] : baseName)
            values[name] = Value(name: name, dtype: nil, shape: nil, role: .intermediate)
            outputs.append(name)
            symbols.append(type == "Tensor" ? .tensor(name) : .computed(name))
        }
        let parts = kind.components(separatedBy: "::")
        let frames = program.frames[at.file]?[at.line] ?? []
        nodes.append(Node(name: outputs.first ?? unique(baseName), op: OpName(namespace: parts[0], name: parts.last!, overload: schema?.overload,
                                                                           spelling: .nodeKind),
                          inputs: inputs, outputs: outputs,
                          source: SourceInfo(modules: callStack, frames: frames, written: at.offset.map { .init(entry: at.file, offset: $0) })))
        if kind == "prim::NumToTensor", let first = positional.first, let output = outputs.first { numToTensorInputs[output] = first }
        return symbols.count == 1 ? symbols[0] : .tuple(symbols)
    }

    static func kind(of symbol: Symbol) -> OperatorSchema.Kind {
        switch symbol {
        case .tensor: return .tensor
        case .computed: return .integer
        case .literal(let argument):
            switch argument {
            case .int: return .integer
            case .float: return .floating
            case .bool: return .boolean
            case .string: return .string
            case .none: return .none
            default: return .other
            }
        case .list(let items):
            if items.allSatisfy({ if case .tensor = $0 { return true } else { return false } }) && !items.isEmpty { return .tensorList }
            if items.allSatisfy({ [.integer, .boolean].contains(kind(of: $0)) }) { return .intList }
            if items.allSatisfy({ [.integer, .floating].contains(kind(of: $0)) }) { return .floatList }
            return .list
        case .tuple: return .list
        case .module, .function: return .other
        case .device: return .device
        }
    }

    /// ScalarType numbers (`c10::ScalarType`), as the printed code passes `dtype=`.
    static let scalarTypes: [Int64: DType] = [0: .uint8, 1: .int8, 2: .int16, 3: .int32, 4: .int64, 5: .float16, 6: .float32,
                                              7: .float64, 8: .complex32, 9: .complex64, 10: .complex128, 11: .bool, 15: .bfloat16,
                                              23: .float8e5m2, 24: .float8e4m3fn, 25: .float8e5m2fnuz, 26: .float8e4m3fnuz,
                                              27: .uint16, 28: .uint32, 29: .uint64]

    func argument(_ symbol: Symbol, formal: String) -> Argument {
        switch symbol {
        case .tensor(let name): return .tensor(name)
        case .computed(let name): return .symbol(name)
        case .literal(.int(let number)) where formal == "dtype": return .scalarType(Self.scalarTypes[number])
        case .literal(let literal): return literal
        case .device: return .other("device")
        case .module: return .other("module")
        case .function(let name): return .other(name)
        case .tuple: return .other("tuple")
        case .list(let items):
            var tensors: [String?] = []
            var ints: [Int64] = []
            var floats: [Double] = []
            var bools: [Bool] = []
            for item in items {
                switch item {
                case .tensor(let name): tensors.append(name)
                case .literal(.none): tensors.append(nil)
                case .literal(.int(let number)): ints.append(number); floats.append(Double(number))
                case .literal(.float(let number)): floats.append(number)
                case .literal(.bool(let flag)): bools.append(flag)
                default: return .other("list")
                }
            }
            if tensors.count == items.count, !items.isEmpty { return .tensors(tensors) }
            if ints.count == items.count { return .ints(ints) }
            if floats.count == items.count { return .floats(floats) }
            if bools.count == items.count { return .bools(bools) }
            return .other("list")
        }
    }

    static func defaultArgument(_ json: String, formal: String) -> Argument {
        if json == "true" || json == "false" { return .bool(json == "true") }
        guard let value = try? JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed]) else { return .other(json) }
        switch value {
        case is NSNull: return .none
        case let number as NSNumber:
            if json.contains(".") || json.contains("e") { return .float(number.doubleValue) }
            return formal == "dtype" ? .scalarType(scalarTypes[number.int64Value]) : .int(number.int64Value)
        case let text as String: return .string(text)
        case let list as [NSNumber]:
            return json.contains(".") ? .floats(list.map(\.doubleValue)) : .ints(list.map(\.int64Value))
        default: return .other(json)
        }
    }
}
