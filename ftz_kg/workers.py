"""Query workers: each a separate process holding its own copy of the store, or its own read-only
handle on the store directory (`serve --store-dir`).

A runaway query cannot be interrupted inside an engine, so every query runs in a worker
process that the server kills when the time limit passes; the CPU is freed at once and a fresh
worker takes its place. The number of workers bounds the queries running at once; a request
that finds no free worker within a short wait is told to come back later (503).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
from dataclasses import dataclass

from .guard import DATASET_GRAPH, Refused

QUERY_BASE = "https://w3id.org/ftz-kg/"
GRAPH_FORMATS = {"turtle": "TURTLE", "json-ld": "JSON_LD", "n-triples": "N_TRIPLES", "rdf-xml": "RDF_XML"}
RESULT_FORMATS = {"sparql-json": "JSON", "sparql-xml": "XML", "csv": "CSV", "tsv": "TSV"}
WORKER_MEMORY = 2 * 1024 ** 3   # address-space cap of a worker: a huge answer fails, it cannot swamp the host


def _rows_at_most(body: bytes, writer: str) -> int:
    """An upper bound on the rows of a serialised SELECT answer (exact for JSON and XML)."""
    if writer == "sparql-json":
        import json
        return len(json.loads(body)["results"]["bindings"])
    if writer == "sparql-xml":
        return body.count(b"<result>")
    return max(body.count(b"\n") - 1, 0)


@dataclass(frozen=True)
class Answer:
    body: bytes
    truncated: bool


def _open(source: bytes | str):  # pragma: no cover - runs in the worker process
    """The worker's store: N-Triples loaded into memory, or a store directory opened read-only.
    Either way the triples are in the dataset's named graph."""
    import pyoxigraph as ox

    if isinstance(source, str):
        return ox.Store.read_only(source)
    store = ox.Store()
    # lenient: the N-Triples were written by us from a parsed, validated graph (a quarter faster)
    store.load(source, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(DATASET_GRAPH), lenient=True)
    return store


def _serve(conn, source: bytes | str) -> None:  # pragma: no cover - runs in the worker process
    """The worker's loop: open the graph, then answer (query, writer, max_rows, dataset) requests."""
    import resource
    import signal

    import pyoxigraph as ox

    from .results import WRITERS
    from .store import AskResult, SelectResult, _to_rdflib

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY, WORKER_MEMORY))
    except (ValueError, OSError):
        pass
    store = _open(source)
    conn.send(("ready",))
    while True:
        try:
            query, writer, max_rows, explicit_dataset = conn.recv()
        except EOFError:
            return
        try:
            named = {"named_graphs": [ox.NamedNode(DATASET_GRAPH)]} if explicit_dataset[1] else {}
            if explicit_dataset[0]:
                dataset = {"default_graph": [ox.NamedNode(DATASET_GRAPH)], **named}
            elif explicit_dataset[1]:
                dataset = {"default_graph": [], **named}
            else:
                dataset = {"use_default_graph_as_union": True}
            # relative IRIs in a query resolve against the dataset's base, as the protocol allows
            results = store.query(query, base_iri=QUERY_BASE, **dataset)
            truncated = False
            if isinstance(results, ox.QueryBoolean):
                body = WRITERS[writer](AskResult(bool(results))).encode("utf-8")
            elif isinstance(results, ox.QuerySolutions):
                # the engine's own serialiser is several times faster than ours; we fall back to
                # a capped run only when the answer has more rows than the cap
                body = results.serialize(format=getattr(ox.QueryResultsFormat, RESULT_FORMATS[writer]))
                if _rows_at_most(body, writer) > max_rows:
                    results = store.query(query, base_iri=QUERY_BASE, **dataset)
                    variables = [v.value for v in results.variables]
                    rows = []
                    for solution in results:
                        if len(rows) == max_rows:
                            truncated = True
                            break
                        rows.append(tuple(_to_rdflib(solution[v]) for v in variables))
                    body = WRITERS[writer](SelectResult(variables, rows)).encode("utf-8")
            else:
                triples = []
                for triple in results:
                    if len(triples) == max_rows:
                        truncated = True
                        break
                    triples.append(triple)
                body = ox.serialize(triples, format=getattr(ox.RdfFormat, GRAPH_FORMATS[writer]))
            conn.send(("ok", body, truncated))
        except SyntaxError as exc:
            conn.send(("error", 400, _short(f"SPARQL syntax error: {exc}")))
        except Exception as exc:  # evaluation errors of the engine
            conn.send(("error", 400, _short(f"query failed: {type(exc).__name__}: {exc}")))


def _short(message: str, limit: int = 300) -> str:
    """An engine's message on one line and cut short: Oxigraph lists every token it expected,
    character ranges included, which makes a syntax error run to several hundred characters."""
    line = " ".join(message.split())
    return line if len(line) <= limit else line[:limit - 1] + "…"


