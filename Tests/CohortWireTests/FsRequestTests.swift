import Testing

@testable import CohortWire

/// The `fs` kind's typed request, as the frame codec is tested: every op both ways, the exact
/// bytes of one, and every damaged form refused with an error (never a trap or a huge
/// allocation: the worker decodes what arrives before it trusts it).
@Suite struct FsRequestTests {
    static var find: FsFind {
        var find = FsFind(paths: ["/var/log", "~/x"])
        find.patterns = ["*.log", "[ab]?"]
        find.excludes = ["old.*"]
        find.useRegex = true
        find.hidden = true
        find.fileType = "any"
        find.depth = 3
        find.contains = "^ERROR"
        find.ageSeconds = -86_400
        find.ageStamp = "ctime"
        find.sizeBytes = .min
        find.skip = 1 << 40
        return find
    }

    static var http: FsHTTP {
        var http = FsHTTP(url: "http://127.0.0.1:8080/a?b=c")
        http.method = "POST"
        http.body = [0, 0xff, 10, 13]
        http.headers = [("X-One", "1"), ("X-One", "2"), ("Content-Type", "application/json")]
        http.follow = "safe"
        http.capture = true
        http.maxBody = 8 << 20
        http.directory = "/tmp/d"
        http.timeoutSeconds = 86_400
        http.forceBasicAuth = true
        http.username = "u"
        http.password = "p:w ✓"
        http.agent = "ansible-httpget"
        http.ifModifiedSince = 1_700_000_000
        return http
    }

    static let everyOp: [FsOp] = [
        .stat(path: "/etc/hosts", follow: true, checksum: false),
        .stat(path: "relative", follow: false, checksum: true),
        .read(path: "/big", offset: 8 << 20, length: 8 << 20),
        .read(path: "/small"),
        .write(path: "/etc/motd", content: Array(0...255), follow: true, backup: true,
            attributes: FsAttributes(mode: .number(0o644), owner: "root", group: "0")),
        .write(path: "/empty", content: []),
        .mkdir(path: "/a/b/c", attributes: FsAttributes(mode: .text("u=rwx,g=rx,o="))),
        .attributes(path: "/srv", follow: false, recurse: true, attributes: FsAttributes(mode: .unsupported(typeName: "float")),
            atime: .now, mtime: .at(seconds: -1, nanoseconds: 999_999_999)),
        .attributes(path: "/srv", attributes: .unchanged),
        .link(path: "/l", source: "../target", hard: false, force: true, attributes: FsAttributes(owner: "deploy")),
        .link(path: "/h", source: "/f", hard: true),
        .remove(path: "/tmp/x y"),
        .touch(path: "/t", attributes: .unchanged, atime: .preserve, mtime: .at(seconds: .max, nanoseconds: 0)),
        .facts,
        .find(find),
        .find(FsFind(paths: [])),
        .connect(host: "127.0.0.2", port: 65535),
        .http(http),
        .http(FsHTTP(url: "http://x/")),
    ]

    @Test func everyOpRoundTrips() throws {
        for op in Self.everyOp {
            for check in [false, true] {
                let request = FsRequest([op], check: check)
                #expect(try FsRequest(decoding: request.encoded()) == request, "\(op.name)")
            }
        }
        let all = FsRequest(Self.everyOp, check: true)
        #expect(try FsRequest(decoding: all.encoded()) == all)
    }

    @Test func aStatIsTheseBytes() {
        let bytes = FsRequest([.stat(path: "/etc", follow: true, checksum: false)], check: true).encoded()
        // check, op count, tag 1 (stat), path length and bytes, flags (follow: 1, checksum: 2).
        #expect(bytes == [1, 0, 0, 0, 1, 1, 0, 0, 0, 4] + Array("/etc".utf8) + [1])
    }

    @Test func aWriteCarriesItsContentAsBytesNotBase64() {
        let content: [UInt8] = [0, 1, 2, 0xff]
        let bytes = FsRequest([.write(path: "/f", content: content)], check: false).encoded()
        // check, count, tag 3, path, content (length, bytes), flags, no mode, no owner, no group.
        #expect(bytes == [0, 0, 0, 0, 1, 3, 0, 0, 0, 2] + Array("/f".utf8) + [0, 0, 0, 4] + content + [0, 0, 0, 0])
    }

    @Test func everyShortenedRequestIsRefused() {
        let bytes = FsRequest(Self.everyOp, check: false).encoded()
        for end in 0..<bytes.count {
            #expect(throws: WireError.self) { try FsRequest(decoding: Array(bytes[..<end])) }
        }
    }

    @Test func damagedRequestsSayWhatIsWrong() {
        let cases: [([UInt8], WireError)] = [
            ([0, 0, 0, 0, 1, 99], .malformed("no fs op numbered 99")),
            ([2, 0, 0, 0, 0], .malformed("a flag byte of 2")),
            ([0, 0, 0, 0, 0, 7], .malformed("bytes after the last fs op")),
            ([0, 0, 0, 0, 1, 2, 0, 0, 0, 1, 0x2f, 0, 0, 0, 0, 0, 0, 0, 0, 5], .malformed("a presence byte of 5")),
            ([0, 0, 0, 0, 1, 4, 0, 0, 0, 1, 0x2f, 1, 9], .malformed("no mode form numbered 9")),
            ([0, 0, 0, 0, 1, 8, 0, 0, 0, 1, 0x2f, 0, 0, 0, 1, 7], .malformed("no time form numbered 7")),
            ([0, 0, 0, 0, 1, 8, 0, 0, 0, 1, 0x2f, 0, 0, 0, 1, 2] + [UInt8](repeating: 0, count: 8) + [0x3b, 0x9a, 0xca, 0x00], .malformed("1000000000 nanoseconds")),
        ]
        for (bytes, expected) in cases {
            #expect(throws: expected) { try FsRequest(decoding: bytes) }
        }
    }

    @Test func aHugeCountIsNotAnAllocation() {
        // 4 billion ops announced, none sent; likewise 4 billion find paths.
        #expect(throws: WireError.truncated) { try FsRequest(decoding: [0, 0xff, 0xff, 0xff, 0xff]) }
        #expect(throws: WireError.truncated) { try FsRequest(decoding: [0, 0, 0, 0, 1, 10, 0xff, 0xff, 0xff, 0xff]) }
        #expect(throws: WireError.truncated) { try FsRequest(decoding: [0, 0, 0, 0, 1, 3, 0, 0, 0, 1, 0x2f, 0xff, 0xff, 0xff, 0xff]) }
    }

    @Test func randomBytesNeverTrap() {
        var generator = SystemRandomNumberGenerator()
        let valid = FsRequest(Self.everyOp, check: false).encoded()
        for _ in 0..<5_000 {
            // Mostly a valid request with a few bytes changed, so decoding goes deep.
            var bytes = valid
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            _ = try? FsRequest(decoding: bytes)
            let noise = (0..<Int.random(in: 0...64, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = try? FsRequest(decoding: noise)
        }
    }
}
