/// Spaces out new connections so that hundreds of handshakes do not arrive at once.
/// sshd drops unauthenticated connections beyond `MaxStartups` (default 10:30:100).
actor ConnectRateLimiter {
    private let interval: Duration
    private var next = ContinuousClock.now

    init(perSecond: Double) {
        interval = perSecond > 0 ? .nanoseconds(Int64(1_000_000_000 / perSecond)) : .zero
    }

    func acquire() async {
        let now = ContinuousClock.now
        let slot = max(now, next)
        next = slot + interval
        if slot > now { try? await Task.sleep(until: slot, clock: .continuous) }
    }
}
