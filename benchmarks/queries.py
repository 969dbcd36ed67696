"""Canned-query latency: the embedded engine (pyoxigraph) against rdflib's engine, same run.

Every canned query is bound with its example parameters, run once cold, then timed warm
(median of --runs runs) on both engines over the same graph. Prints one table with the ratio
rdflib / oxigraph, and writes the figures as JSON with --json. The target is the slowest canned
query under 5 ms warm on the embedded engine.

    python benchmarks/queries.py [--runs 50] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import signal
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ftz_kg.query.binding import bind  # noqa: E402
from ftz_kg.pipeline.build import build  # noqa: E402
from ftz_kg.query.catalogue import Catalogue  # noqa: E402
from ftz_kg.query.store import OxigraphEngine, RdflibEngine  # noqa: E402

TARGET_MS = 5.0


class Overrun(BaseException):
    """Raised by the alarm when one run takes longer than the cap (BaseException: engines catch Exception)."""


def _alarm(signum, frame):
    raise Overrun()


def timed(engine, query: str, runs: int, cap_s: float) -> tuple[float, float]:
    """(first run, median warm run) in ms; inf when a run exceeds cap_s seconds."""
    samples = []
    for _ in range(runs + 1):
        signal.setitimer(signal.ITIMER_REAL, cap_s)
        start = time.perf_counter()
        try:
            engine.query(query)
        except Overrun:
            return float("inf"), float("inf")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        samples.append((time.perf_counter() - start) * 1000)
    return samples[0], statistics.median(samples[1:])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--rdflib-runs", type=int, default=5, help="rdflib is slow; fewer warm runs")
    parser.add_argument("--cap", type=float, default=20.0, help="seconds one run may take before it is cut off")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    signal.signal(signal.SIGALRM, _alarm)

    graph = build().graph
    oxigraph, rdflib_engine = OxigraphEngine(graph), RdflibEngine(graph)
    rows = []
    for query in Catalogue.load():
        text = bind(query, query.example_values(), oxigraph)
        ox_first, ox_warm = timed(oxigraph, text, args.runs, args.cap)
        rl_first, rl_warm = timed(rdflib_engine, text, args.rdflib_runs, args.cap)
        rows.append({"query": query.name, "oxigraph_first_ms": ox_first, "oxigraph_warm_ms": ox_warm,
                     "rdflib_first_ms": rl_first, "rdflib_warm_ms": rl_warm, "ratio": rl_warm / ox_warm})

    width = max(len(r["query"]) for r in rows)
    print(f"{len(graph)} triples; {platform.python_implementation()} {platform.python_version()} "
          f"on {platform.machine()}; medians of {args.runs} (oxigraph) / {args.rdflib_runs} (rdflib) warm runs")
    print(f"{'query':<{width}}  {'oxigraph ms':>11}  {'rdflib ms':>10}  {'rdflib/oxigraph':>15}")
    for r in rows:
        rdflib_ms = f"{r['rdflib_warm_ms']:>10.1f}" if r["rdflib_warm_ms"] != float("inf") else f"{'>' + str(args.cap) + ' s':>10}"
        ratio = f"{r['ratio']:>14.0f}x" if r["ratio"] != float("inf") else f"{'>' + str(int(args.cap * 1000 / r['oxigraph_warm_ms'])):>14}x"
        print(f"{r['query']:<{width}}  {r['oxigraph_warm_ms']:>11.2f}  {rdflib_ms}  {ratio}")
    slowest = max(rows, key=lambda r: r["oxigraph_warm_ms"])
    finite = [r["ratio"] for r in rows if r["ratio"] != float("inf")]
    geo = statistics.geometric_mean(finite)
    verdict = "meets" if slowest["oxigraph_warm_ms"] < TARGET_MS else "MISSES"
    print(f"slowest embedded: {slowest['query']} {slowest['oxigraph_warm_ms']:.2f} ms ({verdict} the {TARGET_MS} ms "
          f"target); geometric mean speed-up over rdflib: {geo:.0f}x")
    if args.json:
        args.json.write_text(json.dumps({"triples": len(graph), "rows": rows}, indent=2, default=str),
                             encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
