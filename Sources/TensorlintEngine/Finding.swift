import TensorlintIR

/// One thing a rule found in one model.
public struct Finding: Sendable {
    public var ruleId: String
    public var severity: Severity
    /// What fails and where, in one line.
    public var headline: String
    public var message: String
    public var fix: String
    public var fixApplicability: FixApplicability
    public var automaticFix: String?
    /// What the automatic fix would change in the file; empty when it has nothing to do here.
    public var edits: [ModelEdit] = []
    /// The same change as byte replacements of the file, when the format's writer can say (for SARIF `fixes`).
    public var replacements: [ByteReplacement]?
    public var file: String
    /// Graph and node the finding is about; `nil` for model-level findings.
    public var graph: String?
    public var node: String?
    public var op: String?
    public var source: SourceInfo?
    /// What failed, with nothing of the node it failed on: the fingerprint of the message and fix with the
    /// node, its module, its source line and the graph's value names masked (`MessageTemplate.Compiled`), with the fix's
    /// applicability and automatic fixes. Findings of one rule with one cause are one problem, fixed once
    /// (`nil` for findings on the model as a whole). Two causes whose 64-bit fingerprints collide would be
    /// grouped as one (every node is still listed), as baselines have always matched them.
    public var cause: UInt64?
    /// The other nodes where the same rule found the same cause, in node order, when findings are grouped.
    public var others: [Finding] = []
    /// Why the finding is not counted: a configured ignore or a baseline entry. It is still reported as such.
    public var suppression: Suppression?

    /// `main/leaky_relu`: stable across runs, used for logical locations and fingerprints. A node name that
    /// is a path itself (ONNX exporters write `/enc/attn/Div`) is not given a second slash.
    public var nodePath: String? { node.map { "\(graph ?? "main")\($0.hasPrefix("/") ? "" : "/")\($0)" } }

    /// This finding and the others of its cause.
    public var occurrences: [Finding] { [self] + others }
}

/// Stable identities for findings (FNV-1a, 64 bits): the same across runs and machines, so that code scanning,
/// GitLab and baselines track a finding from one commit to the next.
public enum Fingerprint {
    public static func of(_ parts: [String]) -> String { text(hash(parts.joined(separator: "|").utf8)) }

    /// Rule, model file and node.
    public static func of(_ finding: Finding, model: String) -> String { of([finding.ruleId, model, finding.nodePath ?? ""]) }

    public static func hash(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var hasher = Hasher()
        hasher.combine(bytes)
        return hasher.value
    }

    /// FNV-1a, fed in parts: the hash of the parts' bytes one after another.
    public struct Hasher: Sendable {
        public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

        public init() {}

        public mutating func combine(_ bytes: some Sequence<UInt8>) {
            // Through the bytes' storage when they have it (a string's UTF-8): ten times fewer instructions.
            if bytes.withContiguousStorageIfAvailable({ value = Self.hashed(value, $0) }) == nil { value = Self.hashed(value, bytes) }
        }

        private static func hashed(_ start: UInt64, _ bytes: some Sequence<UInt8>) -> UInt64 {
            bytes.reduce(start) { hash, byte in (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        }
    }

    /// How reports and baselines write a fingerprint.
    public static func text(_ hash: UInt64) -> String { String(hash, radix: 16) }
}

/// Why a finding is set aside: it is still reported (SARIF `suppressions`, the summary's count), never lost.
public struct Suppression: Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// `per_file_ignores:` or `ignore:` in the configuration.
        case configuration
        /// An entry of the baseline file.
        case baseline
    }

    public var kind: Kind
    /// Where it comes from and why: `.tensorlint.yml ignore: "known; fixed upstream"`.
    public var justification: String

    public init(kind: Kind, justification: String) {
        self.kind = kind
        self.justification = justification
    }
}

/// Fills `{name}` placeholders from bindings; an unknown placeholder stays visible as `{name}` so that
/// rule authors see it in their tests.
enum MessageTemplate {
    static func render(_ template: String, _ bindings: Bindings) -> String {
        render(template) { bindings[$0] }
    }

