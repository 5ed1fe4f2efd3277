/// The coordinator's side of the worker handshake, as a pure state machine.
///
/// The worker speaks first (`hello`); the coordinator checks protocol version, OS and
/// architecture and answers `welcome`, or `shutdown` with the reason it refused.
public struct CoordinatorHandshake: Sendable {
    public enum Action: Sendable, Equatable {
        /// Send `reply`; the worker is ready for tasks.
        case accept(WorkerFacts, reply: WireMessage)
        /// Send `reply`, then drop the worker; `reason` is for the user.
        case refuse(reason: String, reply: WireMessage)
    }

    public let expectedOS: String
    public let expectedArch: String
    private(set) public var done = false

    public init(expectedOS: String, expectedArch: String) {
        self.expectedOS = expectedOS
        self.expectedArch = expectedArch
    }

    public mutating func receive(_ message: WireMessage) -> Action {
        guard !done else { return refuse("handshake already finished") }
        done = true
        guard case .hello(let facts) = message else { return refuse("expected a hello frame first, got \(message)") }
        guard facts.protocolVersion == Wire.protocolVersion else {
            return refuse("worker speaks protocol \(facts.protocolVersion), this coordinator speaks \(Wire.protocolVersion); both must come from the same Cohort build")
        }
        guard facts.os == expectedOS, facts.arch == expectedArch else {
            return refuse("host is \(facts.os) \(facts.arch), the worker was built for \(expectedOS) \(expectedArch)")
        }
        return .accept(facts, reply: .welcome(version: Wire.protocolVersion))
    }

    private func refuse(_ reason: String) -> Action {
        .refuse(reason: reason, reply: .shutdown(reason: reason))
    }
}
