/// Long work inside the worker's own loop (hashing, reading, walking a tree) calls `beat()`
/// between chunks, so that the coordinator still hears a heartbeat every few seconds (a busy
/// worker is not a stuck one), and a worker whose coordinator is gone (its stdin hung up,
/// as when the coordinator was killed) stops at once instead of hashing 10 GB for nobody.
public enum WorkerPulse {
    // nonisolated(unsafe): set once by the runtime before its loop starts, and called only
    // from that loop's thread (fs work runs on it); in-process jobs never call it.
    nonisolated(unsafe) static var hook: (() -> Void)?

    public static func beat() { hook?() }
}
