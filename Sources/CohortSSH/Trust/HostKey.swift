import Crypto
import Foundation

/// A server's public host key as the SSH wire blob, with the names and fingerprints users see.
public struct HostKey: Sendable, Equatable {
    public let blob: [UInt8]
    /// The algorithm name from inside the blob: "ssh-ed25519", "ecdsa-sha2-nistp256", ...
    public let type: String

    public init?(blob: [UInt8]) {
        var reader = WireReader(blob)
        guard let name = reader.string(), let type = String(bytes: name, encoding: .utf8), !type.isEmpty else {
            return nil
        }
        self.blob = blob
        self.type = type
    }

    /// `SHA256:` + unpadded base64 of the blob's SHA-256, exactly as `ssh-keygen -lf` prints it.
    public var sha256Fingerprint: String {
        let digest = Data(SHA256.hash(data: blob)).base64EncodedString()
        return "SHA256:" + digest.trimmingCharacters(in: CharacterSet(charactersIn: "="))
    }

    /// The label `ssh-keygen -lf` puts in parentheses: ED25519, ECDSA, RSA, DSA.
    public var displayType: String {
        switch type {
        case "ssh-ed25519": return "ED25519"
        case "ssh-rsa": return "RSA"
        case "ssh-dss": return "DSA"
        default: return type.hasPrefix("ecdsa-") ? "ECDSA" : type.uppercased()
        }
    }

    /// Key size in bits, the first number of `ssh-keygen -lf` output.
    public var bits: Int {
        switch type {
        case "ssh-ed25519": return 256
        case "ecdsa-sha2-nistp256": return 256
        case "ecdsa-sha2-nistp384": return 384
        case "ecdsa-sha2-nistp521": return 521
        case "ssh-rsa", "ssh-dss":
            var reader = WireReader(blob)
            _ = reader.string()
            if type == "ssh-rsa" { _ = reader.string() }  // exponent
            guard var modulus = reader.string() else { return 0 }
            while modulus.first == 0 { modulus.removeFirst() }
            guard let top = modulus.first else { return 0 }
            return (modulus.count - 1) * 8 + (8 - top.leadingZeroBitCount)
        default: return 0
        }
    }

    public var base64: String { Data(blob).base64EncodedString() }
}

/// Reads SSH wire encodings (RFC 4251 `string` and `uint32`) from a byte buffer.
struct WireReader {
    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func uint32() -> UInt32? {
        guard offset + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for i in 0..<4 { value = value << 8 | UInt32(bytes[offset + i]) }
        offset += 4
        return value
    }

    mutating func string() -> [UInt8]? {
        guard let length = uint32(), length <= bytes.count - offset else { return nil }
        defer { offset += Int(length) }
        return Array(bytes[offset..<offset + Int(length)])
    }
}