    /// The same, with each placeholder's text from `lookup`.
    static func render(_ template: String, _ lookup: (String) -> String?) -> String {
        Compiled(template).rendered { lookup($0.key) }
    }

    /// A template split once into its parts, so that a lint fills it for each finding without reading it again.
    struct Compiled: Sendable {
        struct Placeholder: Sendable {
            let key: String
            /// `{key}` as written: what stays when nothing fills it.
            let written: [UInt8]
            /// What the key names of a finding's node, when it is one of the node's own keys.
            let nodeKey: NodeKey?
            /// What a cause holds in its place: the key says where (the node, its module or source line), or it
            /// names the model's values (`bias` = tensor `·`).
            let masking: Masking
            /// Where the literal text before it ends in `literals`.
            fileprivate let literalEnd: Int
        }

        enum NodeKey: String, Sendable, CaseIterable {
            case op, node, module, moduleType = "module_type", source

            /// Whether it says which node, not what failed: a finding's cause leaves it out.
            var saysWhere: Bool { self != .op }
        }

        enum Masking: Sendable {
            case whole, quotedNames, unmasked
        }

        /// The template's literal text, its runs one after another.
        private let literals: [UInt8]
        let placeholders: [Placeholder]

        /// `nameKeys`: the keys whose values name the model's values (the rule's pack's).
        init(_ template: String, nameKeys: Set<String> = []) {
            var literals: [UInt8] = [], placeholders: [Placeholder] = []
            walk(template) { literal in
                literals.append(contentsOf: literal)
            } placeholder: { key, written in
                let nodeKey = NodeKey(rawValue: key)
                let masking: Masking = nodeKey?.saysWhere == true ? .whole : nameKeys.contains(key) ? .quotedNames : .unmasked
                placeholders.append(Placeholder(key: key, written: Array(written), nodeKey: nodeKey, masking: masking, literalEnd: literals.count))
            }
            (self.literals, self.placeholders) = (literals, placeholders)
        }

        /// The text, each placeholder filled by `lookup` or left as written.
        func rendered(_ lookup: (Placeholder) -> String?) -> String {
            var noCause: Fingerprint.Hasher?
            return rendered(lookup, cause: &noCause)
        }

        /// The same, and, when `cause` is given, the cause hashed in the same pass: the text with what names the
        /// node masked (see `Masking`). Rule words (MIL ops, converters) are never masked, whatever a value
        /// happens to be called.
        func rendered(_ lookup: (Placeholder) -> String?, cause: inout Fingerprint.Hasher?) -> String {
            // Filled first and written once at its length: a lint renders a kilobyte of text for each finding,
            // in runs too short for appending to an array to cost less than the copy.
            let values = placeholders.map(lookup)
            let length = zip(placeholders, values).reduce(literals.count) { $0 + ($1.1?.utf8.count ?? $1.0.written.count) }
            return literals.withUnsafeBufferPointer { literals in
                String(unsafeUninitializedCapacity: length) { text in
                    var end = 0
                    func write(_ bytes: UnsafeBufferPointer<UInt8>, hashed: Bool = true) {
                        guard let start = bytes.baseAddress, !bytes.isEmpty else { return }
                        (text.baseAddress! + end).initialize(from: start, count: bytes.count)
                        end += bytes.count
                        if hashed { cause?.combine(bytes) }
                    }
                    var literalStart = 0
                    for (placeholder, value) in zip(placeholders, values) {
                        write(UnsafeBufferPointer(rebasing: literals[literalStart..<placeholder.literalEnd]))
                        literalStart = placeholder.literalEnd
                        // What the cause holds instead of the text, when it is not the text.
                        var masked: String? = switch (cause == nil ? .unmasked : placeholder.masking, value) {
                        case (.whole, _): "·"
                        case (.quotedNames, let value?): maskingQuotedNames(value)
                        default: nil
                        }
                        if var value { value.withUTF8 { write($0, hashed: masked == nil) } } else { placeholder.written.withUnsafeBufferPointer { write($0, hashed: masked == nil) } }
                        masked?.withUTF8 { cause?.combine($0) }
                    }
                    write(UnsafeBufferPointer(rebasing: literals[literalStart...]))
                    return end
                }
            }
        }
    }

