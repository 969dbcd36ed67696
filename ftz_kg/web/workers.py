"""Query workers: each a separate process holding its own copy of the store, or its own read-only
handle on the store directory (`serve --store-dir`).

A runaway query cannot be interrupted inside an engine, so every query runs in a worker
process that the server kills when the time limit passes; the CPU is freed at once and a fresh
worker takes its place. The number of workers bounds the queries running at once; a request
that finds no free worker within a short wait is told to come back later (503).

Every answer is bounded in rows (`max_rows`) and bytes (`max_bytes`) by the worker as it writes
it (bounded.py). A small answer comes back to the web process in one message; a larger one stays
in its worker, which hands it over in chunks as the client takes them (`Stream`), so the web
process never holds a large answer whole.

The pool supervises its workers: each worker's death is noticed the moment it happens (the
event loop watches a pidfd, or the process sentinel where there is none), the worker is replaced
at once, and a request never gets a dead worker. A worker also looks after itself, should the
server be gone: it exits when the web process is gone (a thread watches the parent's sentinel),
dies with the fork server that started it (PR_SET_PDEATHSIG on Linux), and an alarm set at the
start of each query kills it shortly after the time limit, whatever it is doing.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.connection
import os
import select
import signal
import sys
import threading
import time
from dataclasses import dataclass

from ftz_kg.query.guard import DATASET_GRAPH, Refused, vet
from ftz_kg.web.conneg import Choice, NotAcceptable, strong_etag

QUERY_BASE = "https://w3id.org/ftz-kg/"
GRAPH_FORMATS = {"turtle": "TURTLE", "json-ld": "JSON_LD", "n-triples": "N_TRIPLES", "rdf-xml": "RDF_XML"}
RESULT_FORMATS = {"sparql-json": "JSON", "sparql-xml": "XML", "csv": "CSV", "tsv": "TSV"}
WORKER_MEMORY = 2 * 1024 ** 3   # address-space cap of a worker: a huge answer fails, it cannot swamp the host
MAX_BYTES = 16 * 1024 ** 2      # default byte limit of an answer (serve --max-bytes)
INLINE_BYTES = 1024 ** 2        # answers up to this size come back in one message; larger ones are streamed
CHUNK = 64 * 1024               # a streamed answer's piece: one pipe buffer
ALARM_GRACE = 1.0               # a worker kills itself this long after the time limit, should no one else


def default_count() -> int:
    """Query workers when `serve --workers` is not given: the cores this process may use, plus two,
    at most 10. With one worker per core, a core idles while the web process hands a worker its
    answer back and the next query; two more keep both cores of a small machine busy (the catalogue's
    cheapest query, four clients: 1,524 against 1,845 requests/s). At most 10: each worker holds its
    own copy of an in-memory graph."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:      # not Linux
        cores = os.cpu_count() or 1
    return min(cores + 2, 10)


def _more_rows_than(body: bytes, writer: str, limit: int) -> bool:
    """Whether a serialised SELECT answer has more than `limit` rows (CSV and TSV: at most that many
    lines, which a value with a line break can only overstate)."""
    if writer == "sparql-json":
        if body.count(b"{") <= limit:   # each row is an object: fewer braces, fewer rows (no parsing)
            return False
        import json
        return len(json.loads(body)["results"]["bindings"]) > limit
    if writer == "sparql-xml":
        return body.count(b"<result>") > limit
    return max(body.count(b"\n") - 1, 0) > limit


@dataclass(frozen=True)
class Answer:
    body: bytes               # the whole answer; empty when it is streamed
    truncated: bool | str     # False, or the limit that cut it: "rows" (True means rows too) or "bytes"
    stream: Stream | None = None   # a large answer, still in its worker
    media_type: str | None = None  # what it is written in, when the worker chose (WorkerPool.answer)
    etag: str | None = None        # its strong ETag, when the worker computed it


@dataclass(frozen=True)
class Limits:
    max_rows: int
    max_bytes: int
    inline_bytes: int
    alarm: float    # seconds after which a worker stops itself in the middle of a query


