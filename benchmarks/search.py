"""Text search at 1x and 100x: the text index (ftz_kg/search) against Oxigraph's server running
today's `label-search` canned query on the same data.

For each size (synthetic graphs from benchmarks/synthetic.py; 1x is the real graph) it measures:
- building the index from the graph as `serve --store-dir` holds it (read through its Oxigraph
  store), writing it to its file and opening that file again (a restart);
- the median time of one- and two-word queries, Chinese and English, through the index (in process);
- the same queries over HTTP: GET /search?format=json (the type-ahead) on the site's own route,
  served by uvicorn on loopback with the page cache off, so that every request searches;
- Oxigraph's server (`oxigraph serve-read-only`) answering `label-search` bound to the same texts,
  over HTTP on loopback (it matches one phrase: a two-word text is one phrase to it);
- `label-search` as our server runs it (ftz_kg/search/narrowing.py): the index's candidates first,
  then the query on our store, in process (the same rows as the scan).

    python benchmarks/search.py [--factors 1,100] [--reps 30] [--peer-reps 5] [--cache /tmp/ftz21] [--json out.json]

The graphs and stores are cached in --cache (built once; a 100x graph takes minutes to write).
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
import pyoxigraph as ox  # noqa: E402

from ftz_kg.query.catalogue import Catalogue  # noqa: E402
from ftz_kg.query.binding import bind  # noqa: E402
from ftz_kg.query.guard import DATASET_GRAPH  # noqa: E402
from ftz_kg.query.ondisk import StoredGraph  # noqa: E402
from ftz_kg.search import TextIndex  # noqa: E402
from ftz_kg.search.narrowing import narrowed  # noqa: E402

QUERIES = {
    "one word, zh": ["四川", "海关", "并联"],
    "one word, en": ["customs", "parallel", "sichuan"],
    "two words, zh": ["四川 海关", "出版物 备案", "海关 监管"],
    "two words, en": ["parallel approval", "customs declaration", "free trade"],
}


def graph_dump(factor: int, cache: Path) -> Path:
    dump = cache / f"search-{factor}x.nt"
    if not dump.exists():
        from synthetic import synthetic_lines, template_graph
        temporary = dump.with_name(dump.name + ".tmp")
        with temporary.open("w", encoding="utf-8") as out:
            for line in synthetic_lines(template_graph(), factor):
                out.write(line + "\n")
        temporary.replace(dump)
    return dump


def stored_graph(dump: Path, location: Path) -> tuple[StoredGraph, ox.Store]:
    """The graph as `serve --store-dir` holds it: an Oxigraph store, its triples in the dataset graph."""
    done = location / "triples"
    if not done.exists():
        shutil.rmtree(location, ignore_errors=True)
        store = ox.Store(str(location))
        store.bulk_load(path=str(dump), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(DATASET_GRAPH),
                        lenient=True)
        store.flush()
        count = len(store)
        del store
        done.write_text(str(count))
    stored = StoredGraph(location, int(done.read_text()), "bench")
    return stored, stored.open()


def oxigraph_location(dump: Path, location: Path) -> Path:
    """The same triples loaded by Oxigraph's own tool into its default graph, for its server."""
    if not (location / "loaded").exists():
        shutil.rmtree(location, ignore_errors=True)
        subprocess.run(["oxigraph", "load", "--location", str(location), "--file", str(dump)], check=True,
                       capture_output=True)
        (location / "loaded").write_text("yes")
    return location


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"not ready: {url}")


