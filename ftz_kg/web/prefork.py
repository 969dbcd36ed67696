"""`serve --processes N`: HTTP served by N processes that each run their queries themselves.

The default server hands every query from its one web process to a query worker, so that a query
over its time limit can be killed; the hop costs about as much as the cheapest queries themselves
(benchmarks/serve_ceiling.py). Here a supervisor loads the graph and builds the app once, then
forks N serving processes that accept on one shared socket (the prefork model) and run queries on
threads of their own (inprocess.py); copy-on-write, they share the loaded graph and store.

- **Time limit.** A query over its limit is answered 503 at once; its process stops accepting,
  tells the supervisor, which forks a replacement, and ends within RETIRE_GRACE seconds (the
  supervisor kills it, should it not). Requests that process was still answering get their
  answers if they finish within that grace, else their connections close.
- **Supervision.** A serving process that dies is replaced; all of them die with the supervisor
  (PR_SET_PDEATHSIG). Each has an address-space cap of what it was forked with plus
  workers.WORKER_MEMORY: an allocation over it fails, or ends that process, which is replaced.
- **Reload.** SIGHUP to the supervisor, or POST /admin/reload to any serving process: the
  supervisor loads and validates the graph and builds the app, then forks a new generation, whose
  processes start but do not accept yet. Once they are all ready, the old generation stops
  accepting (closing its idle connections; the requests it is answering are finished, within the
  time limit), and only then do the new processes accept: each request is answered wholly from one
  graph, and none sent after the switch from the old one. A reload that fails keeps the old
  generation serving. While the supervisor loads it replaces no process; a request to reload that
  arrives meanwhile is answered "busy" (409).

Messages between the supervisor and a serving process are lines on a socket pair: READY (started,
waiting), GO (accept), STOP (stop accepting), STOPPED, RETIRING (ran over), RELOAD, and the reload's
outcome as a line of JSON.
"""

from __future__ import annotations

import asyncio
import json
import logging
import mmap
import os
import resource
import selectors
import signal
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ftz_kg.web.reloading import BUSY, public_outcome

log = logging.getLogger("ftz_kg.reload")

READY, GO, STOP, STOPPED, RETIRING, RELOAD = (b"ready\n", b"go\n", b"stop\n", b"stopped\n", b"retiring\n",
                                              b"reload\n")
RETIRE_GRACE = 2.0          # seconds a process that ran over a time limit has to finish its other requests
STOP_ACKNOWLEDGE = 5.0      # seconds an old process has to stop accepting before it is killed
STOP_GRACE = 5.0            # seconds serving processes have to end when the server stops
STATUS_BYTES = 8192         # the last load's outcome, as /healthz shows it
RESPAWN_PAUSE = 0.5         # seconds before replacing a process that died as it started


