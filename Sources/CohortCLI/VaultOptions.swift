import ArgumentParser
import CohortCore
import CohortPlaybook
import CohortVault
import Foundation

/// `--vault-id`, `--vault-password-file`, `--ask-vault-pass`: the passwords that open Ansible
/// Vault files and `!vault` values, gathered as ansible-playbook gathers them (ansible.cfg's
/// identity list, then `--vault-id`, then the password files, then the prompt), each tried
/// in turn where an envelope names no matching id.
struct VaultOptions: ParsableArguments {
    @Option(name: .customLong("vault-id"), help: "A vault password: [LABEL@]FILE, [LABEL@]SCRIPT or [LABEL@]prompt (repeatable).")
    var vaultIDs: [String] = []

    @Option(name: .customLong("vault-password-file"), help: "A file (or an executable that prints it) holding a vault password (repeatable).")
    var passwordFiles: [String] = []

    // No -J: it is the jump host (ssh -J) in every cohort command.
    @Flag(name: [.customLong("ask-vault-pass"), .customLong("ask-vault-password")], help: "Ask for the vault password.")
    var askVaultPass = false

    func secrets(_ settings: AnsibleConfig.Settings) throws -> [VaultSecret] {
        var sources = settings.vaultIdentities + vaultIDs
        let files = passwordFiles.isEmpty ? settings.vaultPasswordFile.map { [$0] } ?? [] : passwordFiles
        sources += files.map { "default@" + $0 }
        if askVaultPass { sources.append("default@prompt") }
        return try sources.map(Self.secret)
    }

    /// One `LABEL@SOURCE` (a bare source is `default`'s).
    static func secret(_ slug: String) throws -> VaultSecret {
        let label: String, source: String
        if let at = slug.firstIndex(of: "@") {
            (label, source) = (String(slug[..<at]), String(slug[slug.index(after: at)...]))
        } else {
            (label, source) = ("default", slug)
        }
        if source == "prompt" {
            let question = label == "default" ? "Vault password: " : "Vault password (\(label)): "
            guard let raw = getpass(question) else { throw ValidationError("--ask-vault-pass needs a terminal to read the password from") }
            return try Vault.secret(label: label, fileText: Array(String(cString: raw).utf8), file: "prompt")
        }
        let path = (source as NSString).expandingTildeInPath
        var directory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &directory), !directory.boolValue else {
            throw CohortError(.invalidInput, "The vault password file \(path) was not found")
        }
        if FileManager.default.isExecutableFile(atPath: path) { return try script(path, label: label) }
        guard let data = FileManager.default.contents(atPath: path) else { throw CohortError(.invalidInput, "Could not read vault password file '\(path)'") }
        return try Vault.secret(label: label, fileText: Array(data), file: path)
    }

    /// An executable password file: its standard output, line ends stripped; a `-client`
    /// script is asked for the label with `--vault-id`, as Ansible asks it.
    static func script(_ path: String, label: String) throws -> VaultSecret {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        if stem.hasSuffix("-client") { process.arguments = ["--vault-id", label] }
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CohortError(.invalidInput, "Vault password script \(path) returned non-zero (\(process.terminationStatus))")
        }
        var bytes = Array(data)
        while let last = bytes.last, last == 10 || last == 13 { bytes.removeLast() }
        while let first = bytes.first, first == 10 || first == 13 { bytes.removeFirst() }
        guard !bytes.isEmpty else { throw CohortError(.invalidInput, "Invalid vault password was provided from script (\(path))") }
        return VaultSecret(label: label, password: bytes)
    }
}
