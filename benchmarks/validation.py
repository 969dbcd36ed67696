"""SHACL validation time: pySHACL as it comes against our validation path, same run.

Times, median of --runs runs each, on the real graph (built once):
  (a) pySHACL with its default settings and the shapes as written (the peer),
  (a') pySHACL with the settings we use (no inference, warnings allowed), shapes as written,
  (b) our path, ftz_kg.pipeline.validate.validate_graph (prepared SPARQL, hoisted property shapes),
  (c) `python -m ftz_kg.cli validate` in a fresh process (build + validate + report), wall clock.
Prints ratios against (b) and the cold target, and the load average before and after (the
machine is shared; a busy machine inflates every figure). Writes the figures as JSON with --json.

    python benchmarks/validation.py [--runs 5] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pyshacl  # noqa: E402

from ftz_kg.pipeline.build import build  # noqa: E402
from ftz_kg.pipeline.validate import load_shapes, validate_graph, validate_graph_reference  # noqa: E402

TARGET_COLD_S = 2.0
EXAMPLES = ROOT / "tests" / "shapes"


def pyrudof_validate(data_turtle: str, shapes_path: Path) -> bool:
    """pyrudof (rudof's native SHACL engine, in Rust): parse the same Turtle and shapes, validate."""
    import pyrudof
    rudof = pyrudof.Rudof(pyrudof.RudofConfig())
    rudof.read_data(data_turtle)
    rudof.read_shacl(str(shapes_path))
    return rudof.validate_shacl().conforms


def pyrudof_coverage(shapes_path: Path) -> tuple[int, list[str]]:
    """Which of the invalid examples (one per shape and case, tests/shapes/invalid) pyrudof rejects:
    where it accepts one, it does not check that constraint as pySHACL does."""
    from ftz_kg.pipeline.rdfio import parse_turtle
    from ftz_kg.resources import ontology_file
    missed = []
    examples = sorted((EXAMPLES / "invalid").glob("*.ttl"))
    for example in examples:
        graph = parse_turtle(ontology_file())
        parse_turtle(EXAMPLES / "base.ttl", graph)
        parse_turtle(example, graph)
        if pyrudof_validate(graph.serialize(format="turtle"), shapes_path):
            missed.append(example.stem)
    return len(examples) - len(missed), missed


def median_time(run, runs: int) -> tuple[float, object]:
    samples, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = run()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), result


def cold_cli() -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "ftz_kg.cli", "validate"], check=False, cwd=ROOT,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"ftz-kg validate exited {done.returncode}: {done.stderr.strip()}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()

    load_before = os.getloadavg()
    built = build()
    graph, shapes = built.graph, load_shapes()
    # one untimed run of each, so that every in-process figure is warm (imports, regexes, caches)
    pyshacl.validate(graph, shacl_graph=shapes)
    validate_graph_reference(graph, shapes)
    validate_graph(graph, shapes)

    peer, (peer_conforms, _, _) = median_time(lambda: pyshacl.validate(graph, shacl_graph=shapes), args.runs)
    reference, reference_report = median_time(lambda: validate_graph_reference(graph, shapes), args.runs)
    ours, report = median_time(lambda: validate_graph(graph, shapes), args.runs)
    try:
        from ftz_kg.resources import shapes_file
        turtle = graph.serialize(format="turtle")
        pyrudof_validate(turtle, shapes_file())
        rudof, rudof_conforms = median_time(lambda: pyrudof_validate(turtle, shapes_file()), args.runs)
        caught, missed = pyrudof_coverage(shapes_file())
    except ImportError:
        rudof = rudof_conforms = caught = missed = None
    cold_samples = [cold_cli() for _ in range(args.runs)]
    cold = statistics.median(cold_samples)
    load_after = os.getloadavg()

    agree = sorted((f.focus, f.severity, f.path, f.value, f.message_en) for f in report.findings) == \
        sorted((f.focus, f.severity, f.path, f.value, f.message_en) for f in reference_report.findings)
    print(f"SHACL validation of the real graph ({len(graph)} triples), median of {args.runs} runs; "
          f"Python {platform.python_version()}, pySHACL {pyshacl.__version__}, {os.cpu_count()} CPUs")
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f}")
    print()
    print(f"{'':52} {'seconds':>8} {'vs (b)':>8}")
    rows = [("(a)  pySHACL, default settings (peer)", peer),
            ("(a') pySHACL, our settings, shapes as written", reference),
            ("(b)  our validation path (warm, in process)", ours)]
    for name, seconds in rows:
        print(f"{name:52} {seconds:8.3f} {seconds / ours:7.2f}x")
    if rudof is not None:
        print(f"{'(d)  pyrudof, native engine, same shapes (peer)':52} {rudof:8.3f} {rudof / ours:7.2f}x  "
              f"conforms {rudof_conforms}; rejects {caught} of {caught + len(missed)} invalid examples")
        if missed:
            print(f"     accepted, so not checked as pySHACL does: {', '.join(missed)}")
    else:
        print("(d)  pyrudof: not installed (pip install pyrudof)")
    print(f"{'(c)  python -m ftz_kg.cli validate (cold process)':52} {cold:8.3f}   "
          f"target {TARGET_COLD_S:.1f} s: {'met' if cold < TARGET_COLD_S else 'MISSED'}")
    print(f"     cold runs: {', '.join(f'{s:.2f}' for s in cold_samples)}")
    print(f"conforms: peer {bool(peer_conforms)}, ours {report.conforms}; "
          f"(b) and (a') report the same results: {agree}")

    if args.json:
        args.json.write_text(json.dumps({
            "triples": len(graph), "runs": args.runs, "load_before": load_before, "load_after": load_after,
            "peer_s": peer, "reference_s": reference, "ours_s": ours, "cold_cli_s": cold,
            "cold_cli_samples_s": cold_samples, "target_cold_s": TARGET_COLD_S, "agree": agree,
            "pyrudof_s": rudof, "pyrudof_rejects": caught, "pyrudof_misses": missed,
        }, indent=2) + "\n", encoding="utf-8")
    return 0 if agree and cold < TARGET_COLD_S else 1


if __name__ == "__main__":
    sys.exit(main())
