import CohortTestSupport
import Crypto
import Foundation
import Testing

@testable import CohortSSH

@Suite struct KnownHostsTests {
    /// A real key from ssh-keygen, with what `ssh-keygen -lf` says about it.
    static func generatedKey(type: String = "ed25519") throws -> (key: HostKey, line: String, keygen: String) {
        let dir = NSTemporaryDirectory() + "cohort-key-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/k"
        #expect(try Shell.run("/usr/bin/ssh-keygen", ["-q", "-t", type, "-N", "", "-f", path]).status == 0)
        let pub = try String(contentsOfFile: path + ".pub", encoding: .utf8)
        let fields = pub.split(separator: " ")
        let blob = try #require(Data(base64Encoded: String(fields[1])))
        let key = try #require(HostKey(blob: Array(blob)))
        let keygen = try Shell.run("/usr/bin/ssh-keygen", ["-lf", path + ".pub"]).stdout
        return (key, "\(fields[0]) \(fields[1])", keygen)
    }

    @Test(arguments: ["ed25519", "ecdsa", "rsa"])
    func fingerprintMatchesSSHKeygen(type: String) throws {
        let (key, _, keygen) = try Self.generatedKey(type: type)
        // "256 SHA256:xxxx comment (ED25519)"
        let fields = keygen.split(separator: " ")
        #expect(String(fields[1]) == key.sha256Fingerprint)
        #expect(String(fields[0]) == String(key.bits))
        #expect(keygen.hasSuffix("(\(key.displayType))\n"))
    }

    @Test func plainEntryWithPortMatchesOnlyThatPort() throws {
        let (key, line, _) = try Self.generatedKey()
        let known = KnownHosts(parsing: "# comment\n[10.0.0.1]:2222 \(line)\n", file: "kh")
        #expect(known.verdict(for: key, host: "10.0.0.1", port: 2222) == .known(line: 2))
        #expect(known.verdict(for: key, host: "10.0.0.1", port: 22) == .unknown(otherTypes: []))
        #expect(known.knownTypes(host: "10.0.0.1", port: 2222) == ["ssh-ed25519"])
    }

    @Test func changedKeyOfSameTypeIsReportedWithRecordedFingerprint() throws {
        let (old, oldLine, _) = try Self.generatedKey()
        let (new, _, _) = try Self.generatedKey()
        let known = KnownHosts(parsing: "web1,web2 \(oldLine)\n", file: "kh")
        #expect(known.verdict(for: new, host: "web2", port: 22) == .changed(line: 1, recorded: old.sha256Fingerprint))
    }

    @Test func otherTypesAreListedForAnUnknownType() throws {
        let (_, ecdsaLine, _) = try Self.generatedKey(type: "ecdsa")
        let (ed, _, _) = try Self.generatedKey()
        let known = KnownHosts(parsing: "host \(ecdsaLine)\n", file: "kh")
        #expect(known.verdict(for: ed, host: "host", port: 22) == .unknown(otherTypes: ["ecdsa-sha2-nistp256"]))
    }

    @Test func hashedEntriesMatchLikeSSH() throws {
        let (key, line, _) = try Self.generatedKey()
        let salt = Data((0..<20).map { UInt8($0) })
        let name = "[127.0.0.9]:2200"
        let mac = HMAC<Insecure.SHA1>.authenticationCode(for: Data(name.utf8), using: SymmetricKey(data: salt))
        let field = "|1|\(salt.base64EncodedString())|\(Data(mac).base64EncodedString())"
        let known = KnownHosts(parsing: "\(field) \(line)\n", file: "kh")
        #expect(known.verdict(for: key, host: "127.0.0.9", port: 2200) == .known(line: 1))
        #expect(known.verdict(for: key, host: "127.0.0.9", port: 22) == .unknown(otherTypes: []))
    }

