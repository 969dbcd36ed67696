"""Publishing to a remote store, and the same canned queries embedded vs remote, in one run.

Starts Oxigraph's server (`pip install oxigraph`) on loopback with an on-disk store, publishes
the real graph and synthetic graphs FACTOR times its size (benchmarks/synthetic.py) with
`ftz_kg.remote.publish` — through the Graph Store HTTP Protocol and through SPARQL Update batches —
and prints triples per second. Then times every canned query (median of --runs warm runs) on
the embedded store and on the server holding the real graph, with the ratio.

    python benchmarks/publish.py [--factors 10,100] [--runs 20] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx  # noqa: E402
from synthetic import synthetic_lines  # noqa: E402

from ftz_kg.query.binding import bind  # noqa: E402
from ftz_kg.pipeline.build import build  # noqa: E402
from ftz_kg.query.catalogue import Catalogue  # noqa: E402
from ftz_kg.remote.publish import Target, ntriples_lines, publish_lines  # noqa: E402
from ftz_kg.remote.client import RemoteEngine, Transport  # noqa: E402
from ftz_kg.query.store import OxigraphEngine  # noqa: E402

GRAPH = "https://w3id.org/ftz-kg/graph"


def free_port() -> int:
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_oxigraph(folder: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([shutil.which("oxigraph"), "serve", "--location", str(folder),
                                "--bind", f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(base + "/query", params={"query": "ASK {}"}, timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit("oxigraph serve did not start")


def timed_publish(lines: list[str], target: Target, transport: Transport, batch: int) -> tuple[float, str]:
    report = publish_lines(lines, target, GRAPH, transport, batch_size=batch)
    return report.seconds, report.method


def median_ms(run, runs: int) -> float:
    run()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--factors", default="10,100", help="synthetic sizes, comma-separated")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--update-max", type=int, default=10,
                        help="largest factor also published through SPARQL Update batches")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if shutil.which("oxigraph") is None:
        raise SystemExit("needs Oxigraph's server: pip install oxigraph")

    real = build().graph
    sizes = [("real", 1, ntriples_lines(real))]
    template = real
    for factor in (int(f) for f in args.factors.split(",") if f):
        sizes.append((f"{factor}x", factor, list(synthetic_lines(template, factor))))

    figures = {"machine": f"{platform.python_implementation()} {platform.python_version()} on {platform.machine()}",
               "publish": [], "queries": []}
    with tempfile.TemporaryDirectory() as folder:
        process, base = start_oxigraph(Path(folder))
        try:
            transport = Transport(timeout=1800)
            gsp = Target(base + "/query", base + "/update", base + "/store")
            update = Target(base + "/query", base + "/update")
            print("publish into Oxigraph server (on disk, loopback); triples/s")
            print(f"{'graph':>8} {'triples':>10} {'graph store':>14} {'update':>14}")
            for name, factor, lines in sizes:
                seconds, _ = timed_publish(lines, gsp, transport, 50_000)
                row = {"graph": name, "triples": len(lines), "gsp_seconds": seconds,
                       "gsp_triples_per_s": len(lines) / seconds}
                if factor <= args.update_max:
                    useconds, _ = timed_publish(lines, update, transport, 5_000)
                    row.update(update_seconds=useconds, update_triples_per_s=len(lines) / useconds)
                figures["publish"].append(row)
                upd = f"{row['update_triples_per_s']:>14,.0f}" if "update_seconds" in row else f"{'-':>14}"
                print(f"{name:>8} {len(lines):>10,} {row['gsp_triples_per_s']:>14,.0f} {upd}")

            # the real graph last in the store, for the query comparison
            timed_publish(sizes[0][2], gsp, transport, 50_000)
            embedded = OxigraphEngine(real)
            remote = RemoteEngine(base + "/query", Transport(timeout=60), graph=GRAPH)
            print(f"\ncanned queries, real graph, median of {args.runs} warm runs (ms)")
            print(f"{'query':<28} {'embedded':>9} {'remote':>9} {'remote/embedded':>16}")
            for query in Catalogue.load():
                text = bind(query, query.example_values(), embedded)
                here = median_ms(lambda: embedded.query(text), args.runs)
                there = median_ms(lambda: remote.query(text), args.runs)
                figures["queries"].append({"query": query.name, "embedded_ms": here, "remote_ms": there})
                print(f"{query.name:<28} {here:>9.2f} {there:>9.2f} {there / here:>15.1f}x")
        finally:
            process.terminate()
            process.wait(10)
    print(f"\n{figures['machine']}; Oxigraph server {subprocess.run(['oxigraph', '--version'], capture_output=True, text=True).stdout.strip()}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
