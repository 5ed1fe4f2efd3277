/// Spaces out new connections when the user caps their rate (`--connect-rate`). Without a cap
/// it never waits: the SSH layer's `HandshakeGate` bounds the handshakes in flight.
actor ConnectRateLimiter {
    private let interval: Duration
    private var next = ContinuousClock.now

    init(perSecond: Double?) {
        interval = (perSecond ?? 0) > 0 ? .nanoseconds(Int64(1_000_000_000 / perSecond!)) : .zero
    }

    func acquire() async {
        guard interval > .zero else { return }
        let now = ContinuousClock.now
        let slot = max(now, next)
        next = slot + interval
        if slot > now { try? await Task.sleep(until: slot, clock: .continuous) }
    }
}
