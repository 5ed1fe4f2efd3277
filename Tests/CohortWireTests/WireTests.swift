import Testing
import Glibc

@testable import CohortWire

@Suite struct WireCodecTests {
    static let facts = WorkerFacts(protocolVersion: Wire.protocolVersion, cores: 16, os: "Linux", arch: "x86_64", hostname: "h1", pid: 4242)

    static let samples: [WireMessage] = [
        .hello(facts),
        .welcome(version: 1),
        .task(TaskFrame(id: 1 << 40, attempt: 2, kind: "shell", payload: Array("gzip -9 'a b'".utf8))),
        .output(taskID: 7, stream: 2, bytes: [0, 0xff, 0xfe, 10]),
        .result(ResultFrame(taskID: 7, attempt: 1, outcome: .signaled, code: 9, message: "killed", payload: [1, 2], durationNanos: 123_456_789)),
        .result(ResultFrame(taskID: 8, attempt: 0, outcome: .exited, code: -1, durationNanos: 0)),
        .heartbeat(sequence: .max),
        .cancel(taskID: 3, graceMillis: 2000),
        .shutdown(reason: "done ✓"),
    ]

    @Test func everyMessageRoundTrips() throws {
        for message in Self.samples {
            var decoder = FrameDecoder()
            decoder.feed(Wire.encode(message))
            #expect(try decoder.next() == message)
            #expect(try decoder.next() == nil)
            #expect(decoder.pendingBytes == 0)
        }
    }

    @Test func aStreamFedOneByteAtATimeYieldsTheSameMessages() throws {
        let stream = Self.samples.flatMap(Wire.encode)
        var decoder = FrameDecoder()
        var decoded: [WireMessage] = []
        for byte in stream {
            decoder.feed([byte])
            while let message = try decoder.next() { decoded.append(message) }
        }
        #expect(decoded == Self.samples)
    }

    @Test func arbitrarySplitsYieldTheSameMessages() throws {
        let stream = Self.samples.flatMap(Wire.encode)
        for chunk in [2, 3, 5, 7, 64, 1000] {
            var decoder = FrameDecoder()
            var decoded: [WireMessage] = []
            var index = 0
            while index < stream.count {
                decoder.feed(stream[index..<min(index + chunk, stream.count)])
                index += chunk
                while let message = try decoder.next() { decoded.append(message) }
            }
            #expect(decoded == Self.samples, "chunk size \(chunk)")
        }
    }

    @Test func corruptFramesFailAndTheDecoderStaysFailed() {
        let cases: [([UInt8], WireError)] = [
            ([0, 0, 0, 0], .emptyFrame),
            ([0xff, 0xff, 0xff, 0xff], .frameTooLarge(Int(UInt32.max))),
            ([0, 0, 0, 1, 99], .unknownMessageType(99)),
            ([0, 0, 0, 4, 2, 0, 1, 0xAA], .malformed("1 trailing bytes in a welcome frame")),
            ([0, 0, 0, 2, 2, 0], .truncated),
            ([0, 0, 0, 5, 8, 0, 0, 0, 9], .truncated),
            ([0, 0, 0, 7, 8, 0, 0, 0, 2, 0xc3, 0x28], .malformed("string is not UTF-8")),
        ]
        for (bytes, expected) in cases {
            var decoder = FrameDecoder()
            decoder.feed(bytes)
            #expect(throws: expected) { _ = try decoder.next() }
            decoder.feed(Wire.encode(.heartbeat(sequence: 1)))
            #expect(throws: expected) { _ = try decoder.next() }
        }
    }

    @Test func aPartialLengthPrefixWaitsForMoreBytes() throws {
        var decoder = FrameDecoder()
        decoder.feed([0, 0])
        #expect(try decoder.next() == nil)
        decoder.feed([0, 9, 6])
        #expect(try decoder.next() == nil)
        decoder.feed([0, 0, 0, 0, 0, 0, 0, 5])
        #expect(try decoder.next() == .heartbeat(sequence: 5))
    }
}

