"""Growth curves: how each stage grows with the graph, from the real graph to 100x (1000x optional).

For each size (synthetic graphs from benchmarks/synthetic.py, the real graph as 1x) it measures,
each in a fresh child process so that peak memory is the stage's own:

- parse: reading the N-Triples dump into rdflib (what `--graph FILE` does);
- validate: SHACL validation of the parsed graph on our validation path, and pyrudof (if installed)
  parsing the dump and validating it against the same shapes, as a peer;
- load: loading the dump (already in memory) into the embedded store, as the server's workers do;
- load-disk / reopen: loading into an on-disk store, then opening it again (a restart);
- queries: every canned query, first run and median warm run, on the embedded store;
- export-nt / export-ttl: writing the graph as N-Triples and Turtle from the embedded store;
- peak RSS of each child;
- serve (`ftz-kg serve --graph DUMP --store-dir DIR`, needs `wrk`): the first start (parse, validate,
  write the store), a restart's time from process start to the first answer, HTTP requests/s and
  p50/p99 on a mix of canned queries (every request different, so uncached) at concurrency 1 and 4,
  and the resident memory of the whole server (web process, fork server and query workers).

Validation and serving need the graph parsed into rdflib, which at 1000x takes tens of gigabytes
and most of an hour: they run up to 100x (`--serve-max`). The 1000x run (`benchmarks/large.py`)
loads, queries and publishes without them.

Then it fits the growth exponent of each stage on log-log axes across sizes (1.0 = linear) and
prints one table; --json writes every figure.

    python benchmarks/scale.py [--factors 1,10,100] [--runs 5] [--serve-max 100] [--http-seconds 5] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))


def _child(stage: str, dump: str, runs: int) -> dict:
    """One stage in this (child) process; returns its timings."""
    import pyoxigraph as ox

    result: dict = {}
    if stage == "parse":
        from rdflib import Graph
        start = time.perf_counter()
        graph = Graph()
        graph.parse(dump, format="nt")
        result["seconds"] = time.perf_counter() - start
    elif stage == "validate":
        from rdflib import Graph
        from ftz_kg.pipeline.validate import load_shapes, validate_graph
        graph = Graph()
        graph.parse(dump, format="nt")
        shapes = load_shapes()
        start = time.perf_counter()
        report = validate_graph(graph, shapes)
        result["seconds"] = time.perf_counter() - start
        result["conforms"] = report.conforms
        try:    # the peer: pyrudof's native engine, reading the same dump and the same shapes
            import pyrudof
            from ftz_kg.resources import shapes_file
            start = time.perf_counter()
            rudof = pyrudof.Rudof(pyrudof.RudofConfig())
            rudof.read_data(dump, format=pyrudof.RDFFormat.NTriples)
            rudof.read_shacl(str(shapes_file()))
            result["pyrudof_conforms"] = rudof.validate_shacl().conforms
            result["pyrudof_seconds"] = time.perf_counter() - start
        except ImportError:
            pass
    elif stage == "load":
        data = Path(dump).read_bytes()
        start = time.perf_counter()
        store = ox.Store()
        store.load(data, format=ox.RdfFormat.N_TRIPLES, lenient=True)   # as the server's workers load
        result["seconds"] = time.perf_counter() - start
        result["triples"] = len(store)
        result.update(_queries(store, runs))
        for fmt, name in ((ox.RdfFormat.N_TRIPLES, "export-nt"), (ox.RdfFormat.TURTLE, "export-ttl")):
            start = time.perf_counter()
            with tempfile.NamedTemporaryFile(suffix=".out") as out:
                store.dump(out.name, format=fmt, from_graph=ox.DefaultGraph())
            result[name] = time.perf_counter() - start
    elif stage == "load-disk":
        with tempfile.TemporaryDirectory() as folder:
            start = time.perf_counter()
            store = ox.Store(folder)
            store.bulk_load(path=dump, format=ox.RdfFormat.N_TRIPLES)
            store.flush()
            result["seconds"] = time.perf_counter() - start
            del store
            start = time.perf_counter()
            reopened = ox.Store(folder)
            list(reopened.query("SELECT * WHERE { ?s ?p ?o } LIMIT 1"))
            result["reopen"] = time.perf_counter() - start
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def _queries(store, runs: int) -> dict:
    from ftz_kg.query.binding import bind
    from ftz_kg.query.catalogue import Catalogue
    from ftz_kg.query.store import OxigraphEngine

    engine = OxigraphEngine(store=store)
    first, warm = {}, {}
    for query in Catalogue.load():
        text = bind(query, query.example_values(), engine)
        samples = []
        for _ in range(runs + 1):
            start = time.perf_counter()
            engine.query(text)
            samples.append((time.perf_counter() - start) * 1000)
        first[query.name] = samples[0]
        warm[query.name] = statistics.median(samples[1:])
    return {"query_first_ms": first, "query_warm_ms": warm}


def run_child(stage: str, dump: Path, runs: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", stage, str(dump), "--runs", str(runs)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


MIX = ["parallel-approval", "measures-by-zone", "experiences-by-agency", "agencies-ranked", "zones-by-batch",
       "label-search"]
WRK_MIX_REQUESTS = """
paths = {%s}
function request()
  counter = counter + 1
  local path = string.gsub(paths[(counter %% #paths) + 1], "BUST", run_id .. "-" .. thread_id .. "-" .. counter)
  return wrk.format("GET", path, {["Accept"] = "application/sparql-results+json"})
end
"""


def _tree_memory_mib(root: int) -> float:
    """Memory of a process and all its descendants (the fork server's workers too), as the sum of
    their proportional set sizes: pages shared between them (the fork server's preloaded modules)
    count once, where summing RSS would count them in every process."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            total += int((Path("/proc") / str(pid) / "smaps_rollup").read_text().split("Pss:")[1].split()[0])
        except (OSError, IndexError, ValueError):
            pass
    return total / 1024


def _wait_answer(base: str, process, seconds: float) -> float:
    import httpx
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if process.poll() is not None:
            raise RuntimeError("ftz-kg serve exited")
        try:
            if httpx.get(base + "/sparql", params={"query": "ASK { ?s ?p ?o }"}, timeout=5).status_code == 200:
                return time.monotonic() - start
        except httpx.HTTPError:
            time.sleep(0.01)
    raise RuntimeError("ftz-kg serve did not answer")


def serve_stage(dump: Path, folder: Path, http_seconds: int) -> dict:
    """First start, restart to first answer, HTTP at concurrency 1 and 4, and the server's memory."""
    import shutil
    from urllib.parse import quote

    from ftz_kg.query.binding import bind
    from ftz_kg.query.catalogue import Catalogue
    from ftz_kg.query.store import OxigraphEngine, load_ntriples

    sys.path.insert(0, str(HERE))
    from serve_load import WRK_UNIQUE, free_port, wrk

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "ftz_kg.cli", "serve", "--graph", str(dump), "--store-dir",
               str(folder / "store"), "--port", str(port)]
    result: dict = {}
    for phase in ("first_start_s", "restart_to_first_answer_s"):
        start = time.monotonic()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait_answer(base, process, 3600)
            result[phase] = time.monotonic() - start
            # the home page's first visit: rendered from the dashboard figures kept beside the store
            # on a restart (issue 21: it took 2.6 s at 100x when they were computed from the graph)
            import httpx
            started = time.monotonic()
            home = httpx.get(base + "/", params={"lang": "zh"}, timeout=600)
            home.raise_for_status()
            result["home_first_s" if phase == "first_start_s" else "home_after_restart_s"] = time.monotonic() - started
            started = time.monotonic()
            httpx.get(base + "/", params={"lang": "zh"}, timeout=600).raise_for_status()
            result.setdefault("home_cached_s", time.monotonic() - started)
            if phase == "first_start_s" or shutil.which("wrk") is None:
                continue
            engine = OxigraphEngine(store=load_ntriples(dump.read_bytes()))
            catalogue = Catalogue.load()
            paths = []
            for name in MIX:
                query = catalogue.get(name)
                text = bind(query, query.example_values(), engine) + "\n# BUST"
                paths.append('"/sparql?query=' + quote(text, safe="") + '"')
            del engine
            script = folder / "mix.lua"
            script.write_text(WRK_UNIQUE + WRK_MIX_REQUESTS % ", ".join(paths), encoding="utf-8")
            accept = "application/sparql-results+json"
            wrk(base + "/sparql", accept, 2, script, 4, 4)      # warm-up, discarded
            for connections in (1, 4):
                result[f"http_c{connections}"] = wrk(base + "/sparql", accept, http_seconds, script, connections,
                                                     connections)
            result["memory_mib"] = _tree_memory_mib(process.pid)
        finally:
            process.terminate()
            process.wait(30)
    return result


def exponent(sizes: list[int], values: list[float]) -> float:
    """Least-squares slope of log(value) against log(size)."""
    xs = [math.log(s) for s in sizes]
    ys = [math.log(max(v, 1e-9)) for v in values]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--factors", default="1,10,100")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--serve-max", type=int, default=100, help="largest factor validated and served")
    parser.add_argument("--http-seconds", type=int, default=5)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--child", nargs=2, metavar=("STAGE", "DUMP"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child[0], args.child[1], args.runs)))
        return 0

    from synthetic import synthetic_lines, template_graph
    template = template_graph()
    factors = [int(f) for f in args.factors.split(",")]
    figures = []
    with tempfile.TemporaryDirectory() as folder:
        for factor in factors:
            dump = Path(folder) / f"graph-{factor}.nt"
            with dump.open("w", encoding="utf-8") as out:
                count = 0
                for line in synthetic_lines(template, factor):
                    out.write(line + "\n")
                    count += 1
            row = {"factor": factor, "triples": count}
            served = factor <= args.serve_max
            row["parse"] = run_child("parse", dump, args.runs) if served else None
            row["validate"] = run_child("validate", dump, args.runs) if served else None
            row["load"] = run_child("load", dump, args.runs)
            row["load-disk"] = run_child("load-disk", dump, args.runs)
            row["serve"] = serve_stage(dump, Path(folder), args.http_seconds) if served else None
            figures.append(row)
            dump.unlink()
            shutil.rmtree(Path(folder) / "store", ignore_errors=True)
            print(f"measured {factor}x ({count:,} triples)", file=sys.stderr)

    sizes = [r["triples"] for r in figures]
    stages = {
        "parse into rdflib (s)": [r["parse"]["seconds"] if r["parse"] else math.nan for r in figures],
        "SHACL validation (s)": [r["validate"]["seconds"] if r["validate"] else math.nan for r in figures],
        "  peer: pyrudof, parse+validate (s)": [(r["validate"] or {}).get("pyrudof_seconds", math.nan)
                                                for r in figures],
        "load embedded (s)": [r["load"]["seconds"] for r in figures],
        "load on disk (s)": [r["load-disk"]["seconds"] for r in figures],
        "reopen on disk (s)": [r["load-disk"]["reopen"] for r in figures],
        "slowest query warm (ms)": [max(r["load"]["query_warm_ms"].values()) for r in figures],
        "slowest query first (ms)": [max(r["load"]["query_first_ms"].values()) for r in figures],
        "export N-Triples (s)": [r["load"]["export-nt"] for r in figures],
        "export Turtle (s)": [r["load"]["export-ttl"] for r in figures],
        "peak RSS, load+queries (MiB)": [r["load"]["peak_rss_mib"] for r in figures],
    }
    def served(key, field=None):
        values = []
        for r in figures:
            value = (r["serve"] or {}).get(key)
            values.append(math.nan if value is None else (value[field] if field else value))
        return values
    stages.update({
        "serve: first start (s)": served("first_start_s"),
        "serve: restart to answer (s)": served("restart_to_first_answer_s"),
        "serve: home page, first visit (s)": served("home_first_s"),
        "serve: home page, first visit after restart (s)": served("home_after_restart_s"),
        "serve: memory, all processes (PSS MiB)": served("memory_mib"),
        "HTTP c1 requests/s": served("http_c1", "rps"),
        "HTTP c1 p99 (ms)": served("http_c1", "p99_ms"),
        "HTTP c4 requests/s": served("http_c4", "rps"),
        "HTTP c4 p50 (ms)": served("http_c4", "p50_ms"),
        "HTTP c4 p99 (ms)": served("http_c4", "p99_ms"),
    })
    headings = [f"{r['factor']}x ({r['triples']:,})" for r in figures]
    print(f"\n{'stage':<30}" + "".join(f"{h:>22}" for h in headings) + f"{'exponent':>10}")
    for stage, values in stages.items():
        finite = [(s, v) for s, v in zip(sizes, values) if not math.isnan(v)]
        slope = exponent([s for s, _ in finite], [v for _, v in finite]) if len(finite) > 1 else math.nan
        print(f"{stage:<30}" + "".join(f"{v:>22.3f}" if not math.isnan(v) else f"{'-':>22}" for v in values)
              + f"{slope:>10.2f}")
    slowest = {r["factor"]: max(r["load"]["query_warm_ms"], key=r["load"]["query_warm_ms"].get) for r in figures}
    print("slowest warm query per size: " + ", ".join(f"{f}x {q}" for f, q in slowest.items()))
    print(f"CPython {sys.version.split()[0]}, {os.cpu_count()} cores")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