def _open(source: bytes | str):
    """The worker's store: N-Triples loaded into memory, or a store directory opened read-only.
    Either way the triples are in the dataset's named graph."""
    import pyoxigraph as ox

    if isinstance(source, str):
        return ox.Store.read_only(source)
    store = ox.Store()
    # lenient: the N-Triples were written by us from a parsed, validated graph (a quarter faster)
    store.load(source, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(DATASET_GRAPH), lenient=True)
    return store


def _die_with_parent() -> None:  # pragma: no cover - runs in the worker process
    """Have the kernel kill this worker when the process that forked it (the fork server) dies:
    no worker is left running on its own. Linux only; elsewhere the alarm and EOF still stop it."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)    # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:      # the parent died before the request took effect
        os._exit(1)


def _yield_to_the_web_process() -> None:  # pragma: no cover - runs in the worker process
    """Run as a batch task (Linux): a worker woken by a query does not preempt the process that
    woke it. Every request goes through the web process, and sending a query used to put it off its
    core until the worker had run, while the requests behind it waited (118 µs per request, four
    clients on two cores). The worker's share of the CPU is unchanged."""
    try:
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
    except (AttributeError, OSError):
        pass


def _exit_with_server() -> None:  # pragma: no cover - runs in the worker process
    """Exit the moment the web process that asked for this worker is gone, even in the middle of a
    query (the engine lets other threads run while it evaluates)."""
    sentinel = getattr(multiprocessing.parent_process(), "sentinel", None)
    if sentinel is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([sentinel])
        os._exit(1)
    threading.Thread(target=watch, name="exit-with-server", daemon=True).start()


def _serve(conn, source: bytes | str) -> None:  # pragma: no cover - runs in the worker process
    """The worker's loop: open the graph, then answer (query, writer, dataset, limits) requests."""
    import resource

    _die_with_parent()
    _exit_with_server()
    _yield_to_the_web_process()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGALRM, signal.SIG_DFL)   # the query alarm's default action: terminate
    try:
        resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY, WORKER_MEMORY))
    except (ValueError, OSError):
        pass
    store = _open(source)
    conn.send(("ready",))
    while True:
        try:
            message = conn.recv()
        except EOFError:    # the web process is gone
            return
        if message in (("more",), ("stop",)):   # about a stream already ended: nothing to do
            continue
        query, choice, explicit_dataset, limits = message
        # should the server be gone or fail to stop this query, the kernel stops the worker
        signal.setitimer(signal.ITIMER_REAL, limits.alarm)
        try:
            reply = _vet_and_evaluate(store, query, choice, explicit_dataset, limits)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        if reply[0] == "ok" and len(reply[1]) > limits.inline_bytes:
            body = reply[1]
            conn.send(("stream", len(body), reply[2], strong_etag(body), reply[3]))
            if not _hand_over(conn, body):
                return
        elif reply[0] == "ok":      # the ETag too: hashed here, beside the other workers, not in the web process
            conn.send(reply + (strong_etag(reply[1]),))
        else:
            conn.send(reply)


def _hand_over(conn, body: bytes) -> bool:  # pragma: no cover - runs in the worker process
    """Send a streamed answer a chunk at a time, each when asked for; False when the web process is gone."""
    view = memoryview(body)
    for offset in range(0, len(body), CHUNK):
        try:
            message = conn.recv()
        except EOFError:
            return False
        if message != ("more",):    # the client went away: drop the answer
            return True
        conn.send_bytes(view[offset:offset + CHUNK])
    return True


def _vet_and_evaluate(store, query: str, choice: Choice, explicit_dataset, limits: Limits) -> tuple:  # pragma: no cover
    """The guard's checks, then the answer in the media type the request takes for the query's form:
    ("ok", body, truncated, media type) or ("error", status, message).

    The checks run here, in the process that holds the engine and before the engine sees the text,
    rather than in the web process: there they took a third of its time per request, and it is
    the one process every request goes through, while the workers run side by side."""
    try:
        media_type, writer = choice.pick(vet(query).form)
    except Refused as refused:
        return ("error", refused.status, str(refused))
    except NotAcceptable as refused:
        return ("error", 406, str(refused))
    return _evaluate(store, query, writer, explicit_dataset, limits) + (media_type,)


