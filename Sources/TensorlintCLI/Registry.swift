import ONNX
import TensorlintEngine
import TensorlintIR
import TensorlintPacks
import TorchExport
import TorchScript

/// The formats and converter packs tensorlint knows, one list each: adding one is one line here.
public enum Registry {
    /// Asked in this order when recognising a file.
    public static let formats: [any ModelFormat.Type] = [TorchExportFormat.self, TorchScriptFormat.self, ONNXFormat.self]
    /// The first is the default target.
    public static let packs: [any ConverterPack.Type] = [CoreMLToolsPack.self, ONNXRuntimePack.self]

    public static let vocabulary = RuleVocabulary(formats: formats.map { $0.id }, packs: packs)

    public static func format(_ id: Model.Format) -> (any ModelFormat.Type)? { formats.first { $0.id == id } }
}
