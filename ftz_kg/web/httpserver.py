"""The HTTP layer under the app: uvicorn's httptools protocol with the limits it lacks.

uvicorn bounds neither the size of a request's head (request line and headers: httptools keeps
growing a header it has not finished) nor the time a client may take to send it, so one client
could fill the memory with a giant header or hold connections open by dripping bytes (slowloris).
This protocol counts the bytes and headers of each request head as they arrive, refusing a head
over MAX_HEAD_BYTES or MAX_HEADERS with 431, and closes a connection whose head has not arrived
HEAD_TIMEOUT seconds after the connection opened or the previous response ended (408). Bodies are
bounded by the app as it reads them (endpoint.read_body); idle keep-alive connections by uvicorn's
own keep-alive timeout; connections in all by uvicorn's concurrency limit (MAX_CONNECTIONS, 503).
For a server on the internet, put the tested nginx configuration in front (docs/security.md).
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEAD_BYTES = 64 * 1024      # request line and headers of one request
MAX_HEADERS = 100
HEAD_TIMEOUT = 10.0             # seconds to receive a request's head
KEEP_ALIVE_TIMEOUT = 5          # seconds an idle keep-alive connection stays open
MAX_CONNECTIONS = 512           # beyond this, requests get 503

_REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._head_timer = None
        self._expect_head()

    def _expect_head(self) -> None:
        """A request head may start now: count it from zero and time it."""
        self._head_bytes = 0
        self._header_count = 0
        self._in_head = True
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(HEAD_TIMEOUT, self._head_too_slow)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def data_received(self, data: bytes) -> None:
        if self.transport.is_closing():     # refused: whatever else arrives is dropped
            return
        if self._in_head:
            # counts what arrives with the head too (the start of a body): the bound is on the
            # buffering, and a head and one packet of body stay well under it
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES + 64 * 1024:
                self._refuse(431, f"request head larger than {MAX_HEAD_BYTES} bytes")
                return
        super().data_received(data)

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > MAX_HEAD_BYTES:
            self._refuse(431, f"request head larger than {MAX_HEAD_BYTES} bytes")

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        if self._header_count > MAX_HEADERS:
            self._refuse(431, f"more than {MAX_HEADERS} header fields")
            return
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._cancel_head_timer()
        if self.transport.is_closing():
            return
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._expect_head()

    def connection_lost(self, exc) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        # after a refusal the parser may still fail on what followed: the refusal was the answer
        if not self.transport.is_closing():
            super().send_400_response(msg)

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self._in_head and not self.transport.is_closing():
            self._refuse(408, f"request head not received within {HEAD_TIMEOUT:g} s")

    def _refuse(self, status: int, message: str) -> None:
        if self.transport.is_closing():
            return
        body = message.encode("ascii") + b"\n"
        self.transport.write(b"HTTP/1.1 %d %s\r\ncontent-type: text/plain; charset=utf-8\r\n"
                             b"content-length: %d\r\nconnection: close\r\n\r\n%s"
                             % (status, _REASONS[status], len(body), body))
        self.transport.close()
        self._in_head = False
        self._cancel_head_timer()


def uvicorn_options() -> dict:
    """The uvicorn.run settings that go with this protocol."""
    return {"http": BoundedHttpToolsProtocol, "timeout_keep_alive": KEEP_ALIVE_TIMEOUT,
            "limit_concurrency": MAX_CONNECTIONS}