class SharedStatus:
    """The last load's outcome: written by the supervisor, read by every serving process (an
    anonymous shared mapping, inherited across fork)."""

    def __init__(self):
        self._map = mmap.mmap(-1, STATUS_BYTES)

    def write(self, outcome: dict) -> None:
        data = json.dumps(outcome, ensure_ascii=False).encode("utf-8")
        if len(data) > STATUS_BYTES - 4:
            reason = outcome.get("reason", "")[:STATUS_BYTES // 8] + "…"
            data = json.dumps({**outcome, "reason": reason}, ensure_ascii=False).encode("utf-8")
        self._map[0:4] = struct.pack("<I", 0)       # a reader meanwhile sees no outcome and tries again
        self._map[4:4 + len(data)] = data
        self._map[0:4] = struct.pack("<I", len(data))

    def read(self) -> dict:
        for _ in range(100):
            (length,) = struct.unpack("<I", self._map[0:4])
            if length:
                try:
                    return json.loads(self._map[4:4 + length])
                except ValueError:  # written over as we read
                    pass
            time.sleep(0.001)
        return {"status": "unknown"}


def _received(sock: socket.socket) -> bytes | None:
    """What a non-blocking socket has for us: None when nothing yet, b"" when the other end is gone."""
    try:
        return sock.recv(65536)
    except (BlockingIOError, InterruptedError):
        return None
    except OSError:
        return b""


class Channel:
    """A serving process's end of its socket pair with the supervisor, read on the event loop."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.on_stop: Callable[[], None] = lambda: None
        self._replies: asyncio.Queue | None = None
        self._buffer = b""

    def send(self, line: bytes) -> None:
        try:
            self.sock.sendall(line)
        except OSError:
            pass

    def wait_for_go(self) -> bool:
        """Block until the supervisor says to accept (before the event loop serves anything)."""
        self.sock.setblocking(True)
        while True:
            line = self._line_blocking()
            if line is None:
                return False
            if line == GO:
                return True

    def _line_blocking(self) -> bytes | None:
        while b"\n" not in self._buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                return None
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line + b"\n"

    def listen(self, loop: asyncio.AbstractEventLoop) -> None:
        self._replies = asyncio.Queue()
        self.sock.setblocking(False)
        loop.add_reader(self.sock.fileno(), self._readable)

    def _readable(self) -> None:
        chunk = _received(self.sock)
        if chunk is None:
            return
        if not chunk:       # the supervisor is gone (the kernel ends this process too)
            asyncio.get_running_loop().remove_reader(self.sock.fileno())
            self._replies.put_nowait(None)
            return
        self._buffer += chunk
        while b"\n" in self._buffer:
            line, self._buffer = self._buffer.split(b"\n", 1)
            if line + b"\n" == STOP:
                self.on_stop()
            elif line.startswith(b"{"):
                self._replies.put_nowait(json.loads(line))

    async def reply(self) -> dict | None:
        return await self._replies.get()


class ParentReloader:
    """A serving process's reloader (reloading.Reloader's interface): the supervisor reloads."""

    def __init__(self, status: SharedStatus):
        self.status = status
        self.channel: Channel | None = None     # set in the serving process
        self._lock: asyncio.Lock | None = None

    @property
    def last(self) -> dict:
        return self.status.read()

    def public(self) -> dict:
        return public_outcome(self.status.read())

    async def reload(self) -> dict:
        if self._lock is None:
            self._lock = asyncio.Lock()
        if self._lock.locked():
            return dict(BUSY)
        async with self._lock:
            self.channel.send(RELOAD)
            outcome = await self.channel.reply()
            return outcome if outcome is not None else {"status": "failed", "reason": "the server is stopping"}


@dataclass
class Child:
    pid: int
    control: socket.socket
    generation: int
    ready: bool = False                     # started, waiting for GO
    accepting: bool = False                 # told GO, and not yet stopped
    retiring_since: float | None = None     # ran over a time limit: ending
    stopping_since: float | None = None     # an old generation's, told to stop accepting
    stopped: bool = False                   # acknowledged: accepts no more
    buffer: bytes = b""


def _now() -> str:
    import datetime
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


class Supervisor:
    """Forks and watches the serving processes; reloads. Runs in the main process, single-threaded
    (nothing here starts a thread, so forking is safe)."""

    def __init__(self, listener: socket.socket, processes: int, build: Callable[[object], object],
                 load: Callable[[], object], loaded, serve: Callable[..., None], status: SharedStatus,
                 drain_seconds: float):
        """`build(loaded)` makes the app of a loaded graph; `serve(app, listener, channel)` runs one
        serving process and does not return; `drain_seconds`: what a stopping process may take to
        finish its requests before it is killed."""
        self.listener = listener
        self.processes = processes
        self.build = build
        self.load = load
        self.loaded = loaded
        self.serve = serve
        self.status = status
        self.drain_seconds = drain_seconds
        self.app = build(loaded)
        self.generation = 0
        self.children: dict[int, Child] = {}
        self.selector = selectors.DefaultSelector()
        self._reload_wanted = False
        self._asked: list[Child] = []           # processes waiting for a reload's outcome
        self._switch: dict | None = None        # a reload's outcome, told once the new generation accepts
        self._stop = False
        self._next_fork = 0.0
        self._settle_old: list[Callable[[], None]] = []     # run once the old generation is gone
        self.status.write({"status": "loaded", "at": _now(), "triples": loaded.triples})

    # ------------------------------------------------------------------ processes

    def _fork(self) -> None:
        parent_end, child_end = socket.socketpair()
        pid = os.fork()
        if pid == 0:    # pragma: no cover - the serving process
            try:
                parent_end.close()
                for child in self.children.values():
                    child.control.close()
                self.selector.close()
                signal.set_wakeup_fd(-1)
                for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
                    signal.signal(sig, signal.SIG_DFL)
                signal.signal(signal.SIGHUP, signal.SIG_IGN)     # a reload is the supervisor's
                self.serve(self.app, self.listener, Channel(child_end))
            finally:
                os._exit(0)
        child_end.close()
        parent_end.setblocking(False)
        self.children[pid] = Child(pid, parent_end, self.generation)
        self.selector.register(parent_end, selectors.EVENT_READ, pid)

    def _current(self) -> list[Child]:
        return [c for c in self.children.values() if c.generation == self.generation and c.retiring_since is None]

    def _top_up(self) -> None:
        """As many serving processes of the current generation as asked for; after one died as it
        started, only RESPAWN_PAUSE later (not a tight loop of forks)."""
        while not self._stop and len(self._current()) < self.processes and time.monotonic() >= self._next_fork:
            self._fork()

    def _send(self, child: Child, line: bytes) -> None:
        try:
            child.control.setblocking(True)
            child.control.sendall(line)
        except OSError:
            pass
        finally:
            child.control.setblocking(False)

    def _signal(self, child: Child, sig: int) -> None:
        try:
            os.kill(child.pid, sig)
        except ProcessLookupError:
            pass

    def _reap(self) -> None:
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            child = self.children.pop(pid, None)
            if child is None:
                continue
            if not child.ready and not self._stop:
                self._next_fork = time.monotonic() + RESPAWN_PAUSE
            if child in self._asked:
                self._asked.remove(child)
            try:
                self.selector.unregister(child.control)
            except (KeyError, ValueError):
                pass
            child.control.close()

    def _messages(self, timeout: float) -> None:
        for key, _ in self.selector.select(timeout):
            if key.data is None:        # the signal wake-up pipe
                try:
                    while os.read(key.fd, 512):
                        pass
                except BlockingIOError:
                    pass
                continue
            child = self.children.get(key.data)
            if child is None:
                continue
            data = _received(child.control)
            if data is None:
                continue
            if not data:
                self.selector.unregister(child.control)
                continue
            child.buffer += data
            while b"\n" in child.buffer:
                line, child.buffer = child.buffer.split(b"\n", 1)
                self._message(child, line + b"\n")

    def _message(self, child: Child, line: bytes) -> None:
        if line == READY:
            child.ready = True
        elif line == STOPPED:
            child.stopped = True
        elif line == RETIRING:
            child.retiring_since = time.monotonic()
        elif line == RELOAD:
            self._reload_wanted = True
            self._asked.append(child)

    def _old_accepting(self) -> list[Child]:
        return [c for c in self.children.values() if c.generation < self.generation and not c.stopped]

    def _watch(self) -> None:
        """Move the generations along: stop the old once the new is ready, let the new accept once
        the old has stopped; kill what should have ended by now."""
        now = time.monotonic()
        current = self._current()
        if len(current) >= self.processes and all(c.ready for c in current):
            for child in self._old_accepting():
                if child.stopping_since is None:
                    child.stopping_since = now
                    self._send(child, STOP)
        old_accepting = self._old_accepting()
        if not old_accepting:
            for child in current:
                if child.ready and not child.accepting:
                    child.accepting = True
                    self._send(child, GO)
            if self._switch is not None and all(c.accepting for c in current) and len(current) >= self.processes:
                self._switched()
        for child in list(self.children.values()):
            if child.retiring_since is not None and now - child.retiring_since > RETIRE_GRACE:
                self._signal(child, signal.SIGKILL)
            elif child.stopping_since is not None and not child.stopped and now - child.stopping_since > STOP_ACKNOWLEDGE:
                self._signal(child, signal.SIGKILL)
            elif child.stopping_since is not None and now - child.stopping_since > self.drain_seconds:
                self._signal(child, signal.SIGKILL)
        if self._settle_old and not any(c.generation < self.generation for c in self.children.values()):
            for settle in self._settle_old:
                settle()
            self._settle_old = []

    # ------------------------------------------------------------------ reload

    def _reload(self) -> None:
        """Load, validate and build the new generation's app; on failure keep the old one."""
        from ftz_kg.errors import FtzKgError
        asked, self._asked = self._asked, []
        try:
            loaded = self.load()
            app = self.build(loaded)
        except (FtzKgError, RuntimeError, OSError) as error:
            outcome = {"status": "failed", "at": _now(), "reason": str(error), "serving_triples": self.loaded.triples}
            log.warning(json.dumps({"event": "reload", **outcome}, ensure_ascii=False))
            self.status.write(outcome)
            self._tell(asked, outcome)
            return
        if self.loaded.settled:
            self._settle_old.append(self.loaded.settled)
        self.loaded, self.app = loaded, app
        self.generation += 1
        self._switch = {"asked": asked, "outcome": {"status": "reloaded", "at": _now(), "triples": loaded.triples}}
        _settle_heap()

    def _reload_round(self) -> None:
        """Reload for whoever asked; those who asked while it ran are told "busy"."""
        self._reload_wanted = False
        self._reload()
        self._messages(0)
        self._tell(self._asked, BUSY)
        self._asked = []
        self._reload_wanted = False

    def _switched(self) -> None:
        """The new generation accepts and the old one no longer does: the reload is done."""
        outcome = self._switch["outcome"]
        log.info(json.dumps({"event": "reload", **outcome}))
        self.status.write(outcome)
        self._tell(self._switch["asked"], outcome)
        self._switch = None

    def _tell(self, asked: list[Child], outcome: dict) -> None:
        line = json.dumps(outcome, ensure_ascii=False).encode("utf-8") + b"\n"
        for child in asked:
            if child.pid in self.children:
                self._send(child, line)

    # ------------------------------------------------------------------ main loop

    def run(self) -> None:
        wake_read, wake_write = os.pipe()
        os.set_blocking(wake_read, False)
        os.set_blocking(wake_write, False)
        self.selector.register(wake_read, selectors.EVENT_READ, None)
        signal.set_wakeup_fd(wake_write)
        signal.signal(signal.SIGHUP, lambda *_: setattr(self, "_reload_wanted", True))
        signal.signal(signal.SIGTERM, lambda *_: setattr(self, "_stop", True))
        signal.signal(signal.SIGINT, lambda *_: setattr(self, "_stop", True))
        signal.signal(signal.SIGCHLD, lambda *_: None)     # wakes the loop
        _settle_heap()
        try:
            while not self._stop:
                self._reap()
                self._top_up()
                self._messages(0.25)
                if self._reload_wanted and self._switch is None and not self._stop:
                    self._reload_round()
                self._watch()
        finally:
            self._stop_all()

    def _stop_all(self) -> None:
        for child in self.children.values():
            if not child.accepting:     # still waiting for GO: the channel's end lets it exit
                child.control.close()
            self._signal(child, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        while self.children and time.monotonic() < deadline:
            self._reap()
            time.sleep(0.05)
        for child in list(self.children.values()):
            self._signal(child, signal.SIGKILL)
        while self.children:
            self._reap()
            time.sleep(0.01)


def _settle_heap() -> None:
    """Before forking: everything alive now out of the collector's view, so that a collection in a
    serving process does not walk (and copy) the pages of the graph shared with the supervisor."""
    import gc
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(2048)
    return listener


# ---------------------------------------------------------------------- in a serving process

def cap_memory(extra: int) -> None:  # pragma: no cover - runs in a serving process
    """Cap the address space at what this process has now (shared with the supervisor) plus `extra`."""
    try:
        with open("/proc/self/statm") as statm:
            size = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return
    try:
        resource.setrlimit(resource.RLIMIT_AS, (size + extra, size + extra))
    except (ValueError, OSError):
        pass


def run_serving_process(app, listener: socket.socket, channel: Channel, config_options: dict,
                        runner) -> None:  # pragma: no cover - runs in a serving process
    """Serve the app on the shared socket until told to stop, or until a query runs over."""
    import uvicorn

    from ftz_kg.web.workers import WORKER_MEMORY, _die_with_parent

    _die_with_parent()
    cap_memory(WORKER_MEMORY)
    server = uvicorn.Server(uvicorn.Config(app, **config_options))

    def stop_accepting() -> None:
        """No new connection, no new request: idle connections are closed, busy ones once answered."""
        for listening in getattr(server, "servers", []):
            listening.close()
        for connection in list(server.server_state.connections):
            connection.shutdown()
        server.should_exit = True

    def on_stop() -> None:
        stop_accepting()
        channel.send(STOPPED)

    def retire() -> None:
        """A query ran over: its thread cannot be stopped, so the process ends, briefly after."""
        channel.send(RETIRING)
        stop_accepting()
        threading.Timer(RETIRE_GRACE * 0.75, os._exit, (0,)).start()

    def started(app) -> None:
        """The app has started: say so, and accept once the supervisor says (after a reload, once
        the old generation no longer accepts)."""
        channel.send(READY)
        if not channel.wait_for_go():
            os._exit(0)
        channel.on_stop = on_stop
        channel.listen(asyncio.get_running_loop())

    runner.on_overrun = retire
    app.state.startup_hooks.append(started)
    # the supervisor froze the heap before forking: a collection here would walk the shared graph's
    # objects and so copy every page of it into this process
    app.state.heap_settled = True
    reloader = getattr(app.state, "reloader", None)
    if isinstance(reloader, ParentReloader):
        reloader.channel = channel
    server.run(sockets=[listener])
    os._exit(0)