@Suite struct HandshakeTests {
    @Test func aMatchingWorkerIsWelcomed() {
        var handshake = CoordinatorHandshake(expectedOS: "Linux", expectedArch: "x86_64")
        let action = handshake.receive(.hello(WireCodecTests.facts))
        #expect(action == .accept(WireCodecTests.facts, reply: .welcome(version: Wire.protocolVersion)))
    }

    @Test func mismatchesAreRefusedWithAReason() {
        var old = WireCodecTests.facts
        old.protocolVersion = 0
        var arm = WireCodecTests.facts
        arm.arch = "aarch64"
        for (message, fragment) in [
            (WireMessage.hello(old), "protocol 0"),
            (.hello(arm), "host is Linux aarch64, the worker was built for Linux x86_64"),
            (.heartbeat(sequence: 1), "expected a hello frame first"),
        ] {
            var handshake = CoordinatorHandshake(expectedOS: "Linux", expectedArch: "x86_64")
            guard case .refuse(let reason, let reply) = handshake.receive(message) else {
                Issue.record("\(message) was accepted")
                continue
            }
            #expect(reason.contains(fragment), "\(reason)")
            #expect(reply == .shutdown(reason: reason))
        }
    }
}

@Suite struct FileAnswerTests {
    @Test func roundTripsWithAndWithoutAnEntry() {
        let entry = FileEntry(components: [], kind: .file, mode: 0o640, size: 12)
        #expect(FileAnswer(decoding: FileAnswer(.changed, entry: entry).encoded()) == FileAnswer(.changed, entry: entry))
        #expect(FileAnswer(decoding: FileAnswer(.unchanged).encoded()) == FileAnswer(.unchanged))
        #expect(FileAnswer(.differs).encoded() == Array("differs".utf8))
        #expect(FileAnswer(decoding: Array("nonsense".utf8)) == nil)
        #expect(FileAnswer(decoding: []) == nil)
    }
}

/// File names are bytes: every byte string survives `OSName` and a file request both ways.
@Suite struct OSNameTests {
    @Test func everyByteStringRoundTrips() throws {
        var generator = SystemRandomNumberGenerator()
        let fixed: [[UInt8]] = [
            [], Array("plain".utf8), Array("café".utf8), [0x63, 0x61, 0x66, 0xE9], [0xFF, 0xFE], [0xC0, 0xAF],
            [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], Array("\u{10FF80}\u{10FFFF}".utf8), [0xE2, 0x82], [0x80],
        ]
        let random = (0..<2000).map { _ in (0..<Int.random(in: 0...12, using: &generator)).map { _ in UInt8.random(in: 1...255, using: &generator) } }
        for bytes in fixed + random {
            let name = OSName.string(bytes)
            #expect(OSName.bytes(name) == bytes, "\(bytes)")
            #expect(OSName.withPath(name) { Array(UnsafeBufferPointer(start: $0, count: strlen($0))).map { UInt8(bitPattern: $0) } } == bytes)
            let entry = FileEntry(components: [name], kind: .symlink, mode: 0o644, linkTarget: name)
            #expect(try FileEntry.decode(FileEntry.encode([entry])) == [entry])
        }
    }

    @Test func validUTF8IsItself() {
        for text in ["plain", "with space and\nnewline é.txt", "日本語", "😀"] {
            #expect(OSName.string(Array(text.utf8)) == text)
            #expect(OSName.bytes(text) == Array(text.utf8))
        }
    }

    @Test func aNameThatIsNotUTF8TravelsAsItsBytes() throws {
        let name = OSName.string([0x63, 0x61, 0x66, 0xE9])
        let request = PutRequest(path: "/srv/" + name, entry: FileEntry(components: [], kind: .file, mode: 0o600, size: 1))
        var writer = WireWriter()
        writer.osName(request.path)
        #expect(writer.buffer.suffix(4) == [0x63, 0x61, 0x66, 0xE9])
        #expect(try PutRequest(decoding: request.encoded()) == request)
    }
}
