"""A small HTTP server for the network modules' specs, run ON a test host
(python3 httpd.py PORT ROOT): never reached from outside the test hosts' /24.
  /files/<path>    a file of ROOT (If-Modified-Since honoured: 304)
  /auth/<path>     the same behind Basic auth (user "bob", password in
                   ROOT/.password), 401 with a challenge otherwise
  /redirect?to=U   302 to U
  /echo            any method: JSON of method, path, headers, body (text)
  /status/<code>   that status, a JSON body
  /dl/<path>       a file of ROOT with Content-Disposition: attachment
  /big/<n>         n KiB of "x", sent in pieces (progress)
  /log             the request lines seen so far (method path)
Every request is appended to ROOT/.requests."""
import base64, json, os, sys, time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs

ROOT = sys.argv[2]


class H(SimpleHTTPRequestHandler):
    def __init__(self, *a, **k):
        super().__init__(*a, directory=ROOT, **k)

    def log_message(self, *a):
        pass

    def _note(self):
        with open(os.path.join(ROOT, ".requests"), "a") as f:
            f.write("%s %s\n" % (self.command, self.path))

    def _send(self, code, body, ctype="application/json", extra=()):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _route(self):
        self._note()
        u = urlsplit(self.path)
        p = u.path
        if p.startswith("/files/"):
            self.path = p[len("/files"):]
            return super().do_GET() if self.command == "GET" else super().do_HEAD()
        if p.startswith("/auth/"):
            want = open(os.path.join(ROOT, ".password")).read().strip()
            tok = base64.b64encode(("bob:" + want).encode()).decode()
            if self.headers.get("Authorization") != "Basic " + tok:
                return self._send(401, '{"error":"auth"}', extra=[("WWW-Authenticate", 'Basic realm="t"')])
            self.path = p[len("/auth"):]
            return super().do_GET() if self.command == "GET" else super().do_HEAD()
        if p == "/redirect":
            return self._send(302, "", "text/plain", [("Location", parse_qs(u.query)["to"][0])])
        if p.startswith("/status/"):
            code = int(p.split("/")[2])
            return self._send(code, json.dumps({"status": code}))
        if p.startswith("/dl/"):
            name = p[len("/dl/"):]
            data = open(os.path.join(ROOT, name), "rb").read()
            return self._send(200, data, "application/octet-stream",
                              [("Content-Disposition", 'attachment; filename="%s"' % os.path.basename(name))])
        if p.startswith("/big/"):
            n = int(p.split("/")[2])
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(n * 1024))
            self.end_headers()
            if self.command != "HEAD":
                for _ in range(n // 64):
                    self.wfile.write(b"x" * 65536)
                    self.wfile.flush()
                    time.sleep(0.02)
                self.wfile.write(b"x" * (n % 64) * 1024)
            return None
        if p == "/echo":
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n).decode("utf-8", "replace") if n else ""
            return self._send(200, json.dumps({"method": self.command, "path": self.path,
                                               "headers": {k.lower(): v for k, v in self.headers.items()},
                                               "body": body}), "application/json", [("X-Echo", "yes")])
        return self._send(404, '{"error":"not found"}')

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = _route


ThreadingHTTPServer(("0.0.0.0", int(sys.argv[1])), H).serve_forever()
