"""Where `ftz-kg serve`'s uncached throughput goes: the product against servers that leave out
part of its work, and Oxigraph's server, in interleaved rounds (issue 21, item 5).

Every query of `ftz-kg serve` crosses two processes: the web process (uvicorn, Starlette, the
endpoint) hands it to a query worker, which vets it (guard.py) and runs it, so that a query over
its time limit can be killed. The servers measured here run the same store and queries without
that hop, in processes that each accept connections on one shared socket (the prefork model) and
evaluate in process, with no time limit, no result cache and no worker to kill:

- `prefork-engine`: a bare ASGI app under uvicorn: the engine and its JSON writer, nothing else;
- `prefork-guard`: the same with the guard's checks before the engine, as the query workers run
  them (guard.vet: remembered by the query's shape);
- `prefork-starlette`: the same behind Starlette's router with the endpoint's two middlewares
  (security headers, CORS), its strict query-string parser and content negotiation.

None of them is a server to use: each shows what one layer costs, and what the prefork model
could reach at best. Beside them, `ftz-kg serve --processes N` (the prefork model in the product:
a time limit, the result cache, the pages; `--processes 2,4`, or N:W for `--workers W` too).
Loads each with wrk as `serve_load.py` does (every request distinct), rounds interleaved so that
a machine whose speed drifts treats all alike; prints medians and the ratio to Oxigraph's server.

    python benchmarks/serve_ceiling.py [--rounds 3] [--seconds 3] [--queries zones-by-batch,...]
        [--processes 2,4] [--layers engine,guard,starlette] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from serve_load import WRK_SCRIPT, free_port, stop_servers, wait_ready, wrk  # noqa: E402

DEFAULT_QUERIES = ["zones-by-batch", "experiences-by-agency", "parallel-approval"]
LAYERS = ("engine", "guard", "starlette")
JSON_RESULTS = "application/sparql-results+json"


def _asgi_app(store, guard: bool):
    """The engine behind a bare ASGI callable: query string in, SPARQL JSON out."""
    import pyoxigraph as ox

    from ftz_kg.query.guard import vet
    from ftz_kg.web import querystring
    from ftz_kg.web.workers import QUERY_BASE

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        query = querystring.parse(scope["query_string"])["query"][0]
        if guard:
            vet(query)
        body = _select(store, ox, query, QUERY_BASE)
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", JSON_RESULTS.encode()), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
    return app


def _starlette_app(store):
    """The engine behind what the endpoint's web process runs per request, short of the worker hop."""
    import pyoxigraph as ox
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.cors import CORSMiddleware
    from starlette.responses import Response
    from starlette.routing import Route

    from ftz_kg.query.guard import vet
    from ftz_kg.web import querystring
    from ftz_kg.web.conneg import choice_for
    from ftz_kg.web.security import SecurityHeaders
    from ftz_kg.web.workers import QUERY_BASE

    async def sparql(request):
        query = querystring.parse(request.scope["query_string"])["query"][0]
        media_type, _ = choice_for(request.headers.get("accept")).pick(vet(query).form)
        body = _select(store, ox, query, QUERY_BASE)
        return Response(body, 200, headers={"Vary": "Accept"}, media_type=media_type)

    return Starlette(routes=[Route("/sparql", sparql, methods=["GET", "POST", "HEAD"])],
                     middleware=[Middleware(SecurityHeaders), Middleware(CORSMiddleware, allow_origins=["*"])])


def _select(store, ox, query: str, base: str) -> bytes:
    from ftz_kg.query.bounded import CappedBuffer

    results = store.query(query, base_iri=base, use_default_graph_as_union=True)
    buffer = CappedBuffer(16 * 1024 ** 2)
    results.serialize(buffer, format=ox.QueryResultsFormat.JSON)
    return buffer.getvalue()