def _evaluate(store, query: str, writer: str, explicit_dataset, limits: Limits) -> tuple:  # pragma: no cover
    """("ok", body, truncated) or ("error", status, message)."""
    import pyoxigraph as ox

    from ftz_kg.query import bounded
    from ftz_kg.query.results import WRITERS
    from ftz_kg.query.store import AskResult

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
        truncated: bool | str = False
        if isinstance(results, ox.QueryBoolean):
            body = WRITERS[writer](AskResult(bool(results))).encode("utf-8")
        elif isinstance(results, ox.QuerySolutions):
            # the engine's own serialiser is several times faster than ours, and stops at the byte
            # limit; ours writes the answer again, cut at a whole row, only when it is over a limit
            buffer = bounded.CappedBuffer(limits.max_bytes)
            try:
                results.serialize(buffer, format=getattr(ox.QueryResultsFormat, RESULT_FORMATS[writer]))
                body = buffer.getvalue()
                over = _more_rows_than(body, writer, limits.max_rows)
            except bounded.Overflow:
                over = True
            if over:
                del buffer
                results = store.query(query, base_iri=QUERY_BASE, **dataset)
                body, cut = bounded.select_answer(results, writer, limits.max_rows, limits.max_bytes)
                truncated = cut or False
        else:
            triples, size = [], 0
            for triple in results:
                if len(triples) == limits.max_rows:
                    truncated = "rows"
                    break
                size += bounded.least_size(triple)
                if size > limits.max_bytes:     # cannot fit whatever the format: stop reading
                    truncated = "bytes"
                    break
                triples.append(triple)
            fmt = getattr(ox.RdfFormat, GRAPH_FORMATS[writer])
            buffer = bounded.CappedBuffer(limits.max_bytes)
            try:
                ox.serialize(triples, buffer, format=fmt)
                body = buffer.getvalue()
            except bounded.Overflow:
                del buffer
                body, _ = bounded.graph_answer(triples, fmt, limits.max_bytes)
                truncated = "bytes"
        return ("ok", body, truncated)
    except SyntaxError as exc:
        return ("error", 400, _short(f"SPARQL syntax error: {exc}"))
    except Exception as exc:  # evaluation errors of the engine
        return ("error", 400, _short(f"query failed: {type(exc).__name__}: {exc}"))


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
    context.set_forkserver_preload(["ftz_kg.web.workers", "ftz_kg.query.bounded", "ftz_kg.query.results", "ftz_kg.query.store",
                                    "ftz_kg.query.guard", "ftz_kg.web.conneg", "pyoxigraph"])
    return context


def prestart() -> None:
    """Start the fork server now, in the background (it imports the engine): a server calls this
    first, so that the import runs while the graph is being opened, not after, when the workers are
    wanted (a restart on a filled --store-dir answers about 0.2 s sooner)."""
    context = _worker_context()
    if context.get_start_method() == "forkserver":
        from multiprocessing import forkserver
        forkserver.ensure_running()


class _Worker:
    def __init__(self, context, source: bytes | str):
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, source), daemon=True)
        self.process.start()
        child.close()
        self.pidfd = None
        try:    # a handle on the process itself: it signals and reports death even if the fork server is gone
            self.pidfd = os.pidfd_open(self.process.pid)
        except (AttributeError, OSError):
            pass
        self.dead = False       # its death was noticed (or it was killed): never given a query again
        self.busy = False       # a request holds it (running a query or streaming its answer)
        self.watched = False
        self.replaced = False
        self.killed = False     # by us
        if not self.conn.poll(120) or self.conn.recv() != ("ready",):
            self.kill()
            raise RuntimeError("query worker failed to start")

    @property
    def death_fd(self) -> int:
        """Readable once the process has ended (with no pidfd: also when its fork server has)."""
        return self.pidfd if self.pidfd is not None else self.process.sentinel

    def signal_kill(self) -> None:
        """SIGKILL at once, whoever its parent is by now."""
        self.killed = True
        try:
            if self.pidfd is not None:
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            else:
                os.kill(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, OSError):
            pass

    def kill(self) -> None:
        """Kill, wait for the end (5 s at most) and release the handles. Blocking."""
        self.signal_kill()
        if self.pidfd is not None:
            select.select([self.pidfd], [], [], 5)
        self.process.join(5)
        for close in (self.conn.close, self.process.close, lambda: self.pidfd is not None and os.close(self.pidfd)):
            try:
                close()
            except (OSError, ValueError):    # ValueError: still running after 5 s, its handles stay open
                pass


