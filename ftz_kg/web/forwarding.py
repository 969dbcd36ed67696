"""Query runner for `ftz-kg serve --store URL`: vetted queries go to a remote SPARQL store.

It has the same face as the local worker pool (start, close, ready, run), so the web app cannot
tell them apart. The remote store does the work; this side still bounds what it forwards: the
queries were vetted by guard.py, at most `size` run at once, each within the deadline, and answers
are capped at `max_rows` rows or triples before they are written in the negotiated format, and at
`max_bytes` bytes once written (cut at the last whole row or triple that fits, as local answers are).

What the store sends is not trusted: an answer it sends that cannot be read (remote.py turns each
known way into a RemoteError) or cannot be written in the negotiated format is a 502 naming the
cause, never a 500 of ours. Anything unforeseen is logged with its traceback for the operator.
"""

from __future__ import annotations

import asyncio
import logging

from rdflib import Graph

from ftz_kg.query.guard import Refused
from ftz_kg.remote.client import EndpointBusy, EndpointTimeout, RemoteEngine, RemoteError
from ftz_kg.query.results import WRITERS
from ftz_kg.query.store import GraphResult, QueryError, SelectResult
from ftz_kg.web.workers import MAX_BYTES, Answer

log = logging.getLogger(__name__)

RDFLIB_FORMATS = {"turtle": "turtle", "json-ld": "json-ld", "n-triples": "nt", "rdf-xml": "xml"}


class ForwardingRunner:
    def __init__(self, engine: RemoteEngine, size: int = 2, max_rows: int = 10_000, queue_wait: float = 2.0,
                 max_bytes: int = MAX_BYTES):
        self.engine = engine
        self.size = size
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self.queue_wait = queue_wait
        self.timeout = engine.transport.timeout
        self._slots: asyncio.Semaphore | None = None
        self._in_flight = 0    # requests given this runner, waiting for a slot or running

    def start(self) -> None:
        self._slots = asyncio.Semaphore(self.size)

    async def start_async(self) -> None:
        self.start()

    async def drain_and_close(self, timeout: float) -> None:
        """Wait for the forwarded queries in flight (up to `timeout`); the transport is shared, keep it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._in_flight and loop.time() < deadline:
            await asyncio.sleep(0.05)

    def close(self) -> None:
        self.engine.transport.close()

    @property
    def ready(self) -> bool:
        return self._slots is not None

    async def run(self, query: str, writer: str, explicit_dataset: tuple[bool, bool] = (False, False)) -> Answer:
        self._in_flight += 1
        try:
            return await self._run(query, writer)
        finally:
            self._in_flight -= 1

    async def _run(self, query: str, writer: str) -> Answer:
        try:
            await asyncio.wait_for(self._slots.acquire(), self.queue_wait)
        except asyncio.TimeoutError:
            raise Refused(503, "all query slots are busy; retry shortly") from None
        try:
            result = await asyncio.to_thread(self.engine.query, query)
        except QueryError as exc:
            raise Refused(400, str(exc)) from None
        except EndpointTimeout:
            raise Refused(503, f"query stopped: the store gave no answer within {self.timeout:g} s") from None
        except EndpointBusy:
            raise Refused(503, "the store is busy; retry shortly") from None
        except RemoteError as exc:
            raise Refused(502, f"the store could not answer: {exc.cause}") from None
        except Exception as exc:    # an answer remote.py did not foresee: still the store's, not the client's
            log.exception("reading the answer of %s failed", self.engine.endpoint)
            raise Refused(502, f"the store's answer could not be read ({type(exc).__name__})") from None
        finally:
            self._slots.release()
        try:    # off the event loop: cutting an answer at max_bytes writes it several times
            return await asyncio.to_thread(self._write, result, writer)
        except Exception as exc:    # e.g. an IRI RDF/XML cannot write as a property
            raise Refused(502, f"the store's answer cannot be written as {writer}: "
                               f"{_one_line(str(exc)) or type(exc).__name__}") from None

    def _write(self, result, writer: str) -> Answer:
        truncated: bool | str = False
        if isinstance(result, SelectResult) and len(result.rows) > self.max_rows:
            result = SelectResult(result.variables, result.rows[:self.max_rows])
            truncated = True
        if isinstance(result, GraphResult):
            graph, items = result.graph, None
            if len(graph) > self.max_rows:
                items, truncated = sorted(graph)[:self.max_rows], True

            def write(count: int) -> bytes:
                kept = Graph()
                for triple in items[:count]:
                    kept.add(triple)
                return kept.serialize(format=RDFLIB_FORMATS[writer], encoding="utf-8")
            body = (graph.serialize(format=RDFLIB_FORMATS[writer], encoding="utf-8") if items is None
                    else write(len(items)))
            if len(body) <= self.max_bytes:
                return Answer(body, truncated)
            items = items if items is not None else sorted(graph)
        elif isinstance(result, SelectResult):
            items = result.rows

            def write(count: int) -> bytes:
                return WRITERS[writer](SelectResult(result.variables, items[:count])).encode("utf-8")
            body = write(len(items))
            if len(body) <= self.max_bytes:
                return Answer(body, truncated)
        else:   # ASK: a few bytes
            return Answer(WRITERS[writer](result).encode("utf-8"), truncated)
        # the most whole rows (or triples) that fit, by bisection: at most log2(max_rows) writings
        fits, over, best = 0, len(items), write(0)
        while over - fits > 1:
            middle = (fits + over) // 2
            candidate = write(middle)
            if len(candidate) <= self.max_bytes:
                fits, best = middle, candidate
            else:
                over = middle
        return Answer(best, "bytes")


def _one_line(text: str, limit: int = 200) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[:limit - 3] + "..."
