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
    /redirect-port       302 to port 70000 (out of range)
    /redirect-bad-ipv6   302 to http://[::1/ok (an unclosed IPv6 bracket)
    /redirect-fullwidth  302 to http://ｌｏｃａｌｈｏｓｔ:PORT/ok (fullwidth letters; raw UTF-8 Location)
    /redirect-dots       302 to http://127。0。0。1:PORT/ok (ideographic full stops)
    /redirect-colon      302 to http://127.0.0.1：PORT/ok (a fullwidth colon)
    /bad-lang            a literal with "xml:lang": "not a tag!"
    /lang-number         a literal with "xml:lang": 5
    /deep                results.bindings nested 100,000 arrays deep
    /ask-string          an ASK answer with "boolean": "false" (a string)
    /ask-null            an ASK answer with "boolean": null
    /bad-vars            head.vars not a list of names
    /ask-false           a valid ASK answer: false
    /gzip-ok             /ok's answer, gzip-compressed
    /deflate-ok          /ok's answer, deflate-compressed (zlib-wrapped, as the standard says)
    /raw-deflate-ok      /ok's answer, deflate-compressed without the zlib wrapper (as some servers send)
    /gzip-truncated      a gzip stream cut short, its Content-Length matching what is sent
    /brotli              an answer in an encoding the client did not ask for (Content-Encoding: br)
    /bomb                a gzip bomb: about 1 MB on the wire, valid SPARQL JSON of 1 GiB once inflated
    /error-bomb          500, its error page the same gzip bomb
    /unwritable-iri      a Turtle answer whose property IRI RDF/XML cannot write (ends in a digit)
    /store               a store for `serve --store`: a CONSTRUCT gets a one-triple graph (which
                         validates: no shape targets it); any query holding "fault:NAME" gets
                         what /NAME sends
