import CohortCore
import CohortTestSupport
import Foundation
import Testing

@testable import CohortSSH

@Suite struct IdentityFileTests {
    private func info(type: String, passphrase: String = "", pem: Bool = false) throws -> IdentityFileInfo {
        let dir = NSTemporaryDirectory() + "cohort-id-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var args = ["-q", "-t", type, "-N", passphrase, "-f", dir + "/k"]
        if pem { args += ["-m", "PEM"] }
        #expect(try Shell.run("/usr/bin/ssh-keygen", args).status == 0)
        return IdentityFileInfo(pem: try String(contentsOfFile: dir + "/k", encoding: .utf8))
    }

    @Test func recognisesKeyTypesWithoutDecrypting() throws {
        #expect(try info(type: "ed25519") == IdentityFileInfo(kind: .ed25519, encrypted: false))
        #expect(try info(type: "ecdsa") == IdentityFileInfo(kind: .ecdsa, encrypted: false))
        #expect(try info(type: "rsa") == IdentityFileInfo(kind: .rsa, encrypted: false))
        #expect(try info(type: "rsa", pem: true) == IdentityFileInfo(kind: .rsa, encrypted: false))
        #expect(try info(type: "ed25519", passphrase: "secret") == IdentityFileInfo(kind: .ed25519, encrypted: true))
    }

    @Test func explainsWhyRSAAndEncryptedKeysAreSkipped() throws {
        let rsa = try #require(try info(type: "rsa").unusableReason)
        #expect(rsa.contains("libssh2 1.10") && rsa.contains("OpenSSH 8.8") && rsa.contains("ed25519"))
        let locked = try #require(try info(type: "ecdsa", passphrase: "pw").unusableReason)
        #expect(locked.contains("ssh-agent"))
        #expect(try info(type: "ed25519").unusableReason == nil)
    }
}

@Suite struct SSHConfigTests {
    @Test func firstValueWinsAndIdentityFilesAccumulate() throws {
        let config = try SSHConfig(parsing: """
            # global
            Host web*
              HostName %h.internal
              Port 2201
              IdentityFile ~/.ssh/web_key
            Host *
              Port 22
              User=deploy
              IdentityFile /keys/all
              StrictHostKeyChecking accept-new
              ConnectTimeout 7
              ServerAliveInterval 5
            """, file: "cfg")
        let web = try config.resolve(host: "web1")
        #expect(web.hostName == "web1.internal")
        #expect(web.port == 2201)
        #expect(web.user == "deploy")
        #expect(web.identityFiles == [NSHomeDirectory() + "/.ssh/web_key", "/keys/all"])
        #expect(web.strictHostKeyChecking == "accept-new")
        #expect(web.connectTimeout == 7)
        let db = try config.resolve(host: "db1")
        #expect(db.hostName == nil)
        #expect(db.port == 22)
    }

    @Test func negatedPatternsExcludeHosts() throws {
        let config = try SSHConfig(parsing: "Host * !bastion\n  User app\n", file: "cfg")
        #expect(try config.resolve(host: "web").user == "app")
        #expect(try config.resolve(host: "bastion").user == nil)
    }

    @Test func optionsCohortCannotHonourAreErrorsForTheHostsTheyApplyTo() throws {
        let config = try SSHConfig(parsing: "Host inner*\n  Ciphers aes256-ctr\nHost *\n  User x\n", file: "cfg")
        #expect(try config.resolve(host: "web").user == "x")
        let error = #expect(throws: CohortError.self) { try config.resolve(host: "inner1") }
        #expect(error?.description.hasPrefix("cfg:2: ssh_config option 'ciphers'") == true)
        #expect(error.map(CohortExitCode.init(for:)) == .invalidInput)
    }

    @Test func proxyCommandIsRefusedPointingToProxyJump() throws {
        let config = try SSHConfig(parsing: "Host inner\n  ProxyCommand ssh -W %h:%p bastion\n", file: "cfg")
        let error = #expect(throws: CohortError.self) { try config.resolve(host: "inner") }
        #expect(error?.description.hasPrefix("cfg:2: ssh_config option 'ProxyCommand'") == true)
        #expect(error?.message.contains("use ProxyJump") == true)
    }

