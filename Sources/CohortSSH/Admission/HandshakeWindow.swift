/// How many SSH handshakes may be in flight at once, learnt from how long they take.
///
/// Every handshake in flight shares this machine's CPU (and sshd's, on loopback or a small
/// fleet): start 1,000 at once and all of them miss their deadline together. So the window
/// grows while handshakes finish near the fastest seen (doubling, as TCP's slow start, then one
/// more per window of completions) and shrinks when they queue behind each other (TCP Vegas:
/// see `adjust`), dropping at once to what the latencies say is uncongested when they are far
/// past it or past `latencyCeiling`, at most once per latency period. Per endpoint
/// (`address:port`, a bastion) it also stays below OpenSSH's `MaxStartups` start of 10, and
/// halves where a server dropped a connection before its banner, which is what sshd does past
/// `MaxStartups`.
///
/// Pure: the caller says when attempts start and how they ended; `HandshakeGate` does the waiting.
public struct HandshakeWindow: Sendable {
    public struct Settings: Sendable {
        /// Enough for a small fleet to connect all at once, cold (W1: 4 hosts, several
        /// connections each).
        public var initial: Double = 16
        public var minimum: Double = 2
        public var maximum: Double = 512
        /// Handshakes in flight to one endpoint: below sshd's default `MaxStartups` of 10, with
        /// room for sshd counting each a little past its authentication (8 reached 10).
        public var perEndpoint = 6
        /// Handshakes in flight through one bastion: it only relays (the targets' sshds do the
        /// work), but a burst of channel opens on one connection is still a burst.
        public var perBastion = 32
        /// A handshake slower than this is congested whatever the fastest seen was (a third
        /// of the default 10-s connect timeout: shrink long before anyone times out).
        public var latencyCeiling: Duration = .seconds(3)

        public init() {}
    }

    public enum Outcome: Sendable, Equatable {
        /// Connected and authenticated: the time from start to done.
        case completed(latency: Duration)
        /// The server closed the connection before its banner (sshd past `MaxStartups`).
        case droppedBeforeBanner
        /// Key exchange or authentication ran out of time: the load may be ours.
        case timedOut
        /// Anything that says nothing about load: refused, unreachable, wrong key.
        case failed
    }

    public let settings: Settings
    public private(set) var limit: Double
    public private(set) var inFlight = 0
    /// The fastest handshake seen: what an unloaded one costs.
    public private(set) var baseline: Duration?
    private var slowStart = true
    private var lastDecrease: ContinuousClock.Instant?
    private var endpoints: [Lane: Endpoint] = [:]

    private struct Endpoint {
        var inFlight = 0
        var limit: Int
    }

    public init(settings: Settings = Settings()) {
        self.settings = settings
        limit = settings.initial
    }

    /// What an attempt occupies besides a place in the window: its sshd, and each bastion
    /// its connection goes through.
    public enum Lane: Hashable, Sendable {
        case endpoint(String)
        case bastion(String)
    }

    private func cap(_ lane: Lane) -> Int {
        switch lane {
        case .endpoint: return settings.perEndpoint
        case .bastion: return settings.perBastion
        }
    }

    /// Whether an attempt through `lanes` (each must have room) may start now.
    public func mayStart(_ lanes: [Lane]) -> Bool {
        guard Double(inFlight) < limit.rounded(.down) || inFlight == 0 else { return false }
        return lanes.allSatisfy { lane in
            let endpoint = endpoints[lane]
            return (endpoint?.inFlight ?? 0) < (endpoint?.limit ?? cap(lane))
        }
    }

    /// Attempts through `lane` started and not yet finished.
    public func inFlight(_ lane: Lane) -> Int { endpoints[lane]?.inFlight ?? 0 }

    public mutating func start(_ lanes: [Lane]) {
        inFlight += 1
        for lane in lanes {
            let fresh = Endpoint(limit: cap(lane))
            endpoints[lane, default: fresh].inFlight += 1
        }
    }

    public mutating func finish(_ lanes: [Lane], _ outcome: Outcome, now: ContinuousClock.Instant) {
        inFlight = max(0, inFlight - 1)
        for lane in lanes {
            guard var endpoint = endpoints[lane] else { continue }
            endpoint.inFlight = max(0, endpoint.inFlight - 1)
            switch outcome {
            case .droppedBeforeBanner: endpoint.limit = max(1, endpoint.limit / 2)
            case .completed: endpoint.limit = min(cap(lane), endpoint.limit + 1)
            case .timedOut, .failed: break
            }
            // Forget idle endpoints at their default, so that 10,000 hosts cost nothing after.
            if endpoint.inFlight == 0, endpoint.limit == cap(lane) {
                endpoints[lane] = nil
            } else {
                endpoints[lane] = endpoint
            }
        }
        switch outcome {
        case .completed(let latency):
            let fastest = min(baseline ?? latency, latency)
            baseline = fastest
            adjust(latency: latency, fastest: fastest, now: now)
        case .timedOut:
            slowStart = false
            if lastDecrease.map({ now - $0 >= baseline ?? .seconds(1) }) ?? true {
                limit = max(settings.minimum, limit / 2)
                lastDecrease = now
            }
        case .droppedBeforeBanner:
            slowStart = false
        case .failed:
            break
        }
    }

    /// TCP Vegas on handshakes: `queued` estimates how many of the window's handshakes wait
    /// behind others rather than progress (the window times how much of each one's latency
    /// exceeds the fastest seen). Keep it between `alpha` and `beta`: enough to keep every core
    /// busy, few enough that latency stays near the fastest. It works even where the fastest
    /// seen was itself slowed by other load (several coordinators on one machine): the window
    /// then holds where it is instead of growing.
    private mutating func adjust(latency: Duration, fastest: Duration, now: ContinuousClock.Instant) {
        let (alpha, beta) = (2.0, 4.0)
        let ratio = latency > .zero ? fastest / latency : 1
        let queued = limit * (1 - ratio)
        let uncongested = max(settings.minimum, limit * ratio + alpha)
        if latency > settings.latencyCeiling || queued > 4 * beta {
            slowStart = false
            if lastDecrease.map({ now - $0 >= latency }) ?? true {
                limit = min(limit, uncongested)
                lastDecrease = now
            }
        } else if slowStart {
            if queued < alpha {
                limit = min(settings.maximum, limit + 1)
            } else {
                slowStart = false
                limit = min(limit, uncongested)
            }
        } else if queued < alpha {
            limit = min(settings.maximum, limit + 1 / limit)
        } else if queued > beta {
            limit = max(settings.minimum, limit - 1 / limit)
        }
    }
}
