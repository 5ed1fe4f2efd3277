import CLibSSH2
import CohortCore
import Foundation
import Logging

/// Progress through the credentials Cohort offers: agent keys first, then identity files.
struct AuthState {
    enum Candidate {
        case agentKey(UnsafeMutablePointer<libssh2_agent_publickey>, comment: String)
        case file(String)
    }

    var listed = false
    var serverMethods: [String] = []
    var agent: OpaquePointer?
    var candidates: [Candidate] = []
    var index = 0
    /// What was tried and why it did not work, for the final error message.
    var notes: [String] = []
}

extension SessionDriver {
    func stepAuthenticate(now: ContinuousClock.Instant) throws {
        guard let session else { return }
        let user = target.user
        if !auth.listed {
            guard let list = libssh2_userauth_list(session, user, UInt32(user.utf8.count)) else {
                if libssh2_userauth_authenticated(session) != 0 { return becomeReady() }
                guard LibSSH2.lastErrno(session) == LIBSSH2_ERROR_EAGAIN else {
                    throw CohortError(.sshFailure, "cannot list auth methods: \(LibSSH2.lastErrorMessage(session))")
                }
                return try checkDeadline(now)
            }
            auth.listed = true
            auth.serverMethods = String(cString: list).split(separator: ",").map(String.init)
            logger.debug("the server accepts: \(auth.serverMethods.joined(separator: ","))")
            guard auth.serverMethods.contains("publickey") else {
                throw authFailure("the server does not offer publickey authentication (it offers \(auth.serverMethods.joined(separator: ", ")))")
            }
            gatherCandidates(session)
            for note in auth.notes { logger.debug("not offered: \(note)") }
        }
        while auth.index < auth.candidates.count {
            let rc: Int32
            let label: String
            switch auth.candidates[auth.index] {
            case .agentKey(let identity, let comment):
                label = "agent key \(comment)"
                rc = libssh2_agent_userauth(auth.agent, user, identity)
            case .file(let path):
                label = path
                rc = libssh2_userauth_publickey_fromfile_ex(session, user, UInt32(user.utf8.count), nil, path, nil)
            }
            if rc == LIBSSH2_ERROR_EAGAIN { return try checkDeadline(now) }
            if rc == 0 {
                logger.debug("authenticated as \(target.user) with \(label)")
                return becomeReady()
            }
            switch rc {
            case LIBSSH2_ERROR_AUTHENTICATION_FAILED, LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED:
                auth.notes.append("\(label) (refused by server)")
                logger.debug("offered \(label): refused by the server")
            case LIBSSH2_ERROR_FILE, LIBSSH2_ERROR_METHOD_NOT_SUPPORTED:
                auth.notes.append("\(label) (unusable: \(LibSSH2.lastErrorMessage(session)))")
                logger.debug("\(label): unusable: \(LibSSH2.lastErrorMessage(session))")
            default:
                throw CohortError(.sshFailure, "authentication with \(label): \(LibSSH2.lastErrorMessage(session))")
            }
            auth.index += 1
        }
        throw authFailure(nil)
    }

    private func authFailure(_ reason: String?) -> CohortError {
        let tried = auth.notes.isEmpty ? "no usable key was found" : "tried " + auth.notes.joined(separator: "; ")
        let detail = reason ?? "\(tried); the server accepts: \(auth.serverMethods.joined(separator: ","))"
        return CohortError(.authenticationFailed, "authentication failed for \(target.user)@\(target.endpoint): \(detail)")
    }

    private func gatherCandidates(_ session: OpaquePointer) {
        if !target.identitiesOnly, let socket = target.agentSocket, let agent = libssh2_agent_init(session) {
            auth.agent = agent
            libssh2_agent_set_identity_path(agent, socket)
            // The agent is a local socket; these calls finish at once.
            if libssh2_agent_connect(agent) == 0, libssh2_agent_list_identities(agent) == 0 {
                var previous: UnsafeMutablePointer<libssh2_agent_publickey>?
                var identity: UnsafeMutablePointer<libssh2_agent_publickey>?
                while libssh2_agent_get_identity(agent, &identity, previous) == 0, let current = identity {
                    previous = current
                    let comment = current.pointee.comment.map { String(cString: $0) } ?? "?"
                    let blob = Array(UnsafeBufferPointer(start: current.pointee.blob, count: Int(current.pointee.blob_len)))
                    if let key = HostKey(blob: blob), key.type == "ssh-rsa" || key.type == "ssh-dss" {
                        auth.notes.append("agent key \(comment) (skipped: \(IdentityFileInfo(kind: key.type == "ssh-rsa" ? .rsa : .dsa, encrypted: false).unusableReason!))")
                        continue
                    }
                    auth.candidates.append(.agentKey(current, comment: comment))
                }
            } else {
                auth.notes.append("ssh-agent at \(socket) (not reachable)")
            }
        }
        for path in target.identityFiles {
            guard let data = FileManager.default.contents(atPath: path) else {
                if !SSHTarget.defaultIdentityFiles.contains(path) { auth.notes.append("\(path) (cannot read)") }
                continue
            }
            let info = IdentityFileInfo(pem: String(decoding: data, as: UTF8.self))
            if let why = info.unusableReason {
                auth.notes.append("\(path) (skipped: \(why))")
                continue
            }
            auth.candidates.append(.file(path))
        }
    }

    private func becomeReady() {
        if let agent = auth.agent {
            _ = libssh2_agent_disconnect(agent)
            libssh2_agent_free(agent)
            auth.agent = nil
            auth.candidates.removeAll()
        }
        phase = .ready
        if let waiter = connectWaiter {
            connectWaiter = nil
            waiter.resume()
        }
        loop.kick(self)
    }
}
