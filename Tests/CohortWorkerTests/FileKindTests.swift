import CohortTestSupport
import CohortWire
import Foundation
import Testing

@testable import CohortWorkerKit

/// The file kinds over an in-process worker: puts land whole or not at all, unchanged files
/// send no data, gets never exceed their credit.
@Suite struct FileKindTests {
    static func scratch() throws -> String {
        let dir = NSTemporaryDirectory() + "cohort-files-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func started() throws -> InProcessWorker {
        let worker = try InProcessWorker()
        _ = try worker.receive()
        worker.send(.welcome(version: Wire.protocolVersion))
        return worker
    }

    static func hex(_ data: [UInt8]) -> String {
        var hasher = SHA256()
        hasher.update(data)
        return hasher.finalize()
    }

    @Test func sha256MatchesKnownVectors() async throws {
        #expect(Self.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Self.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let million = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(Self.hex(million) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        var pieces = SHA256()
        for start in stride(from: 0, to: million.count, by: 777) { pieces.update(Array(million[start..<min(start + 777, million.count)])) }
        #expect(pieces.finalize() == Self.hex(million))
    }

    /// Runs one task to its result, feeding it `data` as credit allows; returns the result and
    /// every data byte the worker sent.
    static func run(_ worker: InProcessWorker, id: UInt64, kind: String, payload: [UInt8], data: [UInt8] = [], grant: UInt32 = 0) throws -> (ResultFrame, [UInt8], [UInt32]) {
        worker.send(.task(TaskFrame(id: id, attempt: 0, kind: kind, payload: payload)))
        var offset = 0
        var received: [UInt8] = []
        var credits: [UInt32] = []
        while true {
            switch try worker.receive() {
            case .credit(id, let bytes):
                credits.append(bytes)
                var room = Int(bytes)
                while room > 0, offset < data.count {
                    let piece = Array(data[offset..<min(data.count, offset + min(room, 100_000))])
                    worker.send(.data(taskID: id, bytes: piece))
                    offset += piece.count
                    room -= piece.count
                }
                if offset == data.count { worker.send(.data(taskID: id, bytes: [])); offset += 1 }
            case .data(id, let bytes):
                received += bytes
                if !bytes.isEmpty, grant > 0 { worker.send(.credit(taskID: id, bytes: UInt32(bytes.count))) }
            case .result(let frame) where frame.taskID == id:
                return (frame, received, credits)
            default:
                continue
            }
        }
    }

    @Test func aStreamedPutLandsWholeAndASecondIsUnchanged() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let worker = try Self.started()
        let data = (0..<9_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let request = PutRequest(path: dir + "/big.bin", entry: FileEntry(components: [], kind: .file, mode: 0o640, size: UInt64(data.count)), sha256: Self.hex(data))
        let (first, _, credits) = try Self.run(worker, id: 1, kind: "file.put", payload: request.encoded(), data: data)
        #expect(first.outcome == .exited, "\(first.message)")
        #expect(first.payload == Array("changed".utf8))
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/big.bin")) == Data(data))
        #expect(credits.first == PutFileTask.window)
        #expect(try FileManager.default.attributesOfItem(atPath: dir + "/big.bin")[.posixPermissions] as? Int == 0o640)
        let (second, _, secondCredits) = try Self.run(worker, id: 2, kind: "file.put", payload: request.encoded(), data: data)
        #expect(second.payload == Array("unchanged".utf8))
        #expect(secondCredits.isEmpty, "no data asked for")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["big.bin"], "no temporary file left")
        worker.send(.shutdown(reason: "done"))
        #expect(worker.exitStatus() == 0)
    }

