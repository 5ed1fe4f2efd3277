import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Something an `IOLoop` drives: it owns one socket and is only ever touched on the loop's thread.
protocol LoopDriver: AnyObject {
    var fd: Int32 { get }
    /// poll(2) events to wait for now (0 for none).
    func wantedEvents() -> Int16
    /// When the driver must be advanced even without socket activity (deadlines, heartbeats).
    func nextDeadline() -> ContinuousClock.Instant?
    /// Makes all progress possible without blocking. Returns false once the driver is finished
    /// and should be dropped from the loop.
    func advance(revents: Int16, now: ContinuousClock.Instant) -> Bool
}

/// One thread running poll(2) over the sockets of many SSH sessions.
///
/// libssh2 sessions must never be used from two threads at once, so each session is pinned to
/// one loop and every libssh2 call for it happens on that loop's thread. Other threads hand
/// work over with `execute`, which wakes the loop through a pipe.
final class IOLoop: @unchecked Sendable {
    // @unchecked: `drivers`, `kicked` and `readBuffer` are confined to the loop thread; `inbox` is guarded
    // by its Mutex; the pipe descriptors are immutable after init.
    private let inbox = Mutex<[() -> Void]>([])
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private var drivers: [ObjectIdentifier: any LoopDriver] = [:]
    private var kicked: Set<ObjectIdentifier> = []
    /// Every channel read of every session on this loop goes through this one buffer (loop
    /// thread only): one per session cost 64 KiB each, 64 MB at a thousand hosts.
    var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)

    init(name: String) {
        var fds: [Int32] = [0, 0]
        precondition(pipe(&fds) == 0, "pipe: \(String(cString: strerror(errno)))")
        wakeRead = fds[0]
        wakeWrite = fds[1]
        Posix.setNonBlocking(wakeRead)
        Posix.setNonBlocking(wakeWrite)
        let thread = Thread { [self] in run() }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Runs `work` on the loop thread, soon.
    func execute(_ work: @escaping @Sendable () -> Void) {
        let wasEmpty = inbox.withLock { queue in
            queue.append(work)
            return queue.count == 1
        }
        if wasEmpty {
            var byte: UInt8 = 1
            _ = write(wakeWrite, &byte, 1)
        }
    }

    /// Loop thread only.
    func register(_ driver: any LoopDriver) {
        drivers[ObjectIdentifier(driver)] = driver
        kicked.insert(ObjectIdentifier(driver))
    }

    /// Loop thread only: advance `driver` on the next turn even without socket activity.
    func kick(_ driver: any LoopDriver) {
        kicked.insert(ObjectIdentifier(driver))
    }

    private func run() {
        var pollSet: [pollfd] = []
        var order: [ObjectIdentifier] = []
        while true {
            let work = inbox.withLock { queue in
                let taken = queue
                queue.removeAll(keepingCapacity: true)
                return taken
            }
            for item in work { item() }

            let now = ContinuousClock.now
            // Taken out first: a driver that kicks itself while advancing (more to read than
            // one turn's budget) must find its kick there on the next turn, not lose it.
            let due = kicked
            kicked.removeAll(keepingCapacity: true)
            for id in due {
                if let driver = drivers[id], !driver.advance(revents: 0, now: now) { drivers[id] = nil }
            }

            pollSet.removeAll(keepingCapacity: true)
            order.removeAll(keepingCapacity: true)
            pollSet.append(pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0))
            var deadline: ContinuousClock.Instant = now + .seconds(1)
            for (id, driver) in drivers {
                if let due = driver.nextDeadline(), due < deadline { deadline = due }
                let events = driver.wantedEvents()
                guard events != 0, driver.fd >= 0 else { continue }
                pollSet.append(pollfd(fd: driver.fd, events: events, revents: 0))
                order.append(id)
            }
            let wait = max(Duration.zero, deadline - now)
            let milliseconds = kicked.isEmpty
                ? Int32(min(wait.components.seconds, 10) * 1000 + wait.components.attoseconds / 1_000_000_000_000_000) + 1 : 0
            let ready = poll(&pollSet, nfds_t(pollSet.count), milliseconds)
            if ready < 0, errno != EINTR { fatalError("poll: \(String(cString: strerror(errno)))") }

            if pollSet[0].revents != 0 {
                var sink = [UInt8](repeating: 0, count: 256)
                while read(wakeRead, &sink, sink.count) > 0 {}
            }
            let after = ContinuousClock.now
            var advanced: Set<ObjectIdentifier> = []
            for (index, id) in order.enumerated() where pollSet[index + 1].revents != 0 {
                advanced.insert(id)
                if let driver = drivers[id], !driver.advance(revents: pollSet[index + 1].revents, now: after) {
                    drivers[id] = nil
                }
            }
            for (id, driver) in drivers where !advanced.contains(id) {
                if let due = driver.nextDeadline(), due <= after, !driver.advance(revents: 0, now: after) {
                    drivers[id] = nil
                }
            }
        }
    }
}

/// A fixed set of IO loops; sessions are spread over them round-robin.
final class IOLoopGroup: Sendable {
    let loops: [IOLoop]
    private let next = Atomic<Int>(0)

    init(threads: Int) {
        loops = (0..<max(1, threads)).map { IOLoop(name: "cohort-io-\($0)") }
    }

    func pick() -> IOLoop {
        loops[next.wrappingAdd(1, ordering: .relaxed).oldValue % loops.count]
    }
}
