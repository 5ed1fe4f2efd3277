import CohortCore
import Foundation

/// What a private key file holds, read without decrypting it, so that Cohort can explain
/// up front why a key cannot work (RSA under libssh2 1.10, or a passphrase) instead of
/// reporting a bare "authentication failed".
public struct IdentityFileInfo: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case ed25519, ecdsa, rsa, dsa, unknown }
    public var kind: Kind
    public var encrypted: Bool

    public init(kind: Kind, encrypted: Bool) {
        self.kind = kind
        self.encrypted = encrypted
    }

    public init(pem text: String) {
        if text.contains("BEGIN RSA PRIVATE KEY") {
            self.init(kind: .rsa, encrypted: text.contains("ENCRYPTED"))
        } else if text.contains("BEGIN EC PRIVATE KEY") {
            self.init(kind: .ecdsa, encrypted: text.contains("ENCRYPTED"))
        } else if text.contains("BEGIN DSA PRIVATE KEY") {
            self.init(kind: .dsa, encrypted: text.contains("ENCRYPTED"))
        } else if text.contains("BEGIN OPENSSH PRIVATE KEY") {
            self = Self.openSSH(text) ?? IdentityFileInfo(kind: .unknown, encrypted: false)
        } else {
            self.init(kind: .unknown, encrypted: text.contains("ENCRYPTED"))
        }
    }

    /// The `openssh-key-v1` container keeps cipher name and public key in clear.
    private static func openSSH(_ text: String) -> IdentityFileInfo? {
        let body = TextLines.split(text).filter { !$0.hasPrefix("-----") }.joined()
        guard let data = Data(base64Encoded: body) else { return nil }
        let magic = Array("openssh-key-v1\0".utf8)
        let bytes = Array(data)
        guard bytes.starts(with: magic) else { return nil }
        var reader = WireReader(Array(bytes[magic.count...]))
        guard let cipher = reader.string(), reader.string() != nil, reader.string() != nil,
            reader.uint32() != nil, let publicBlob = reader.string(), let key = HostKey(blob: publicBlob)
        else { return nil }
        let kind: Kind
        switch key.type {
        case "ssh-ed25519": kind = .ed25519
        case "ssh-rsa": kind = .rsa
        case "ssh-dss": kind = .dsa
        default: kind = key.type.hasPrefix("ecdsa-") ? .ecdsa : .unknown
        }
        return IdentityFileInfo(kind: kind, encrypted: String(decoding: cipher, as: UTF8.self) != "none")
    }

    /// Why this key is skipped, or nil when it is worth offering.
    public var unusableReason: String? {
        switch (kind, encrypted) {
        case (.rsa, _):
            return "RSA key: libssh2 1.10 signs only with ssh-rsa (SHA-1), which OpenSSH 8.8 and later refuse; use an ed25519 or ECDSA key"
        case (.dsa, _):
            return "DSA key: refused by OpenSSH 7.0 and later; use an ed25519 or ECDSA key"
        case (_, true):
            return "key is protected by a passphrase; load it into ssh-agent (ssh-add) and Cohort will use the agent"
        default:
            return nil
        }
    }
}
