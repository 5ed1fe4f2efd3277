import CohortCore
import CohortSSH

/// `ansible_ssh_common_args` and `ansible_ssh_extra_args`: the ssh flags Ansible users put in
/// their inventories, read as the ssh_config lines they stand for (`-o K=V`, `-J`, `-p`, `-l`,
/// `-i`), so that every option is honoured or refused by the same rules as in ssh_config.
/// They win over ssh_config, as ssh's command line does.
enum SSHArguments {
    /// Flags with no bearing on a non-interactive exec over libssh2.
    static let noEffect: Set<String> = ["-C", "-q", "-T", "-t", "-x", "-X", "-Y", "-a", "-A", "-k", "-v", "-vv", "-vvv"]

    static func config(_ text: String, variable: String, host: String) throws -> SSHConfig {
        let source = "\(variable) of host \(host)"
        let words: [String]
        do { words = try Shlex.split(text) } catch {
            throw CohortError(.invalidInput, "\(source): \(error) in '\(Printable.escaped(text))'")
        }
        var lines: [String] = []
        var index = 0
        func value(of flag: String, inline: Substring) throws(CohortError) -> String {
            if !inline.isEmpty { return String(inline) }
            index += 1
            guard index < words.count else { throw CohortError(.invalidInput, "\(source): \(flag) needs a value") }
            return words[index]
        }
        while index < words.count {
            let word = words[index]
            let flag = String(word.prefix(2))
            let inline = word.dropFirst(2)
            switch flag {
            case "-o":
                let option = try value(of: "-o", inline: inline)
                // `-o Key=Value` and `-o "Key Value"` are one config line each.
                lines.append(option)
            case "-J": lines.append("ProxyJump " + (try value(of: "-J", inline: inline)))
            case "-p": lines.append("Port " + (try value(of: "-p", inline: inline)))
            case "-l": lines.append("User " + (try value(of: "-l", inline: inline)))
            case "-i": lines.append("IdentityFile \"" + (try value(of: "-i", inline: inline)) + "\"")
            default:
                guard noEffect.contains(word) else {
                    throw CohortError(
                        .invalidInput,
                        "\(source): ssh flag '\(Printable.escaped(word))' is not supported (Cohort honours -o options it supports, -J, -p, -l and -i)")
                }
            }
            index += 1
        }
        // A line of its own per option: an error names the option's place among them.
        for line in lines where line.contains("\n") || line.contains("\r") {
            throw CohortError(.invalidInput, "\(source): an option holds a line break: '\(Printable.escaped(line))'")
        }
        return try SSHConfig(parsing: lines.joined(separator: "\n"), file: source)
    }
}
