# A loopback HTTP server for the get_url oracle: serves this folder's http/ files (with
# If-Modified-Since, as Python's SimpleHTTPRequestHandler answers it) on 127.0.0.1 at a port
# the kernel picks (bound with port 0, never picked and released), printed as "PORT N" on the
# first line. Extra paths: /redirect/NAME (302 to /NAME), /moved/NAME (301), /attachment
# (Content-Disposition: attachment; filename="report.csv"), /chunked/NAME (the file in
# chunked transfer encoding), /auth/NAME (Basic auth, user "web", password "s3cret"), /loop
# (redirects to itself); for uri: /json (a JSON document and a cookie), /echo (any method:
# the method, Content-Type and body sent, as JSON), /status/N (that status, a text body),
# /post-redirect (303 to /json). Runs until killed.
import base64
import json
import functools
import http.server
import os
import signal

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "http")


class Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def send_plain(self, code, body, headers=()):
        self.send_response(code)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def route(self):
        path = self.path.split("?", 1)[0]
        if path.startswith("/redirect/"):
            self.send_plain(302, b"", [("Location", "/" + path[len("/redirect/"):])])
        elif path.startswith("/moved/"):
            self.send_plain(301, b"", [("Location", "http://%s/%s" % (self.headers["Host"], path[len("/moved/"):]))])
        elif path == "/json":
            self.send_plain(200, b'{"name": "cohort", "n": [1, 2.5, null, true]}', [("Content-Type", "application/json"), ("Set-Cookie", "session=abc123; Path=/")])
        elif path == "/echo":
            length = int(self.headers.get("Content-Length") or 0)
            sent = self.rfile.read(length).decode() if length else ""
            answer = {"method": self.command, "type": self.headers.get("Content-Type"), "body": sent, "trace": self.headers.get("X-Trace")}
            self.send_plain(200, json.dumps(answer).encode(), [("Content-Type", "application/json; charset=utf-8")])
        elif path.startswith("/status/"):
            code = int(path[len("/status/"):])
            self.send_plain(code, b"status %d\n" % code, [("Content-Type", "text/plain")])
        elif path == "/post-redirect":
            self.send_plain(303, b"", [("Location", "/json")])
        elif path == "/loop":
            self.send_plain(302, b"", [("Location", "/loop")])
        elif path == "/attachment":
            self.send_plain(200, b"a,b\n1,2\n", [("Content-Disposition", 'attachment; filename="report.csv"')])
        elif path.startswith("/chunked/"):
            with open(os.path.join(ROOT, path[len("/chunked/"):]), "rb") as f:
                data = f.read()
            self.protocol_version = "HTTP/1.1"
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                for start in range(0, len(data), 7000):
                    piece = data[start:start + 7000]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.write(b"0\r\n\r\n")
            self.close_connection = True
        elif path.startswith("/auth/"):
            expected = "Basic " + base64.b64encode(b"web:s3cret").decode()
            if self.headers.get("Authorization") != expected:
                self.send_plain(401, b"who are you?\n", [("WWW-Authenticate", 'Basic realm="oracle"')])
            else:
                self.path = "/" + path[len("/auth/"):]
                return False
        else:
            return False
        return True

    def do_GET(self):
        if not self.route():
            super().do_GET()

    def do_HEAD(self):
        if not self.route():
            super().do_HEAD()

    def do_POST(self):
        if not self.route():
            self.send_plain(405, b"no\n")

    do_PUT = do_POST
    do_DELETE = do_POST


# Stopped by a signal: not ignored or blocked because the test runner that started it was.
signal.signal(signal.SIGTERM, signal.SIG_DFL)
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=ROOT))
print("PORT %d" % server.server_address[1], flush=True)
server.serve_forever()
