"""Growth curves: how each stage grows with the graph, from the real graph to 100x (1000x optional).

For each size (synthetic graphs from benchmarks/synthetic.py, the real graph as 1x) it measures,
each in a fresh child process so that peak memory is the stage's own:

- parse: reading the N-Triples dump into rdflib (what `--graph FILE` does);
- load: loading the dump (already in memory) into the embedded store, as the server's workers do;
- load-disk / reopen: loading into an on-disk store, then opening it again (a restart);
- queries: every canned query, first run and median warm run, on the embedded store;
- export-nt / export-ttl: writing the graph as N-Triples and Turtle from the embedded store;
- peak RSS of each child.

Then it fits the growth exponent of each stage on log-log axes across sizes (1.0 = linear) and
prints one table; --json writes every figure.

    python benchmarks/scale.py [--factors 1,10,100] [--runs 5] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
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
    from ftz_kg.binding import bind
    from ftz_kg.catalogue import Catalogue
    from ftz_kg.store import OxigraphEngine

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
            row["parse"] = run_child("parse", dump, args.runs) if factor <= 100 else None
            row["load"] = run_child("load", dump, args.runs)
            row["load-disk"] = run_child("load-disk", dump, args.runs)
            figures.append(row)
            dump.unlink()
            print(f"measured {factor}x ({count:,} triples)", file=sys.stderr)

    sizes = [r["triples"] for r in figures]
    stages = {
        "parse into rdflib (s)": [r["parse"]["seconds"] if r["parse"] else math.nan for r in figures],
        "load embedded (s)": [r["load"]["seconds"] for r in figures],
        "load on disk (s)": [r["load-disk"]["seconds"] for r in figures],
        "reopen on disk (s)": [r["load-disk"]["reopen"] for r in figures],
        "slowest query warm (ms)": [max(r["load"]["query_warm_ms"].values()) for r in figures],
        "slowest query first (ms)": [max(r["load"]["query_first_ms"].values()) for r in figures],
        "export N-Triples (s)": [r["load"]["export-nt"] for r in figures],
        "export Turtle (s)": [r["load"]["export-ttl"] for r in figures],
        "peak RSS, load+queries (MiB)": [r["load"]["peak_rss_mib"] for r in figures],
    }
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
