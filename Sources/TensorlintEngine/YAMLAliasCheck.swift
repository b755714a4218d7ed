/// Rule and configuration files are read without YAML anchors and aliases: composing a document expands every
/// alias into a copy, so ten nested aliases of ten (a "billion laughs") never finish. No rule or setting
/// needs one; a value that starts with `*` or `&` is quoted.
enum YAMLAliasCheck {
    /// The line (1-based) of the first anchor or alias outside quotes, comments and block scalars.
    static func firstAliasOrAnchor(in text: String) -> Int? {
        var quote: UInt8?
        var blockIndent: Int?
        var flowDepth = 0
        for (number, line) in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            let bytes = Array(line)
            let indent = bytes.prefix { $0 == UInt8(ascii: " ") }.count
            if let block = blockIndent {
                // A block scalar's text is every line indented past its key, and blank lines.
                if indent == bytes.count || indent > block { continue }
                blockIndent = nil
            }
            var tokenStart = quote == nil
            var index = 0
            while index < bytes.count {
                let byte = bytes[index]
                if let open = quote {
                    if byte == UInt8(ascii: "\\"), open == UInt8(ascii: "\"") { index += 2; continue }
                    if byte == open {
                        if open == UInt8(ascii: "'"), index + 1 < bytes.count, bytes[index + 1] == open { index += 2; continue }
                        quote = nil
                    }
                    index += 1
                    continue
                }
                if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") {
                    index += 1
                    continue
                }
                if byte == UInt8(ascii: "#"), index == 0 || bytes[index - 1] == UInt8(ascii: " ") { break }
                if tokenStart {
                    switch byte {
                    case UInt8(ascii: "\""), UInt8(ascii: "'"):
                        quote = byte
                    case UInt8(ascii: "*"), UInt8(ascii: "&"):
                        if index + 1 < bytes.count, bytes[index + 1] != UInt8(ascii: " ") { return number + 1 }
                    case UInt8(ascii: "|"), UInt8(ascii: ">"):
                        blockIndent = indent
                        index = bytes.count
                        continue
                    default:
                        break
                    }
                }
                // A new node starts after `- `, `: `, `? `, and in a flow collection after `[`, `{` and `,`.
                if byte == UInt8(ascii: "[") || byte == UInt8(ascii: "{") { flowDepth += 1 }
                if byte == UInt8(ascii: "]") || byte == UInt8(ascii: "}") { flowDepth = max(0, flowDepth - 1) }
                let separator = byte == UInt8(ascii: "-") || byte == UInt8(ascii: ":") || byte == UInt8(ascii: "?")
                tokenStart = (separator && (index + 1 == bytes.count || bytes[index + 1] == UInt8(ascii: " ")))
                    || byte == UInt8(ascii: "[") || byte == UInt8(ascii: "{") || (byte == UInt8(ascii: ",") && flowDepth > 0)
                index += 1
            }
        }
        return nil
    }

    static let reason = "YAML anchors and aliases (`&name`, `*name`) are not allowed here: they can expand without bound (quote a value that starts with * or &)"
}
