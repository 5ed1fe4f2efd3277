import CohortCore
import CohortPlaybook
import CohortTemplate
import CohortWire
import Foundation

/// `hostname` on Debian and Ubuntu without systemd: ansible-core's FileStrategy, the name
/// read from /etc/hostname and written there in place (the kernel's name is left alone, as
/// Ansible leaves it); facts `hostname`, `nodename`, `fqdn`, `domain`; the diff when changed.
/// Under systemd (hostnamectl) or on another system the task fails by name.
enum HostnameModule {
    static func run(_ args: Dict, _ call: ModuleCall) async throws -> Value {
        let name = args["name"]?.pythonString ?? ""
        if let use = args["use"].flatMap({ $0 == .none ? nil : $0.pythonString }), use != "debian" {
            return FileModules.failure("Cohort's hostname has the file strategy of Debian only; use: \(use) is not supported")
        }
        let probe = try await call.host.shell("""
            if command -v systemctl >/dev/null && { [ -d /run/systemd/system ] || [ -d /dev/.run/systemd ] || [ -d /dev/.systemd ]; }; then echo systemd
            else (. /etc/os-release 2>/dev/null && echo "$ID"); fi
            if [ -f /etc/hostname ]; then base64 -w0 < /etc/hostname; fi; echo
            """)
        let lines = Strings.lines(String(decoding: probe.stdout, as: UTF8.self)) + ["", ""]
        if lines[0] == "systemd" { return FileModules.failure("Cohort's hostname does not drive systemd's hostnamectl yet") }
        guard lines[0] == "debian" || lines[0] == "ubuntu" else {
            return FileModules.failure("Cohort's hostname has the file strategy of Debian and Ubuntu only; this host is '\(lines[0])'")
        }
        let permanent = String(decoding: Data(base64Encoded: lines[1]) ?? Data(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let changed = permanent != name
        if changed, !call.check {
            let written = try await call.host.shell("printf '%s\\n' \(ShellQuote.quote(name)) > /etc/hostname")
            if written.rc != 0 { return FileModules.failure("failed to update hostname: " + String(decoding: written.stderr, as: UTF8.self)) }
        }
        let facts = try await FileModules.one(.facts, call, check: false)
        let fqdn = facts["fqdn"]?.pythonString ?? ""
        var result: Dict = [
            "changed": .bool(changed), "name": .string(name),
            "ansible_facts": [
                "ansible_hostname": .string(String(name.split(separator: ".", omittingEmptySubsequences: false).first ?? "")),
                "ansible_nodename": .string(name), "ansible_fqdn": .string(fqdn),
                "ansible_domain": .string(fqdn.split(separator: ".", omittingEmptySubsequences: false).dropFirst().joined(separator: ".")),
            ],
        ]
        if changed { result["diff"] = ["after": .string("hostname = \(name)\n"), "before": .string("hostname = \(permanent)\n")] }
        return .dict(result)
    }
}
