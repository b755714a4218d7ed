import Foundation
import TensorlintIR
import TensorlintJSON

public enum ComputePrecision: String, Sendable, CaseIterable, Codable {
    case float16
    case float32

    /// The one parser (flags, configuration and rule files use it) and its one message.
    public static func parse(_ text: String) throws(SettingError) -> ComputePrecision {
        guard let precision = ComputePrecision(rawValue: text) else {
            throw SettingError("compute precision must be \(allCases.map(\.rawValue).joined(separator: " or ")), not `\(text)`")
        }
        return precision
    }
}

/// The dtype given to `ct.TensorType` for floating inputs of a TorchScript model: none (`default`, which
/// coremltools makes fp32, or fp16 from iOS16 with FLOAT16 precision), or `np.float16` / `np.float32`.
public enum InputDType: String, Sendable, CaseIterable, Codable {
    case `default`
    case float16
    case float32

    public static func parse(_ text: String) throws(SettingError) -> InputDType {
        guard let dtype = InputDType(rawValue: text) else {
            throw SettingError("input dtype must be \(allCases.map(\.rawValue).joined(separator: ", ")), not `\(text)`")
        }
        return dtype
    }
}

/// A setting's value that is not one of the values it takes: one line.
public struct SettingError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// A Core ML deployment target, ordered by the MIL opset it selects (the Core ML specification version:
/// iOS15 = 6 … iOS18 = 9, iOS26 = 10). macOS, tvOS and watchOS targets are aliases of the iOS target with the
/// same opset, as in coremltools. The names are data: each knowledge folder's `deployment-targets.json`
/// (generated from `coremltools.target`), all versions' together.
public struct DeploymentTarget: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let specificationVersion: Int
    /// The name the user wrote (`macOS13`), kept for messages.
    public let name: String

    /// Name → specification version, from the embedded knowledge.
    static let table: [String: Int] = {
        var table: [String: Int] = [:]
        for file in EmbeddedFiles.all where file.path.hasPrefix("knowledge/") && file.path.hasSuffix("/deployment-targets.json") {
            // A file that does not read is a defect of the generated knowledge, which the tests catch.
            try? JSONReader.read(file.contents) { (reader: inout JSONReader) throws(JSONError) in
                try reader.readObject { (reader: inout JSONReader, key: String) throws(JSONError) in
                    guard key == "targets" else { return try reader.skipValue() }
                    for (name, version) in try reader.readDictionary(JSONReader.int) { table[name] = Int(version) }
                }
            }
        }
        return table
    }()

    /// Every name a deployment target has: by platform, then by opset.
    public static let knownNames = table.keys.sorted { (platform($0), table[$0]!) < (platform($1), table[$1]!) }

    private static func platform(_ name: String) -> String { String(name.prefix { !$0.isNumber }) }

    static let aliases: [String: Int] = Dictionary(table.map { ($0.key.lowercased(), $0.value) }) { first, _ in first }

    /// Specification version → its iOS name.
    private static let iOSNames = Dictionary(table.filter { platform($0.key) == "iOS" }.map { ($0.value, $0.key) }) { first, _ in first }

    public init?(_ name: String) {
        guard let version = Self.aliases[name.lowercased()] else { return nil }
        self.specificationVersion = version
        self.name = name
    }

    /// The one parser (flags, configuration and rule files use it) and its one message.
    public static func parse(_ text: String) throws(SettingError) -> DeploymentTarget {
        guard let target = DeploymentTarget(text) else {
            throw SettingError("unknown deployment target `\(text)` (one of \(knownNames.joined(separator: ", ")))")
        }
        return target
    }

    /// The iOS name of this opset, which is how knowledge tables are keyed.
    public var opsetName: String { Self.iOSNames[specificationVersion] ?? name }

    public var description: String { name }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.specificationVersion < rhs.specificationVersion }
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.specificationVersion == rhs.specificationVersion }
    public func hash(into hasher: inout Hasher) { hasher.combine(specificationVersion) }
}

/// A dotted version number (`9.0`, `1.32.0`), compared component by component.
public struct Version: Sendable, Comparable, Hashable, CustomStringConvertible {
    public let components: [Int]

    public init?(_ text: String) {
        let parts = text.split(separator: ".").map { Int($0) }
        guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else { return nil }
        components = parts.map { $0! }
    }

    public var description: String { components.map(String.init).joined(separator: ".") }

    public static func < (lhs: Version, rhs: Version) -> Bool {
        for index in 0..<max(lhs.components.count, rhs.components.count) {
            let left = index < lhs.components.count ? lhs.components[index] : 0
            let right = index < rhs.components.count ? rhs.components[index] : 0
            if left != right { return left < right }
        }
        return false
    }

    public static func == (lhs: Version, rhs: Version) -> Bool { !(lhs < rhs) && !(rhs < lhs) }
    public func hash(into hasher: inout Hasher) { hasher.combine(components.reversed().drop { $0 == 0 }.reversed() as [Int]) }
}

/// What the user will run the model through: the question every rule answers.
public struct Settings: Sendable, Equatable {
    /// The converter pack's target id (`coremltools`, `onnxruntime`).
    public var target: String
    /// The version asked for; the knowledge used is the newest known at or below it (`Linter.knowledgeVersion`).
    public var converterVersion: Version
    public var deploymentTarget: DeploymentTarget
    public var computePrecision: ComputePrecision
    /// What `ct.TensorType(dtype=)` says for floating inputs (TorchScript models, whose inputs the user declares).
    public var inputDType: InputDType = .default

    /// coremltools' own defaults for `convert_to="mlprogram"`: iOS15, FLOAT16 (settings other converters ignore).
    public init(target: String, converterVersion: Version, deploymentTarget: DeploymentTarget = DeploymentTarget("iOS15")!,
                computePrecision: ComputePrecision = .float16) {
        self.target = target
        self.converterVersion = converterVersion
        self.deploymentTarget = deploymentTarget
        self.computePrecision = computePrecision
    }

    /// Settings for a pack, at its default version unless one is given.
    public init(pack: any ConverterPack.Type, converterVersion: Version? = nil,
                deploymentTarget: DeploymentTarget = DeploymentTarget("iOS15")!, computePrecision: ComputePrecision = .float16,
                inputDType: InputDType = .default) {
        self.init(target: pack.target, converterVersion: converterVersion ?? pack.defaultVersion,
                  deploymentTarget: deploymentTarget, computePrecision: computePrecision)
        self.inputDType = inputDType
    }
}