    @Test func hashedEntryWrittenBySSHKeygenMatches() throws {
        let (key, line, _) = try Self.generatedKey()
        let file = NSTemporaryDirectory() + "kh-" + UUID().uuidString
        try "[127.0.0.7]:2022 \(line)\n".write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file); try? FileManager.default.removeItem(atPath: file + ".old") }
        #expect(try Shell.run("/usr/bin/ssh-keygen", ["-H", "-f", file]).status == 0)
        let hashed = try KnownHostsFile.load(file)
        #expect(hashed.entries.first?.hostField.hasPrefix("|1|") == true)
        #expect(hashed.verdict(for: key, host: "127.0.0.7", port: 2022) == .known(line: 1))
    }

    @Test func wildcardsNegationAndRevocation() throws {
        let (key, line, _) = try Self.generatedKey()
        let known = KnownHosts(parsing: "*.example.com,!bad.example.com \(line)\n", file: "kh")
        #expect(known.verdict(for: key, host: "web.example.com", port: 22) == .known(line: 1))
        #expect(known.verdict(for: key, host: "bad.example.com", port: 22) == .unknown(otherTypes: []))
        let revoked = KnownHosts(parsing: "@revoked * \(line)\nweb \(line)\n", file: "kh")
        #expect(revoked.verdict(for: key, host: "web", port: 22) == .revoked(line: 1))
    }

    @Test func malformedLinesAreSkipped() throws {
        let (key, line, _) = try Self.generatedKey()
        let known = KnownHosts(parsing: "garbage\nhost ssh-ed25519 !!!notbase64\nhost \(line)\n", file: "kh")
        #expect(known.entries.count == 1)
        #expect(known.verdict(for: key, host: "host", port: 22) == .known(line: 3))
    }

    @Test func appendIsAtomicAndKeepsExistingLines() throws {
        let (key, line, _) = try Self.generatedKey()
        let file = NSTemporaryDirectory() + "kh-" + UUID().uuidString
        try "existing \(line)".write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        try KnownHostsFile.append(KnownHosts.line(host: "1.2.3.4", port: 2200, key: key), to: file)
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(text == "existing \(line)\n[1.2.3.4]:2200 \(line)\n")
    }

    @Test func appendWritesThroughASymlinkAndKeepsTheTargetsMode() throws {
        let (key, line, _) = try Self.generatedKey()
        let dir = NSTemporaryDirectory() + "kh-link-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let target = dir + "/real_known_hosts"
        try "existing \(line)\n".write(toFile: target, atomically: true, encoding: .utf8)
        chmod(target, 0o640)
        let link = dir + "/known_hosts"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        try KnownHostsFile.append(KnownHosts.line(host: "1.2.3.4", port: 22, key: key), to: link)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == target, "the link is still a link")
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "existing \(line)\n1.2.3.4 \(line)\n")
        var info = stat()
        #expect(stat(target, &info) == 0 && info.st_mode & 0o777 == 0o640)
    }

    @Test func aNewKnownHostsFileIsPrivate() throws {
        let (key, _, _) = try Self.generatedKey()
        let dir = NSTemporaryDirectory() + "kh-new-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/ssh/known_hosts"
        let saved = umask(0)
        defer { umask(saved) }
        try KnownHostsFile.append(KnownHosts.line(host: "1.2.3.4", port: 22, key: key), to: file)
        var info = stat()
        #expect(stat(file, &info) == 0 && info.st_mode & 0o777 == 0o600)
        #expect(stat(dir + "/ssh", &info) == 0 && info.st_mode & 0o777 == 0o700)
    }

    @Test func concurrentAppendsLoseNoEntry() throws {
        let (key, _, _) = try Self.generatedKey()
        let file = NSTemporaryDirectory() + "kh-race-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: file) }
        let lines = (0..<64).map { KnownHosts.line(host: "10.0.0.\($0)", port: 22, key: key) }
        DispatchQueue.concurrentPerform(iterations: lines.count) { index in
            try? KnownHostsFile.append(lines[index], to: file)
        }
        let written = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(Set(written) == Set(lines))
        #expect(written.count == lines.count)
    }

    @Test func theSuggestedCommandsAreShellQuoted() {
        let name = "h$(touch x)"
        let file = "/tmp/my known'hosts"
        let remove = HostKeyAdvice.removeCommand(name: "[\(name)]:2222", file: file)
        #expect(remove == #"ssh-keygen -f '/tmp/my known'\''hosts' -R '[h$(touch x)]:2222'"#)
        let unknown = HostKeyAdvice.keyscan(address: name, port: 2222, file: file)
        #expect(unknown == #"ssh-keyscan -p 2222 'h$(touch x)' >> '/tmp/my known'\''hosts'"#)
    }

    @Test func globMatching() {
        #expect(Glob.matches("web*", "web01"))
        #expect(Glob.matches("w?b", "wab"))
        #expect(!Glob.matches("w?b", "wb"))
        #expect(Glob.matches("*", ""))
        #expect(Glob.matches("a*b*c", "aXXbYYc"))
        #expect(!Glob.matches("a*b*c", "aXXbYY"))
    }

    /// A known_hosts file is parsed once for every handshake that reads it, and again only when
    /// it changes (before, every handshake read and parsed it under one process-wide lock).
    @Test func theStoreParsesAFileOnceUntilItChanges() throws {
        let (key, _, _) = try Self.generatedKey()
        let dir = NSTemporaryDirectory() + "cohort-kh-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/known_hosts"
        try (KnownHosts.line(host: "127.0.0.9", port: 2222, key: key) + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let store = KnownHostsStore()
        for _ in 0..<100 {
            guard case .known = try store.load(path).verdict(for: key, host: "127.0.0.9", port: 2222) else {
                Issue.record("the recorded key is not known")
                return
            }
        }
        #expect(store.readCount == 1)
        // Another run appends a host: the next handshake sees it.
        try store.append(KnownHosts.line(host: "127.0.0.10", port: 22, key: key), to: path)
        guard case .known = try store.load(path).verdict(for: key, host: "127.0.0.10", port: 22) else {
            Issue.record("the appended key is not seen")
            return
        }
        #expect(store.readCount == 2)
        // Replaced by hand (a new file, same size): read again, and the removed host is unknown.
        try (KnownHosts.line(host: "127.0.0.11", port: 2222, key: key) + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        guard case .unknown = try store.load(path).verdict(for: key, host: "127.0.0.9", port: 2222) else {
            Issue.record("a host removed from the file is still known")
            return
        }
        #expect(store.readCount == 3)
    }
}
