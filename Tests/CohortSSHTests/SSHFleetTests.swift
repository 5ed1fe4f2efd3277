import CohortCore
import CohortTestSupport
import Foundation
import Testing

@testable import CohortSSH

@Suite struct SSHExecTests {
    @Test func exitCodesSignalsAndExactBytes() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let connection = try await SSHClient().connect(fleet.target(fleet.hosts[0]))

        let ok = try await connection.run("printf 'out'; printf 'err' >&2")
        #expect(ok == CompletedProcess(stdout: Array("out".utf8), stderr: Array("err".utf8), status: .exited(0)))
        #expect(try await connection.run("exit 7").status == .exited(7))
        #expect(try await connection.run("kill -TERM $$").status == .signaled(name: "TERM", message: ""))

        // Every byte value, including invalid UTF-8, arrives unchanged on both streams.
        let all = try await connection.run("printf \"$(printf '\\\\%03o' $(seq 0 255))\"; printf '\\377\\376' >&2")
        #expect(all.stdout == (0...255).map { UInt8($0) })
        #expect(all.stderr == [0xff, 0xfe])

        let echoed = try await connection.run("cat", stdin: [0, 1, 0xff, 10, 0x80])
        #expect(echoed.stdout == [0, 1, 0xff, 10, 0x80])
    }

    @Test func manyConcurrentChannelsOnOneConnection() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let connection = try await SSHClient().connect(fleet.target(fleet.hosts[0]))
        let results = try await withThrowingTaskGroup(of: (Int, CompletedProcess).self) { group in
            // 120 channels starting at once: libssh2 1.10 fails concurrent exec requests on one
            // session unless they are serialised (ExecChannel), which this once caught as a flake.
            for i in 0..<120 { group.addTask { (i, try await connection.run("echo \(i); exit \(i % 5)")) } }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        #expect(results.count == 120)
        for (i, result) in results {
            #expect(result.stdout == Array("\(i)\n".utf8))
            #expect(result.status == .exited(Int32(i % 5)))
        }
    }

    /// Byte-exact here; the memory bound is measured on `cohort run` in a process of its own
    /// (`MapCLITests.aHundredMegabytesOfRunOutputInBoundedMemory`): this test process's RSS
    /// also counts whatever the suites running beside it allocate.
    @Test func hundredMegabytesStreamByteForByte() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let connection = try await SSHClient().connect(fleet.target(fleet.hosts[0]))
        let total = 100_000_000
        var received = 0
        var mismatch = false
        // A repeating 10-byte pattern lets every byte be checked without keeping it.
        let pattern = Array("0123456789".utf8)
        for try await event in connection.exec("yes 012345678 | head -c \(total)") {
            guard case .stdout(let bytes) = event else { continue }
            for (offset, byte) in bytes.enumerated() where byte != (((received + offset) % 10 == 9) ? 10 : pattern[(received + offset) % 10]) {
                mismatch = true
                break
            }
            received += bytes.count
        }
        #expect(received == total)
        #expect(!mismatch)
    }
}

@Suite struct HostKeyTests {
    @Test func unknownKeyIsRefusedWithItsFingerprintAndHowToAccept() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        var target = fleet.target(fleet.hosts[0])
        target.knownHostsFile = fleet.directory + "/empty_known_hosts"
        let error = await #expect(throws: CohortError.self) { _ = try await SSHClient().connect(target) }
        let keygen = try await Shell.run("/usr/bin/ssh-keygen", ["-lf", "\(fleet.directory)/h1/ssh_host_ed25519_key.pub"]).stdout
        let fingerprint = String(keygen.split(separator: " ")[1])
        #expect(error?.code == .hostKeyUnknown)
        #expect(error?.message.contains("256 \(fingerprint) [\(target.address)]:\(target.port) (ED25519)") == true)
        #expect(error?.message.contains("--accept-new-host-keys") == true)
        #expect(error.map(CohortExitCode.init(for:)) == .securityRefused)
        #expect(!FileManager.default.fileExists(atPath: target.knownHostsFile))
    }

    @Test func changedKeyIsRefusedBeforeAnyCredentialIsSent() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let host = fleet.hosts[0]
        let other = try KnownHostsTests.generatedKey()
        var target = fleet.target(host)
        target.knownHostsFile = fleet.directory + "/changed_known_hosts"
        try "[\(host.address)]:\(host.port) \(other.line)\n".write(toFile: target.knownHostsFile, atomically: true, encoding: .utf8)
        target.hostKeyPolicy = .acceptNew  // even accept-new never accepts a changed key
        let error = await #expect(throws: CohortError.self) { _ = try await SSHClient().connect(target) }
        #expect(error?.code == .hostKeyChanged)
        #expect(error?.message.contains(other.key.sha256Fingerprint) == true)
        #expect(error?.message.contains("ssh-keygen -f") == true)
        // sshd logs at VERBOSE every public key it is offered; it saw none, up to the end of
        // the connection (its closing line).
        try await eventually("sshd logs the end of the connection") {
            let log = fleet.log(of: host)
            return log.contains("Connection closed") || log.contains("Connection reset") || log.contains("Disconnected")
        }
        let log = fleet.log(of: host)
        #expect(log.contains("Connection from"))
        #expect(!log.contains("publickey") && !log.contains("Accepted") && !log.contains("Failed"), "sshd log: \(log)")
        #expect(try String(contentsOfFile: target.knownHostsFile, encoding: .utf8).split(separator: "\n").count == 1)
    }

    @Test func acceptNewRecordsAnUnknownKeyAtomically() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        var target = fleet.target(fleet.hosts[0])
        target.knownHostsFile = fleet.directory + "/new/known_hosts"
        target.hostKeyPolicy = .acceptNew
        let first = try await SSHClient().connect(target)
        #expect(try await first.run("true").status == .exited(0))
        await first.close()
        let recorded = try String(contentsOfFile: target.knownHostsFile, encoding: .utf8)
        let expected = try String(contentsOfFile: fleet.directory + "/h1/ssh_host_ed25519_key.pub", encoding: .utf8)
            .split(separator: " ").prefix(2).joined(separator: " ")
        #expect(recorded == "[\(target.address)]:\(target.port) \(expected)\n")
        // Now known: strict checking accepts it.
        target.hostKeyPolicy = .strict
        let second = try await SSHClient().connect(target)
        await second.close()
    }
}

