import CohortCore
import CohortInventory
import CohortSSH
import Foundation
import Testing

@testable import Cohort

/// How a host's variables, ssh_config and options become an SSH target (no network).
@Suite struct ConnectionResolutionTests {
    static func target(_ config: String, vars: [(String, InventoryValue)] = []) throws -> SSHTarget {
        let ssh = try SSHConfig(parsing: config, file: "cfg")
        guard case .ssh(let target) = try HostConnection.resolve(host: "h1", vars: vars, options: ConnectionOptions(), sshConfig: ssh) else {
            throw CohortError(.invalidInput, "not an ssh host")
        }
        return target
    }

    @Test func identityAgentNoneTurnsTheAgentOff() throws {
        #expect(try Self.target("Host h1\n  IdentityAgent none\n").agentSocket == nil)
        #expect(try Self.target("Host h1\n  IdentityAgent /run/agent.sock\n").agentSocket == "/run/agent.sock")
        #expect(try Self.target("").agentSocket == ProcessInfo.processInfo.environment["SSH_AUTH_SOCK"])
    }
}
