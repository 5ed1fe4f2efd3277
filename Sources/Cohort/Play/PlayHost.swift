import CohortCore
import CohortTemplate
import CohortWire
import Foundation

/// A playbook's view of one host: its worker's `fs` primitives and shell commands, over the
/// host's one persistent worker channel (no new connection or channel per task).
protocol PlayHostLink: Sendable {
    var name: String { get }
    /// Runs `ops` in order on the host; one answer each.
    func fs(_ ops: [Value], check: Bool) async throws -> [Value]
    /// `/bin/sh -c line`: exit status and both outputs, each at most `outputLimit` bytes.
    func shell(_ line: String) async throws -> CommandOutput
}

struct CommandOutput: Sendable {
    var rc: Int
    var stdout: [UInt8]
    var stderr: [UInt8]
    /// Set when the command was killed by a signal.
    var signal: Int32?
}

/// The link through a `HostSession`'s worker conversation.
struct WorkerPlayHost: PlayHostLink {
    let session: HostSession
    var name: String { session.name }
    static let outputLimit = 64 << 20

    func fs(_ ops: [Value], check: Bool) async throws -> [Value] {
        let request: Value = ["ops": .list(ops), "check": .bool(check)]
        let result = try await session.conversation.call(kind: "fs", payload: Array(try request.json().utf8))
        guard result.outcome == .exited else {
            throw CohortError(.io, "the worker could not run fs: \(result.message)", host: name)
        }
        guard case .list(let answers) = try Value(json: String(decoding: result.payload, as: UTF8.self)), answers.count == ops.count else {
            throw CohortError(.io, "the worker's fs answer does not decode", host: name)
        }
        return answers
    }

    func shell(_ line: String) async throws -> CommandOutput {
        let (_, frames) = await session.conversation.open(kind: "shell", payload: Array(line.utf8))
        var out: [UInt8] = []
        var err: [UInt8] = []
        for await frame in frames {
            switch frame {
            case .output(_, let stream, let bytes):
                if stream == 2 { err += bytes } else { out += bytes }
                if out.count > Self.outputLimit || err.count > Self.outputLimit {
                    throw CohortError(.io, "the command printed more than \(Self.outputLimit) bytes", host: name)
                }
            case .result(let result):
                switch result.outcome {
                case .exited: return CommandOutput(rc: Int(result.code), stdout: out, stderr: err)
                case .signaled: return CommandOutput(rc: -Int(result.code), stdout: out, stderr: err, signal: result.code)
                default: throw CohortError(.io, "the command could not start: \(result.message)", host: name)
                }
            default: continue
            }
        }
        throw await session.conversation.failure
    }
}
