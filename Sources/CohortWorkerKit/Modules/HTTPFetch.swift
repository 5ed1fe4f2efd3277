import CohortValue
import CohortWire

#if canImport(Glibc)
import Glibc
#endif

/// `http`: one download from the host, for `get_url`. The request is sent as Python's urllib
/// sends get_url's (redirects followed up to 10 times, credentials after a 401 challenge or
/// at once with `force_basic`, `If-Modified-Since` when given); a 200's body streams into a
/// new file in `dir` (mode 0600, as mkstemp makes it), never into memory. The answer is
/// fetch_url's `info`: `status` (-1 when no response came), `msg` as urllib words it,
/// lower-cased `headers`, the final `url`, and `tmp` and `size` for a body. Waits are polled
/// in one-second slices so that the worker's heartbeat goes on during a slow download.
extension FsOps {
    static let maxRedirects = 10

    func http(_ asked: FsHTTP) throws(HostFiles.Failure) -> Value {
        var url = asked.url
        var method = asked.method
        var payload = asked.body
        // uri's follow_redirects: `safe` follows for GET and HEAD only, `none` never.
        let follow = asked.follow
        let capture = asked.capture
        let timeout = Int(max(1, min(asked.timeoutSeconds, 86_400)))
        var sendCredentials = asked.forceBasicAuth
        for hop in 0...Self.maxRedirects {
            let parsed: HTTPMessage.URL
            do { parsed = try HTTPMessage.parse(url) } catch {
                switch error {
                case .unsupported(let why), .malformed(let why): return ["status": -1, "msg": .string(why), "url": .string(url)]
                }
            }
            let user = asked.username ?? parsed.user, password = asked.password ?? parsed.password ?? ""
            var request = "\(method) \(parsed.target) HTTP/1.1\r\nHost: \(parsed.authority)\r\nUser-Agent: \(asked.agent ?? "ansible-httpget")\r\n"
            request += "Accept-Encoding: identity\r\nConnection: close\r\n"
            if let since = asked.ifModifiedSince { request += "If-Modified-Since: \(Self.httpDate(Int(since)))\r\n" }
            if sendCredentials, let user { request += "Authorization: Basic \(Base64.encode(Array("\(user):\(password)".utf8)))\r\n" }
            if let payload { request += "Content-Length: \(payload.count)\r\n" }
            for (name, value) in asked.headers {
                // The body's own length is sent above; a given one is not sent again.
                if payload != nil, name.lowercased() == "content-length" { continue }
                let line = "\(name): \(value)"
                guard !line.contains(where: { $0 == "\r" || $0 == "\n" }) else { return ["status": -1, "msg": "Invalid header value: a line break", "url": .string(url)] }
                request += line + "\r\n"
            }
            request += "\r\n"
            let exchange: Exchange
            switch Exchange.open(parsed, timeout: timeout) {
            case .failure(let why): return ["status": -1, "msg": .string("Request failed: <urlopen error \(why.message)>"), "url": .string(url)]
            case .success(let opened): exchange = opened
            }
            defer { close(exchange.fd) }
            guard exchange.send(Array(request.utf8) + (payload ?? [])) else { return ["status": -1, "msg": "Request failed: <urlopen error the connection closed while sending>", "url": .string(url)] }
            let head: HTTPMessage.Head
            var rest: [UInt8]
            switch exchange.readHead() {
            case .failure(let why): return ["status": -1, "msg": .string("Request failed: <urlopen error \(why.message)>"), "url": .string(url)]
            case .success(let got): (head, rest) = got
            }
            var headers = Dict()
            for (name, value) in head.headers.sorted(by: { $0.key < $1.key }) { headers[name] = .string(value) }
            var answer: Dict = ["status": .int(head.status), "headers": .dict(headers), "url": .string(url)]
            let follows = follow == "all" || follow == "yes" || follow == "urllib2" || (follow == "safe" && (method == "GET" || method == "HEAD"))
            if [301, 302, 303, 307, 308].contains(head.status), let location = head.headers["location"], follows {
                guard hop < Self.maxRedirects else {
                    answer["msg"] = .string("HTTP Error \(head.status): The HTTP server returned a redirect error that would lead to an infinite loop.")
                    return .dict(answer)
                }
                url = HTTPMessage.resolve(location, against: parsed)
                // As urllib: a 303, or a 301/302 of anything but HEAD, is followed by a GET without a body.
                if head.status == 303 || ([301, 302].contains(head.status) && method != "HEAD") {
                    if method != "HEAD" { method = "GET" }
                    payload = nil
                }
                continue
            }
            if head.status == 401, !sendCredentials, user != nil, head.headers["www-authenticate"]?.lowercased().hasPrefix("basic") == true {
                sendCredentials = true
                continue
            }
            // urllib raises HTTPError for anything but 2xx; fetch_url words both.
            answer["msg"] = .string(
                (200..<300).contains(head.status) ? "OK (\(head.headers["content-length"] ?? "unknown") bytes)" : "HTTP Error \(head.status): \(head.reason)")
            if capture {
                // uri: the body of any answer, in memory up to `max` bytes.
                let limit = asked.maxBody.map { Int(clamping: $0) } ?? 8 << 20
                var content: [UInt8] = []
                if method != "HEAD", head.status != 204, head.status != 304, !(100..<200).contains(head.status) {
                    do {
                        _ = try exchange.body(head, rest: &rest) { piece throws(Exchange.Failure) in
                            content += piece
                            guard content.count <= limit else { throw Exchange.Failure("a response body over \(limit) bytes") }
                        }
                    } catch {
                        answer["status"] = -1
                        answer["msg"] = .string("Request failed: \(error.message)")
                        return .dict(answer)
                    }
                }
                answer["content"] = .string(Base64.encode(content))
                return .dict(answer)
            }
            guard head.status == 200 else { return .dict(answer) }
            if let encoding = head.headers["content-encoding"], encoding.lowercased() != "identity" {
                answer["status"] = -1
                answer["msg"] = .string("Request failed: a body in Content-Encoding '\(encoding)', which cohort's get_url does not decode")
                return .dict(answer)
            }
            let folder = asked.directory ?? "/tmp"
            var template = Array((folder + "/.cohort-get_url-XXXXXX").utf8CString)
            let file = mkstemp(&template)
            guard file >= 0 else { throw HostFiles.fail("cannot create a temporary file in", folder) }
            let tmp = String(cString: template)
            defer { close(file) }
            var size = 0
            do {
                if method != "HEAD" { size = try exchange.body(head, rest: &rest, into: file) }
            } catch {
                unlink(tmp)
                answer["status"] = -1
                answer["msg"] = .string("Request failed: \(error.message)")
                return .dict(answer)
            }
            answer["tmp"] = .string(tmp)
            answer["size"] = .int(size)
            return .dict(answer)
        }
        return ["status": -1, "msg": "too many redirects", "url": .string(url)]
    }

