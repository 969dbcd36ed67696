"""The 1000x run: load, query and publish a synthetic graph a thousand times the real one.

    python benchmarks/large.py [--factor 1000] [--dump FILE] [--runs 2] [--json out.json]

Writes (or reuses, with --dump) the synthetic N-Triples (benchmarks/synthetic.py, seed 7), then:

1. loads them into the embedded store in memory, as the server's workers do, and runs every
   canned query (first run and median warm run);
2. writes them into an on-disk store directory as `serve --store-dir` does, and opens it again;
3. publishes them into Oxigraph's server (`pip install oxigraph`; on disk, loopback) with
   `ftz_kg.remote.publish` through the Graph Store Protocol straight into the target graph (`--direct`:
   Oxigraph's server holds a MOVE of 5.4 million triples in memory and ran out of the machine's
   24 GB doing it), checks the count, and runs every canned query there.

Validation and the rdflib-based stages are left out: parsing 5 million triples into rdflib takes
tens of gigabytes (benchmarks/scale.py measures them up to 100x).
"""

from __future__ import annotations

import argparse
import json
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

from publish import GRAPH, start_oxigraph  # noqa: E402

from ftz_kg.query.binding import bind  # noqa: E402
from ftz_kg.query.catalogue import Catalogue  # noqa: E402
from ftz_kg.query.ondisk import StoreDir  # noqa: E402
from ftz_kg.remote.publish import Target, publish_lines  # noqa: E402
from ftz_kg.remote.client import RemoteEngine, Transport  # noqa: E402
from ftz_kg.query.store import OxigraphEngine, load_ntriples  # noqa: E402


def timed_queries(engine, texts: dict[str, str], runs: int) -> dict[str, dict[str, float]]:
    figures = {}
    for name, text in texts.items():
        samples = []
        for _ in range(runs + 1):
            start = time.perf_counter()
            engine.query(text)
            samples.append((time.perf_counter() - start) * 1000)
        figures[name] = {"first_ms": samples[0], "warm_ms": statistics.median(samples[1:])}
        print(f"  {name:<28} first {samples[0]:>9.1f} ms   warm {figures[name]['warm_ms']:>9.1f} ms", file=sys.stderr)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--factor", type=int, default=1000)
    parser.add_argument("--dump", type=Path, help="the synthetic N-Triples, written here if missing")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        dump = args.dump or Path(folder) / f"synthetic-{args.factor}.nt"
        if not dump.exists():
            subprocess.run([sys.executable, str(HERE / "synthetic.py"), "--factor", str(args.factor),
                            "--out", str(dump)], check=True)
        data = dump.read_bytes()
        figures: dict = {"factor": args.factor, "dump_bytes": len(data)}

        start = time.perf_counter()
        store = load_ntriples(data)
        figures["load_memory_s"] = time.perf_counter() - start
        figures["triples"] = len(store)
        print(f"{args.factor}x: {figures['triples']:,} triples loaded in memory in {figures['load_memory_s']:.1f} s",
              file=sys.stderr)
        engine = OxigraphEngine(store=store)
        texts = {q.name: bind(q, q.example_values(), engine) for q in Catalogue.load()}
        figures["queries_memory"] = timed_queries(engine, texts, args.runs)
        del engine, store

        directory = StoreDir(Path(folder) / "store")
        start = time.perf_counter()
        stored = directory.write("large", data, figures["triples"])
        figures["write_store_dir_s"] = time.perf_counter() - start
        start = time.perf_counter()
        on_disk = OxigraphEngine(store=stored.open(), union=True)
        on_disk.query("ASK { ?s ?p ?o }")
        figures["reopen_store_dir_s"] = time.perf_counter() - start
        del on_disk
        directory.close()
        print(f"store directory written in {figures['write_store_dir_s']:.1f} s, reopened in "
              f"{figures['reopen_store_dir_s']:.2f} s", file=sys.stderr)

        lines = data.decode("utf-8").splitlines()
        del data
        process, base = start_oxigraph(Path(folder) / "oxigraph")
        try:
            report = publish_lines(lines, Target(base + "/query", base + "/update", base + "/store"), GRAPH,
                                   Transport(timeout=7200), batch_size=50_000, direct=True)
            figures["publish_s"] = report.seconds
            figures["publish_method"] = report.method
            print(f"published {report.triples:,} triples in {report.seconds:.0f} s via {report.method}", file=sys.stderr)
            del lines
            remote = RemoteEngine(base + "/query", Transport(timeout=600), graph=GRAPH)
            figures["queries_remote"] = timed_queries(remote, texts, 1)
        finally:
            process.terminate()
            process.wait(30)
    figures["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"\n{args.factor}x the real graph: {figures['triples']:,} triples, {figures['dump_bytes'] / 2**20:,.0f} MiB "
          f"of N-Triples")
    print(f"load into the embedded store (memory)   {figures['load_memory_s']:>8.1f} s")
    print(f"write a --store-dir store (disk)        {figures['write_store_dir_s']:>8.1f} s")
    print(f"reopen it (a restart)                   {figures['reopen_store_dir_s']:>8.2f} s")
    print(f"publish into Oxigraph server            {figures['publish_s']:>8.0f} s "
          f"({figures['triples'] / figures['publish_s']:,.0f} triples/s, {figures['publish_method']})")
    print(f"peak RSS of this process                {figures['peak_rss_mib']:>8,.0f} MiB")
    print(f"\n{'query':<28} {'memory first':>13} {'memory warm':>12} {'server first':>13} {'server warm':>12}  (ms)")
    for name in texts:
        here, there = figures["queries_memory"][name], figures["queries_remote"][name]
        print(f"{name:<28} {here['first_ms']:>13.1f} {here['warm_ms']:>12.1f} {there['first_ms']:>13.1f} "
              f"{there['warm_ms']:>12.1f}")
    warm = {n: f["warm_ms"] for n, f in figures["queries_memory"].items()}
    slowest = max(warm, key=warm.get)
    print(f"slowest warm in memory: {slowest} {warm[slowest]:.0f} ms; CPython {sys.version.split()[0]}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
