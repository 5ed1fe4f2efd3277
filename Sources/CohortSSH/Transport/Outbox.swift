#if canImport(Glibc)
import Glibc
#endif

/// What a session has sent and its socket has not yet taken.
///
/// libssh2 1.10 keeps one partly sent packet per session, and refuses any other packet
/// (LIBSSH2_ERROR_BAD_USE) until the same call is repeated: with several channels on a session,
/// a write or a window adjust of one channel after another's write blocked would fail the
/// session. A socketpair under a bastion's tunnel, with its small buffer, did that at once. So
/// libssh2's sends go through here and never block: what the socket does not take waits here,
/// flushed when it is writable; channels stop writing while more than `limit` waits.
struct Outbox {
    private var bytes: [UInt8] = []
    private var offset = 0

    static let limit = 1 << 20

    var pending: Int { bytes.count - offset }
    var isFull: Bool { pending >= Self.limit }

    /// Takes all of `buffer`: sent now as far as the socket allows, the rest kept. Returns the
    /// length, or `-errno` for a socket that failed (as libssh2's own send does).
    mutating func accept(_ fd: Int32, _ buffer: UnsafeRawPointer, _ length: Int) -> Int {
        var sent = 0
        if pending == 0 {
            let n = send(fd, buffer, length, Int32(MSG_NOSIGNAL))
            if n < 0 {
                if errno != EAGAIN && errno != EINTR { return -Int(errno) }
            } else {
                sent = n
            }
            if sent == length { return length }
        }
        bytes.append(contentsOf: UnsafeRawBufferPointer(start: buffer + sent, count: length - sent))
        return length
    }

    /// Sends what waits, as far as the socket allows. Returns an errno for a failed socket.
    mutating func flush(_ fd: Int32) -> Int32? {
        while pending > 0 {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, pending, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN { break }
                return errno
            }
            offset += n
        }
        if offset == bytes.count {
            bytes.removeAll(keepingCapacity: bytes.capacity <= 4 * Self.limit)
            offset = 0
        } else if offset >= Self.limit {
            bytes.removeFirst(offset)
            offset = 0
        }
        return nil
    }
}
