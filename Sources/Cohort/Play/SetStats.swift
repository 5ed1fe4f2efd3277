import CohortCore
import CohortPlaybook
import CohortTemplate

/// `set_stats`: the custom statistics Ansible keeps for its recap (`data`, `per_host`,
/// `aggregate`), as its action builds them; Cohort records them in the result
/// (`ansible_stats`) and prints no CUSTOM STATS section (ansible-playbook prints one only
/// with `show_custom_stats`).
enum SetStats {
    static func run(_ args: Dict) -> Value {
        var stats: Dict = ["data": .dict(Dict()), "per_host": false, "aggregate": true]
        var data = Dict()
        switch args["data"] {
        case nil: break
        case .dict(let given)?: data = given
        default: return ["failed": true, "changed": false, "msg": "The 'data' option needs to be a dictionary/hash"]
        }
        for option in ["per_host", "aggregate"] {
            guard let value = args[option], value != .none else { continue }
            stats[option] = .bool(PlaybookLoader.boolean(value) ?? false)
        }
        for (key, _) in data.pairs
        where !PlaybookLoader.isIdentifier(key.pythonString) || !key.pythonString.unicodeScalars.allSatisfy(\.isASCII) || jinjaNames.contains(key.pythonString) {
            return ["failed": true, "changed": false, "msg": .string("Invalid variable name '\(key.pythonString)'.")]
        }
        stats["data"] = .dict(data)
        return ["changed": false, "ansible_stats": .dict(stats)]
    }

    /// Names Jinja gives a meaning of its own, which Ansible refuses as variable names.
    static let jinjaNames: Set<String> = ["true", "false", "none", "True", "False", "None", "not"]
}
