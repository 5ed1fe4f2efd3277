import CohortCore

/// One vault password and its vault id (`default` unless `--vault-id LABEL@…` names one).
public struct VaultSecret: Sendable, Equatable {
    public var label: String
    public var password: [UInt8]

    public init(label: String, password: [UInt8]) {
        self.label = label
        self.password = password
    }
}

/// The vault passwords of this run. They are bound for the whole run as a task-local value,
/// so every YAML file the loaders read (playbooks, vars files, group_vars, `-e @file`,
/// `include_vars` while the play runs) is opened with them, without threading them through
/// every loader's signature; code that runs outside the run's task sees none.
public enum Vault {
    @TaskLocal public static var secrets: [VaultSecret] = []

    /// The plaintext of an envelope, as ansible-core tries the secrets: those whose label is
    /// the envelope's vault id first, then the others in order.
    /// Errors name `file` (and the line and column of an inline value).
    public static func decrypt(
        _ text: String, secrets: [VaultSecret] = Vault.secrets, file: String, line: Int? = nil, column: Int? = nil
    ) throws(CohortError) -> [UInt8] {
        func failure(_ message: String) -> CohortError { CohortError(.invalidInput, message, file: file, line: line, column: column) }
        guard !secrets.isEmpty else {
            throw failure("vault-encrypted data, and no vault password was given (--vault-password-file, --vault-id or --ask-vault-pass)")
        }
        guard let parsed = VaultEnvelope.parse(text) else { throw failure("vault data that is not in Ansible Vault's format") }
        guard parsed.cipher == "AES256" else { throw failure("vault cipher '\(parsed.cipher)' is not supported (AES256 is Ansible's only one)") }
        let ordered = secrets.filter { $0.label == parsed.vaultID } + secrets.filter { $0.label != parsed.vaultID }
        for secret in ordered {
            if let plain = VaultEnvelope.decrypt(parsed, password: secret.password) { return plain }
        }
        throw failure("decryption failed (no vault secrets were found that could decrypt)")
    }

    /// A file's text as the loaders read it: decrypted when it is a vault file, else as it is.
    public static func open(_ text: String, file: String) throws(CohortError) -> String {
        guard VaultEnvelope.isEncrypted(text) else { return text }
        let plain = try decrypt(text, file: file)
        guard let decoded = String(validating: plain, as: UTF8.self) else { throw CohortError(.invalidInput, "the decrypted vault file is not UTF-8 text", file: file) }
        return decoded
    }

    /// An inline `!vault |` value's plaintext, opened with the run's vault passwords.
    public static func inline(_ envelope: String, file: String, line: Int?, column: Int? = nil) throws(CohortError) -> String {
        let plain = try decrypt(envelope, file: file, line: line, column: column)
        guard let decoded = String(validating: plain, as: UTF8.self) else {
            throw CohortError(.invalidInput, "the decrypted !vault value is not UTF-8 text", file: file, line: line, column: column)
        }
        return decoded
    }

    /// A password file's secret, as ansible-core reads one: the file's text with blanks
    /// stripped from both ends (then line ends), never empty.
    public static func secret(label: String, fileText: [UInt8], file: String) throws(CohortError) -> VaultSecret {
        let blanks: Set<UInt8> = [9, 10, 11, 12, 13, 32]
        let password = Array(fileText.drop(while: { blanks.contains($0) }).reversed().drop(while: { blanks.contains($0) }).reversed())
        guard !password.isEmpty else { throw CohortError(.invalidInput, "Invalid vault password was provided from file (\(file))") }
        return VaultSecret(label: label, password: password)
    }
}