    /// RFC 7231's date, as email.utils.formatdate(usegmt=True) writes it.
    static func httpDate(_ seconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        var buffer = [CChar](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, "%a, %d %b %Y %H:%M:%S GMT", &parts)
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// One connection: connected with a deadline, then written and read with `poll` in
/// one-second slices (a heartbeat between each) until `timeout` seconds pass with nothing.
struct Exchange {
    let fd: Int32
    let timeout: Int

    static func open(_ url: HTTPMessage.URL, timeout: Int) -> Result<Exchange, Failure> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(url.host, String(url.port), &hints, &list)
        guard status == 0, let first = list else { return .failure(Failure("[Errno -2] Name or service not known")) }
        defer { freeaddrinfo(list) }
        var lastError: Int32 = ECONNREFUSED
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            cursor = entry.pointee.ai_next
            let fd = socket(entry.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { continue }
            let exchange = Exchange(fd: fd, timeout: timeout)
            if connect(fd, entry.pointee.ai_addr, entry.pointee.ai_addrlen) == 0 { return .success(exchange) }
            if errno == EINPROGRESS, exchange.wait(Int16(POLLOUT)) {
                var error: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
                if error == 0 { return .success(exchange) }
                lastError = error
            } else {
                lastError = errno == EINPROGRESS ? ETIMEDOUT : errno
            }
            close(fd)
        }
        return .failure(Failure(lastError == ETIMEDOUT ? "timed out" : "[Errno \(lastError)] \(HostFiles.errorText(lastError))"))
    }

    struct Failure: Error {
        var message: String
        init(_ message: String) { self.message = message }
    }

    /// Waits for `events` up to the timeout, beating the heartbeat each second.
    func wait(_ events: Int16) -> Bool {
        for _ in 0..<timeout {
            var poller = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&poller, 1, 1000)
            if ready > 0 { return true }
            if ready < 0, errno != EINTR { return false }
            WorkerPulse.beat()
        }
        return false
    }

