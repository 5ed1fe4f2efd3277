import CohortTemplate
import Crypto

/// `password_hash`: SHA-crypt (`$6$` sha512_crypt, `$5$` sha256_crypt) as passlib writes it
/// for Ansible, for `/etc/shadow` and the `user` module. Written from Drepper's published
/// algorithm; the template oracle compares it with ansible-core + passlib.
enum PasswordHash {
    static let alphabet = Array("./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
    /// Ansible passes these when no `rounds` is given (crypt's defaults, written out).
    static let implicitRounds = ["sha512_crypt": 656_000, "sha256_crypt": 535_000]
    /// passlib allows up to 999,999,999; past this a template would hold the coordinator for
    /// minutes, so it is refused.
    static let maxRounds = 10_000_000

    static func filter(_ input: Value, _ args: [Value], _ kwargs: [String: Value]) throws(TemplateError) -> Value {
        let names = ["md5": "md5_crypt", "blowfish": "bcrypt", "sha256": "sha256_crypt", "sha512": "sha512_crypt"]
        let requested = (kwargs["hashtype"] ?? args.first ?? .string("sha512")).pythonString
        let algorithm = names[requested] ?? requested
        guard let rounds0 = implicitRounds[algorithm] else {
            if names.values.contains(algorithm) { throw TemplateError("password_hash: '\(requested)' is not supported by cohort play yet (sha512, sha256)") }
            throw TemplateError("\(requested) is not in the list of supported passlib algorithms: md5, blowfish, sha256, sha512")
        }
        guard case .string(let secret) = input else { throw TemplateError("password_hash: the secret must be text, not \(input.typeName)") }
        var rounds = rounds0
        if let value = kwargs["rounds"] ?? (args.count > 3 ? args[3] : nil), value.truthy {
            guard case .int(let n) = value else { throw TemplateError("password_hash: rounds must be an integer") }
            guard n >= 1000, n <= 999_999_999 else { throw TemplateError("Could not hash the secret: rounds must be from 1000 to 999999999") }
            guard n <= maxRounds else { throw TemplateError("password_hash: rounds above \(maxRounds) are refused (they would hold the run for minutes)") }
            rounds = n
        }
        let salt: [UInt8]
        if let value = kwargs["salt"] ?? (args.count > 1 ? args[1] : nil), value.truthy {
            let text = Array(value.pythonString.utf8)
            guard text.count <= 16 else { throw TemplateError("Could not hash the secret: salt too large (\(algorithm) requires <= 16 chars)") }
            guard text.allSatisfy(alphabet.contains) else { throw TemplateError("Could not hash the secret: invalid characters in \(algorithm) salt") }
            salt = text
        } else {
            var generator = SystemRandomNumberGenerator()
            salt = (0..<16).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] }
        }
        let sha512 = algorithm == "sha512_crypt"
        let digest = sha512 ? crypt(Array(secret.utf8), salt, rounds, SHA512.self) : crypt(Array(secret.utf8), salt, rounds, SHA256.self)
        let encoded = sha512 ? encode512(digest) : encode256(digest)
        let roundsPart = rounds == 5000 ? "" : "rounds=\(rounds)$"
        return .string("$\(sha512 ? 6 : 5)$\(roundsPart)\(String(decoding: salt, as: UTF8.self))$\(encoded)")
    }

    static func hash<H: HashFunction>(_ parts: [[UInt8]], _: H.Type) -> [UInt8] {
        var hasher = H()
        for part in parts { hasher.update(data: part) }
        return Array(hasher.finalize())
    }

    /// The digest after `rounds` rounds (steps 1 to 21 of the specification).
    static func crypt<H: HashFunction>(_ password: [UInt8], _ salt: [UInt8], _ rounds: Int, _ kind: H.Type) -> [UInt8] {
        let size = H.Digest.byteCount
        let b = hash([password, salt, password], kind)
        var a = H()
        a.update(data: password)
        a.update(data: salt)
        var count = password.count
        while count > size {
            a.update(data: b)
            count -= size
        }
        a.update(data: Array(b.prefix(count)))
        count = password.count
        while count > 0 {
            a.update(data: count & 1 != 0 ? b : password)
            count >>= 1
        }
        var digest = Array(a.finalize())
        // P: the password hashed len(password) times, stretched to its length; S likewise.
        var dp = H()
        for _ in 0..<password.count { dp.update(data: password) }
        let pBlock = Array(dp.finalize())
        let p = (0..<password.count).map { pBlock[$0 % size] }
        var ds = H()
        for _ in 0..<(16 + Int(digest[0])) { ds.update(data: salt) }
        let sBlock = Array(ds.finalize())
        let s = (0..<salt.count).map { sBlock[$0 % size] }
        for round in 0..<rounds {
            var c = H()
            c.update(data: round & 1 != 0 ? p : digest)
            if round % 3 != 0 { c.update(data: s) }
            if round % 7 != 0 { c.update(data: p) }
            c.update(data: round & 1 != 0 ? digest : p)
            digest = Array(c.finalize())
        }
        return digest
    }

    private static func base64(_ b2: UInt8, _ b1: UInt8, _ b0: UInt8, _ count: Int, into out: inout [UInt8]) {
        var word = UInt32(b2) << 16 | UInt32(b1) << 8 | UInt32(b0)
        for _ in 0..<count {
            out.append(alphabet[Int(word & 0x3f)])
            word >>= 6
        }
    }

    /// The specification's byte order: triples i, i+21, i+42 rotated by i mod 3.
    static func encode512(_ d: [UInt8]) -> String {
        var out: [UInt8] = []
        for i in 0..<21 {
            let (x, y, z) = (d[i], d[i + 21], d[i + 42])
            switch i % 3 {
            case 0: base64(x, y, z, 4, into: &out)
            case 1: base64(y, z, x, 4, into: &out)
            default: base64(z, x, y, 4, into: &out)
            }
        }
        base64(0, 0, d[63], 2, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Triples i, i+10, i+20 rotated by i mod 3.
    static func encode256(_ d: [UInt8]) -> String {
        var out: [UInt8] = []
        for i in 0..<10 {
            let (x, y, z) = (d[i], d[i + 10], d[i + 20])
            switch i % 3 {
            case 0: base64(x, y, z, 4, into: &out)
            case 1: base64(z, x, y, 4, into: &out)
            default: base64(y, z, x, 4, into: &out)
            }
        }
        base64(0, d[31], d[30], 3, into: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