    @Test func proxyJumpIsReadAsAChainOfHops() throws {
        let config = try SSHConfig(
            parsing: "Host a\n  ProxyJump ops@b1:2222,ssh://b2,[::1]:22\nHost direct\n  ProxyJump none\nHost *\n  ProxyJump far\nHost bad\n", file: "cfg")
        #expect(try config.resolve(host: "a").proxyJump == [
            JumpHost(user: "ops", host: "b1", port: 2222), JumpHost(host: "b2"), JumpHost(host: "::1", port: 22),
        ])
        #expect(try config.resolve(host: "direct").proxyJump == [], "none: no bastion, first value wins")
        #expect(try config.resolve(host: "other").proxyJump == [JumpHost(host: "far")])
        for text in ["b1:99999", "-oProxyCommand=x", "b1,,b2", "user@", "[::1", "a b"] {
            let error = #expect(throws: CohortError.self, "\(text)") {
                try SSHConfig(parsing: "Host x\n  ProxyJump \"\(text)\"\n", file: "cfg").resolve(host: "x")
            }
            #expect(error?.file == "cfg" && error?.line == 2, "\(text)")
        }
    }

    @Test func unknownOptionsAndBadSyntaxGiveFileAndLine() {
        let unknown = #expect(throws: CohortError.self) { try SSHConfig(parsing: "Host a\n  Frobnicate yes\n", file: "cfg") }
        #expect(unknown?.description == "cfg:2: unknown ssh_config option 'Frobnicate'")
        let match = #expect(throws: CohortError.self) { try SSHConfig(parsing: "Match exec true\n", file: "cfg") }
        #expect(match?.line == 1)
        let quote = #expect(throws: CohortError.self) { try SSHConfig(parsing: "Host a\n User \"x\n", file: "cfg") }
        #expect(quote?.description == "cfg:2: unterminated quote")
    }

    @Test func aFileThatIncludesItselfIsAnErrorNotACrash() throws {
        let text = "Host a\n  User x\nInclude self\n"
        let error = #expect(throws: CohortError.self) {
            try SSHConfig(parsing: text, file: "self") { _ in [("self", text)] }
        }
        #expect(error?.message.contains("Include nested more than 16 deep") == true)
        #expect(error?.file == "self" && error?.line == 3)
    }

    @Test func ignoreUnknownSkipsMatchingUnknownOptionsAfterIt() throws {
        let config = try SSHConfig(parsing: "IgnoreUnknown UseKeychain,Foo*\nHost a\n  FooBar yes\n  User x\n", file: "cfg")
        #expect(try config.resolve(host: "a").user == "x")
        let before = #expect(throws: CohortError.self) { try SSHConfig(parsing: "Host a\n  FooBar yes\nIgnoreUnknown Foo*\n", file: "cfg") }
        #expect(before?.line == 2, "only options after IgnoreUnknown are ignored, as in ssh")
        let other = #expect(throws: CohortError.self) { try SSHConfig(parsing: "IgnoreUnknown Foo*\nBarBaz yes\n", file: "cfg") }
        #expect(other?.message.contains("unknown ssh_config option 'BarBaz'") == true)
        // IgnoreUnknown is for options ssh does not know; one it knows but Cohort refuses stays refused.
        let known = try SSHConfig(parsing: "IgnoreUnknown ProxyCommand\nHost a\n  ProxyCommand b\n", file: "cfg")
        #expect(throws: CohortError.self) { try known.resolve(host: "a") }
    }

    @Test func identityAgentIsResolved() throws {
        let config = try SSHConfig(parsing: "Host none\n  IdentityAgent none\nHost path\n  IdentityAgent ~/agent.sock\n", file: "cfg")
        #expect(try config.resolve(host: "none").identityAgent == "none")
        #expect(try config.resolve(host: "path").identityAgent == NSHomeDirectory() + "/agent.sock")
        #expect(try config.resolve(host: "other").identityAgent == nil)
    }

    @Test func aDirectoryOrBinaryFileGivenAsConfigIsNamed() throws {
        let dir = NSTemporaryDirectory() + "cohort-cfg-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let error = #expect(throws: CohortError.self) { try SSHConfig.load(dir) }
        #expect(error?.file == dir && error?.message.contains("is a directory") == true, "\(String(describing: error))")
        _ = FileManager.default.createFile(atPath: dir + "/bin", contents: Data([0x7f, 0x45, 0x4c, 0x46, 0, 0]))
        let binary = #expect(throws: CohortError.self) { try SSHConfig.load(dir + "/bin") }
        #expect(binary?.message.contains("not a text file") == true)
    }

    @Test func equalsSignsAndQuotes() throws {
        let config = try SSHConfig(parsing: "Host a\n  User = \"my user\"\n  Port=2022\n", file: "cfg")
        let a = try config.resolve(host: "a")
        #expect(a.user == "my user")
        #expect(a.port == 2022)
    }
}
