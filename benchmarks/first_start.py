"""First start and restart of `ftz-kg serve --graph DUMP --store-dir DIR` at a size, against the
same start through rdflib and against Oxigraph's own tools, same run (issue 21, item 3).

For a synthetic graph of --factor times the real one (benchmarks/synthetic.py; 11x is 534,434
triples, the size the issue calls 100x, when the real graph had 5,442 triples):
- ours, dump: `serve --graph G.nt --store-dir` on an empty directory, from process start to the
  first SPARQL answer: Oxigraph reads the dump into the store while a copy in memory is checked and
  validated (ftz_kg/pipeline/storeload.py); then a restart on the filled directory;
- ours, through rdflib: the same triples as `G.ttl` (N-Triples is Turtle), which takes the general
  path: rdflib parses, checks and validates, serialises, the store loads;
- the peer: `oxigraph load` into a fresh directory, then `oxigraph serve-read-only` to its first
  answer (no checks, no validation, no pages).

    python benchmarks/first_start.py [--factor 11] [--cache /tmp/ftz21] [--json out.json]

Targets: the first start under 30 s, a restart under 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import httpx  # noqa: E402

from serve_load import free_port  # noqa: E402


def until_answer(base: str, process: subprocess.Popen, seconds: float = 1800) -> float:
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[:3]} exited with {process.returncode}")
        try:
            if httpx.get(base, params={"query": "ASK { ?s ?p ?o }"}, timeout=5,
                         headers={"Accept": "application/sparql-results+json"}).status_code == 200:
                return time.monotonic() - start
        except httpx.HTTPError:
            time.sleep(0.02)
    raise RuntimeError("no answer")


def serve(graph: Path, store: Path, home: dict | None = None) -> float:
    """Seconds from process start to the first SPARQL answer; with `home`, also the home page's first
    visit then (issue 21, item 4: its figures are kept beside the store), into home["s"]."""
    port = free_port()
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "ftz_kg.cli", "serve", "--graph", str(graph), "--store-dir",
                                str(store), "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        until_answer(f"http://127.0.0.1:{port}/sparql", process)
        answered = time.monotonic() - started
        if home is not None:
            visit = time.monotonic()
            httpx.get(f"http://127.0.0.1:{port}/", params={"lang": "zh"}, timeout=600).raise_for_status()
            home["s"] = time.monotonic() - visit
        return answered
    finally:
        process.terminate()
        process.wait(30)


def oxigraph_peer(graph: Path, folder: Path) -> float:
    location = folder / "oxigraph"
    started = time.monotonic()
    subprocess.run(["oxigraph", "load", "--location", str(location), "--file", str(graph)], check=True,
                   capture_output=True)
    port = free_port()
    process = subprocess.Popen(["oxigraph", "serve-read-only", "--location", str(location), "--bind",
                                f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        until_answer(f"http://127.0.0.1:{port}/query", process)
        return time.monotonic() - started
    finally:
        process.terminate()
        process.wait(30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--factor", type=int, default=11)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/ftz21"))
    parser.add_argument("--json", type=Path)
    parser.add_argument("--skip-rdflib", action="store_true", help="not the start through rdflib (minutes at 100x)")
    args = parser.parse_args()
    if not shutil.which("oxigraph"):
        sys.exit("oxigraph is missing: pip install oxigraph")
    args.cache.mkdir(parents=True, exist_ok=True)
    dump = args.cache / f"first-start-{args.factor}x.nt"
    if not dump.exists():
        from synthetic import synthetic_lines, template_graph
        temporary = dump.with_name(dump.name + ".tmp")
        with temporary.open("w", encoding="utf-8") as out:
            for line in synthetic_lines(template_graph(), args.factor):
                out.write(line + "\n")
        temporary.replace(dump)
    triples = sum(1 for _ in dump.open("rb"))
    with tempfile.TemporaryDirectory(dir=args.cache) as folder:
        folder = Path(folder)
        turtle = folder / "graph.ttl"
        os.link(dump, turtle)
        row = {"factor": args.factor, "triples": triples, "load_before": os.getloadavg()[0]}
        first_home: dict = {}
        # the home page's first visit waits for its figures, which are then kept beside the store
        row["dump_first_start_s"] = serve(dump, folder / "store-dump", first_home)
        row["home_first_start_s"] = first_home["s"]
        home: dict = {}
        row["dump_restart_s"] = serve(dump, folder / "store-dump", home)
        row["home_after_restart_s"] = home["s"]
        row["rdflib_first_start_s"] = serve(turtle, folder / "store-rdflib") if not args.skip_rdflib else float("nan")
        row["oxigraph_load_and_serve_s"] = oxigraph_peer(dump, folder)
        row["load_after"] = os.getloadavg()[0]
    if args.json:
        args.json.write_text(json.dumps(row, indent=1))
    print(f"{args.factor}x ({triples:,} triples), load average {row['load_before']:.2f} → {row['load_after']:.2f}")
    print(f"  first start from the dump      {row['dump_first_start_s']:7.1f} s   (target < 30 s)")
    print(f"  restart on the filled store    {row['dump_restart_s']:7.2f} s   (target < 1 s)")
    print(f"  home page, first visit after the first start {row['home_first_start_s']:7.2f} s   (its figures computed)")
    print(f"  home page, first visit after the restart     {row['home_after_restart_s']:7.2f} s   (from the figures kept)")
    print(f"  first start through rdflib     {row['rdflib_first_start_s']:7.1f} s   "
          f"({row['rdflib_first_start_s'] / row['dump_first_start_s']:.1f}x the dump's)")
    print(f"  Oxigraph: load, then serve     {row['oxigraph_load_and_serve_s']:7.1f} s   "
          f"(ours {row['dump_first_start_s'] / row['oxigraph_load_and_serve_s']:.1f}x, with checks, validation, pages)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
