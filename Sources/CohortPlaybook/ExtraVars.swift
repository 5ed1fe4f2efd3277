import CohortCore
import CohortTemplate

/// `-e` values as ansible-playbook takes them: `key=value ...`, `@file.yml` (YAML or JSON),
/// or inline YAML/JSON (`'{"k": [1, 2]}'`).
public enum ExtraVars {
    public static func parse(_ text: String, read: (String) throws -> String) throws(CohortError) -> [(String, Value)] {
        if text.hasPrefix("@") {
            let path = String(text.dropFirst())
            let content: String
            do { content = try read(path) } catch { throw CohortError(.invalidInput, "-e @\(path): cannot read: \(error)") }
            return try mapping(content, file: path)
        }
        let trimmed = text.trimmed
        if trimmed.hasPrefix("{") || trimmed.hasPrefix("---") { return try mapping(trimmed, file: "-e") }
        let location = Location(file: "-e", line: 1, column: 1)
        var out: [(String, Value)] = []
        for (key, value) in try KeyValueArguments.parse(text, freeForm: false, known: [], at: location) where key != "_raw_params" {
            guard PlaybookLoader.isIdentifier(key) else { throw CohortError(.invalidInput, "-e: '\(key)' is not a valid variable name") }
            out.append((key, value))
        }
        return out
    }

    private static func mapping(_ text: String, file: String) throws(CohortError) -> [(String, Value)] {
        guard let root = try YAMLValues.compose(text, file: file) else { return [] }
        guard case .dict(let dict) = try YAMLValues.value(root, file) else {
            throw CohortError(.invalidInput, "extra vars must be a mapping", file: file, line: 1)
        }
        return dict.pairs.map { ($0.key.pythonString, $0.value) }
    }
}
