"""Reload the served graph without a restart: on SIGHUP, or POST /admin/reload from this host.

The new graph is loaded and validated beside the old one and its query workers are started;
only then does the app switch over, in one synchronous step of the event loop, so each response
is computed wholly from the old graph or wholly from the new one. A reload that fails (unreadable
input, a graph that does not validate, workers that do not start) keeps the old graph, logs why
and, for the admin request, answers why. The old workers finish the queries they are running
before they are stopped.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import logging
import re
import signal
from collections.abc import Callable
from dataclasses import dataclass

from rdflib import Graph
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ftz_kg.web import endpoint
from ftz_kg.web import linkeddata
from ftz_kg.errors import FtzKgError
from ftz_kg.query.guard import Refused

log = logging.getLogger("ftz_kg.reload")
BUSY = {"status": "busy", "reason": "a reload is already running"}     # a reload asked for while one runs
LOCAL_CLIENTS = {"127.0.0.1", "::1", "localhost"}


@dataclass
class Loaded:
    """A graph ready to serve: validated, with what answers queries over it."""

    graph: Graph             # for pages and dumps: in memory, or read through the store directory
    source: bytes | str      # for local query workers: N-Triples, or a store directory version's path;
    #                          empty when `runner` is given
    lookup: object           # resolves canned-query parameters
    triples: int
    runner: object | None = None   # a ready query runner (serve --store); else workers are started
    settled: Callable[[], None] | None = None   # run once nothing reads the previous graph any more
    text_index_file: object | None = None       # where the text index is kept (serve --store-dir); else in memory
    dashboard_file: object | None = None        # where the home page's figures are kept (serve --store-dir)


class Reloader:
    def __init__(self, app, load: Callable[[], Loaded], ontology: Graph, shapes: Graph):
        self.app = app
        self.load = load
        self.ontology = ontology
        self.shapes = shapes
        self._lock: asyncio.Lock | None = None
        self.last = {"status": "loaded", "at": _now(), "triples": app.state.triples}

    async def reload(self) -> dict:
        """Load, validate and switch; on failure keep the old graph. Returns the outcome."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        if self._lock.locked():
            return dict(BUSY)
        async with self._lock:
            settings = self.app.state.settings
            try:
                loaded = await asyncio.to_thread(self.load)
                prepared = await asyncio.to_thread(linkeddata.prepare, loaded.graph, self.ontology, self.shapes,
                                                   loaded.text_index_file, loaded.dashboard_file)
                examples = endpoint.lazy_examples(self.app.state.catalogue, loaded.lookup)
                runner = loaded.runner or endpoint.worker_pool(loaded.source, settings)
                await runner.start_async()
            except (FtzKgError, RuntimeError, OSError) as error:
                self.last = {"status": "failed", "at": _now(), "reason": str(error),
                             "serving_triples": self.app.state.triples}
                log.warning(json.dumps({"event": "reload", **self.last}, ensure_ascii=False))
                return self.last
            old = self.app.state.pool
            # the switch: no await from here to the end of the block
            endpoint.switch_graph(self.app, runner, loaded.triples, loaded.lookup, examples)
            linkeddata.apply(self.app, prepared)
            linkeddata.warm_dashboard(self.app)
            self.last = {"status": "reloaded", "at": _now(), "triples": loaded.triples}
            log.info(json.dumps({"event": "reload", **self.last}))
            asyncio.get_running_loop().create_task(self._retire(old, loaded, settings.timeout + 1))
            return self.last

    def public(self) -> dict:
        """The last load as /healthz shows it to anyone (see public_outcome)."""
        return public_outcome(self.last)

    @staticmethod
    async def _retire(old, loaded: Loaded, timeout: float) -> None:
        """Let the old workers finish, then release what the old graph held."""
        await old.drain_and_close(timeout)
        endpoint.settle_heap()
        if loaded.settled:
            await asyncio.to_thread(loaded.settled)


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _refusal(request: Request) -> tuple[int, str] | None:
    """Why an admin request is refused, if it is: only a script on this host may reload.

    Browsers mark every request a page makes (`Origin` on POST, `Sec-Fetch-Site`), so a page the
    local user opens cannot trigger a reload; a `Host` other than a loopback name defeats DNS
    rebinding; a body must be JSON, which no cross-site form or simple request can send."""
    client = request.client.host if request.client else ""
    if client not in LOCAL_CLIENTS:
        return 403, "reloading is allowed from this host only"
    if request.headers.get("origin") is not None or request.headers.get("sec-fetch-site", "none") != "none":
        return 403, "reloading is not allowed from a web page (cross-origin request refused)"
    host = request.headers.get("host", "").rsplit(":", 1)[0].strip("[]").lower()
    if host not in LOCAL_CLIENTS and not host.startswith("127."):
        return 403, "reloading is allowed through a loopback address only"
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type not in ("", "application/json"):
        return 415, "the request body, if any, must be application/json"
    return None


async def admin_reload(request: Request) -> Response:
    refused = _refusal(request)
    if refused:
        status, message = refused
        return JSONResponse({"error": {"status": status, "message": message}}, status)
    try:
        body = await endpoint.read_body(request, endpoint.MAX_BODY)
    except Refused as refused:
        return JSONResponse({"error": {"status": refused.status, "message": str(refused)}}, refused.status)
    if body.strip():
        try:
            json.loads(body)
        except ValueError:
            return JSONResponse({"error": {"status": 400, "message": "the request body is not JSON"}}, 400)
    outcome = await request.app.state.reloader.reload()
    status = {"reloaded": 200, "busy": 409}.get(outcome["status"], 422)
    return JSONResponse(outcome, status)


# an absolute path, as error messages name files: /srv/data/ftz-kg.ttl -> ftz-kg.ttl
_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/])/(?:[^/\s:'\"]+/)+(?=[^/\s:'\"]+)")


def public_outcome(outcome: dict) -> dict:
    """The last load as /healthz shows it to anyone: no path of the server's file system."""
    if "reason" not in outcome:
        return outcome
    return {**outcome, "reason": _ABSOLUTE_PATH.sub("", outcome["reason"])}


def install(app, load: Callable[[], Loaded], ontology: Graph, shapes: Graph, reloader=None) -> None:
    """Add POST /admin/reload (before the catch-all page route) and a SIGHUP handler at start; with
    `reloader` (serve --processes: the supervisor reloads, prefork.py), that one and no handler."""
    app.state.reloader = reloader or Reloader(app, load, ontology, shapes)
    app.router.routes.insert(0, Route("/admin/reload", admin_reload, methods=["POST"]))
    if reloader is not None:
        return
    reloader = app.state.reloader

    def on_start(app) -> None:
        loop = asyncio.get_running_loop()
        try:
            loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(reloader.reload()))
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # no signals here (not the main thread, or not POSIX): the admin route still works

    app.state.startup_hooks.append(on_start)
