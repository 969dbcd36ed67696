"""Queries run in the serving process itself, on threads (`serve --processes`, prefork.py).

The engine lets other threads run while it evaluates, so a few queries run side by side with the
event loop that serves HTTP, and a query costs no hop to another process. What it cannot do is
stop a query: one that passes its time limit is answered 503 at once, its thread runs on, and the
process is retired (`on_overrun`: prefork.py stops it accepting and ends it within moments, the
supervisor having started a fresh one in its place).

The same checks and writers as the query workers (workers._vet_and_evaluate): the guard, the
engine, answers bounded in rows and bytes. An answer is at most `max_bytes` and is returned whole.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable

from ftz_kg.query.guard import Refused
from ftz_kg.web.conneg import Choice, strong_etag
from ftz_kg.web.workers import ALARM_GRACE, MAX_BYTES, Answer, Limits, _vet_and_evaluate


def _answer(store, query: str, choice: Choice, explicit_dataset, limits: Limits) -> tuple:
    """On a query thread: the reply of a query worker, with the answer's ETag (hashed off the event loop)."""
    reply = _vet_and_evaluate(store, query, choice, explicit_dataset, limits)
    return reply + (strong_etag(reply[1]),) if reply[0] == "ok" else reply


def _settle(future: asyncio.Future, outcome, slots: asyncio.Semaphore | None = None) -> None:
    """On the event loop: the waiting request's outcome (a finished thread's, or the timeout);
    a finished thread's slot is free again, whoever stopped waiting."""
    if slots is not None:
        slots.release()
    if future.done():
        return
    if isinstance(outcome, concurrent.futures.Future):
        if outcome.cancelled():
            future.cancel()
        elif outcome.exception() is not None:
            future.set_exception(outcome.exception())
        else:
            future.set_result(outcome.result())
    else:
        future.set_exception(outcome)


class InProcessRunner:
    """The worker pool's interface (endpoint._run) over a store in this process."""

    vets_queries = True     # the guard runs on the query thread, as in a query worker

    def __init__(self, store_of: Callable[[], object], size: int = 2, timeout: float = 10.0,
                 max_rows: int = 10_000, max_bytes: int = MAX_BYTES, queue_wait: float = 2.0,
                 on_overrun: Callable[[], None] | None = None):
        """`store_of` gives the store once the process serves (a store forked from the supervisor's,
        or one opened afresh); `size`: queries at once in this process."""
        self.store_of = store_of
        self.size = size
        self.timeout = timeout
        self.queue_wait = queue_wait
        self.limits = Limits(max_rows, max_bytes, max_bytes, timeout + ALARM_GRACE)
        self.on_overrun = on_overrun
        self.overrun = False    # a query ran over its time limit: its thread is still running
        self._store = None
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._slots: asyncio.Semaphore | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._store = self.store_of()
        self._executor = concurrent.futures.ThreadPoolExecutor(self.size, thread_name_prefix="query")
        self._slots = asyncio.Semaphore(self.size)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)

    @property
    def ready(self) -> bool:
        """Serving, and not being retired for a query that ran over."""
        return self._store is not None and not self.overrun

    async def answer(self, query: str, choice: Choice, explicit_dataset: tuple[bool, bool] = (False, False)) -> Answer:
        reply = await self._run(query, choice, explicit_dataset)
        if reply[0] == "error":
            raise Refused(reply[1], reply[2])
        return Answer(reply[1], reply[2], None, reply[3], reply[4])

    async def _run(self, query: str, choice: Choice, explicit_dataset) -> tuple:
        if self._slots.locked():
            try:
                await asyncio.wait_for(self._slots.acquire(), self.queue_wait)
            except asyncio.TimeoutError:
                raise Refused(503, "all query workers are busy; retry shortly") from None
        else:
            await self._slots.acquire()
        running = self._executor.submit(_answer, self._store, query, choice, explicit_dataset, self.limits)
        outcome = self._loop.create_future()

        def finished(done) -> None:
            try:
                self._loop.call_soon_threadsafe(_settle, outcome, done, self._slots)
            except RuntimeError:    # the event loop is closed: the process is stopping
                pass
        running.add_done_callback(finished)
        timer = self._loop.call_later(self.timeout, _settle, outcome, asyncio.TimeoutError())
        try:
            return await outcome
        except asyncio.TimeoutError:
            self.overrun = True
            if self.on_overrun is not None:
                self.on_overrun()
            raise Refused(503, f"query stopped: it ran longer than the {self.timeout:g} s limit") from None
        finally:
            timer.cancel()
