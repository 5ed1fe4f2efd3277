import CohortCore
import Crypto
import _CryptoExtras

/// Ansible Vault's format, as `ansible-vault` writes it and ansible-core reads it: a header
/// line `$ANSIBLE_VAULT;1.1;AES256` (1.2 adds a vault id), then hex lines that hold, hex again
/// and one per line, the salt, the HMAC and the ciphertext. The key material is
/// PBKDF2-HMAC-SHA256 of the password (10,000 rounds, 80 bytes: the AES-256 key, the HMAC
/// key, the CTR counter); the HMAC-SHA256 of the ciphertext is checked before anything is
/// decrypted; the plaintext carries PKCS#7 padding.
public enum VaultEnvelope {
    public static let header = "$ANSIBLE_VAULT"

    public struct Parsed: Equatable, Sendable {
        public var version: String
        public var cipher: String
        public var vaultID: String?
        public var salt: [UInt8]
        public var hmac: [UInt8]
        public var ciphertext: [UInt8]
    }

    public static func isEncrypted(_ text: some StringProtocol) -> Bool { text.hasPrefix(header) }

    /// The envelope's parts; nil where it is not one (bad header, bad hex, parts missing).
    public static func parse(_ text: String) -> Parsed? {
        let lines = text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" })
        guard let first = lines.first else { return nil }
        let fields = first.split(separator: ";", omittingEmptySubsequences: false).map { String($0).trimmingASCIIWhitespace }
        guard fields.count >= 3, fields[0] == header else { return nil }
        let body = lines.dropFirst().joined()
        guard let inner = hex(body) else { return nil }
        let parts = inner.split(separator: UInt8(ascii: "\n"), maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let salt = hex(String(decoding: parts[0], as: UTF8.self)),
            let ciphertext = hex(String(decoding: parts[2], as: UTF8.self)),
            let hmac = hex(String(decoding: parts[1], as: UTF8.self))
        else { return nil }
        return Parsed(
            version: fields[1], cipher: fields[2], vaultID: fields.count >= 4 ? fields[3] : nil, salt: salt, hmac: hmac, ciphertext: ciphertext)
    }

    /// The plaintext under `password`, or nil when the HMAC says it is not the password
    /// (or the padding is bad, which a right password never gives).
    public static func decrypt(_ parsed: Parsed, password: [UInt8]) -> [UInt8]? {
        guard parsed.cipher == "AES256", !parsed.ciphertext.isEmpty else { return nil }
        guard
            let material = try? KDF.Insecure.PBKDF2.deriveKey(
                from: password, salt: parsed.salt, using: .sha256, outputByteCount: 80, unsafeUncheckedRounds: 10_000)
        else { return nil }
        let bytes = material.withUnsafeBytes { Array($0) }
        let cipherKey = SymmetricKey(data: bytes[0..<32]), hmacKey = SymmetricKey(data: bytes[32..<64])
        guard HMAC<SHA256>.isValidAuthenticationCode(parsed.hmac, authenticating: parsed.ciphertext, using: hmacKey) else { return nil }
        guard let nonce = try? AES._CTR.Nonce(nonceBytes: bytes[64..<80]),
            let padded = try? AES._CTR.decrypt(parsed.ciphertext, using: cipherKey, nonce: nonce)
        else { return nil }
        return unpad(Array(padded))
    }

    /// PKCS#7 with 16-byte blocks: the last byte says how many bytes of padding, each that value.
    static func unpad(_ bytes: [UInt8]) -> [UInt8]? {
        guard let last = bytes.last, last >= 1, last <= 16, bytes.count % 16 == 0, Int(last) <= bytes.count,
            bytes.suffix(Int(last)).allSatisfy({ $0 == last })
        else { return nil }
        return Array(bytes.dropLast(Int(last)))
    }

    /// Python's `unhexlify`: an even number of hex digits, nothing else.
    static func hex(_ text: some StringProtocol) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

extension StringProtocol {
    /// Python's `bytes.strip()`: ASCII whitespace off both ends.
    var trimmingASCIIWhitespace: String {
        let blank: (Character) -> Bool = { " \t\n\r\u{0B}\u{0C}".contains($0) }
        return String(self.drop(while: blank).reversed().drop(while: blank).reversed())
    }
}
