import CLibSSH2
import CohortCore
import Foundation
import Logging

extension SessionDriver {
    func startSession() throws(CohortError) {
        // The driver outlives its session (it frees it), so the unretained pointer is safe.
        guard let session = cohort_libssh2_session_init(Unmanaged.passUnretained(self).toOpaque()) else {
            throw CohortError(.sshFailure, "libssh2_session_init failed")
        }
        self.session = session
        libssh2_session_set_blocking(session, 0)
        _ = libssh2_session_callback_set(session, LIBSSH2_CALLBACK_SEND, unsafeBitCast(Self.send, to: UnsafeMutableRawPointer.self))
        // Offer the host-key algorithms known_hosts already holds for this host first, so that
        // a host with keys of several types is checked against the one we recorded.
        let known = (try? KnownHostsStore.shared.load(target.knownHostsFile))?
            .knownTypes(host: target.address, port: target.port) ?? []
        let supported = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa"]
        let preferred = known.filter(supported.contains) + supported.filter { !known.contains($0) }
        _ = libssh2_session_method_pref(session, LIBSSH2_METHOD_HOSTKEY, preferred.joined(separator: ","))
        let seconds = Int32(max(1, heartbeatInterval.components.seconds))
        libssh2_keepalive_config(session, 1, UInt32(seconds))
        phase = .handshaking
    }

    /// libssh2's send, through the session's `Outbox` (see there why it never blocks).
    static let send: @convention(c) (
        libssh2_socket_t, UnsafeRawPointer?, Int, Int32, UnsafeMutablePointer<UnsafeMutableRawPointer?>?
    ) -> Int = { fd, buffer, length, _, abstract in
        guard let buffer, let raw = abstract?.pointee else { return -Int(EBADF) }
        return Unmanaged<SessionDriver>.fromOpaque(raw).takeUnretainedValue().outbox.accept(fd, buffer, length)
    }

    func stepHandshake(now: ContinuousClock.Instant) throws {
        guard let session else { return }
        let rc = libssh2_session_handshake(session, fd)
        if rc == LIBSSH2_ERROR_EAGAIN {
            try checkDeadline(now)
            return
        }
        if rc != 0 {
            let banner = Self.hasBanner(session)
            if rc == LIBSSH2_ERROR_SOCKET_DISCONNECT || rc == LIBSSH2_ERROR_SOCKET_RECV, let said = Self.notABanner(session) {
                // sshd past MaxStartups closes at once, saying "Exceeded MaxStartups" first.
                droppedBeforeBanner = true
                let words = said.isEmpty ? "" : ", saying '\(Printable.escaped(said))'"
                throw CohortError(
                    .noSSHBanner,
                    "\(target.endpoint) closed the connection before its SSH banner\(words) (sshd does that past its MaxStartups)")
            }
            throw CohortError(
                banner ? .sshFailure : .noSSHBanner,
                "SSH handshake with \(target.endpoint) failed: \(LibSSH2.lastErrorMessage(session))")
        }
        if logger.logLevel <= .debug {
            func method(_ type: Int32) -> String { libssh2_session_methods(session, type).map { String(cString: $0) } ?? "?" }
            logger.debug(
                "key exchange \(method(LIBSSH2_METHOD_KEX)), host key \(method(LIBSSH2_METHOD_HOSTKEY)), cipher \(method(LIBSSH2_METHOD_CRYPT_CS))/\(method(LIBSSH2_METHOD_CRYPT_SC)), MAC \(method(LIBSSH2_METHOD_MAC_CS))")
        }
        try verifyHostKey(session)
        phase = .authenticating
        try stepAuthenticate(now: now)
    }

    /// libssh2 1.10 hands out its (empty) banner buffer before any banner arrived.
    static func hasBanner(_ session: OpaquePointer) -> Bool {
        guard let banner = libssh2_session_banner_get(session) else { return false }
        return banner.pointee != 0
    }

    /// What the server sent instead of a banner ("" for nothing), or nil if it sent one.
    static func notABanner(_ session: OpaquePointer) -> String? {
        guard let banner = libssh2_session_banner_get(session), banner.pointee != 0 else { return "" }
        let text = String(cString: banner)
        return text.hasPrefix("SSH-") ? nil : String(text.prefix(200))
    }

