/// Admits SSH connection attempts into the process's `HandshakeWindow`, first come first
/// served, except that an attempt whose endpoint is full lets the ones behind it pass.
///
/// One per process (`shared`): the window measures this machine's CPU, which every
/// `SSHClient` and every concurrent run in the process share.
public actor HandshakeGate {
    public static let shared = HandshakeGate()

    private var window: HandshakeWindow
    /// When each endpoint last let a handshake through: a server that drops some connections
    /// while it lets others in is busy, and worth waiting for.
    private var lastCompleted: [HandshakeWindow.Lane: ContinuousClock.Instant] = [:]
    private var waiting: [(lanes: [HandshakeWindow.Lane], continuation: CheckedContinuation<Void, Never>)] = []

    public init(settings: HandshakeWindow.Settings = HandshakeWindow.Settings()) {
        window = HandshakeWindow(settings: settings)
    }

    /// Waits for room; the caller must `release` with the outcome exactly once after.
    func acquire(_ lanes: [HandshakeWindow.Lane]) async {
        if waiting.isEmpty, window.mayStart(lanes) {
            window.start(lanes)
            return
        }
        await withCheckedContinuation { continuation in
            waiting.append((lanes, continuation))
            admit()
        }
    }

    func release(_ lanes: [HandshakeWindow.Lane], _ outcome: HandshakeWindow.Outcome) {
        let now = ContinuousClock.now
        window.finish(lanes, outcome, now: now)
        if case .completed = outcome, let endpoint = lanes.first {
            lastCompleted[endpoint] = now
            if lastCompleted.count > 4096 { lastCompleted = lastCompleted.filter { now - $0.value < .seconds(60) } }
        }
        admit()
    }

    /// Whether `lane` is busy serving others rather than down: it let a handshake through
    /// within `period`, or handshakes of this process to it are under way (a drop while they
    /// are is explained by them, however long a loaded machine makes them take).
    func servingOthers(_ lane: HandshakeWindow.Lane, within period: Duration) -> Bool {
        if window.inFlight(lane) > 0 { return true }
        return lastCompleted[lane].map { ContinuousClock.now - $0 < period } ?? false
    }

    /// What the window has learnt, for logs and benchmarks.
    public var snapshot: (limit: Double, inFlight: Int, baseline: Duration?) {
        (window.limit, window.inFlight, window.baseline)
    }

    private func admit() {
        var index = 0
        while index < waiting.count, window.mayStart([]) {
            if window.mayStart(waiting[index].lanes) {
                let admitted = waiting.remove(at: index)
                window.start(admitted.lanes)
                admitted.continuation.resume()
            } else {
                index += 1
            }
        }
    }
}