@Suite struct AuthenticationTests {
    @Test func aWrongKeyNamesUserHostAndWhatWasTried() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let dir = fleet.directory + "/other"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        _ = try await Shell.run("/usr/bin/ssh-keygen", ["-q", "-t", "ecdsa", "-N", "", "-f", dir + "/id_ecdsa"])
        var target = fleet.target(fleet.hosts[0])
        target.identityFiles = [dir + "/id_ecdsa"]
        let error = await #expect(throws: CohortError.self) { _ = try await SSHClient().connect(target) }
        #expect(error?.code == .authenticationFailed)
        #expect(error?.message.contains("\(NSUserName())@\(target.address):\(target.port)") == true)
        #expect(error?.message.contains("\(dir)/id_ecdsa (refused by server)") == true)
    }

    @Test func anRSAKeyGetsTheLibssh2Explanation() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let key = fleet.directory + "/id_rsa"
        _ = try await Shell.run("/usr/bin/ssh-keygen", ["-q", "-t", "rsa", "-N", "", "-f", key])
        var target = fleet.target(fleet.hosts[0])
        target.identityFiles = [key]
        let error = await #expect(throws: CohortError.self) { _ = try await SSHClient().connect(target) }
        #expect(error?.code == .authenticationFailed)
        #expect(error?.message.contains("RSA key: libssh2 1.10 signs only with ssh-rsa") == true)
    }
}

@Suite struct UnreachableTests {
    private func target(port: Int, timeout: Duration) -> SSHTarget {
        SSHTarget(
            name: "ghost", address: "127.0.0.1", port: port, identityFiles: [], knownHostsFile: "/dev/null",
            connectTimeout: timeout)
    }

    @Test func refusedPort() async throws {
        let refusing = try RefusingPort()
        let error = await #expect(throws: CohortError.self) {
            _ = try await SSHClient().connect(target(port: refusing.port, timeout: .seconds(5)))
        }
        withExtendedLifetime(refusing) {}
        #expect(error?.code == .connectionRefused)
        #expect(error?.host == "ghost")
        #expect(error.map(CohortExitCode.init(for:)) == .unreachable)
    }

    @Test func anUnresolvableNameIsADNSFailure() async throws {
        // A label over 63 characters is refused by the resolver library itself, so this test
        // sends no DNS query anywhere (checked with strace: no network socket is opened).
        var ghost = target(port: 22, timeout: .seconds(5))
        ghost.address = String(repeating: "a", count: 70) + ".invalid"
        let error = await #expect(throws: CohortError.self) { _ = try await SSHClient().connect(ghost) }
        #expect(error?.code == .dnsFailure)
        #expect(error?.message.contains("cannot resolve host name") == true)
        #expect(error.map(CohortExitCode.init(for:)) == .unreachable)
    }

    @Test func aPeerThatNeverSpeaksSSHHasNoBanner() async throws {
        let listener = try SilentListener()
        let start = ContinuousClock.now
        let error = await #expect(throws: CohortError.self) {
            _ = try await SSHClient().connect(target(port: listener.port, timeout: .seconds(1)))
        }
        #expect(error?.code == .noSSHBanner)
        // The bound is what matters (a silent peer would otherwise hang forever); it is
        // generous because the test machine is shared with the rest of the suite.
        #expect(ContinuousClock.now - start < .seconds(300))
    }

    @Test func aTCPBlackHoleTimesOutWithinTheBound() async throws {
        // The kernel answers SYNs for a listener until its backlog is full, then drops them.
        let listener = try SilentListener(backlog: 0)
        var fillers: [Int32] = []
        defer { fillers.forEach { close($0) } }
        for _ in 0..<4 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            _ = fcntl(fd, F_SETFL, O_NONBLOCK)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = in_port_t(UInt16(listener.port).bigEndian)
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            fillers.append(fd)
        }
        // The first filler fills the queue (backlog 0 holds one); the others' SYNs are dropped.
        #expect(waitConnected(fillers[0]))
        let error = await #expect(throws: CohortError.self) {
            _ = try await SSHClient().connect(target(port: listener.port, timeout: .seconds(1)))
        }
        // Our deadline fired, not TCP's own (about two minutes of SYN retries, which says "TCP
        // connect timed out"): told apart by the words, not by the time taken, which load on 2
        // cores has stretched from 1 s past a minute.
        #expect(error?.code == .noSSHBanner || (error?.code == .connectTimeout && error?.message.contains("timed out after") == true), "\(String(describing: error))")
    }
}

