import Testing

@testable import CohortSSH

@Suite struct HandshakeWindowTests {
    let origin = ContinuousClock.now

    @Test func startsWithItsInitialWindowAndCapsEachEndpoint() {
        var window = HandshakeWindow()
        for index in 0..<16 {
            #expect(window.mayStart([.endpoint("h\(index)")]))
            window.start([.endpoint("h\(index)")])
        }
        #expect(!window.mayStart([.endpoint("h99")]))
        var one = HandshakeWindow()
        for _ in 0..<6 { one.start([.endpoint("same:22")]) }
        #expect(!one.mayStart([.endpoint("same:22")]), "a 7th handshake to one sshd would near its MaxStartups")
        #expect(one.mayStart([.endpoint("other:22")]))
    }

    @Test func growsWhileHandshakesStayFast() {
        var window = HandshakeWindow()
        for index in 0..<40 {
            window.start([.endpoint("h\(index)")])
            window.finish([.endpoint("h\(index)")], .completed(latency: .milliseconds(30)), now: origin + .milliseconds(index))
        }
        #expect(window.limit == 56)
        #expect(window.baseline == .milliseconds(30))
    }

    @Test func dropsToWhatLatencySaysIsUncongestedOncePerLatencyPeriod() {
        var window = HandshakeWindow()
        window.start([.endpoint("a")])
        window.finish([.endpoint("a")], .completed(latency: .milliseconds(20)), now: origin)
        #expect(window.limit == 17)
        for step in 0..<5 {
            window.start([.endpoint("a")])
            window.finish([.endpoint("a")], .completed(latency: .milliseconds(400)), now: origin + .milliseconds(10 * step))
        }
        // 17 in flight at 20 times the fastest: one of them would have done; plus alpha (2).
        #expect(abs(window.limit - (17.0 / 20 + 2)) < 1e-9, "five slow answers within one period are one signal")
        window.start([.endpoint("a")])
        window.finish([.endpoint("a")], .completed(latency: .milliseconds(21)), now: origin + .seconds(1))
        #expect(window.limit > 17.0 / 20 + 2, "fast again: it grows")
    }

    @Test func holdsWhereTheFastestSeenWasAlreadySlowedByOthers() {
        // Four coordinators on one machine: everyone's first handshake was already queued.
        var window = HandshakeWindow()
        window.start([.endpoint("a")])
        window.finish([.endpoint("a")], .completed(latency: .milliseconds(900)), now: origin)
        window.start([.endpoint("a")])
        window.finish([.endpoint("a")], .completed(latency: .milliseconds(1300)), now: origin + .seconds(1))
        let held = window.limit
        window.start([.endpoint("a")])
        window.finish([.endpoint("a")], .completed(latency: .milliseconds(1300)), now: origin + .seconds(2))
        #expect(window.limit <= held)
    }

    @Test func aDropBeforeTheBannerHalvesThatEndpointOnly() {
        var window = HandshakeWindow()
        window.start([.endpoint("busy:22")])
        window.finish([.endpoint("busy:22")], .droppedBeforeBanner, now: origin)
        for _ in 0..<3 { window.start([.endpoint("busy:22")]) }
        #expect(!window.mayStart([.endpoint("busy:22")]))
        #expect(window.mayStart([.endpoint("idle:22")]))
        window.finish([.endpoint("busy:22")], .completed(latency: .milliseconds(10)), now: origin)
        #expect(window.mayStart([.endpoint("busy:22")]), "a success gives the endpoint one more")
    }

    @Test func neverFallsBelowItsMinimum() {
        var window = HandshakeWindow()
        for step in 0..<50 {
            window.start([.endpoint("a")])
            window.finish([.endpoint("a")], .timedOut, now: origin + .seconds(step * 10))
        }
        #expect(window.limit == 2)
        #expect(window.mayStart([.endpoint("a")]))
    }

    /// Processor sharing: every handshake in flight on the machine needs `work` of CPU, the
    /// cores are shared equally, and each coordinator runs its own window. Whatever the
    /// offered load (1,000 hosts, or four coordinators on them at once), no handshake may get
    /// near its 10-s deadline, and the machine must stay busy (wall time near the CPU floor).
    @Test(arguments: [(1, 1000), (4, 1000), (1, 40)])
    func keepsEveryHandshakeFarFromItsDeadlineUnderAnyLoad(coordinators: Int, hosts: Int) {
        let cores = 2.0
        let work = 0.036  // CPU-seconds per login, client and sshd together (measured here)
        let step = 0.001
        struct Job { var started: Double; var left: Double; var coordinator: Int; var host: Int }
        var windows = [HandshakeWindow](repeating: HandshakeWindow(), count: coordinators)
        var queued = [Int](repeating: hosts, count: coordinators)
        var running: [Job] = []
        var now = 0.0
        var worst = 0.0
        var finished = 0
        while finished < coordinators * hosts {
            for c in 0..<coordinators {
                while queued[c] > 0, windows[c].mayStart([.endpoint("h\(queued[c])")]) {
                    windows[c].start([.endpoint("h\(queued[c])")])
                    running.append(Job(started: now, left: work, coordinator: c, host: queued[c]))
                    queued[c] -= 1
                }
            }
            let share = min(1, cores / Double(running.count)) * step
            now += step
            for index in running.indices { running[index].left -= share }
            for job in running where job.left <= 0 {
                let latency = now - job.started
                worst = max(worst, latency)
                windows[job.coordinator].finish(
                    [.endpoint("h\(job.host)")], .completed(latency: .milliseconds(Int64(latency * 1000))),
                    now: origin + .milliseconds(Int64(now * 1000)))
                finished += 1
            }
            running.removeAll { $0.left <= 0 }
        }
        let floor = Double(coordinators * hosts) * work / cores
        #expect(worst < 3.5, "slowest handshake \(worst) s")
        print("coordinators \(coordinators), hosts \(hosts): worst \(worst) s, wall \(now) s, floor \(floor) s")
        #expect(now < floor * 1.1 + 0.1, "wall \(now) s against a CPU floor of \(floor) s")
    }
}
