import CohortCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The one place CohortSSH makes raw socket syscalls: EINTR is retried, "would block" is a
/// value, anything else is a typed error.
enum Posix {
    static func errorText(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// Resolves `host`. Numeric addresses are parsed in place; names go to getaddrinfo on a
    /// thread of their own, because it blocks: on the IO loops it would stall every session,
    /// and on Dispatch's global pool (about one thread per core on Linux) other blocking work
    /// could starve it past the connect deadline.
    static func resolve(host: String, port: Int) async throws -> [sockaddr_storage] {
        if let numeric = numericAddress(host, port: port) { return [numeric] }
        return try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try lookup(host: host, port: port) })
            }
            thread.name = "cohort-resolve"
            thread.start()
        }
    }

    static func numericAddress(_ host: String, port: Int) -> sockaddr_storage? {
        var storage = sockaddr_storage()
        var v4 = sockaddr_in()
        if inet_pton(AF_INET, host, &v4.sin_addr) == 1 {
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = in_port_t(UInt16(port).bigEndian)
            withUnsafeMutableBytes(of: &storage) { raw in withUnsafeBytes(of: v4) { raw.copyMemory(from: $0) } }
            return storage
        }
        var v6 = sockaddr_in6()
        if inet_pton(AF_INET6, host, &v6.sin6_addr) == 1 {
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = in_port_t(UInt16(port).bigEndian)
            withUnsafeMutableBytes(of: &storage) { raw in withUnsafeBytes(of: v6) { raw.copyMemory(from: $0) } }
            return storage
        }
        return nil
    }

    private static func lookup(host: String, port: Int) throws -> [sockaddr_storage] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &result)
        guard rc == 0, let first = result else {
            let why = rc == EAI_SYSTEM ? errorText(errno) : String(cString: gai_strerror(rc))
            throw CohortError(.dnsFailure, "cannot resolve host name '\(host)': \(why)")
        }
        defer { freeaddrinfo(first) }
        var addresses: [sockaddr_storage] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            var storage = sockaddr_storage()
            withUnsafeMutableBytes(of: &storage) { raw in
                raw.copyMemory(from: UnsafeRawBufferPointer(start: info.pointee.ai_addr, count: Int(info.pointee.ai_addrlen)))
            }
            addresses.append(storage)
            cursor = info.pointee.ai_next
        }
        return addresses
    }

    /// Starts a non-blocking connect with TCP_NODELAY set (without it every exec round trip
    /// stalls ~40 ms on Nagle's algorithm meeting delayed ACKs). Returns the socket and
    /// whether the connect already completed.
    static func startConnect(_ address: sockaddr_storage) throws -> (fd: Int32, connected: Bool) {
        let fd = socket(Int32(address.ss_family), Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw CohortError(.io, "socket: \(errorText(errno))") }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var copy = address
        let length = address.ss_family == sa_family_t(AF_INET6)
            ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size
        let rc = withUnsafePointer(to: &copy) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(length)) }
        }
        if rc == 0 { return (fd, true) }
        let code = errno
        if code == EINPROGRESS || code == EINTR { return (fd, false) }
        close(fd)
        throw connectError(code)
    }

    /// The outcome of a non-blocking connect once the socket is writable.
    static func finishConnect(_ fd: Int32) throws {
        var code: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length) == 0 else { throw connectError(errno) }
        if code != 0 { throw connectError(code) }
    }

    static func connectError(_ code: Int32) -> CohortError {
        switch code {
        case ECONNREFUSED: return CohortError(.connectionRefused, "connection refused (nothing listens on that port)")
        case ETIMEDOUT: return CohortError(.connectTimeout, "TCP connect timed out")
        default: return CohortError(.connectionRefused, "cannot connect: \(errorText(code))")
        }
    }

    /// sshd leaves Nagle's algorithm on for sessions without a tty, so each small reply it
    /// sends behind an unacknowledged one waits for our ACK, which Linux may delay by up to
    /// 40 ms: a login then took ~40 ms longer between authentication and the exec reply.
    /// Quick ACKs are not sticky in Linux, so this is renewed whenever the socket is readable.
    static func acknowledgeQuickly(_ fd: Int32) {
        guard fd >= 0 else { return }
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_QUICKACK, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Two connected non-blocking stream sockets: a tunnel's two ends.
    static func socketPair() throws(CohortError) -> (Int32, Int32) {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            throw CohortError(.io, "socketpair: \(errorText(errno))")
        }
        setNonBlocking(fds[0])
        setNonBlocking(fds[1])
        return (fds[0], fds[1])
    }

    static func setNonBlocking(_ fd: Int32) {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
    }
}
