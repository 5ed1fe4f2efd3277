import CohortCore
import CohortInventory
import CohortSSH
import Foundation

/// Connection settings given on the command line or by a library caller. Each is optional:
/// an inventory variable wins over it, and it wins over ssh_config and the defaults.
public struct ConnectionOptions: Sendable {
    public var user: String?
    public var privateKey: String?
    public var knownHostsFile: String?
    public var acceptNewHostKeys = false
    public var connectTimeout: Duration?
    public var deadPeerTimeout: Duration = .seconds(30)
    /// `-c local` forces every host to run on this machine.
    public var connection: String?
    /// ssh_config to read; nil means `~/.ssh/config`, "none" means none (as with `ssh -F none`).
    public var sshConfigFile: String?
    /// A cap on new connections per second; nil for none. Without it the handshakes in flight
    /// are bounded by `HandshakeWindow`, which adapts to how fast they complete and keeps each
    /// sshd below its `MaxStartups`; a cap is for fleets whose servers have other limits.
    public var connectRate: Double?
    /// `-J`: bastions for every host whose inventory names none (`[user@]host[:port]`,
    /// comma-separated, or `none`); wins over ssh_config's `ProxyJump`.
    public var jump: String?

    public init() {}
}

/// Where and how to reach one inventory host.
public enum HostConnection: Sendable {
    case ssh(SSHTarget)
    case local(name: String)

    public var name: String {
        switch self {
        case .ssh(let target): return target.name
        case .local(let name): return name
        }
    }
}

extension HostConnection {
    /// Resolves a host's connection from its inventory variables (Ansible's names:
    /// `ansible_host`, `ansible_port`, `ansible_user`, `ansible_ssh_private_key_file` (and the
    /// older `ansible_ssh_host`, `_port`, `_user`, `ansible_private_key_file`),
    /// `ansible_connection`, `ansible_ssh_common_args`, `ansible_ssh_extra_args`; Cohort's
    /// `cohort_known_hosts_file`), the options and ssh_config, bastions included.
    public static func resolve(
        host: String, vars: [(String, InventoryValue)], options: ConnectionOptions, sshConfig: SSHConfig
    ) throws -> HostConnection {
        func variable(_ key: String) -> InventoryValue? { vars.last { $0.0 == key }?.1 }
        let connection = options.connection ?? variable("ansible_connection")?.text ?? "ssh"
        switch connection {
        case "local":
            return .local(name: host)
        case "ssh", "smart", "paramiko", "libssh":
            break
        default:
            throw CohortError(.invalidInput, "host \(host): ansible_connection '\(connection)' is not supported (use ssh or local)")
        }
        let address = (variable("ansible_host") ?? variable("ansible_ssh_host"))?.text ?? host
        try checkName(address, what: "ansible_host", host: host)
        var argsConfig = SSHConfig.empty
        for name in ["ansible_ssh_extra_args", "ansible_ssh_common_args"] {
            if let text = variable(name)?.text, !text.isEmpty {
                argsConfig = try SSHArguments.config(text, variable: name, host: host).prepending(argsConfig)
            }
        }
        let config = try sshConfig.prepending(argsConfig).resolve(host: address)
        var target = SSHTarget(name: host, address: config.hostName ?? address)
        if let portValue = variable("ansible_port") ?? variable("ansible_ssh_port") {
            guard let port = portValue.intValue, (1...65535).contains(port) else {
                throw CohortError(.invalidInput, "host \(host): ansible_port must be a port number, not \(portValue)")
            }
            target.port = port
        } else {
            target.port = config.port ?? 22
        }
        target.user = (variable("ansible_user") ?? variable("ansible_ssh_user"))?.text ?? options.user ?? config.user ?? NSUserName()
        try checkName(target.user, what: "the user", host: host)
        if let key = (variable("ansible_ssh_private_key_file") ?? variable("ansible_private_key_file"))?.text ?? options.privateKey {
            target.identityFiles = [(key as NSString).expandingTildeInPath]
        } else if !config.identityFiles.isEmpty {
            target.identityFiles = config.identityFiles
        }
        target.knownHostsFile = (variable("cohort_known_hosts_file")?.text ?? options.knownHostsFile
            ?? config.userKnownHostsFile).map { ($0 as NSString).expandingTildeInPath } ?? SSHTarget.defaultKnownHostsFile
        apply(config, options: options, to: &target)
        // Bastions: the inventory's ssh args win over -J, which wins over ssh_config.
        let chain: [JumpHost]
        if let fromArgs = try argsConfig.resolve(host: address).proxyJump {
            chain = fromArgs
        } else if let flag = options.jump {
            chain = try JumpHost.chain(flag)
        } else {
            chain = config.proxyJump ?? []
        }
        target.jumps = try jumps(chain, for: target, options: options, sshConfig: sshConfig)
        return .ssh(target)
    }

