/// The parts of HTTP/1.1 that `get_url` needs, as pure functions: a URL split as Python's
/// `urlsplit` splits it, a response head, a chunked body decoded as it streams in, and a
/// redirect's target resolved against the URL that gave it.
enum HTTPMessage {
    struct URL: Equatable {
        var scheme: String
        var user: String?
        var password: String?
        var host: String
        var port: Int
        /// Path and query, as sent on the request line (`/` at least).
        var target: String

        /// `host` or `host:port` for the Host header (the port only when not 80).
        var authority: String {
            let name = host.contains(":") ? "[\(host)]" : host
            return port == 80 ? name : "\(name):\(port)"
        }
    }

    enum Failure: Error, Equatable {
        case unsupported(String)
        case malformed(String)
    }

    /// `http://[user[:password]@]host[:port][/path][?query]`; a fragment is dropped.
    static func parse(_ text: String) throws(Failure) -> URL {
        guard let colon = text.firstIndex(of: ":") else { throw .malformed("unknown url type: '\(text)'") }
        let scheme = text[..<colon].lowercased()
        guard scheme == "http" else {
            throw scheme == "https" || scheme == "ftp" || scheme == "file"
                ? .unsupported("\(scheme) URLs are not supported by cohort play yet (http only: the worker has no TLS)")
                : .malformed("unknown url type: '\(text)'")
        }
        var rest = text[text.index(after: colon)...]
        guard rest.hasPrefix("//") else { throw .malformed("no host given in '\(text)'") }
        rest = rest.dropFirst(2)
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        let end = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        var authority = rest[..<end]
        var target = String(rest[end...])
        if target.isEmpty { target = "/" } else if target.hasPrefix("?") { target = "/" + target }
        var user: String?, password: String?
        if let at = authority.lastIndex(of: "@") {
            let info = authority[..<at]
            authority = authority[authority.index(after: at)...]
            if let split = info.firstIndex(of: ":") {
                user = percentDecoded(info[..<split])
                password = percentDecoded(info[info.index(after: split)...])
            } else {
                user = percentDecoded(info)
            }
        }
        var host = authority, port = 80
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw .malformed("Invalid IPv6 URL") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { port = try Self.port(after.dropFirst(), text) }
        } else if let split = authority.lastIndex(of: ":") {
            host = authority[..<split]
            port = try Self.port(authority[authority.index(after: split)...], text)
        }
        guard !host.isEmpty else { throw .malformed("no host given in '\(text)'") }
        guard !target.contains(where: { $0 == " " || $0 == "\r" || $0 == "\n" || $0 == "\0" }),
            !host.contains(where: { $0 == " " || $0 == "\r" || $0 == "\n" || $0 == "\0" })
        else { throw .malformed("URL can't contain control characters or spaces: '\(text)'") }
        return URL(scheme: "http", user: user, password: password, host: String(host), port: port, target: target)
    }

    static func port(_ text: Substring, _ url: String) throws(Failure) -> Int {
        if text.isEmpty { return 80 }
        guard text.allSatisfy({ $0.isASCII && $0.isNumber }), let port = Int(text), (0...65535).contains(port) else {
            throw .malformed("Port out of range 0-65535 or not a number in '\(url)'")
        }
        return port
    }

    static func percentDecoded(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "%"), utf8.count >= 2, let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A `Location` against the URL that sent it: absolute, scheme-relative, host-relative
    /// or relative to the path's folder.
    static func resolve(_ location: String, against base: URL) -> String {
        if location.contains("://") { return location }
        let origin = "http://" + base.authority
        if location.hasPrefix("//") { return "http:" + location }
        if location.hasPrefix("/") { return origin + location }
        let path = base.target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? "/"
        let folder = path.lastIndex(of: "/").map { String(path[...$0]) } ?? "/"
        return origin + folder + location
    }

    struct Head: Equatable {
        var status: Int
        var reason: String
        /// Names lower-cased; a repeated header's values joined with ", ".
        var headers: [String: String]
    }

    /// The status line and headers (the bytes before the blank line).
    static func head(_ bytes: [UInt8]) throws(Failure) -> Head {
        // Split as bytes: "\r\n" is one Character in a Swift String, and would not split on "\n".
        var lines = bytes.split(separator: 10, omittingEmptySubsequences: false).map { line in
            String(decoding: line.last == 13 ? line.dropLast() : line, as: UTF8.self)
        }
        guard !lines.isEmpty else { throw .malformed("an empty response") }
        let status = lines.removeFirst().split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard status.count >= 2, status[0].hasPrefix("HTTP/"), status[1].count == 3, let code = Int(status[1]) else {
            throw .malformed("a response that is not HTTP: '\(status.joined(separator: " ").prefix(80))'")
        }
        var headers: [String: String] = [:]
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingSpaces
            // A repeated header's values joined, as fetch_url joins them.
            headers[name] = headers[name].map { $0 + ", " + value } ?? value
        }
        return Head(status: code, reason: status.count > 2 ? String(status[2]) : "", headers: headers)
    }

    /// A chunked body's decoder: bytes in as they arrive, the body's bytes out, `done` after
    /// the last chunk. Sizes are checked before use: a hostile size is an error, never a trap.
    struct Chunked {
        enum State: Equatable { case size, data(Int), dataEnd, trailer, done }
        var state = State.size
        var line: [UInt8] = []

        mutating func feed(_ input: ArraySlice<UInt8>, into out: inout [UInt8]) throws(Failure) {
            var input = input
            while !input.isEmpty, state != .done {
                switch state {
                case .size, .dataEnd, .trailer:
                    guard let newline = input.firstIndex(of: 10) else {
                        line += input
                        guard line.count <= 4096 else { throw .malformed("a chunk header over 4096 bytes") }
                        return
                    }
                    line += input[..<newline]
                    input = input[(newline + 1)...]
                    if line.last == 13 { line.removeLast() }
                    let text = String(decoding: line, as: UTF8.self)
                    line = []
                    switch state {
                    case .size:
                        let digits = text.split(separator: ";", maxSplits: 1).first.map { $0.trimmingSpaces } ?? ""
                        guard !digits.isEmpty, digits.count <= 15, let size = Int(digits, radix: 16), size >= 0 else {
                            throw .malformed("a bad chunk size '\(text.prefix(40))'")
                        }
                        state = size == 0 ? .trailer : .data(size)
                    case .dataEnd:
                        guard text.isEmpty else { throw .malformed("a chunk not followed by CRLF") }
                        state = .size
                    default:
                        if text.isEmpty { state = .done }
                    }
                case .data(let remaining):
                    let take = min(remaining, input.count)
                    out += input.prefix(take)
                    input = input.dropFirst(take)
                    state = remaining == take ? .dataEnd : .data(remaining - take)
                case .done: return
                }
            }
        }
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        return String(self.drop(while: blank).reversed().drop(while: blank).reversed())
    }
}
