/// Frames: a 4-byte big-endian length, then a 1-byte message type, then the payload.
public enum Wire {
    /// Bumped on any incompatible change; the handshake refuses a mismatch.
    /// 2: a kind's result bytes travel in the result frame's payload (not its message), a kind
    /// that ran and failed says `failed`, and a task may stream data both ways (`data`,
    /// `credit`). 3: the `fs` kind's request is a typed `FsRequest`, no longer JSON. A worker
    /// cached by an older build speaks an older version and is refused at the handshake, never
    /// misread; it is named by another SHA-256 anyway.
    public static let protocolVersion: UInt16 = 3
    /// Largest frame accepted (type + payload). A bigger length is a corrupt stream.
    public static let maxFrameSize = 16 << 20
    /// Output is sent in chunks no larger than this.
    public static let maxOutputChunk = 64 << 10

    enum Kind: UInt8 {
        case hello = 1, welcome, task, output, result, heartbeat, cancel, shutdown, data, credit
    }

    public static func encode(_ message: WireMessage) -> [UInt8] {
        var w = WireWriter()
        switch message {
        case .hello(let f):
            w.u8(Kind.hello.rawValue)
            w.u16(f.protocolVersion)
            w.u32(f.cores)
            w.string(f.os)
            w.string(f.arch)
            w.string(f.hostname)
            w.u32(UInt32(bitPattern: f.pid))
        case .welcome(let version):
            w.u8(Kind.welcome.rawValue)
            w.u16(version)
        case .task(let t):
            w.u8(Kind.task.rawValue)
            w.u64(t.id)
            w.u32(t.attempt)
            w.string(t.kind)
            w.bytes(t.payload)
        case .output(let id, let stream, let bytes):
            w.u8(Kind.output.rawValue)
            w.u64(id)
            w.u8(stream)
            w.bytes(bytes)
        case .result(let r):
            w.u8(Kind.result.rawValue)
            w.u64(r.taskID)
            w.u32(r.attempt)
            w.u8(r.outcome.rawValue)
            w.u32(UInt32(bitPattern: r.code))
            w.string(r.message)
            w.bytes(r.payload)
            w.u64(r.durationNanos)
        case .heartbeat(let sequence):
            w.u8(Kind.heartbeat.rawValue)
            w.u64(sequence)
        case .cancel(let id, let grace):
            w.u8(Kind.cancel.rawValue)
            w.u64(id)
            w.u32(grace)
        case .shutdown(let reason):
            w.u8(Kind.shutdown.rawValue)
            w.string(reason)
        case .data(let id, let bytes):
            w.u8(Kind.data.rawValue)
            w.u64(id)
            w.bytes(bytes)
        case .credit(let id, let bytes):
            w.u8(Kind.credit.rawValue)
            w.u64(id)
            w.u32(bytes)
        }
        var frame = [UInt8]()
        frame.reserveCapacity(4 + w.buffer.count)
        let length = UInt32(w.buffer.count)
        frame += [UInt8(length >> 24), UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff)]
        frame += w.buffer
        return frame
    }

    static func decodeBody(_ body: ArraySlice<UInt8>) throws(WireError) -> WireMessage {
        var r = WireReader(body)
        guard let kind = Kind(rawValue: try r.u8()) else { throw WireError.unknownMessageType(body.first ?? 0) }
        let message: WireMessage
        switch kind {
        case .hello:
            message = .hello(WorkerFacts(
                protocolVersion: try r.u16(), cores: try r.u32(), os: try r.string(), arch: try r.string(),
                hostname: try r.string(), pid: Int32(bitPattern: try r.u32())))
        case .welcome:
            message = .welcome(version: try r.u16())
        case .task:
            message = .task(TaskFrame(id: try r.u64(), attempt: try r.u32(), kind: try r.string(), payload: try r.bytes()))
        case .output:
            message = .output(taskID: try r.u64(), stream: try r.u8(), bytes: try r.bytes())
        case .result:
            let id = try r.u64()
            let attempt = try r.u32()
            let rawOutcome = try r.u8()
            guard let outcome = ResultFrame.Outcome(rawValue: rawOutcome) else { throw WireError.malformed("result outcome \(rawOutcome)") }
            message = .result(ResultFrame(
                taskID: id, attempt: attempt, outcome: outcome, code: Int32(bitPattern: try r.u32()),
                message: try r.string(), payload: try r.bytes(), durationNanos: try r.u64()))
        case .heartbeat:
            message = .heartbeat(sequence: try r.u64())
        case .cancel:
            message = .cancel(taskID: try r.u64(), graceMillis: try r.u32())
        case .shutdown:
            message = .shutdown(reason: try r.string())
        case .data:
            message = .data(taskID: try r.u64(), bytes: try r.bytes())
        case .credit:
            message = .credit(taskID: try r.u64(), bytes: try r.u32())
        }
        guard r.isAtEnd else { throw WireError.malformed("\(r.remaining) trailing bytes in a \(kind) frame") }
        return message
    }
}

