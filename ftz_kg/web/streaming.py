"""Getting large answers to slow clients without holding them: a streamed response and a write timeout.

An answer larger than a worker's inline size stays in its worker and is read a chunk at a time as
the client takes it (workers.Stream); `StreamedAnswer` sends those chunks, and gives the worker
back however the response ends. The transport's flow control makes every chunk wait until the
client has taken most of the previous ones, so the web process holds about one chunk per client.

A client that stops reading would still hold its worker, and whatever sits in the transport's
buffer (an answer sent whole from the cache), for as long as its connection stays open.
`with_write_timeout` gives uvicorn's HTTP protocol a write timeout: when the transport has paused
writing (its buffer full) and the buffer has not shrunk for `seconds`, the connection is aborted:
its buffer is dropped and the stream's worker freed.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.responses import StreamingResponse

from ftz_kg.web.workers import Stream

WRITE_TIMEOUT = 10.0    # default of serve --write-timeout


class StreamedAnswer(StreamingResponse):
    """A response whose body is a worker's Stream, with its length known in advance. `keep`, if
    given, is handed the whole body once it has all been sent (to cache it)."""

    def __init__(self, stream: Stream, headers: dict, media_type: str,
                 keep: Callable[[bytes], None] | None = None):
        super().__init__(self._chunks(stream, keep), 200,
                         headers={**headers, "Content-Length": str(stream.length)}, media_type=media_type)
        self.stream = stream

    @staticmethod
    async def _chunks(stream: Stream, keep):
        kept = [] if keep is not None else None
        async for chunk in stream:
            if kept is not None:
                kept.append(chunk)
            yield chunk
        if kept is not None and stream.sent == stream.length:
            keep(b"".join(kept))

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:    # sent, client gone, or write timeout: the worker is given back in every case
            self.stream.close()


def with_write_timeout(protocol_class: type, seconds: float) -> type:
    """A subclass of a uvicorn HTTP protocol class that aborts a connection whose client has
    stopped reading: writing paused, and the write buffer no smaller after `seconds`."""

    class WriteTimeoutProtocol(protocol_class):
        _stalled = None

        def pause_writing(self) -> None:
            super().pause_writing()
            self._watch(self.transport.get_write_buffer_size())

        def resume_writing(self) -> None:
            self._unwatch()
            super().resume_writing()

        def connection_lost(self, exc) -> None:
            self._unwatch()
            super().connection_lost(exc)

        def _watch(self, size: int) -> None:
            self._unwatch()
            self._stalled = self.loop.call_later(seconds, self._check, size)

        def _unwatch(self) -> None:
            if self._stalled is not None:
                self._stalled.cancel()
                self._stalled = None

        def _check(self, size: int) -> None:
            self._stalled = None
            now = self.transport.get_write_buffer_size()
            # still paused, or closing with data left (a response sent whole, then `Connection: close`)
            if now == 0 or not (self.flow.write_paused or self.transport.is_closing()):
                return
            if now < size:      # slow but reading: give it another period
                self._watch(now)
            else:
                self.transport.abort()

    WriteTimeoutProtocol.__name__ = WriteTimeoutProtocol.__qualname__ = f"WriteTimeout{protocol_class.__name__}"
    return WriteTimeoutProtocol