    /// What a target and each of its bastions take from ssh_config alike.
    private static func apply(_ config: SSHConfig.Resolved, options: ConnectionOptions, to target: inout SSHTarget) {
        target.identitiesOnly = config.identitiesOnly ?? target.identitiesOnly
        switch config.identityAgent {
        case nil, "SSH_AUTH_SOCK"?: break
        case "none"?: target.agentSocket = nil
        case let variable? where variable.hasPrefix("$"):
            target.agentSocket = ProcessInfo.processInfo.environment[String(variable.dropFirst())]
        case let path?: target.agentSocket = path
        }
        switch (options.acceptNewHostKeys, config.strictHostKeyChecking) {
        case (true, _), (false, "accept-new"?), (false, "no"?), (false, "off"?):
            target.hostKeyPolicy = .acceptNew
        default:
            target.hostKeyPolicy = .strict
        }
        if let timeout = options.connectTimeout {
            target.connectTimeout = timeout
        } else if let seconds = config.connectTimeout {
            target.connectTimeout = .seconds(seconds)
        }
        target.deadPeerTimeout = options.deadPeerTimeout
    }

    /// OpenSSH's limit on hops is its own recursion; a chain past this is surely a loop.
    static let maxJumps = 8

    /// Each hop as ssh would reach it: its own ssh_config block (HostName, Port, User,
    /// IdentityFile, UserKnownHostsFile, ...), and the first hop's own ProxyJump before it.
    /// A hop whose config names no key or known_hosts file uses the target's.
    private static func jumps(
        _ chain: [JumpHost], for target: SSHTarget, options: ConnectionOptions, sshConfig: SSHConfig
    ) throws -> [SSHTarget] {
        var hops: [SSHTarget] = []
        var pending = chain
        var seen: Set<String> = []
        while let hop = pending.popLast() {
            guard hops.count < maxJumps, seen.insert(hop.description).inserted else {
                throw CohortError(
                    .invalidInput,
                    "host \(target.name): ProxyJump chain through \(hop) loops or is longer than \(maxJumps) hops")
            }
            let config = try sshConfig.resolve(host: hop.host)
            var jump = SSHTarget(name: hop.host, address: config.hostName ?? hop.host)
            jump.port = hop.port ?? config.port ?? 22
            jump.user = hop.user ?? config.user ?? NSUserName()
            jump.identityFiles = config.identityFiles.isEmpty ? target.identityFiles : config.identityFiles
            jump.identitiesOnly = target.identitiesOnly
            jump.agentSocket = target.agentSocket
            jump.knownHostsFile = config.userKnownHostsFile.map { ($0 as NSString).expandingTildeInPath } ?? target.knownHostsFile
            apply(config, options: options, to: &jump)
            hops.insert(jump, at: 0)
            // Only the first hop is reached by a ProxyJump of its own, as with ssh -J.
            if pending.isEmpty, let before = config.proxyJump, !before.isEmpty { pending = before }
        }
        return hops
    }

    /// A host name or user that ssh would read as an option, or one with spaces or control
    /// characters, is refused before anything connects.
    static func checkName(_ name: String, what: String, host: String) throws(CohortError) {
        guard !name.isEmpty, !name.hasPrefix("-"), name.unicodeScalars.allSatisfy({ $0.value > 32 && $0.value != 127 }) else {
            throw CohortError(.invalidInput, "host \(host): \(what) '\(Printable.escaped(name))' is not a valid name")
        }
    }

    /// Loads the ssh_config named by the options (or `~/.ssh/config`).
    public static func sshConfig(for options: ConnectionOptions) throws -> SSHConfig {
        switch options.sshConfigFile {
        case "none"?:
            return .empty
        case let path?:
            guard FileManager.default.fileExists(atPath: path) else {
                throw CohortError(.invalidInput, "ssh config file not found", file: path)
            }
            return try SSHConfig.load(path)
        case nil:
            return try SSHConfig.load((NSHomeDirectory() as NSString).appendingPathComponent(".ssh/config"))
        }
    }
}
