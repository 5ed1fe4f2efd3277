import CohortCore
import CohortInventory
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

    /// The variables that choose how a host is reached; given as extra vars they win over the
    /// inventory's, as in Ansible.
    public static let connectionNames: Set<String> = [
        "ansible_host", "ansible_ssh_host", "ansible_port", "ansible_ssh_port", "ansible_user", "ansible_ssh_user",
        "ansible_ssh_private_key_file", "ansible_private_key_file", "ansible_connection", "ansible_ssh_common_args",
        "ansible_ssh_extra_args", "cohort_known_hosts_file",
    ]

    /// The connection variables among `vars`, as inventory values. They are resolved before any
    /// host is contacted, so a template or a value that is not text or a number is refused.
    public static func connectionOverrides(_ vars: [String: Value]) throws(CohortError) -> [(String, InventoryValue)] {
        var out: [(String, InventoryValue)] = []
        for (name, value) in vars.sorted(by: { $0.key < $1.key }) where connectionNames.contains(name) {
            switch value {
            case .string(let text) where !Template.isTemplate(text): out.append((name, .string(text)))
            case .int(let n): out.append((name, .int(n)))
            case .string:
                throw CohortError(.invalidInput, "-e \(name): a connection variable cannot be a template in cohort play (hosts are resolved before anything runs)")
            default:
                throw CohortError(.invalidInput, "-e \(name): a connection variable must be text or a number, not a \(value.typeName)")
            }
            try Inventory.check(name, out[out.count - 1].1, file: "-e", line: nil)
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