def _settle(future: asyncio.Future, error: BaseException | None) -> None:
    """Resolve a wait (with `error`, or as done) unless it is over already."""
    if not future.done():
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)


def _idle_workers() -> asyncio.LifoQueue:
    """The idle workers, the one that finished last given out first: its caches are still warm.
    Handed out in turn, one client asking after another met a worker idle the longest each time
    (`zones-by-batch`, one client: 681 requests/s in turn, 1,037 last-first; Oxigraph's server 834).
    Requests waiting for a worker are still served in the order they came."""
    return asyncio.LifoQueue()


class WorkerError(Exception):
    """The worker stopped answering (it crashed, was killed or its pipe broke)."""


class Stream:
    """A large answer still in its worker, taken a chunk at a time as the client reads (an async
    iterator of bytes). The worker stays with the answer until the last chunk or `close()`."""

    def __init__(self, pool: WorkerPool, worker: _Worker, length: int, truncated: bool | str, etag: str):
        self.pool = pool
        self.worker = worker
        self.length = length
        self.truncated = truncated
        self.etag = etag
        self.sent = 0
        self._closed = False
        self._broken = False

    def __aiter__(self):
        return self

    async def __anext__(self) -> bytes:
        if self._closed or self.sent >= self.length:
            self.close()
            raise StopAsyncIteration
        self._broken = True     # until the chunk has arrived: a cancelled read leaves the pipe unusable
        try:
            self.worker.conn.send(("more",))
            await self.pool._readable(self.worker, self.pool.timeout)
            chunk = self.worker.conn.recv_bytes()
        except (OSError, EOFError, asyncio.TimeoutError):
            self.close()
            raise WorkerError("the query worker stopped while sending its answer") from None
        self._broken = False
        self.sent += len(chunk)
        return chunk

    async def read_all(self) -> bytes:
        """The whole answer (at most max_bytes), for a page made from it."""
        try:
            return b"".join([chunk async for chunk in self])
        except WorkerError:
            raise Refused(503, "query stopped: its worker crashed while sending the answer; retry shortly") from None
        finally:
            self.close()

    def close(self) -> None:
        """Give the worker back (idempotent): told to drop the rest of the answer, or replaced if its
        pipe is in an unknown state."""
        if self._closed:
            return
        self._closed = True
        if self.sent < self.length and not self._broken:
            try:
                self.worker.conn.send(("stop",))
            except OSError:
                self._broken = True
        self.pool._release(self.worker, healthy=not self._broken)
        self.pool._in_flight -= 1