    @Test func aShortStreamChangesNothing() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "old".write(toFile: dir + "/f", atomically: true, encoding: .utf8)
        let worker = try Self.started()
        let request = PutRequest(path: dir + "/f", entry: FileEntry(components: [], kind: .file, mode: 0o644, size: 10), sha256: "x")
        let (result, _, _) = try Self.run(worker, id: 1, kind: "file.put", payload: request.encoded(), data: Array("short".utf8))
        #expect(result.outcome == .failed)
        #expect(result.message.contains("5 of 10 bytes arrived"))
        #expect(try String(contentsOfFile: dir + "/f", encoding: .utf8) == "old")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["f"])
        worker.send(.shutdown(reason: "done"))
        _ = worker.exitStatus()
    }

    @Test func inlineDirectoriesAndLinks() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let worker = try Self.started()
        let mkdir = PutRequest(path: dir + "/a/b", entry: FileEntry(components: [], kind: .directory, mode: 0o750))
        #expect(try Self.run(worker, id: 1, kind: "file.put", payload: mkdir.encoded()).0.outcome == .exited)
        let small = PutRequest(path: dir + "/a/b/s", entry: FileEntry(components: [], kind: .file, mode: 0o600, size: 3), sha256: Self.hex([1, 2, 3]), inline: [1, 2, 3])
        #expect(try Self.run(worker, id: 2, kind: "file.put", payload: small.encoded()).0.payload == Array("changed".utf8))
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/a/b/s")) == Data([1, 2, 3]))
        let link = PutRequest(path: dir + "/a/l", entry: FileEntry(components: [], kind: .symlink, mode: 0o777, linkTarget: "b/s"))
        #expect(try Self.run(worker, id: 3, kind: "file.put", payload: link.encoded()).0.payload == Array("changed".utf8))
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: dir + "/a/l") == "b/s")
        let list = GetRequest(path: dir + "/a", recursive: true)
        let (listed, _, _) = try Self.run(worker, id: 4, kind: "file.list", payload: list.encoded())
        let entries = try FileEntry.decode(listed.payload)
        #expect(entries.map { $0.components.joined(separator: "/") } == ["", "b", "b/s", "l"])
        #expect(entries.first { $0.components == ["l"] }?.kind == .symlink)
        worker.send(.shutdown(reason: "done"))
        _ = worker.exitStatus()
    }

    /// A listing past one page (8 MiB of entries) comes in pages, each within a frame: together
    /// every entry once, in the walk's order (issue 21: 60,000 files ended the channel).
    @Test func aBigListingComesInPages() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let long = String(repeating: "n", count: 200)
        let tree = dir + "/t/" + long + "1/" + long + "2"
        try FileManager.default.createDirectory(atPath: tree, withIntermediateDirectories: true)
        let count = 14_000
        for i in 0..<count { FileManager.default.createFile(atPath: tree + "/\(long)-\(i)", contents: nil) }
        let worker = try Self.started()
        var entries: [FileEntry] = []
        var pages = 0
        while true {
            let request = GetRequest(path: dir + "/t", recursive: true, skip: UInt64(entries.count))
            let (listed, _, _) = try Self.run(worker, id: UInt64(100 + pages), kind: "file.list", payload: request.encoded())
            #expect(listed.outcome == .exited && listed.payload.count < Wire.maxFrameSize)
            entries += try FileEntry.decode(listed.payload)
            pages += 1
            if listed.code != 1 || pages > 10 { break }
        }
        #expect(pages >= 2, "\(pages) pages")
        #expect(entries.count == count + 3, "every entry: the root, two directories, the files")
        #expect(Set(entries.map { $0.components.joined(separator: "/") }).count == entries.count, "none twice")
        worker.send(.shutdown(reason: "done"))
        _ = worker.exitStatus()
    }

    @Test func aGetNeverSendsMoreThanItsCredit() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let data = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try Data(data).write(to: URL(fileURLWithPath: dir + "/g"))
        let worker = try Self.started()
        // No further credit: the worker stops at the first window.
        worker.send(.task(TaskFrame(id: 1, attempt: 0, kind: "file.get", payload: GetRequest(path: dir + "/g", window: 1 << 20).encoded())))
        var got: [UInt8] = []
        while got.count < 1 << 20 {
            if case .data(1, let bytes) = try worker.receive() { got += bytes }
        }
        #expect(got.count == 1 << 20)
        worker.send(.credit(taskID: 1, bytes: UInt32(data.count)))
        var ended = false
        while !ended {
            switch try worker.receive() {
            case .data(1, let bytes): if bytes.isEmpty { ended = true } else { got += bytes }
            default: continue
            }
        }
        #expect(got == data)
        let unchanged = try Self.run(worker, id: 2, kind: "file.get", payload: GetRequest(path: dir + "/g", sha256: Self.hex(data), window: 1 << 20).encoded())
        #expect(unchanged.0.payload.starts(with: Array("unchanged".utf8)))
        #expect(unchanged.1.isEmpty)
        worker.send(.shutdown(reason: "done"))
        _ = worker.exitStatus()
    }
}
