import CohortCore
import CohortInventory
import CohortSSH
import Foundation
import Testing

@testable import Cohort

/// How a host's variables, ssh_config and options become an SSH target (no network).
@Suite struct ConnectionResolutionTests {
    static func target(_ config: String, vars: [(String, InventoryValue)] = [], options: ConnectionOptions = ConnectionOptions()) throws -> SSHTarget {
        let ssh = try SSHConfig(parsing: config, file: "cfg")
        guard case .ssh(let target) = try HostConnection.resolve(host: "h1", vars: vars, options: options, sshConfig: ssh) else {
            throw CohortError(.invalidInput, "not an ssh host")
        }
        return target
    }

    @Test func identityAgentNoneTurnsTheAgentOff() throws {
        #expect(try Self.target("Host h1\n  IdentityAgent none\n").agentSocket == nil)
        #expect(try Self.target("Host h1\n  IdentityAgent /run/agent.sock\n").agentSocket == "/run/agent.sock")
        #expect(try Self.target("").agentSocket == ProcessInfo.processInfo.environment["SSH_AUTH_SOCK"])
    }

    static let bastions = """
        Host b1
          HostName 127.0.200.1
          Port 2201
          User ops
          IdentityFile /keys/b1
        Host b2
          HostName 127.0.0.5
          UserKnownHostsFile /kh/b2
        Host front
          ProxyJump b1
        Host h1
          ProxyJump b2
        """

    @Test func eachHopIsResolvedFromItsOwnConfigBlock() throws {
        var vars: [(String, InventoryValue)] = [("ansible_ssh_private_key_file", .string("/keys/target")), ("cohort_known_hosts_file", .string("/kh/all"))]
        vars.append(("ansible_ssh_common_args", .string("-J b1,admin@b2:2222")))
        let target = try Self.target(Self.bastions, vars: vars)
        #expect(target.jumps.map(\.name) == ["b1", "b2"])
        let (b1, b2) = (target.jumps[0], target.jumps[1])
        #expect((b1.address, b1.port, b1.user, b1.identityFiles, b1.knownHostsFile) == ("127.0.200.1", 2201, "ops", ["/keys/b1"], "/kh/all"))
        #expect((b2.address, b2.port, b2.user, b2.identityFiles, b2.knownHostsFile) == ("127.0.0.5", 2222, "admin", ["/keys/target"], "/kh/b2"))
        #expect(b1.jumps.isEmpty && b2.jumps.isEmpty)
    }

    @Test func theInventoryWinsOverTheFlagWhichWinsOverSSHConfig() throws {
        #expect(try Self.target(Self.bastions).jumps.map(\.name) == ["b2"], "ssh_config's ProxyJump")
        var options = ConnectionOptions()
        options.jump = "b1"
        #expect(try Self.target(Self.bastions, options: options).jumps.map(\.name) == ["b1"], "-J")
        options.jump = "none"
        #expect(try Self.target(Self.bastions, options: options).jumps.isEmpty, "-J none")
        let vars: [(String, InventoryValue)] = [("ansible_ssh_extra_args", .string("-o ProxyJump=front"))]
        #expect(try Self.target(Self.bastions, vars: vars, options: options).jumps.map(\.name) == ["b1", "front"],
                "the inventory's, and the first hop's own ProxyJump before it")
    }

    @Test func sshArgumentsAreHonouredOrRefusedByName() throws {
        let vars: [(String, InventoryValue)] = [("ansible_ssh_common_args", .string("-C -o StrictHostKeyChecking=accept-new -o 'ConnectTimeout 7' -p 2022 -l deploy"))]
        let target = try Self.target("", vars: vars)
        #expect((target.port, target.user, target.hostKeyPolicy, target.connectTimeout) == (2022, "deploy", .acceptNew, .seconds(7)))
        for (args, words) in [
            ("-o ProxyCommand='ssh -W %h:%p b1'", "use ProxyJump"),
            ("-L 8080:localhost:80", "ssh flag '-L' is not supported"),
            ("-o Ciphers=aes256-ctr", "'ciphers'"),
            ("-o Frobnicate=yes", "unknown ssh_config option 'Frobnicate'"),
            ("-o", "-o needs a value"),
            ("-J '-oProxyCommand=x'", "is not a host name"),
        ] {
            let error = #expect(throws: CohortError.self, "\(args)") {
                try Self.target("", vars: [("ansible_ssh_common_args", .string(args))])
            }
            #expect(error?.description.contains(words) == true, "\(args): \(error?.description ?? "")")
            #expect(error?.description.contains("ansible_ssh_common_args of host h1") == true, "\(args)")
            #expect(error.map(CohortExitCode.init(for:)) == .invalidInput)
        }
    }

    @Test func aHostNameOrUserThatLooksLikeAnOptionIsRefused() {
        for vars: [(String, InventoryValue)] in [[("ansible_host", .string("-oProxyCommand=touch /tmp/x"))], [("ansible_user", .string("-l root"))], [("ansible_host", .string("a b"))]] {
            let error = #expect(throws: CohortError.self) { try Self.target("", vars: vars) }
            #expect(error?.message.contains("is not a valid name") == true)
        }
    }

    @Test func aLoopingChainIsAnError() {
        let error = #expect(throws: CohortError.self) {
            try Self.target("Host h1\n  ProxyJump a\nHost a\n  ProxyJump b\nHost b\n  ProxyJump a\n")
        }
        #expect(error?.message.contains("loops or is longer than 8 hops") == true)
    }
}