def median_ms(call, reps: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        call()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def site_server(graph, index) -> tuple[str, object]:
    """The site's /search route alone, served by uvicorn in a thread, nothing cached."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.routing import Route

    from ftz_kg.web import linkeddata
    from ftz_kg.web.cache import BoundedCache

    app = Starlette(routes=[Route("/search", linkeddata.search)])
    app.state.graph, app.state.text_index, app.state.page_cache = graph, index, BoundedCache(0)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    url = f"http://127.0.0.1:{port}/search"
    wait_ready(url)
    return url, server


def measure(factor: int, args) -> dict:
    cache = args.cache
    dump = graph_dump(factor, cache)
    stored, store = stored_graph(dump, cache / f"search-store-{factor}x")
    graph = stored.view(store)
    row: dict = {"factor": factor, "triples": stored.triples}

    start = time.perf_counter()
    index = TextIndex.from_graph(graph)
    row["build_s"] = time.perf_counter() - start
    index_file = cache / TextIndex.file_name(f"bench-{factor}x")
    index_file.unlink(missing_ok=True)
    start = time.perf_counter()
    TextIndex.open_or_build(graph, index_file).close()
    row["build_and_write_s"] = time.perf_counter() - start
    row["file_mib"] = index_file.stat().st_size / 2**20
    start = time.perf_counter()
    TextIndex.open_or_build(graph, index_file).close()
    row["reopen_s"] = time.perf_counter() - start
    index_file.unlink()
    row["entities"] = index._db.execute("SELECT count(*) FROM entities").fetchone()[0]
    row["texts"] = index._db.execute("SELECT count(*) FROM texts").fetchone()[0]

    url, server = site_server(graph, index)
    oxigraph_dir = oxigraph_location(dump, cache / f"search-oxigraph-{factor}x")
    port = free_port()
    peer = subprocess.Popen(["oxigraph", "serve-read-only", "--location", str(oxigraph_dir), "--bind",
                             f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peer_url = f"http://127.0.0.1:{port}/query"
    label_search = Catalogue.load().get("label-search")
    try:
        wait_ready(peer_url)
        with httpx.Client(timeout=600) as client:
            for kind, texts in QUERIES.items():
                cases = []
                for text in texts:
                    lang = "en" if kind.endswith("en") else "zh"
                    params = {"q": text, "format": "json", "lang": lang}
                    sparql = bind(label_search, {"text": text, "lang": lang}, None)
                    case = {
                        "text": text,
                        "hits": len(index.search(text, lang, 50)),
                        "index_ms": median_ms(lambda: index.search(text, lang, 50), args.reps),
                        "http_ms": median_ms(lambda: client.get(url, params=params).raise_for_status(), args.reps),
                        "oxigraph_rows": len(client.get(peer_url, params={"query": sparql}, headers={
                            "Accept": "application/sparql-results+json"}).json()["results"]["bindings"]),
                        "oxigraph_ms": median_ms(lambda: client.get(peer_url, params={"query": sparql}, headers={
                            "Accept": "application/sparql-results+json"}).raise_for_status(), args.peer_reps, 1),
                    }
                    # label-search as our server runs it: the index's candidates first, on our store
                    values = {"text": text, "lang": lang}
                    through_index = lambda: list(store.query(narrowed("label-search", values, sparql, index),
                                                             use_default_graph_as_union=True))
                    case["label_search_rows"] = len(through_index())
                    case["label_search_ms"] = median_ms(through_index, args.reps)
                    cases.append(case)
                    print(f"{factor}x {text!r}: {json.dumps(case, ensure_ascii=False)}", file=sys.stderr)
                row[kind] = cases
    finally:
        peer.terminate()
        peer.wait(10)
        server.should_exit = True
    return row


def summary(rows: list[dict]) -> str:
    lines = [f"{'size':>5} {'queries':<15} {'index ms':>9} {'HTTP ms':>8} {'Oxigraph ms':>12} {'HTTP/Oxigraph':>14} "
             f"{'label-search ms':>16} {'/Oxigraph':>10}"]
    for row in rows:
        for kind in QUERIES:
            cases = row[kind]
            index_ms = statistics.median(c["index_ms"] for c in cases)
            http_ms = statistics.median(c["http_ms"] for c in cases)
            peer_ms = statistics.median(c["oxigraph_ms"] for c in cases)
            ours_ms = statistics.median(c["label_search_ms"] for c in cases)
            lines.append(f"{row['factor']:>4}x {kind:<15} {index_ms:>9.2f} {http_ms:>8.2f} {peer_ms:>12.1f} "
                         f"{http_ms / peer_ms:>14.3f} {ours_ms:>16.2f} {ours_ms / peer_ms:>10.3f}")
        lines.append(f"{row['factor']:>4}x index of {row['texts']:,} texts, {row['entities']:,} entities "
                     f"({row['triples']:,} triples): built in {row['build_s']:.1f} s, written in "
                     f"{row['build_and_write_s']:.1f} s ({row['file_mib']:.0f} MiB), reopened in {row['reopen_s']:.3f} s")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--factors", default="1,100")
    parser.add_argument("--reps", type=int, default=30, help="timed runs per query, index and HTTP")
    parser.add_argument("--peer-reps", type=int, default=5, help="timed runs per query, Oxigraph's server")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/ftz21"))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not shutil.which("oxigraph"):
        sys.exit("oxigraph is missing: pip install oxigraph")
    args.cache.mkdir(parents=True, exist_ok=True)
    rows = [measure(int(f), args) for f in args.factors.split(",")]
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, ensure_ascii=False))
    print(summary(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
