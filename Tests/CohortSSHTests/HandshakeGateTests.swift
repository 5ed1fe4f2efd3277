import CohortCore
import CohortTestSupport
import Foundation
import Testing

@testable import CohortSSH

@Suite struct HandshakeGateTests {
    /// sshd past `MaxStartups` closes new connections before its banner; that host is busy,
    /// not down. 16 handshakes at once (a gate that lets them all through) against an sshd that
    /// takes 3 unauthenticated at a time: every one of them must connect, after backing off.
    @Test func aServerPastMaxStartupsIsRetriedNotUnreachable() async throws {
        let fleet = try TestFleet.start(hosts: 1, maxStartups: "3:100:3")
        defer { fleet.stop() }
        var settings = HandshakeWindow.Settings()
        settings.perEndpoint = 16
        settings.initial = 16
        let client = SSHClient(gate: HandshakeGate(settings: settings))
        let target = fleet.target(fleet.hosts[0])
        let connections = try await withThrowingTaskGroup(of: SSHConnection.self) { group in
            for _ in 0..<16 { group.addTask { try await client.connect(target) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(connections.count == 16)
        for connection in connections {
            #expect(try await connection.run("true").status == .exited(0))
            await connection.close()
        }
        // The drops happened: sshd logs each one (else this test would prove nothing).
        #expect(fleet.log(of: fleet.hosts[0]).contains("past MaxStartups"))
    }

    /// The default gate keeps 6 handshakes per sshd in flight at most, under OpenSSH's
    /// `MaxStartups` start of 10 (sshd counts a connection a little past its authentication, so
    /// 8 in flight were seen to reach 10). Against an sshd that drops every connection past 10,
    /// 40 connections at once all succeed.
    @Test func theDefaultGateConnectsEveryoneUnderOpenSSHsMaxStartups() async throws {
        let fleet = try TestFleet.start(hosts: 1, maxStartups: "10:100:10")
        defer { fleet.stop() }
        let client = SSHClient(gate: HandshakeGate())
        let target = fleet.target(fleet.hosts[0])
        let connections = try await withThrowingTaskGroup(of: SSHConnection.self) { group in
            for _ in 0..<40 { group.addTask { try await client.connect(target) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(connections.count == 40)
        for connection in connections { await connection.close() }
    }
}
