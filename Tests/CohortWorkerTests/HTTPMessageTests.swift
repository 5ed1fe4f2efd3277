import Testing

@testable import CohortWorkerKit

/// get_url's HTTP pieces without a socket: URLs split as Python's urlsplit splits them (rows
/// from it; credentials percent-decoded as Ansible's open_url decodes them), response heads
/// with CRLF line ends, chunked bodies fed in any pieces.
struct HTTPMessageTests {
    @Test func urlsSplitAsPythonSplitsThem() throws {
        let full = try HTTPMessage.parse("http://web:s3%40cret@127.0.0.1:8080/a/b?x=1#frag")
        #expect(full == HTTPMessage.URL(scheme: "http", user: "web", password: "s3@cret", host: "127.0.0.1", port: 8080, target: "/a/b?x=1"))
        #expect(full.authority == "127.0.0.1:8080")
        let six = try HTTPMessage.parse("http://[::1]/")
        #expect(six.host == "::1" && six.port == 80 && six.target == "/" && six.authority == "[::1]")
        #expect(try HTTPMessage.parse("http://h?q").target == "/?q")
        #expect(throws: HTTPMessage.Failure.self) { try HTTPMessage.parse("https://h/x") }
        #expect(throws: HTTPMessage.Failure.self) { try HTTPMessage.parse("http://h:99999/") }
        #expect(throws: HTTPMessage.Failure.self) { try HTTPMessage.parse("http://h/a b") }
        #expect(throws: HTTPMessage.Failure.self) { try HTTPMessage.parse("http:///x") }
    }

    @Test func redirectsResolveAgainstTheURLThatSentThem() throws {
        let base = try HTTPMessage.parse("http://127.0.0.1:81/dir/file?x")
        #expect(HTTPMessage.resolve("/other", against: base) == "http://127.0.0.1:81/other")
        #expect(HTTPMessage.resolve("next", against: base) == "http://127.0.0.1:81/dir/next")
        #expect(HTTPMessage.resolve("http://10.0.0.1/y", against: base) == "http://10.0.0.1/y")
        #expect(HTTPMessage.resolve("//h2/z", against: base) == "http://h2/z")
    }

    /// "\r\n" is one Character in a Swift String: a head split on "\n" as text kept every
    /// header in the status line's reason (the redirect test of geturl.yml found it).
    @Test func aHeadWithCRLFLineEndsSplitsIntoHeaders() throws {
        let head = try HTTPMessage.head(Array("HTTP/1.0 302 Found\r\nServer: x\r\nLocation: /app.conf\r\nContent-Length: 0".utf8))
        #expect(head == HTTPMessage.Head(status: 302, reason: "Found", headers: ["server": "x", "location": "/app.conf", "content-length": "0"]))
        #expect(throws: HTTPMessage.Failure.self) { try HTTPMessage.head(Array("SSH-2.0-OpenSSH\r\n".utf8)) }
    }

    @Test(arguments: [1, 2, 3, 7, 64])
    func aChunkedBodyDecodesWhateverThePieces(size: Int) throws {
        let wire = Array("7\r\nchunked\r\n1;ext=1\r\n \r\n4\r\nbody\r\n0\r\nTrailer: x\r\n\r\nleftover".utf8)
        var decoder = HTTPMessage.Chunked()
        var out: [UInt8] = []
        var offset = 0
        while offset < wire.count, decoder.state != .done {
            try decoder.feed(wire[offset..<min(offset + size, wire.count)], into: &out)
            offset += size
        }
        #expect(decoder.state == .done)
        #expect(String(decoding: out, as: UTF8.self) == "chunked body")
    }

    @Test func hostileChunkSizesAreErrorsNotTraps() {
        for wire in ["fffffffffffffffffff\r\n", "-5\r\n", "zz\r\n", String(repeating: "1", count: 5000)] {
            var decoder = HTTPMessage.Chunked()
            var out: [UInt8] = []
            #expect(throws: HTTPMessage.Failure.self, "\(wire.prefix(20))") { try decoder.feed(Array(wire.utf8)[...], into: &out) }
        }
    }
}
