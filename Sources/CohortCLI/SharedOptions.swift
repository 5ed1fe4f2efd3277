import ArgumentParser
import Cohort
import CohortCore
import CohortInventory
import Foundation
import Logging

struct InventoryOptions: ParsableArguments {
    @Option(name: [.customShort("i"), .long], help: "Inventory file or directory (INI or YAML, as Ansible's). Default: $COHORT_INVENTORY.")
    var inventory: String?

    @Option(name: [.short, .long], help: "Further limit the hosts to this pattern.")
    var limit: String?

    @Flag(help: "A pattern that matches no host is not an error.")
    var allowEmpty = false

    func load() throws -> (Inventory, String) {
        guard let path = inventory ?? ProcessInfo.processInfo.environment["COHORT_INVENTORY"] else {
            throw ValidationError("no inventory: give -i FILE or set COHORT_INVENTORY")
        }
        return (try Inventory.load(path: path), path)
    }

    /// Hosts matching `pattern` and `--limit`, in inventory order, resolved; no match is exit 4.
    func hosts(matching pattern: String, in inventory: Inventory, options: ConnectionOptions) throws -> [FleetHost] {
        try FleetHosts.select(pattern, limit: limit, allowEmpty: allowEmpty, in: inventory, options: options)
    }
}

/// `-v` / `-vv`: diagnostics on stderr through swift-log, as `ssh -v` gives them.
struct VerbosityOptions: ParsableArguments {
    @Flag(name: .short, help: "More diagnostics on stderr: -v connections, keys, authentication and deployment; -vv timings too.")
    var verbose: Int

    /// Sets the process-wide log handler once, before any logger is made.
    func bootstrap() {
        let level: Logger.Level = verbose >= 2 ? .trace : verbose == 1 ? .debug : .notice
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}

struct ConnectionFlags: ParsableArguments {
    @Option(name: [.short, .long], help: "Remote user when the inventory sets no ansible_user.")
    var user: String?

    @Option(help: "Private key file (ed25519 or ECDSA) when the inventory sets no ansible_ssh_private_key_file.")
    var privateKey: String?

    @Option(help: "known_hosts file to check host keys against (default ~/.ssh/known_hosts).")
    var knownHosts: String?

    @Flag(help: "Record unknown host keys (as StrictHostKeyChecking=accept-new). Changed keys are still refused.")
    var acceptNewHostKeys = false

    @Option(parsing: .unconditional, help: "Seconds for TCP connect, key exchange and authentication together.")
    var connectTimeout: Double?

    @Option(parsing: .unconditional, help: "Seconds of silence after which a host running work is declared lost (at least 3: libssh2 sends keepalives at whole seconds).")
    var heartbeatTimeout: Double = 30

    @Option(name: [.customShort("c"), .customLong("connection")], help: "ssh or local (overrides ansible_connection).")
    var connection: String?

    @Option(name: [.customShort("F"), .customLong("ssh-config")], help: "ssh_config file ('none' for none; default ~/.ssh/config).")
    var sshConfig: String?

    @Option(parsing: .unconditional, help: "Cap on new SSH connections per second (default: no cap; the handshakes in flight adapt to how fast they complete).")
    var connectRate: Double?

    @Option(name: [.customShort("J"), .customLong("jump")], help: "Bastions to reach every host through: [user@]host[:port], comma-separated (as ssh -J; 'none' for none).")
    var jump: String?

    func validate() throws {
        if let connection, !["ssh", "local"].contains(connection) {
            throw ValidationError("--connection must be ssh or local, not '\(Printable.escaped(connection))'")
        }
        if let connectTimeout, connectTimeout <= 0 { throw ValidationError("--connect-timeout must be positive") }
        // Keepalives go out at a sixth of the timeout, but never faster than libssh2's one-second
        // granularity: below 3 s a quiet, healthy host would be declared lost.
        if heartbeatTimeout < 3 { throw ValidationError("--heartbeat-timeout must be at least 3 seconds, not \(heartbeatTimeout)") }
        if let connectRate, connectRate <= 0 { throw ValidationError("--connect-rate must be positive") }
    }

    var options: ConnectionOptions {
        var options = ConnectionOptions()
        options.user = user
        options.privateKey = privateKey
        options.knownHostsFile = knownHosts
        options.acceptNewHostKeys = acceptNewHostKeys
        options.connectTimeout = connectTimeout.map { .milliseconds(Int64($0 * 1000)) }
        options.deadPeerTimeout = .milliseconds(Int64(heartbeatTimeout * 1000))
        options.connection = connection
        options.sshConfigFile = sshConfig
        options.connectRate = connectRate
        options.jump = jump
        return options
    }
}
