import Foundation

/// A TCP listener on loopback that the test controls: it never speaks SSH.
public final class SilentListener {
    public let fd: Int32
    public let port: Int

    /// `backlog` 0 plus one queued connection makes the kernel drop further SYNs: a black hole.
    public init(backlog: Int32 = 16) throws {
        (fd, port) = try boundLoopbackSocket()
        guard listen(fd, backlog) == 0 else {
            close(fd)
            throw FleetError("cannot listen: \(errno)")
        }
    }

    deinit { close(fd) }
}

/// A loopback port that refuses connections for as long as this object lives: the socket
/// stays bound, without `listen()`, so the kernel answers every SYN with a reset and no other
/// test (or sshd) can take the port meanwhile. Keep it alive until the port has been used.
public final class RefusingPort {
    public let fd: Int32
    public let port: Int

    public init() throws {
        (fd, port) = try boundLoopbackSocket()
    }

    deinit { close(fd) }
}

/// A TCP socket bound to 127.0.0.1 on a port the kernel picks, and that port.
private func boundLoopbackSocket() throws -> (Int32, Int) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else {
        close(fd)
        throw FleetError("cannot bind: \(errno)")
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return (fd, Int(UInt16(bigEndian: address.sin_port)))
}

/// Waits until a non-blocking connect on `fd` has completed (the kernel queued it).
public func waitConnected(_ fd: Int32, timeoutMilliseconds: Int32 = 30_000) -> Bool {
    var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
    return poll(&entry, 1, timeoutMilliseconds) == 1 && entry.revents & Int16(POLLOUT) != 0
}