def _worker_context():
    """Workers come from a fork server that has already imported the engine, where there is one:
    a worker killed at the time limit is replaced in about 50 ms of CPU instead of 170 ms for a
    fresh interpreter, which keeps the other requests fast while abusive ones are being stopped."""
    try:
        context = multiprocessing.get_context("forkserver")
    except ValueError:   # no fork server on this platform
        return multiprocessing.get_context("spawn")
    context.set_forkserver_preload(["ftz_kg.workers", "ftz_kg.results", "ftz_kg.store", "pyoxigraph"])
    return context


class _Worker:
    def __init__(self, context, source: bytes | str):
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, source), daemon=True)
        self.process.start()
        child.close()
        if not self.conn.poll(120) or self.conn.recv() != ("ready",):
            self.kill()
            raise RuntimeError("query worker failed to start")

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.conn.close()


class WorkerPool:
    def __init__(self, source: bytes | str, size: int = 2, timeout: float = 10.0, max_rows: int = 10_000,
                 queue_wait: float = 2.0):
        """`source`: the graph as N-Triples, or the path of a store directory version."""
        self.source = source
        self.size = size
        self.timeout = timeout
        self.max_rows = max_rows
        self.queue_wait = queue_wait
        self._context = _worker_context()
        self._idle: asyncio.Queue | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._workers: set[_Worker] = set()
        self._lock = threading.Lock()
        self._in_flight = 0

    def start(self) -> None:
        """Start the workers (blocking); call from the event loop's start-up."""
        self._loop = asyncio.get_running_loop()
        self._idle = asyncio.Queue()
        for _ in range(self.size):
            worker = _Worker(self._context, self.source)
            self._workers.add(worker)
            self._idle.put_nowait(worker)

    async def start_async(self) -> None:
        """Start the workers without blocking the event loop (for a reload while serving)."""
        self._loop = asyncio.get_running_loop()
        self._idle = asyncio.Queue()
        workers = await asyncio.to_thread(lambda: [_Worker(self._context, self.source) for _ in range(self.size)])
        for worker in workers:
            self._workers.add(worker)
            self._idle.put_nowait(worker)

    async def drain_and_close(self, timeout: float) -> None:
        """Let the requests already given this pool finish (up to `timeout`), then stop the workers.

        Counted from the moment a request enters `run`, not from when it gets a worker: one still
        waiting for a worker must not be handed a worker that is being stopped."""
        deadline = self._loop.time() + timeout
        while self._in_flight and self._loop.time() < deadline:
            await asyncio.sleep(0.05)
        self.close()

    def close(self) -> None:
        with self._lock:
            for worker in list(self._workers):
                worker.kill()
            self._workers.clear()

    @property
    def ready(self) -> bool:
        return bool(self._workers) and all(w.process.is_alive() for w in self._workers)

    def _replace(self, dead: _Worker) -> None:
        """Start a fresh worker in the background and hand it to the idle queue when ready."""
        def run():
            with self._lock:
                self._workers.discard(dead)
            dead.kill()     # reaping a worker that grew large takes a while: not on the event loop
            try:
                fresh = _Worker(self._context, self.source)
            except RuntimeError:
                return
            with self._lock:
                self._workers.add(fresh)
            self._loop.call_soon_threadsafe(self._idle.put_nowait, fresh)
        threading.Thread(target=run, daemon=True).start()

    async def _call(self, worker: _Worker, request) -> tuple:
        """Send the request and wait for the reply without a thread: the event loop watches the pipe."""
        loop = asyncio.get_running_loop()
        readable = loop.create_future()
        fd = worker.conn.fileno()
        loop.add_reader(fd, lambda: readable.done() or readable.set_result(None))
        try:
            worker.conn.send(request)
            await asyncio.wait_for(readable, self.timeout)
        except asyncio.TimeoutError:
            return ("timeout",)
        finally:
            loop.remove_reader(fd)
            # uvloop leaves the descriptor non-blocking: a reply sent in two writes (over 16 KiB)
            # would then fail half-read with BlockingIOError and pass for a crashed worker
            os.set_blocking(fd, True)
        return worker.conn.recv()

    async def run(self, query: str, writer: str, explicit_dataset: tuple[bool, bool] = (False, False)) -> Answer:
        self._in_flight += 1
        try:
            return await self._run(query, writer, explicit_dataset)
        finally:
            self._in_flight -= 1

    async def _run(self, query: str, writer: str, explicit_dataset: tuple[bool, bool]) -> Answer:
        try:
            worker = await asyncio.wait_for(self._idle.get(), self.queue_wait)
        except asyncio.TimeoutError:
            raise Refused(503, "all query workers are busy; retry shortly") from None
        try:
            reply = await self._call(worker, (query, writer, self.max_rows, explicit_dataset))
        except (OSError, EOFError):
            reply = ("crashed",)
        if reply[0] in ("timeout", "crashed"):
            worker.process.kill()   # stops the CPU at once; reaped in the background
            self._replace(worker)
            if reply[0] == "timeout":
                raise Refused(503, f"query stopped: it ran longer than the {self.timeout:g} s limit")
            raise Refused(503, "query stopped: its worker ran out of memory or crashed; retry shortly")
        self._idle.put_nowait(worker)
        if reply[0] == "error":
            raise Refused(reply[1], reply[2])
        return Answer(reply[1], reply[2])
