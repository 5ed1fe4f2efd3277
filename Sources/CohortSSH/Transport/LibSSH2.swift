import CLibSSH2
import CohortCore

/// Every libssh2 return code goes through here: EAGAIN becomes "would block" (nil), anything
/// else a typed error carrying libssh2's own message.
enum LibSSH2 {
    /// libssh2_init must run once, before any thread uses libssh2. Swift initialises globals
    /// once and thread-safely; `SSHClient.init` touches this before it starts any IO loop.
    /// OpenSSL goes first, told not to tear itself down at exit (see the shim).
    static let initialized: Bool = cohort_openssl_init_without_atexit() == 1 && libssh2_init(0) == 0

    static func check(_ rc: Int32, _ session: OpaquePointer, _ what: String) throws(SSHCallError) -> Int32? {
        if rc >= 0 { return rc }
        if rc == LIBSSH2_ERROR_EAGAIN { return nil }
        // The code is kept in the text too: libssh2 reuses some messages for several causes.
        throw SSHCallError(code: rc, message: "\(what): \(lastErrorMessage(session)) (libssh2 error \(rc))")
    }

    static func check(_ rc: Int, _ session: OpaquePointer, _ what: String) throws(SSHCallError) -> Int? {
        if rc >= 0 { return rc }
        if rc == Int(LIBSSH2_ERROR_EAGAIN) { return nil }
        throw SSHCallError(code: Int32(rc), message: "\(what): \(lastErrorMessage(session)) (libssh2 error \(rc))")
    }

    /// For calls that return a pointer and report failure through last_errno.
    static func lastErrno(_ session: OpaquePointer) -> Int32 { libssh2_session_last_errno(session) }

    static func lastErrorMessage(_ session: OpaquePointer) -> String {
        var message: UnsafeMutablePointer<CChar>?
        var length: Int32 = 0
        let code = libssh2_session_last_error(session, &message, &length, 0)
        guard let message, length > 0 else { return "libssh2 error \(code)" }
        return String(decoding: UnsafeRawBufferPointer(start: message, count: Int(length)), as: UTF8.self)
    }
}

/// A failed libssh2 call, before it is classified as a channel or a session failure.
struct SSHCallError: Error {
    var code: Int32
    var message: String

    /// Channel-level failures end one exec; anything else means the session itself is gone.
    var isChannelLevel: Bool {
        [
            LIBSSH2_ERROR_CHANNEL_FAILURE, LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED, LIBSSH2_ERROR_CHANNEL_UNKNOWN,
            LIBSSH2_ERROR_CHANNEL_WINDOW_EXCEEDED, LIBSSH2_ERROR_CHANNEL_PACKET_EXCEEDED,
            LIBSSH2_ERROR_CHANNEL_CLOSED, LIBSSH2_ERROR_CHANNEL_EOF_SENT,
        ].contains(code)
    }
}
