import CohortCore
import CohortInventory
import CohortTemplate
import CohortVault
import Yams

/// YAML as Ansible's loader reads it (YAML 1.1 scalars: `yes` is true, `0644` is 420), with
/// the line and column of every node kept for error messages.
public enum YAMLValues {
    /// `vault`: a file's text that may be an Ansible Vault file (not `from_yaml`'s input).
    static func compose(_ text: String, file: String, vault: Bool = true) throws(CohortError) -> Node? {
        let text = vault ? try Vault.open(text, file: file) : text
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch let error as YamlError {
            throw yamlError(error, file: file)
        } catch {
            throw CohortError(.invalidInput, "YAML: \(error)", file: file)
        }
        // A "billion laughs" file is refused in bounded time, as for inventories.
        if let root { try YAMLInventoryParser.checkSize(root, file: file) }
        return root
    }

    static func yamlError(_ error: YamlError, file: String) -> CohortError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return CohortError(.invalidInput, "YAML: \(problem)", file: file, line: mark.line, column: mark.column)
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            return CohortError(
                .invalidInput, "YAML: duplicate key \(keys) in the mapping that starts here", file: file, line: context.mark.line,
                column: context.mark.column)
        case .reader(let problem, _, _, _):
            return CohortError(.invalidInput, "YAML: \(problem) (not a text file?)", file: file)
        default:
            return CohortError(.invalidInput, "YAML: \(error)", file: file)
        }
    }

    static func location(_ node: Node, _ file: String) -> Location {
        Location(file: file, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
    }

    static func value(_ node: Node, _ file: String) throws(CohortError) -> Value {
        switch node {
        case .scalar(let scalar):
            if scalar.tag.description == "!vault" {
                let at = location(node, file)
                return .string(try Vault.inline(scalar.string, file: file, line: at.line, column: at.column))
            }
            // Data that must never be templated: kept as a template that gives back exactly
            // its text.
            if scalar.tag.description == "!unsafe" { return .string(inert(scalar.string)) }
            guard scalar.style == .plain, scalar.tag.description != Tag.Name.str.rawValue else { return .string(scalar.string) }
            return convert(YAML11Scalar.resolve(scalar.string))
        case .sequence(let sequence):
            var items: [Value] = []
            for item in sequence { items.append(try value(item, file)) }
            return .list(items)
        case .mapping(let mapping):
            var dict = Dict()
            for (k, v) in mapping { dict[try value(k, file)] = try value(v, file) }
            return .dict(dict)
        case .alias:
            throw error("a YAML alias could not be resolved", node, file)
        }
    }

    /// A template whose rendering is exactly `text`, whatever it holds: every `{` (the only
    /// character that can open template syntax) is printed by an expression, so no tag,
    /// expression or comment can begin in it. Text with no template syntax stays as it is.
    public static func inert(_ text: String) -> String {
        guard Template.isTemplate(text) else { return text }
        return text.split(separator: "{", omittingEmptySubsequences: false).joined(separator: "{{ '%c' % 123 }}")
    }

    public static func convert(_ value: InventoryValue) -> Value {
        switch value {
        case .null: .none
        case .bool(let b): .bool(b)
        case .int(let i): .int(i)
        case .double(let d): .float(d)
        case .string(let s): .string(s)
        case .list(let l): .list(l.map(convert))
        case .dict(let d): .dict(Dict(strings: d.map { ($0.0, convert($0.1)) }))
        }
    }

    static func error(_ message: String, _ node: Node, _ file: String) -> CohortError {
        let at = location(node, file)
        return CohortError(.invalidInput, message, file: file, line: at.line, column: at.column)
    }

    static func error(_ message: String, at location: Location) -> CohortError {
        CohortError(.invalidInput, message, file: location.file, line: location.line, column: location.column)
    }
}