def serve_prefork(ntriples: Path, port: int, processes: int, layer: str) -> None:
    """Run `processes` uvicorn servers on one listening socket until terminated."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(1024)
    children = []
    for _ in range(processes):
        pid = os.fork()
        if pid == 0:    # pragma: no cover - the child
            _serve_child(listener, ntriples, layer)
            os._exit(0)
        children.append(pid)

    def stop(*_):
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        os._exit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for _ in children:
        os.wait()


def _serve_child(listener: socket.socket, ntriples: Path, layer: str) -> None:
    import uvicorn

    from ftz_kg.web.workers import _die_with_parent, _open

    _die_with_parent()
    store = _open(ntriples.read_bytes())     # a store of its own, loaded as each query worker loads it
    app = _starlette_app(store) if layer == "starlette" else _asgi_app(store, guard=layer == "guard")
    config = uvicorn.Config(app, log_level="error", access_log=False, http="httptools", loop="uvloop")
    uvicorn.Server(config).run(sockets=[listener])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--queries", default=",".join(DEFAULT_QUERIES))
    parser.add_argument("--json", type=Path)
    parser.add_argument("--processes", default="2,4",
                        help="comma-separated: also measure `ftz-kg serve --processes N` for each N, or N:W for "
                             "`--processes N --workers W` (empty: none)")
    parser.add_argument("--layers", default=",".join(LAYERS), help="the prefork layers to measure (empty: none)")
    parser.add_argument("--serve", nargs=4, metavar=("NTRIPLES", "PORT", "PROCESSES", "LAYER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_prefork(Path(args.serve[0]), int(args.serve[1]), int(args.serve[2]), args.serve[3])
        return 0
    for tool in ("wrk", "oxigraph"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is missing: apt-get install wrk; pip install oxigraph")

    from ftz_kg.pipeline.build import build
    from ftz_kg.query.binding import bind
    from ftz_kg.query.catalogue import Catalogue
    from ftz_kg.query.store import OxigraphEngine
    from ftz_kg.web.workers import default_count

    graph = build().graph
    catalogue = Catalogue.load()
    lookup = OxigraphEngine(graph)
    work = Path(tempfile.mkdtemp(prefix="ftz-ceiling-"))
    ntriples, turtle, script = work / "graph.nt", work / "graph.ttl", work / "bust.lua"
    ntriples.write_bytes(graph.serialize(format="nt", encoding="utf-8"))
    turtle.write_bytes(graph.serialize(format="turtle", encoding="utf-8"))
    script.write_text(WRK_SCRIPT)
    subprocess.run(["oxigraph", "load", "--location", str(work / "oxigraph"), "--file", str(ntriples)],
                   check=True, capture_output=True)
    processes = default_count()     # as many as `ftz-kg serve` starts query workers
    layers = [layer for layer in args.layers.split(",") if layer]
    counts = {f"serve --processes {n.replace(':', ' --workers ')}": n.split(":") for n in args.processes.split(",") if n}
    names = ("ftz-kg serve", *counts, *(f"prefork-{layer}" for layer in layers), "oxigraph")
    ports = {name: free_port() for name in names}
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    servers = {"ftz-kg serve": subprocess.Popen([sys.executable, "-m", "ftz_kg.cli", "serve", "--graph", str(turtle),
                                                 "--port", str(ports["ftz-kg serve"])], env=env, **quiet)}
    for name, (n, *w) in counts.items():
        servers[name] = subprocess.Popen([sys.executable, "-m", "ftz_kg.cli", "serve", "--graph", str(turtle),
                                          "--processes", n, *(["--workers", w[0]] if w else []),
                                          "--port", str(ports[name])], env=env, **quiet)
    for layer in layers:
        servers[f"prefork-{layer}"] = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(ntriples), str(ports[f"prefork-{layer}"]), str(processes), layer],
            env=env, **quiet)
    servers["oxigraph"] = subprocess.Popen(["oxigraph", "serve-read-only", "--location", str(work / "oxigraph"),
                                            "--bind", f"127.0.0.1:{ports['oxigraph']}"], **quiet)
    endpoints = {name: f"http://127.0.0.1:{port}/{'query' if name == 'oxigraph' else 'sparql'}"
                 for name, port in ports.items()}
    rows = []
    try:
        for name, process in servers.items():
            wait_ready(endpoints[name], process)
        for name in args.queries.split(","):
            query = catalogue.get(name)
            text = bind(query, query.example_values(), lookup)
            busted = {server: f"{endpoint}?query={quote(text + chr(10) + '# BUST', safe='')}"
                      for server, endpoint in endpoints.items()}
            for url in busted.values():    # warm-up, discarded
                wrk(url, JSON_RESULTS, 2, script)
            runs: dict[str, list[float]] = {server: [] for server in servers}
            for round_ in range(args.rounds):
                order = list(servers) if round_ % 2 == 0 else list(servers)[::-1]
                for server in order:
                    result = wrk(busted[server], JSON_RESULTS, args.seconds, script)
                    if result["errors"]:
                        raise RuntimeError(f"{server} answered {result['errors']} requests with an error on {name}")
                    runs[server].append(result["rps"])
            rows.append({"query": name, "rps": runs})
            print(f"measured {name}", file=sys.stderr)
    finally:
        stop_servers(servers.values(), work)

    print(f"{len(graph)} triples; {processes} processes (prefork) or query workers (ftz-kg serve); wrk -t2 -c4, "
          f"{args.rounds} interleaved rounds of {args.seconds} s; median requests/s (ratio to Oxigraph's server)")
    width = max(len(r["query"]) for r in rows)
    print(f"{'query':<{width}}  " + "  ".join(f"{server:>20}" for server in servers))
    for row in rows:
        medians = {server: statistics.median(v) for server, v in row["rps"].items()}
        cells = [f"{medians[s]:>11.0f} ({medians[s] / medians['oxigraph']:.2f}x)" for s in servers]
        print(f"{row['query']:<{width}}  " + "  ".join(f"{c:>20}" for c in cells))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
