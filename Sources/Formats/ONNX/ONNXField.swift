/// Field numbers of the onnx.proto messages tensorlint reads or writes, named as onnx.proto names them,
/// shared by the reader and the writer.
enum ONNXField {
    enum Model {
        static let irVersion = 1, producerName = 2, producerVersion = 3, graph = 7, opsetImport = 8, metadataProps = 14
        static let functions = 25
    }
    enum Graph {
        static let node = 1, name = 2, initializer = 5, input = 11, output = 12, valueInfo = 13, sparseInitializer = 15
    }
    enum Function {
        static let name = 1, input = 4, output = 5, node = 7, opsetImport = 9, domain = 10, valueInfo = 12, overload = 13
    }
    enum Node {
        static let input = 1, output = 2, name = 3, opType = 4, attribute = 5, docString = 6, domain = 7, overload = 8
        static let metadataProps = 9
    }
    enum Attribute {
        static let name = 1, f = 2, i = 3, s = 4, t = 5, g = 6, floats = 7, ints = 8, strings = 9, graphs = 11
        static let type = 20, refAttrName = 21
    }
    /// `AttributeProto.AttributeType` values.
    enum AttributeType {
        static let float: Int64 = 1, int: Int64 = 2, floats: Int64 = 6, ints: Int64 = 7, strings: Int64 = 8
    }
    enum Tensor {
        static let dims = 1, dataType = 2, floatData = 4, int32Data = 5, name = 8, rawData = 9, doubleData = 10
        static let externalData = 13, dataLocation = 14
        /// `DataLocation.EXTERNAL`.
        static let external: Int64 = 1
    }
    enum SparseTensor {
        static let values = 1, dims = 3
    }
    enum ValueInfo {
        static let name = 1, type = 2
    }
    enum TypeProto {
        static let tensorType = 1, sparseTensorType = 8
    }
    enum TypeProtoTensor {
        static let elemType = 1, shape = 2
    }
    enum TensorShape {
        static let dim = 1
    }
    enum Dimension {
        static let dimValue = 1
    }
    enum OperatorSetId {
        static let domain = 1, version = 2
    }
    enum StringStringEntry {
        static let key = 1, value = 2
    }
}
