import CohortTestSupport
import CohortValue
import CohortWire
import Foundation
import Testing

@testable import CohortWorkerKit

/// The `fs` kind over an in-process worker: a typed request in, one JSON answer per op out, in
/// order; a payload that is not a request fails the task and leaves the worker serving.
@Suite struct FsKindTests {
    static func answers(_ worker: InProcessWorker, id: UInt64, _ request: FsRequest) throws -> [Value] {
        let (result, _, _) = try FileKindTests.run(worker, id: id, kind: "fs", payload: request.encoded())
        #expect(result.outcome == .exited, "\(result.message)")
        guard case .list(let answers) = try Value(json: String(decoding: result.payload, as: UTF8.self)) else { return [] }
        return answers
    }

    @Test func opsRunInOrderAndAnswerEach() throws {
        let dir = try FileKindTests.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let worker = try FileKindTests.started()
        let content: [UInt8] = [0, 0xff, 10, 13, 0x80]
        let answers = try Self.answers(worker, id: 1, FsRequest([
            .mkdir(path: dir + "/a/b", attributes: FsAttributes(mode: .text("0750"))),
            .write(path: dir + "/a/b/f", content: content, attributes: FsAttributes(mode: .number(0o640))),
            .write(path: dir + "/a/b/f", content: content),
            .stat(path: dir + "/a/b/f"),
            .read(path: dir + "/a/b/f", offset: 1, length: 3),
            .attributes(path: dir + "/a", attributes: FsAttributes(mode: .unsupported(typeName: "float"))),
            .link(path: dir + "/l", source: "a/b/f", hard: false),
            .remove(path: dir + "/a"),
            .stat(path: dir + "/a"),
        ], check: false))
        #expect(answers.count == 9)
        #expect(answers[0].dict?["changed"] == true)
        #expect(answers[1].dict?["changed"] == true)
        #expect(answers[2].dict?["changed"] == false)
        #expect(answers[3].dict?["mode"] == "0640")
        #expect(answers[3].dict?["size"] == .int(content.count))
        #expect(answers[3].dict?["checksum"] == "17951fa2200c2c58cb55c1ecf1871ad9bb9806b0")
        #expect(answers[4].dict?["content"] == .string(Base64.encode([0xff, 10, 13])))
        #expect(answers[5].dict?["msg"] == "mode must be an octal number or a symbolic mode, not float")
        #expect(answers[6].dict?["changed"] == true)
        #expect(answers[7].dict?["changed"] == true)
        #expect(answers[8].dict?["exists"] == false)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: dir + "/l") == "a/b/f")
    }

    @Test func checkModeJudgesAndChangesNothing() throws {
        let dir = try FileKindTests.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let worker = try FileKindTests.started()
        let answers = try Self.answers(worker, id: 1, FsRequest([
            .write(path: dir + "/f", content: [1]), .touch(path: dir + "/t"), .mkdir(path: dir + "/d"),
        ], check: true))
        #expect(answers.map { $0.dict?["changed"] } == [true, true, true])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }

    @Test func aPayloadThatIsNotARequestFailsTheTaskAndTheWorkerGoesOn() throws {
        let worker = try FileKindTests.started()
        let (bad, _, _) = try FileKindTests.run(worker, id: 1, kind: "fs", payload: Array(#"{"ops": []}"#.utf8))
        #expect(bad.outcome == .failedToStart)
        #expect(bad.message.hasPrefix("bad fs payload: corrupt stream"))
        let answers = try Self.answers(worker, id: 2, FsRequest([.stat(path: "/")], check: false))
        #expect(answers.first?.dict?["isdir"] == true)
    }
}