    func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                offset += n
            } else if n < 0, errno == EAGAIN || errno == EINTR {
                guard wait(Int16(POLLOUT)) else { return false }
            } else {
                return false
            }
        }
        return true
    }

    /// Up to 64 KiB; empty at the end of the stream.
    func receive() throws(Failure) -> ArraySlice<UInt8> {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n >= 0 { return buffer[0..<n] }
            guard errno == EAGAIN || errno == EINTR else { throw Failure("[Errno \(errno)] \(HostFiles.errorText())") }
            guard wait(Int16(POLLIN)) else { throw Failure("timed out") }
        }
    }

    /// The response head (at most 64 KiB) and what came after it.
    func readHead() -> Result<(HTTPMessage.Head, [UInt8]), Failure> {
        var bytes: [UInt8] = []
        while true {
            let piece: ArraySlice<UInt8>
            do { piece = try receive() } catch { return .failure(error) }
            guard !piece.isEmpty else { return .failure(Failure("Remote end closed connection without response")) }
            bytes += piece
            if let end = Self.blankLine(bytes) {
                do { return .success((try HTTPMessage.head(Array(bytes[..<end])), Array(bytes[(end + 4)...]))) } catch {
                    switch error {
                    case .malformed(let why), .unsupported(let why): return .failure(Failure(why))
                    }
                }
            }
            guard bytes.count <= 65_536 else { return .failure(Failure("a response head over 64 KiB")) }
        }
    }

    static func blankLine(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4) where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index
        }
        return nil
    }

    /// The body into `file`.
    func body(_ head: HTTPMessage.Head, rest: inout [UInt8], into file: Int32) throws(Failure) -> Int {
        try body(head, rest: &rest) { bytes throws(Failure) in
            var offset = bytes.startIndex
            while offset < bytes.endIndex {
                let n = bytes[offset...].withUnsafeBytes { Glibc.write(file, $0.baseAddress, $0.count) }
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { throw Failure("cannot write the download: \(HostFiles.errorText())") }
                offset += n
            }
        }
    }

    /// The body by Content-Length, chunked, or to the end of the stream, handed to `sink` in
    /// pieces; a body shorter than its length is an error, as get_url's "Incomplete read".
    func body(_ head: HTTPMessage.Head, rest: inout [UInt8], sink: (ArraySlice<UInt8>) throws(Failure) -> Void) throws(Failure) -> Int {
        var written = 0
        func write(_ bytes: ArraySlice<UInt8>) throws(Failure) {
            try sink(bytes)
            written += bytes.count
        }
        if head.headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
            var decoder = HTTPMessage.Chunked()
            var out: [UInt8] = []
            var input = rest[...]
            while true {
                do { try decoder.feed(input, into: &out) } catch {
                    switch error {
                    case .malformed(let why), .unsupported(let why): throw Failure(why)
                    }
                }
                try write(out[...])
                out.removeAll(keepingCapacity: true)
                if decoder.state == .done { return written }
                input = try receive()
                guard !input.isEmpty else { throw Failure("the connection closed inside a chunked body") }
                WorkerPulse.beat()
            }
        }
        let length = head.headers["content-length"].flatMap { Int($0) }
        if let length, length < 0 { throw Failure("a negative Content-Length") }
        var piece = rest[...]
        while true {
            if let length, written + piece.count > length { piece = piece.prefix(length - written) }
            try write(piece)
            if let length, written >= length { return written }
            piece = try receive()
            if piece.isEmpty {
                if let length, written < length { throw Failure("Incomplete read: \(written) of \(length) bytes") }
                return written
            }
            WorkerPulse.beat()
        }
    }
}