    /// `·` for a bare name; each `quoted` part of a longer text.
    static func maskingQuotedNames(_ text: String) -> String {
        var text = text
        return text.withUTF8 { units in
            guard units.contains(UInt8(ascii: "`")) else { return "·" }
            var masked: [UInt8] = []
            masked.reserveCapacity(units.count)
            var quoted = false
            for unit in units {
                if unit == UInt8(ascii: "`") {
                    quoted.toggle()
                    masked.append(unit)
                    if quoted { masked.append(contentsOf: "·".utf8) }
                } else if !quoted {
                    masked.append(unit)
                }
            }
            return String(decoding: masked, as: UTF8.self)
        }
    }

    /// A template's parts in order: `literal` is given each run of text, `placeholder` each `{key}`'s key and
    /// its text as written (what stays when nothing fills it).
    static func walk(_ template: String, literal: (UnsafeBufferPointer<UInt8>) -> Void,
                     placeholder: (String, UnsafeBufferPointer<UInt8>) -> Void) {
        var template = template
        template.withUTF8 { units in
            var rest = 0
            while let open = units[rest...].firstIndex(of: UInt8(ascii: "{")) {
                literal(UnsafeBufferPointer(rebasing: units[rest..<open]))
                guard let close = units[open...].firstIndex(of: UInt8(ascii: "}")) else {
                    rest = open
                    break
                }
                placeholder(String(decoding: UnsafeBufferPointer(rebasing: units[(open + 1)..<close]), as: UTF8.self),
                            UnsafeBufferPointer(rebasing: units[open...close]))
                rest = close + 1
            }
            literal(UnsafeBufferPointer(rebasing: units[rest...]))
        }
    }

    /// The keys a template names (`{}` is literal text, as in `run_decompositions({})`).
    static func placeholders(_ template: String) -> [String] {
        var keys: [String] = []
        walk(template) { _ in } placeholder: { key, _ in
            if !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) { keys.append(key) }
        }
        return keys
    }
}

extension Rule {
    /// A message or fix template as documentation shows it: each placeholder replaced by what it holds.
    public func documented(_ template: String, markdown: Bool) -> String {
        MessageTemplate.render(template) { key in bindingKeys[key].map { markdown ? "_\($0)_" : "<\($0)>" } }
    }
}

/// What findings grouped as one share: the rule, why they are set aside (if they are, compared byte for byte:
/// a person's text), and the cause.
private struct CauseGroup: Hashable {
    let rule: String
    let justification: BytewiseKey
    let cause: UInt64
}

extension Array where Element == Finding {
    /// Findings of one rule with one cause as one finding, the first of them, holding the others: one
    /// problem, one fix, however many nodes have it. Order is the first occurrences' order.
    public func groupedByCause() -> [Finding] {
        // Two passes, so that each group's list of others is allocated once at its size: a model with 100,000
        // findings would otherwise hold its findings three times over while they are grouped.
        var groupOf: [Int] = []
        groupOf.reserveCapacity(count)
        var heads: [Int] = []
        var sizes: [Int] = []
        var groupIndex: [CauseGroup: Int] = [:]
        for (index, finding) in enumerated() {
            guard let cause = finding.cause else {
                groupOf.append(heads.count)
                heads.append(index)
                sizes.append(1)
                continue
            }
            let key = CauseGroup(rule: finding.ruleId, justification: BytewiseKey(finding.suppression?.justification ?? ""), cause: cause)
            if let group = groupIndex[key] {
                groupOf.append(group)
                sizes[group] += 1
            } else {
                groupIndex[key] = heads.count
                groupOf.append(heads.count)
                heads.append(index)
                sizes.append(1)
            }
        }
        var grouped = heads.map { self[$0] }
        for group in grouped.indices { grouped[group].others.reserveCapacity(sizes[group] - 1) }
        for (index, group) in groupOf.enumerated() where heads[group] != index {
            grouped[group].others.append(self[index])
        }
        return grouped
    }
}
