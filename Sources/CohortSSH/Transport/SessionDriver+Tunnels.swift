import CLibSSH2
import CohortCore

/// The session as a bastion: `direct-tcpip` tunnels to the hosts behind it, pumped on every turn.
extension SessionDriver {
    func add(_ tunnel: TunnelChannel) {
        switch phase {
        case .failed(let error):
            tunnel.fail(error)
        default:
            if closing {
                tunnel.fail(CohortError(.transportLost, "connection to the bastion closed by Cohort", host: target.name))
                return
            }
            if !hasWork { markHeard() }
            tunnels.append(tunnel)
            let watcher = TunnelWatcher(tunnel: tunnel, driver: self)
            tunnel.watcher = watcher
            loop.register(watcher)
            loop.kick(self)
        }
    }

    /// Returns whether any tunnel moved bytes; a failure of the session itself is thrown.
    func stepTunnels(session: OpaquePointer) throws(CohortError) -> Bool {
        guard !tunnels.isEmpty else { return false }
        refreshOpener()
        var progressed = false
        for tunnel in tunnels {
            do {
                tunnel.sessionBehind = outbox.isFull
                if try tunnel.advance(session: session, buffer: &loop.readBuffer, mayWrite: !outbox.isFull, mayOpen: opener == nil || opener === tunnel) {
                    progressed = true
                }
                if tunnel.isMidOpen { opener = tunnel } else if opener === tunnel { opener = nil }
            } catch let error where error.isChannelLevel {
                if opener === tunnel { opener = nil }
                tunnel.fail(CohortError(.transportLost, "tunnel failed: \(error.message)", host: target.name))
            } catch {
                throw CohortError(.transportLost, "connection lost: \(error.message)", host: target.name)
            }
            if tunnel.isDone, opener === tunnel { opener = nil }
        }
        let finished = tunnels.filter(\.isDone)
        if !finished.isEmpty {
            tunnels.removeAll(where: \.isDone)
            for tunnel in finished {
                if let channel = tunnel.release() { unfreedChannels.append(channel) }
                // Its watcher sees the tunnel done and leaves the loop.
                if let watcher = tunnel.watcher { loop.kick(watcher) }
            }
        }
        return progressed
    }

    /// Every host behind this bastion loses its connection, told why.
    func failTunnels(_ error: CohortError) {
        for tunnel in tunnels {
            tunnel.fail(error)
            if let channel = tunnel.release() { unfreedChannels.append(channel) }
            if let watcher = tunnel.watcher { loop.kick(watcher) }
        }
        tunnels.removeAll()
    }
}