"""

from __future__ import annotations

import os
import re
import socket
import struct
import threading
import time
import zlib
from functools import lru_cache
from urllib.parse import parse_qs
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

OK_BODY = (b'{"head": {"vars": ["n"]}, "results": {"bindings": '
           b'[{"n": {"type": "literal", "value": "\xe5\x8c\xba", "xml:lang": "zh"}}]}}')

# 200 answers, each malformed in one way the client must turn into a clean error
JSON_FAULTS = {
    "/bad-lang": b'{"head": {"vars": ["n"]}, "results": {"bindings": '
                 b'[{"n": {"type": "literal", "value": "x", "xml:lang": "not a tag!"}}]}}',
    "/lang-number": b'{"head": {"vars": ["n"]}, "results": {"bindings": '
                    b'[{"n": {"type": "literal", "value": "x", "xml:lang": 5}}]}}',
    "/deep": b'{"head": {"vars": ["n"]}, "results": {"bindings": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}",
    "/ask-string": b'{"head": {}, "boolean": "false"}',
    "/ask-null": b'{"head": {}, "boolean": null}',
    "/bad-vars": b'{"head": {"vars": [1, {"a": 2}]}, "results": {"bindings": [{}]}}',
}
ASK_FALSE = b'{"head": {}, "boolean": false}'
SNAPSHOT = b'<https://example.org/s> <https://example.org/p> "o" .\n'
UNWRITABLE = b'<https://example.org/s> <https://example.org/1> "o" .\n'
BOMB_EXPANDED = 1024 ** 3


def _deflated(data: bytes, wbits: int) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, wbits)
    return packer.compress(data) + packer.flush()


# Content-Encoding and body of the compressed routes
COMPRESSED = {
    "/gzip-ok": ("gzip", _deflated(OK_BODY, 16 + zlib.MAX_WBITS)),
    "/deflate-ok": ("deflate", _deflated(OK_BODY, zlib.MAX_WBITS)),
    "/raw-deflate-ok": ("deflate", _deflated(OK_BODY, -zlib.MAX_WBITS)),
    "/gzip-truncated": ("gzip", _deflated(OK_BODY, 16 + zlib.MAX_WBITS)[:40]),
    "/brotli": ("br", b"\x1b\x00\x00\x00 not really brotli"),
}


@lru_cache(maxsize=1)
def gzip_bomb() -> tuple[bytes, bytes, int, bytes]:
    """(head, block, repeats, tail) of a gzip stream of BOMB_EXPANDED bytes of valid SPARQL JSON
    (empty results padded with spaces), built without compressing a gigabyte: after a full flush
    the compressor starts afresh, so every megabyte of spaces compresses to the same block."""
    prefix = b'{"head": {"vars": ["n"]}, "results": {"bindings": ['
    suffix = b"]}}"
    megabyte = b" " * 1024 ** 2
    repeats = (BOMB_EXPANDED - len(prefix) - len(suffix)) // len(megabyte)
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    head = packer.compress(prefix) + packer.flush(zlib.Z_FULL_FLUSH)
    block = packer.compress(megabyte) + packer.flush(zlib.Z_FULL_FLUSH)
    assert packer.compress(megabyte) + packer.flush(zlib.Z_FULL_FLUSH) == block
    tail = packer.compress(suffix) + packer.flush()
    crc = zlib.crc32(prefix)
    for _ in range(repeats):
        crc = zlib.crc32(megabyte, crc)
    crc = zlib.crc32(suffix, crc)
    size = len(prefix) + repeats * len(megabyte) + len(suffix)
    # the compressor saw the megabyte twice, not `repeats` times: the trailer is ours
    tail = tail[:-8] + struct.pack("<II", crc, size & 0xFFFFFFFF)
    return head, block, repeats, tail


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
        self.body = self.rfile.read(length)
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

    def _send_bomb(self, status: int):
        head, block, repeats, tail = gzip_bomb()
        self.send_response(status)
        self.send_header("Content-Type", "application/sparql-results+json" if status == 200 else "text/plain")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(head) + repeats * len(block) + len(tail)))
        self.end_headers()
        try:
            self.wfile.write(head)
            for _ in range(repeats):
                self.wfile.write(block)
            self.wfile.write(tail)
        except OSError:
            pass    # the client stopped reading at its cap and closed the connection
        self.close_connection = True

    def _redirect(self, location: str):
        """A 302 whose Location is sent as raw UTF-8 (http.server only writes Latin-1 headers)."""
        self.send_response(302)
        self.send_header("Content-Length", "0")
        self._headers_buffer.append(b"Location: " + location.encode("utf-8") + b"\r\n")
        self.end_headers()

    def _store(self):
        query = parse_qs(getattr(self, "body", b"").decode("utf-8")).get("query", [""])[0]
        fault = re.search(r"fault:([\w-]+)", query)
        if fault:
            return "/" + fault.group(1)
        if "CONSTRUCT" in query.upper():
            self._send(200, SNAPSHOT, "application/n-triples")
        else:
            self._send(200, OK_BODY)
        return None

    def _handle(self):
        self._record()
        path = self.path.split("?")[0]
        count = sum(1 for p, _, _ in self.server.requests if p == path)
        if path == "/store":
            path = self._store()
            if path is None:
                return
        port = self.server.server_address[1]
        if path in JSON_FAULTS:
            self._send(200, JSON_FAULTS[path])
        elif path == "/ask-false":
            self._send(200, ASK_FALSE)
        elif path in COMPRESSED:
            encoding, body = COMPRESSED[path]
            self._send(200, body, headers={"Content-Encoding": encoding})
        elif path in ("/bomb", "/error-bomb"):
            self._send_bomb(200 if path == "/bomb" else 500)
        elif path == "/unwritable-iri":
            self._send(200, UNWRITABLE, "application/n-triples")
        elif path == "/redirect-port":
            self._redirect("http://127.0.0.1:70000/ok")
        elif path == "/redirect-bad-ipv6":
            self._redirect("http://[::1/ok")
        elif path == "/redirect-fullwidth":
            self._redirect(f"http://ｌｏｃａｌｈｏｓｔ:{port}/ok")
        elif path == "/redirect-dots":
            self._redirect(f"http://127。0。0。1:{port}/ok")
        elif path == "/redirect-colon":
            self._redirect(f"http://127.0.0.1：{port}/ok")
        elif path == "/ok":
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
