"""A small misbehaving SPARQL endpoint on loopback: each path fails in one particular way.

Every request is recorded (path, method, User-Agent) so tests can count retries and check
headers. Paths:

    /ok                  a valid SPARQL JSON answer (one row)
    /slow-drip           a valid answer, one byte every 0.2 s
    /silent              accepts the request and never answers
    /reset               closes the connection abruptly (TCP reset)
    /busy-then-ok        503 with Retry-After: 1 on the first request, then /ok
    /busy                429 with Retry-After: 1, always
    /bad-request         400
    /forbidden           403
    /server-error        500
    /malformed           200, JSON content type, body not JSON
    /truncated           200, Content-Length larger than the body, then closes
    /html                200, an HTML error page
    /redirect-other-host 302 to another host
    /redirect-file       302 to file:///etc/passwd
    /redirect-same       307 to /ok on this server
"""

from __future__ import annotations

import os
import socket
import struct
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

OK_BODY = (b'{"head": {"vars": ["n"]}, "results": {"bindings": '
           b'[{"n": {"type": "literal", "value": "\xe5\x8c\xba", "xml:lang": "zh"}}]}}')


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # the faults are deliberate; keep their tracebacks out of the test output


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _record(self):
        self.server.requests.append((self.path.split("?")[0], self.command, self.headers.get("User-Agent", "")))

    def do_GET(self):
        self._handle()

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self._handle()

    def do_PUT(self):
        self.do_POST()

    def _send(self, status, body=b"", content_type="application/sparql-results+json", headers=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _handle(self):
        self._record()
        path = self.path.split("?")[0]
        count = sum(1 for p, _, _ in self.server.requests if p == path)
        if path == "/ok":
            self._send(200, OK_BODY)
        elif path == "/slow-drip":
            self.send_response(200)
            self.send_header("Content-Type", "application/sparql-results+json")
            self.send_header("Content-Length", str(len(OK_BODY)))
            self.end_headers()
            try:
                for byte in OK_BODY:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.2)
            except OSError:
                pass
        elif path == "/silent":
            time.sleep(30)
        elif path == "/reset":
            # linger 0 makes close() send a TCP reset; the descriptor is closed at once
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            os.close(self.connection.detach())
            self.close_connection = True
        elif path == "/busy-then-ok":
            if count == 1:
                self._send(503, b"busy", "text/plain", {"Retry-After": "1"})
            else:
                self._send(200, OK_BODY)
        elif path == "/busy":
            self._send(429, b"slow down", "text/plain", {"Retry-After": "1"})
        elif path == "/bad-request":
            self._send(400, b"Parse error: unexpected token", "text/plain")
        elif path == "/forbidden":
            self._send(403, b"<html><body><h1>Forbidden</h1></body></html>", "text/html")
        elif path == "/server-error":
            self._send(500, b"Internal error", "text/plain")
        elif path == "/malformed":
            self._send(200, b'{"head": {"vars": ["n"]}, "results": {"bindings": [{"n": ')
        elif path == "/truncated":
            self.send_response(200)
            self.send_header("Content-Type", "application/sparql-results+json")
            self.send_header("Content-Length", str(len(OK_BODY) + 100))
            self.end_headers()
            self.wfile.write(OK_BODY[:20])
            self.wfile.flush()
            self.close_connection = True
        elif path == "/html":
            self._send(200, b"<!doctype html><html><body>Service temporarily unavailable</body></html>", "text/html")
        elif path == "/redirect-other-host":
            self._send(302, b"", "text/plain", {"Location": "http://other.example/sparql"})
        elif path == "/redirect-file":
            self._send(302, b"", "text/plain", {"Location": "file:///etc/passwd"})
        elif path == "/redirect-same":
            self._send(307, b"", "text/plain", {"Location": "/ok"})
        else:
            self._send(404, b"not found", "text/plain")


@contextmanager
def faulty_server():
    """Yield (base URL, list of recorded requests)."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.requests
    finally:
        server.shutdown()
        server.server_close()
