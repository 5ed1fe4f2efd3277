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
    /// New connections per second, so that fanning out to many hosts stays under sshd's MaxStartups.
    public var connectRate: Double = 50

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
    /// `ansible_host`, `ansible_port`, `ansible_user`, `ansible_ssh_private_key_file`,
    /// `ansible_connection`; Cohort's `cohort_known_hosts_file`), the options and ssh_config.
    public static func resolve(
        host: String, vars: [(String, InventoryValue)], options: ConnectionOptions, sshConfig: SSHConfig
    ) throws(CohortError) -> HostConnection {
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
        let address = variable("ansible_host")?.text ?? host
        let config = try sshConfig.resolve(host: address)
        var target = SSHTarget(name: host, address: config.hostName ?? address)
        if let portValue = variable("ansible_port") {
            guard let port = portValue.intValue, (1...65535).contains(port) else {
                throw CohortError(.invalidInput, "host \(host): ansible_port must be a port number, not \(portValue)")
            }
            target.port = port
        } else {
            target.port = config.port ?? 22
        }
        target.user = variable("ansible_user")?.text ?? options.user ?? config.user ?? NSUserName()
        if let key = variable("ansible_ssh_private_key_file")?.text ?? options.privateKey {
            target.identityFiles = [(key as NSString).expandingTildeInPath]
        } else if !config.identityFiles.isEmpty {
            target.identityFiles = config.identityFiles
        }
        target.identitiesOnly = config.identitiesOnly ?? false
        switch config.identityAgent {
        case nil, "SSH_AUTH_SOCK"?: break
        case "none"?: target.agentSocket = nil
        case let variable? where variable.hasPrefix("$"):
            target.agentSocket = ProcessInfo.processInfo.environment[String(variable.dropFirst())]
        case let path?: target.agentSocket = path
        }
        target.knownHostsFile = (variable("cohort_known_hosts_file")?.text ?? options.knownHostsFile
            ?? config.userKnownHostsFile).map { ($0 as NSString).expandingTildeInPath } ?? SSHTarget.defaultKnownHostsFile
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
        return .ssh(target)
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