public enum WireError: Error, Equatable, CustomStringConvertible {
    case frameTooLarge(Int)
    case emptyFrame
    case unknownMessageType(UInt8)
    case truncated
    case malformed(String)
    /// Well-formed frames that the conversation does not allow (a result for a task never
    /// given to that worker): the peer is not trusted further.
    case protocolViolation(String)

    public var description: String {
        switch self {
        case .frameTooLarge(let n): return "corrupt stream: frame of \(n) bytes exceeds the \(Wire.maxFrameSize)-byte limit"
        case .emptyFrame: return "corrupt stream: empty frame"
        case .unknownMessageType(let t): return "corrupt stream: unknown message type \(t)"
        case .truncated: return "corrupt stream: a field runs past the end of its frame"
        case .malformed(let what): return "corrupt stream: \(what)"
        case .protocolViolation(let what): return "protocol violation: \(what)"
        }
    }
}

/// Turns a byte stream, fed in pieces of any size, into messages. Pure: no IO.
///
/// After an error the decoder stays failed: a corrupt stream cannot be resynchronised, so the
/// caller drops that worker's connection (its tasks are re-queued elsewhere).
public struct FrameDecoder: Sendable {
    private var buffer: [UInt8] = []
    private var head = 0
    private var failure: WireError?

    public init() {}

    public mutating func feed(_ bytes: some Collection<UInt8>) {
        if head > 4096, head * 2 > buffer.count {
            buffer.removeFirst(head)
            head = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete message, or nil until more bytes arrive.
    public mutating func next() throws(WireError) -> WireMessage? {
        if let failure { throw failure }
        guard buffer.count - head >= 4 else { return nil }
        let length = Int(buffer[head]) << 24 | Int(buffer[head + 1]) << 16 | Int(buffer[head + 2]) << 8 | Int(buffer[head + 3])
        do throws(WireError) {
            guard length > 0 else { throw WireError.emptyFrame }
            guard length <= Wire.maxFrameSize else { throw WireError.frameTooLarge(length) }
            guard buffer.count - head - 4 >= length else { return nil }
            let body = buffer[(head + 4)..<(head + 4 + length)]
            let message = try Wire.decodeBody(body)
            head += 4 + length
            return message
        } catch {
            failure = error
            throw error
        }
    }

    /// Bytes received but not yet part of a complete frame.
    public var pendingBytes: Int { buffer.count - head }

    /// The bytes received and not yet decoded, to hand to a successor (a restarted worker).
    public var pending: ArraySlice<UInt8> { buffer[head...] }
}

/// Big-endian fields, as every frame writes them; public for the codecs of task payloads.
public struct WireWriter {
    public private(set) var buffer: [UInt8] = []

    public init() {}

    public mutating func u8(_ v: UInt8) { buffer.append(v) }
    public mutating func u16(_ v: UInt16) { buffer += [UInt8(v >> 8), UInt8(v & 0xff)] }
    public mutating func u32(_ v: UInt32) { for shift in stride(from: 24, through: 0, by: -8) { buffer.append(UInt8(v >> UInt32(shift) & 0xff)) } }
    public mutating func u64(_ v: UInt64) { for shift in stride(from: 56, through: 0, by: -8) { buffer.append(UInt8(v >> UInt64(shift) & 0xff)) } }
    public mutating func bytes(_ b: [UInt8]) {
        u32(UInt32(b.count))
        buffer += b
    }
    public mutating func string(_ s: String) { bytes(Array(s.utf8)) }
    /// A file name or path: its bytes as the OS has them (see `OSName`).
    public mutating func osName(_ s: String) { bytes(OSName.bytes(s)) }
}

/// Reads what `WireWriter` wrote; every read is bounds-checked and throws on a short buffer.
public struct WireReader {
    let data: ArraySlice<UInt8>
    var offset: Int

    public init(_ data: ArraySlice<UInt8>) {
        self.data = data
        offset = data.startIndex
    }

    public var isAtEnd: Bool { offset == data.endIndex }
    var remaining: Int { data.endIndex - offset }

    public mutating func take(_ n: Int) throws(WireError) -> ArraySlice<UInt8> {
        guard n >= 0, remaining >= n else { throw WireError.truncated }
        defer { offset += n }
        return data[offset..<offset + n]
    }

    public mutating func u8() throws(WireError) -> UInt8 { try take(1).first! }
    public mutating func u16() throws(WireError) -> UInt16 { try take(2).reduce(0) { $0 << 8 | UInt16($1) } }
    public mutating func u32() throws(WireError) -> UInt32 { try take(4).reduce(0) { $0 << 8 | UInt32($1) } }
    public mutating func u64() throws(WireError) -> UInt64 { try take(8).reduce(0) { $0 << 8 | UInt64($1) } }
    public mutating func bytes() throws(WireError) -> [UInt8] { Array(try take(Int(try u32()))) }
    public mutating func string() throws(WireError) -> String {
        let raw = try bytes()
        guard let s = String(validating: raw, as: UTF8.self) else { throw WireError.malformed("string is not UTF-8") }
        return s
    }
    /// A file name or path, any bytes (see `OSName`).
    public mutating func osName() throws(WireError) -> String { OSName.string(try bytes()) }
}
