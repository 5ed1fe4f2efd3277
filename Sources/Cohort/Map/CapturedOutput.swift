import Foundation

/// One task's stdout or stderr, kept together until the task ends: in memory up to
/// `memoryLimit`, then in a temporary file, so that a task printing 200 MB does not hold
/// 200 MB of memory. Bytes are kept exactly as produced.
public final class CapturedOutput: @unchecked Sendable {
    // @unchecked: written only by the map engine (an actor) before the result is published;
    // read-only afterwards.
    public static let memoryLimit = 1 << 20
    private var memory: [UInt8] = []
    private var file: FileHandle?
    private var path: String?
    public private(set) var count = 0

    public init() {}

    deinit {
        try? file?.close()
        if let path { unlink(path) }
    }

    func append(_ bytes: [UInt8]) {
        count += bytes.count
        if file == nil, memory.count + bytes.count <= Self.memoryLimit {
            memory += bytes
            return
        }
        if file == nil {
            var template = Array((NSTemporaryDirectory() + "cohort-output-XXXXXX").utf8CString)
            let fd = mkstemp(&template)
            if fd >= 0 {
                path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                file = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
                file?.write(Data(memory))
                memory = []
            } else {
                memory += bytes  // no temporary file: keep going in memory rather than lose bytes
                return
            }
        }
        file?.write(Data(bytes))
    }

    /// All the bytes (for small outputs; large ones are better streamed with `write(to:)`).
    public var bytes: [UInt8] {
        guard let path else { return memory }
        return Array((try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data())
    }

    /// Hands the output over in pieces of at most 1 MiB, in order.
    public func forEachChunk(_ body: ([UInt8]) -> Void) {
        guard let path, let reader = FileHandle(forReadingAtPath: path) else {
            if !memory.isEmpty { body(memory) }
            return
        }
        defer { try? reader.close() }
        while true {
            let chunk = reader.readData(ofLength: 1 << 20)
            if chunk.isEmpty { break }
            body(Array(chunk))
        }
    }

    /// Copies the output to `handle` in pieces.
    public func write(to handle: FileHandle) {
        forEachChunk { handle.write(Data($0)) }
    }
}
