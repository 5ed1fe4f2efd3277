import CohortCore
import CohortTemplate
import CohortWire
import CohortWorkerKit
import Foundation

/// A playbook's view of one host: its worker's `fs` primitives and shell commands, over the
/// host's one persistent worker channel (no new connection or channel per task).
protocol PlayHostLink: Sendable {
    var name: String { get }
    /// Runs `ops` in order on the host; one answer each.
    func fs(_ ops: [FsOp], check: Bool) async throws -> [Value]
    /// `/bin/sh -c line`: exit status and both outputs, each at most `outputLimit` bytes.
    /// `stdin` reaches the command on its standard input, never on a command line.
    func shell(_ line: String, stdin: [UInt8]?) async throws -> CommandOutput
    /// Makes `request.path` hold `bytes` through the streaming `file.put` kind (flow
    /// controlled, any size): what a single fs request could not carry.
    func put(_ request: PutRequest, _ bytes: [UInt8]) async throws -> ResultFrame
}

extension PlayHostLink {
    func shell(_ line: String) async throws -> CommandOutput { try await shell(line, stdin: nil) }
}

struct CommandOutput: Sendable {
    var rc: Int
    var stdout: [UInt8]
    var stderr: [UInt8]
    /// Set when the command was killed by a signal.
    var signal: Int32?
    /// Set when it printed more than the bound and was stopped: the task fails, the host
    /// stays reachable.
    var overflow: String?
}

/// The link through a `HostSession`'s worker conversation.
struct WorkerPlayHost: PlayHostLink {
    let session: HostSession
    var name: String { session.name }
    static let outputLimit = 64 << 20

    func fs(_ ops: [FsOp], check: Bool) async throws -> [Value] {
        let result = try await session.conversation.call(kind: "fs", payload: FsRequest(ops, check: check).encoded())
        // Too big to travel (either way): each op fails, with why; the host goes on.
        if result.outcome == .failed {
            return ops.map { _ in ["failed": true, "changed": false, "msg": .string(result.message)] }
        }
        guard result.outcome == .exited else {
            throw CohortError(.io, "the worker could not run fs: \(result.message)", host: name)
        }
        guard case .list(let answers) = try Value(json: String(decoding: result.payload, as: UTF8.self)), answers.count == ops.count else {
            throw CohortError(.io, "the worker's fs answer does not decode", host: name)
        }
        return answers
    }

    func put(_ request: PutRequest, _ bytes: [UInt8]) async throws -> ResultFrame {
        let (id, frames) = await session.conversation.open(kind: "file.put", payload: request.encoded())
        var credit: UInt64 = 0
        var offset = 0
        var finished = false
        for await frame in frames {
            switch frame {
            case .credit(_, let granted):
                credit += UInt64(granted)
                while !finished {
                    if offset == bytes.count {
                        await session.conversation.send(.data(taskID: id, bytes: []))
                        finished = true
                        break
                    }
                    let size = min(Wire.maxOutputChunk, bytes.count - offset)
                    guard UInt64(size) <= credit else { break }
                    await session.conversation.send(.data(taskID: id, bytes: Array(bytes[offset..<(offset + size)])))
                    credit -= UInt64(size)
                    offset += size
                }
            case .result(let result):
                return result
            default:
                continue
            }
        }
        throw await session.conversation.failure
    }

    func shell(_ line: String, stdin: [UInt8]?) async throws -> CommandOutput {
        let (id, frames) =
            if let stdin {
                await session.conversation.open(kind: "shell.stdin", payload: ShellKind.payload(command: line, stdin: stdin))
            } else {
                await session.conversation.open(kind: "shell", payload: Array(line.utf8))
            }
        // A task cancelled here (an `async` limit reached) stops the command on the host.
        let conversation = session.conversation
        return try await withTaskCancellationHandler {
            try await collect(id, frames)
        } onCancel: {
            Task { await conversation.send(.cancel(taskID: id, graceMillis: 1000)) }
        }
    }

    private func collect(_ id: UInt64, _ frames: AsyncStream<WireMessage>) async throws -> CommandOutput {
        var out: [UInt8] = []
        var err: [UInt8] = []
        var overflow: String?
        for await frame in frames {
            switch frame {
            case .output(_, let stream, let bytes):
                // Past the bound the command is stopped and the rest of its output dropped
                // until its result: that task fails, the host goes on.
                guard overflow == nil else { continue }
                if stream == 2 { err += bytes } else { out += bytes }
                if out.count > Self.outputLimit || err.count > Self.outputLimit {
                    overflow = "the command printed more than \(Self.outputLimit) bytes on its \(stream == 2 ? "stderr" : "stdout"): it was stopped"
                    out = Array(out.prefix(Self.outputLimit))
                    err = Array(err.prefix(Self.outputLimit))
                    await session.conversation.send(.cancel(taskID: id, graceMillis: 1000))
                }
            case .result(let result):
                switch result.outcome {
                case .exited: return CommandOutput(rc: Int(result.code), stdout: out, stderr: err, overflow: overflow)
                case .signaled: return CommandOutput(rc: -Int(result.code), stdout: out, stderr: err, signal: result.code, overflow: overflow)
                default: throw CohortError(.io, "the command could not start: \(result.message)", host: name)
                }
            default: continue
            }
        }
        throw await session.conversation.failure
    }
}