class WorkerPool:
    def __init__(self, source: bytes | str, size: int = 2, timeout: float = 10.0, max_rows: int = 10_000,
                 queue_wait: float = 2.0, max_bytes: int = MAX_BYTES, inline_bytes: int = INLINE_BYTES):
        """`source`: the graph as N-Triples, or the path of a store directory version."""
        self.source = source
        self.size = size
        self.timeout = timeout
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self.queue_wait = queue_wait
        self.limits = Limits(max_rows, max_bytes, min(inline_bytes, max_bytes), timeout + ALARM_GRACE)
        self._context = _worker_context()
        self._idle: asyncio.Queue | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._workers: set[_Worker] = set()
        self._lock = threading.Lock()
        self._in_flight = 0
        self._waiting = 0       # requests waiting for an idle worker
        self._closed = False

    def start(self) -> None:
        """Start the workers (blocking); call from the event loop's start-up."""
        self._loop = asyncio.get_running_loop()
        self._idle = _idle_workers()
        for _ in range(self.size):
            self._adopt(_Worker(self._context, self.source))

    async def start_async(self) -> None:
        """Start the workers without blocking the event loop (for a reload while serving)."""
        self._loop = asyncio.get_running_loop()
        self._idle = _idle_workers()
        workers = await asyncio.to_thread(lambda: [_Worker(self._context, self.source) for _ in range(self.size)])
        for worker in workers:
            self._adopt(worker)

    async def drain_and_close(self, timeout: float) -> None:
        """Let the requests already given this pool finish (up to `timeout`), then stop the workers.

        Counted from the moment a request enters `run`, not from when it gets a worker: one still
        waiting for a worker must not be handed a worker that is being stopped; an answer being
        streamed counts until its last chunk."""
        deadline = self._loop.time() + timeout
        while self._in_flight and self._loop.time() < deadline:
            await asyncio.sleep(0.05)
        self.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers = list(self._workers)
            self._workers.clear()
        for worker in workers:
            self._unwatch(worker)
            worker.dead = True
            worker.kill()

    @property
    def ready(self) -> bool:
        """At least one worker is alive (a dead one is replaced within moments)."""
        return any(not w.dead for w in self._workers)

    # ---------------------------------------------------------------- supervision

    def _adopt(self, worker: _Worker) -> None:
        """On the event loop: watch a started worker and make it available."""
        with self._lock:
            closed = self._closed
            if not closed:
                self._workers.add(worker)
        if closed:
            threading.Thread(target=worker.kill, daemon=True).start()
            return
        self._loop.add_reader(worker.death_fd, self._died, worker)
        worker.watched = True
        self._idle.put_nowait(worker)

    def _unwatch(self, worker: _Worker) -> None:
        if worker.watched:
            worker.watched = False
            try:
                self._loop.remove_reader(worker.death_fd)
            except (OSError, ValueError, RuntimeError):
                pass

    def _died(self, worker: _Worker) -> None:
        """On the event loop, the moment a worker's process ends: an idle one is replaced at once;
        a busy one by the request that holds it, once that request is done with its pipe."""
        self._unwatch(worker)
        worker.dead = True
        if not worker.busy:
            self._replace(worker)

    def _replace(self, dead: _Worker) -> None:
        """On the event loop: retire a worker that no request holds and start a fresh one in the
        background, handed to the idle queue when ready. Retries while the fork server restarts."""
        if dead.replaced:
            return
        dead.replaced = True
        dead.dead = True
        self._unwatch(dead)
        dead.signal_kill()      # stops the CPU at once
        with self._lock:
            self._workers.discard(dead)

        def run():
            dead.kill()     # reaping a worker that grew large takes a while: not on the event loop
            while not self._closed:
                try:
                    fresh = _Worker(self._context, self.source)
                except (RuntimeError, OSError, EOFError):
                    time.sleep(0.5)
                    continue
                try:
                    self._loop.call_soon_threadsafe(self._adopt, fresh)
                except RuntimeError:    # the event loop is closed: the server is stopping
                    fresh.kill()
                return
        threading.Thread(target=run, daemon=True).start()

    def _release(self, worker: _Worker, healthy: bool) -> None:
        """A request is done with its worker: back to the idle queue, or replaced."""
        worker.busy = False
        if healthy and not worker.dead and not self._closed:
            self._idle.put_nowait(worker)
        else:
            self._replace(worker)

    # ---------------------------------------------------------------- queries

    async def _readable(self, worker: _Worker, timeout: float) -> None:
        """Wait for the worker's reply without a thread: the event loop watches the pipe."""
        loop = asyncio.get_running_loop()
        readable = loop.create_future()
        fd = worker.conn.fileno()
        loop.add_reader(fd, _settle, readable, None)
        timer = loop.call_later(timeout, _settle, readable, asyncio.TimeoutError())   # wait_for's work, more cheaply
        try:
            await readable
        finally:
            timer.cancel()
            loop.remove_reader(fd)
            # uvloop leaves the descriptor non-blocking: a reply sent in two writes (over 16 KiB)
            # would then fail half-read with BlockingIOError and pass for a crashed worker
            os.set_blocking(fd, True)

    async def _worker(self) -> _Worker:
        """An idle, live worker, waiting `queue_wait` at most; the query has not been sent yet."""
        deadline = self._loop.time() + self.queue_wait
        while True:
            if not self._idle.empty() and not self._waiting:
                worker = self._idle.get_nowait()    # the usual case: no task and no timer (first come, first served)
            else:
                self._waiting += 1
                try:
                    worker = await asyncio.wait_for(self._idle.get(), max(deadline - self._loop.time(), 0.01))
                except asyncio.TimeoutError:
                    raise Refused(503, "all query workers are busy; retry shortly") from None
                finally:
                    self._waiting -= 1
            if not worker.dead:
                worker.busy = True
                return worker

    vets_queries = True     # the workers run the guard's checks (endpoint._answer leaves them to us)

    async def answer(self, query: str, choice: Choice, explicit_dataset: tuple[bool, bool] = (False, False)) -> Answer:
        """Vet the query and answer it in the media type `choice` takes for its form (Answer.media_type);
        a query the guard refuses, or a form the request takes no media type for, is Refused."""
        self._in_flight += 1
        answer = None
        try:
            answer = await self._run(query, choice, explicit_dataset)
            return answer
        finally:
            if answer is None or answer.stream is None:     # a stream counts until it is closed
                self._in_flight -= 1

    async def _sent(self, request) -> _Worker:
        """A live worker, the request sent to it."""
        while True:
            worker = await self._worker()
            try:
                worker.conn.send(request)
                return worker
            except OSError:     # it died before the query reached it: the query never ran, try another
                self._release(worker, healthy=False)

    async def _killed_from_outside(self, worker: _Worker) -> bool:
        """Whether a worker that stopped answering was killed by SIGKILL, not by us: an operator's
        `kill -9` (or the OOM killer) as the query reached it, which is no fault of the query's.
        Its fork server reports the exit status (within a second, or we do not wait longer)."""
        if worker.pidfd is None or worker.killed:   # without a pidfd, the sentinel is the supervisor's
            return False
        loop = asyncio.get_running_loop()
        reported = loop.create_future()
        try:
            fd = worker.process.sentinel
            loop.add_reader(fd, lambda: reported.done() or reported.set_result(None))
        except (ValueError, OSError):
            return False
        try:
            await asyncio.wait_for(reported, 1.0)
        except asyncio.TimeoutError:
            return False
        finally:
            loop.remove_reader(fd)
        return worker.process.exitcode == -signal.SIGKILL and not worker.killed

    async def _run(self, query: str, choice: Choice, explicit_dataset: tuple[bool, bool]) -> Answer:
        request = (query, choice, explicit_dataset, self.limits)
        retried = False
        while True:
            worker = await self._sent(request)
            started = time.monotonic()
            try:
                await self._readable(worker, self.timeout)
                reply = worker.conn.recv()
            except asyncio.TimeoutError:
                reply = ("timeout",)
            except (OSError, EOFError):
                if time.monotonic() - started >= self.timeout:
                    # killed by its own alarm just after the limit, on a machine too busy to notice first
                    reply = ("timeout",)
                elif not retried and await self._killed_from_outside(worker):
                    self._release(worker, healthy=False)
                    retried = True      # the query once more, on another worker
                    continue
                else:
                    reply = ("crashed",)
            except BaseException:   # cancelled (the server is stopping): the pipe is in an unknown state
                self._release(worker, healthy=False)
                raise
            break
        if reply[0] in ("timeout", "crashed"):
            self._release(worker, healthy=False)   # killed at once (the CPU is freed) and replaced
            if reply[0] == "timeout":
                raise Refused(503, f"query stopped: it ran longer than the {self.timeout:g} s limit")
            raise Refused(503, "query stopped: its worker ran out of memory or crashed; retry shortly")
        if reply[0] == "stream":
            return Answer(b"", reply[2], Stream(self, worker, reply[1], reply[2], reply[3]), reply[4])
        self._release(worker, healthy=True)
        if reply[0] == "error":
            raise Refused(reply[1], reply[2])
        return Answer(reply[1], reply[2], None, reply[3], reply[4])
