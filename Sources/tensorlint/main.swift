import Foundation
import TensorlintCLI

exit(runTensorlint(Array(CommandLine.arguments.dropFirst())))
