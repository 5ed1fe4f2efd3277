import CohortCore
import Foundation

/// What to do with a host key that known_hosts does not hold.
public enum HostKeyPolicy: String, Sendable {
    /// Refuse (OpenSSH `StrictHostKeyChecking=yes`). The default.
    case strict
    /// Record it and go on (OpenSSH `StrictHostKeyChecking=accept-new`). A *changed* key is
    /// still refused: Cohort never connects to a host whose recorded key differs.
    case acceptNew
}

/// Everything needed to open one SSH connection, already resolved from inventory,
/// command-line flags and ssh_config.
public struct SSHTarget: Sendable {
    /// The name users see (the inventory host name).
    public var name: String
    /// Address or DNS name to connect to.
    public var address: String
    public var port: Int
    public var user: String
    public var identityFiles: [String]
    /// Offer only `identityFiles`, not the agent's keys (ssh_config `IdentitiesOnly`).
    public var identitiesOnly: Bool
    /// The ssh-agent socket; defaults to `SSH_AUTH_SOCK`. Agent keys are offered first.
    public var agentSocket: String? = ProcessInfo.processInfo.environment["SSH_AUTH_SOCK"]
    public var knownHostsFile: String
    public var hostKeyPolicy: HostKeyPolicy
    /// One deadline over TCP connect, key exchange and authentication.
    public var connectTimeout: Duration
    /// A host that sends nothing for this long while work is running is declared lost.
    public var deadPeerTimeout: Duration
    /// Bastions to go through, first hop first (ssh's `ProxyJump`). Each is a full SSH
    /// connection of its own, with its own host key checked under its own name, user and keys;
    /// their own `jumps` are ignored (the chain is flat). One connection to a bastion serves
    /// every host behind it.
    public var jumps: [SSHTarget] = []

    public init(
        name: String, address: String? = nil, port: Int = 22, user: String = NSUserName(),
        identityFiles: [String] = SSHTarget.defaultIdentityFiles, identitiesOnly: Bool = false,
        knownHostsFile: String = SSHTarget.defaultKnownHostsFile, hostKeyPolicy: HostKeyPolicy = .strict,
        connectTimeout: Duration = .seconds(10), deadPeerTimeout: Duration = .seconds(30)
    ) {
        self.name = name
        self.address = address ?? name
        self.port = port
        self.user = user
        self.identityFiles = identityFiles
        self.identitiesOnly = identitiesOnly
        self.knownHostsFile = knownHostsFile
        self.hostKeyPolicy = hostKeyPolicy
        self.connectTimeout = connectTimeout
        self.deadPeerTimeout = deadPeerTimeout
    }

    public static var defaultIdentityFiles: [String] {
        let ssh = (NSHomeDirectory() as NSString).appendingPathComponent(".ssh")
        return ["id_ed25519", "id_ecdsa"].map { (ssh as NSString).appendingPathComponent($0) }
    }

    public static var defaultKnownHostsFile: String {
        (NSHomeDirectory() as NSString).appendingPathComponent(".ssh/known_hosts")
    }

    /// `host:port` as used in messages.
    public var endpoint: String { port == 22 ? address : "\(address):\(port)" }

    /// Who this hop is to the pool of bastion connections: everything that makes two
    /// connections the same one.
    var identity: String {
        [user, address, String(port), identityFiles.joined(separator: ","), String(identitiesOnly), agentSocket ?? "",
         knownHostsFile, hostKeyPolicy.rawValue].joined(separator: "\u{1}")
    }
}

/// One piece of what a remote command produced, in arrival order. Bytes are exactly as sent.
public enum ProcessEvent: Sendable, Equatable {
    case stdout([UInt8])
    case stderr([UInt8])
    /// Always the last event of a process that ran to its end.
    case exit(ExitStatus)

    var byteCount: Int {
        switch self {
        case .stdout(let bytes), .stderr(let bytes): return bytes.count
        case .exit: return 0
        }
    }
}