    /// Runs before any credential is sent: a changed key never sees a signature.
    private func verifyHostKey(_ session: OpaquePointer) throws(CohortError) {
        var length = 0
        var type: Int32 = 0
        guard let raw = libssh2_session_hostkey(session, &length, &type), length > 0,
            let key = HostKey(blob: Array(UnsafeRawBufferPointer(start: raw, count: length)))
        else {
            throw CohortError(.sshFailure, "server sent no usable host key")
        }
        let file = target.knownHostsFile
        let store = KnownHostsStore.shared
        let known = try store.load(file)
        let name = KnownHosts.hostName(target.address, port: target.port)
        let shown = "\(key.bits) \(key.sha256Fingerprint) \(name) (\(key.displayType))"
        logger.debug("server host key: \(shown)")
        switch known.verdict(for: key, host: target.address, port: target.port) {
        case .known(let line):
            logger.debug("host key found in \(file):\(line)")
            return
        case .revoked(let line):
            throw CohortError(.hostKeyChanged, "host key \(shown) is marked @revoked at \(file):\(line); refusing to connect")
        case .changed(let line, let recorded):
            throw CohortError(
                .hostKeyChanged,
                """
                HOST KEY CHANGED for \(name): it now presents \(shown), \
                but \(file):\(line) records \(recorded). Someone may be intercepting the connection, or the host was reinstalled. \
                Nothing was sent. If the change is expected, remove the old key with `\(HostKeyAdvice.removeCommand(name: name, file: file))` and connect again.
                """)
        case .unknown(let otherTypes):
            guard target.hostKeyPolicy == .acceptNew else {
                let others = otherTypes.isEmpty ? "" : " (keys of other types, \(otherTypes.joined(separator: ", ")), are recorded)"
                throw CohortError(
                    .hostKeyUnknown,
                    """
                    host key for \(name) is not in \(file)\(others): \(shown). \
                    Check that fingerprint out of band (on the host: `ssh-keygen -lf /etc/ssh/ssh_host_\(key.displayType.lowercased())_key.pub`), \
                    then rerun with --accept-new-host-keys to record it, or add it yourself (`\(HostKeyAdvice.keyscan(address: target.address, port: target.port, file: file))`).
                    """)
            }
            try store.append(KnownHosts.line(host: target.address, port: target.port, key: key), to: file)
            logger.debug("host key recorded in \(file) (--accept-new-host-keys)")
        }
    }
}

/// Serialises reads and atomic appends of known_hosts files across IO threads, and keeps each
/// file parsed: a thousand handshakes read and parse it once, not a thousand times under this
/// lock, and again only when the file changed (its inode, size, mtime or ctime, to the
/// nanosecond: an edit by hand or an append by another run).
final class KnownHostsStore: @unchecked Sendable {
    // @unchecked: `parsed` is guarded by `lock`.
    static let shared = KnownHostsStore()
    private let lock = NSLock()
    private var parsed: [String: (stamp: FileStamp, hosts: KnownHosts)] = [:]

    /// What says a file is the one parsed before; nil when it is missing.
    struct FileStamp: Equatable {
        var device: UInt64, inode: UInt64, size: Int64
        var modified: timespec, changed: timespec

        static func of(_ path: String) -> FileStamp? {
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            return FileStamp(
                device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size), modified: info.st_mtim,
                changed: info.st_ctim)
        }

        static func == (a: FileStamp, b: FileStamp) -> Bool {
            a.device == b.device && a.inode == b.inode && a.size == b.size && a.modified.tv_sec == b.modified.tv_sec
                && a.modified.tv_nsec == b.modified.tv_nsec && a.changed.tv_sec == b.changed.tv_sec && a.changed.tv_nsec == b.changed.tv_nsec
        }
    }

    private var reads = 0

    func load(_ path: String) throws(CohortError) -> KnownHosts {
        lock.lock()
        defer { lock.unlock() }
        let stamp = FileStamp.of(path)
        if let stamp, let cached = parsed[path], cached.stamp == stamp { return cached.hosts }
        let hosts: KnownHosts
        do { hosts = try KnownHostsFile.load(path) } catch let error as CohortError { throw error } catch {
            throw CohortError(.io, "\(error)", file: path)
        }
        reads += 1
        // Kept only when the file did not change while it was read (else read again next time).
        if let stamp, FileStamp.of(path) == stamp { parsed[path] = (stamp, hosts) } else { parsed[path] = nil }
        return hosts
    }

    /// How many times a file was read and parsed (tests check the cache holds).
    var readCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return reads
    }

    func append(_ line: String, to path: String) throws(CohortError) {
        lock.lock()
        defer { lock.unlock() }
        do { try KnownHostsFile.append(line, to: path) } catch let error as CohortError { throw error } catch {
            throw CohortError(.io, "\(error)", file: path)
        }
    }
}