@Suite struct LostHostTests {
    @Test func aFrozenHostIsDeclaredLostWithinTheHeartbeatBound() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let host = fleet.hosts[0]
        let connection = try await SSHClient().connect(fleet.target(host, deadPeer: .seconds(3)))
        // It ends only when its stdin does (or after an hour), so no scheduling delay under
        // load lets it finish before it is frozen, and it goes when its sshd goes.
        let shell = connection.open("echo started; timeout 3600 head -n 1")
        let process = shell.output
        var iterator = process.makeAsyncIterator()
        #expect(try await iterator.next() == .stdout(Array("started\n".utf8)))
        let sessions = fleet.sessionProcesses(of: host).filter(isSSHD)
        #expect(!sessions.isEmpty)
        sessions.forEach { kill($0, SIGSTOP) }
        defer { sessions.forEach { kill($0, SIGCONT) } }
        let start = ContinuousClock.now
        let error = await #expect(throws: CohortError.self) { while try await iterator.next() != nil {} }
        #expect(error?.code == .transportLost)
        #expect(error?.message.contains("heartbeat") == true)
        // Bound: 3 s of silence plus a heartbeat tick, with a loaded machine's slack; TCP alone
        // would notice after about 15 minutes, which is what the bound tells apart.
        #expect(ContinuousClock.now - start < .seconds(300))
    }

    @Test func aKilledSessionIsATransportLossNotASuccess() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let host = fleet.hosts[0]
        let connection = try await SSHClient().connect(fleet.target(host))
        // stdin stays open and nothing is sent: the command cannot end by itself in any time
        // that load could stretch a test's turn to. With a `sleep 30` here, a test task left
        // unscheduled for 30 s on a loaded CI saw the command end (exit 0 already read by the
        // IO thread) before its kill ran, and the iteration then ended normally.
        let shell = connection.open("echo started; timeout 3600 head -n 1; exit 0")
        let process = shell.output
        var iterator = process.makeAsyncIterator()
        #expect(try await iterator.next() == .stdout(Array("started\n".utf8)))
        let sessions = fleet.sessionProcesses(of: host).filter(isSSHD)
        #expect(!sessions.isEmpty)
        sessions.forEach { kill($0, SIGKILL) }
        // Scanned again until no sshd of the session is left, so that the loss is certain
        // before the channel is read.
        try await eventually("the session's sshd processes gone") {
            let left = fleet.sessionProcesses(of: host).filter(isSSHD)
            left.forEach { kill($0, SIGKILL) }
            return left.isEmpty
        }
        let error = await #expect(throws: CohortError.self) { while try await iterator.next() != nil {} }
        #expect(error?.code == .transportLost)
        #expect(error.map(CohortExitCode.init(for:)) == .unreachable)
    }
}

@Suite struct AgentTests {
    @Test func agentKeysAreOfferedFirstAndRSAOnesAreSkippedWithAReason() async throws {
        let fleet = try TestFleet.start(hosts: 1)
        defer { fleet.stop() }
        let socket = fleet.directory + "/agent.sock"
        // In the foreground (-D), as our own child: stopped by its PID when the test ends.
        let agent = try ChildProcess("/usr/bin/ssh-agent", ["-D", "-a", socket])
        // SIGKILL by PID: ssh-agent -D run this way does not act on SIGTERM.
        defer {
            kill(agent.pid, SIGKILL)
            agent.wait()
        }
        try await eventually("the agent socket") { FileManager.default.fileExists(atPath: socket) }
        let rsa = fleet.directory + "/agent_rsa"
        _ = try await Shell.run("/usr/bin/ssh-keygen", ["-q", "-t", "rsa", "-N", "", "-f", rsa])
        for key in [rsa, fleet.clientKey] {
            #expect(try await Shell.run("/usr/bin/ssh-add", ["-q", key], environment: ["SSH_AUTH_SOCK": socket]).status == 0)
        }
        var target = fleet.target(fleet.hosts[0])
        target.identityFiles = []
        target.identitiesOnly = false
        target.agentSocket = socket
        let connection = try await SSHClient().connect(target)
        #expect(try await connection.run("echo via agent").stdout == Array("via agent\n".utf8))
        await connection.close()
        // The server logs which key it accepted: the agent's ed25519 key, not a file.
        #expect(fleet.log(of: fleet.hosts[0]).contains("Accepted publickey for \(NSUserName())"))
    }
}
