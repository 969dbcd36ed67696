"""SHACL validation time: pySHACL as it comes against our validation path, same run.

Times, median of --runs runs each, on the real graph (built once):
  (a) pySHACL with its default settings and the shapes as written (the peer),
  (a') pySHACL with the settings we use (no inference, warnings allowed), shapes as written,
  (b) our path, ftz_kg.pipeline.validate.validate_graph (prepared SPARQL, hoisted property shapes),
  (c) `python -m ftz_kg.cli validate` in a fresh process (build + validate + report), wall clock.
Prints ratios against (b) and the cold target, and the load average before and after (the
machine is shared; a busy machine inflates every figure). Writes the figures as JSON with --json.

    python benchmarks/validation.py [--runs 5] [--json results.json]

With --scale 1,10 it instead times pySHACL (as it comes, our settings: validate_graph_reference)
against the fast engine on the real graph and on synthetic graphs (benchmarks/synthetic.py, cached
as N-Triples under --cache-dir), once each, and checks that both give the same results; 100x
only with --with-100x (pySHACL takes a long time there). The fast engine is timed from the
rdflib graph (loading it into Oxigraph included) and, separately, on a store already loaded.

    python benchmarks/validation.py --scale 1,10 [--with-100x] [--cache-dir /tmp/ftz21] [--json out.json]
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
from ftz_kg.query.guard import DATASET_GRAPH  # noqa: E402
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


def result_tuples(results) -> set[tuple]:
    """The results of a results graph as comparable tuples (blank nodes as what hangs off them)."""
    from rdflib import BNode
    from rdflib.namespace import RDF, SH

    def sign(node):
        if isinstance(node, BNode):
            return tuple(sorted((str(p), sign(o)) for p, o in results.predicate_objects(node) if p != SH.detail))
        return node.n3()
    return {tuple(sign(v) if (v := results.value(r, p)) is not None else None
                  for p in (SH.focusNode, SH.resultPath, SH.value, SH.sourceShape, SH.sourceConstraintComponent,
                            SH.resultSeverity, SH.sourceConstraint))
            + (tuple(sorted(m.n3() for m in results.objects(r, SH.resultMessage))),)
            for r in results.subjects(RDF.type, SH.ValidationResult)}


def scaled_graph(factor: int, cache_dir: Path):
    """The real graph (1x) or a synthetic one, parsed into rdflib; the N-Triples file it came from."""
    from rdflib import Graph
    from synthetic import synthetic_lines, template_graph
    cache_dir.mkdir(parents=True, exist_ok=True)
    dump = cache_dir / f"shacl-{factor}x.nt"
    if not dump.exists():
        temporary = dump.with_name(dump.name + ".tmp")
        with temporary.open("w", encoding="utf-8") as out:
            for line in (synthetic_lines(template_graph(), factor) if factor > 1 else
                         (f"{s.n3()} {p.n3()} {o.n3()} ." for s, p, o in template_graph())):
                out.write(line + "\n")
        temporary.replace(dump)
    graph = Graph()
    graph.parse(dump, format="nt")
    return graph, dump


def scale_comparison(factors: list[int], cache_dir: Path, json_path: Path | None) -> int:
    import pyoxigraph as ox
    from ftz_kg.pipeline import fastshacl
    sys.path.insert(0, str(ROOT / "benchmarks"))
    shapes = load_shapes()
    rows = []
    print(f"SHACL validation, pySHACL (validate_graph_reference) against the fast engine, one run each; "
          f"Python {platform.python_version()}, pySHACL {pyshacl.__version__}, {os.cpu_count()} CPUs")
    print(f"{'graph':>22} {'pySHACL s':>10} {'fast s':>8} {'ratio':>7} {'load s':>7} {'fast on store s':>16} "
          f"{'ratio':>7} {'results':>8} {'same':>5} {'load avg':>9}")
    for factor in factors:
        graph, dump = scaled_graph(factor, cache_dir)
        validate_graph(graph, shapes, engine="fast")  # warm: compiled shapes, imports
        start = time.perf_counter()
        fast = validate_graph(graph, shapes, engine="fast")
        fast_s = time.perf_counter() - start
        start = time.perf_counter()
        store = ox.Store()
        store.load(path=str(dump), format=ox.RdfFormat.N_TRIPLES, lenient=True)
        load_s = time.perf_counter() - start
        start = time.perf_counter()
        fastshacl.validate(graph, shapes, store=store)
        on_store_s = time.perf_counter() - start
        # the verdict alone, as `serve --graph DUMP.nt --store-dir` validates (the dump's own store)
        dataset = ox.Store()
        dataset.load(path=str(dump), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(DATASET_GRAPH))
        start = time.perf_counter()
        verdict = fastshacl.conforms_on_store(dataset, shapes)
        verdict_s = time.perf_counter() - start
        del dataset
        start = time.perf_counter()
        reference = validate_graph_reference(graph, shapes)
        reference_s = time.perf_counter() - start
        same = (result_tuples(fast.results_graph) == result_tuples(reference.results_graph)
                and fast.conforms == reference.conforms == verdict)
        results = len(fast.findings)
        load = os.getloadavg()[0]
        print(f"{f'{factor}x ({len(graph):,})':>22} {reference_s:10.2f} {fast_s:8.2f} {reference_s / fast_s:6.1f}x "
              f"{load_s:7.2f} {on_store_s:16.2f} {reference_s / on_store_s:6.1f}x {results:8d} {str(same):>5} {load:9.2f}"
              f"   verdict alone {verdict_s:.2f} s ({reference_s / verdict_s:.1f}x)")
        rows.append({"factor": factor, "triples": len(graph), "pyshacl_s": reference_s, "fast_s": fast_s,
                     "oxigraph_load_s": load_s, "fast_on_loaded_store_s": on_store_s,
                     "fast_verdict_on_dump_store_s": verdict_s, "results": results,
                     "same_report": same, "load_average": load})
        del graph, store, fast, reference
    if json_path:
        json_path.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0 if all(r["same_report"] for r in rows) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--scale", default=None, help="factors to compare pySHACL and the fast engine at, e.g. 1,10")
    parser.add_argument("--with-100x", action="store_true", help="also 100x in --scale (pySHACL takes long)")
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/ftz21"), help="synthetic graphs are kept here")
    args = parser.parse_args()
    if args.scale:
        factors = [int(f) for f in args.scale.split(",")]
        factors += [100] if args.with_100x and 100 not in factors else []
        if 100 in factors and not args.with_100x:
            parser.error("--scale: 100x only with --with-100x")
        return scale_comparison(factors, args.cache_dir, args.json)

    load_before = os.getloadavg()
    built = build()
    graph, shapes = built.graph, load_shapes()
    # one untimed run of each, so that every in-process figure is warm (imports, regexes, caches)
    pyshacl.validate(graph, shacl_graph=shapes)
    validate_graph_reference(graph, shapes)
    validate_graph(graph, shapes, engine="pyshacl")
    validate_graph(graph, shapes, engine="fast")

    peer, (peer_conforms, _, _) = median_time(lambda: pyshacl.validate(graph, shacl_graph=shapes), args.runs)
    reference, reference_report = median_time(lambda: validate_graph_reference(graph, shapes), args.runs)
    ours, report = median_time(lambda: validate_graph(graph, shapes, engine="pyshacl"), args.runs)
    fast, fast_report = median_time(lambda: validate_graph(graph, shapes, engine="fast"), args.runs)
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
            ("(b)  pySHACL sped up, engine=\"pyshacl\" (warm)", ours),
            ("(e)  fast engine, engine=\"fast\" (warm, load included)", fast)]
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
    fast_agree = result_tuples(fast_report.results_graph) == result_tuples(reference_report.results_graph)
    print(f"conforms: peer {bool(peer_conforms)}, ours {report.conforms}, fast {fast_report.conforms}; "
          f"(b) and (a') report the same results: {agree}; (e) and (a') the same results graph: {fast_agree}")

    if args.json:
        args.json.write_text(json.dumps({
            "triples": len(graph), "runs": args.runs, "load_before": load_before, "load_after": load_after,
            "peer_s": peer, "reference_s": reference, "ours_s": ours, "fast_s": fast, "fast_agree": fast_agree,
            "cold_cli_s": cold,
            "cold_cli_samples_s": cold_samples, "target_cold_s": TARGET_COLD_S, "agree": agree,
            "pyrudof_s": rudof, "pyrudof_rejects": caught, "pyrudof_misses": missed,
        }, indent=2) + "\n", encoding="utf-8")
    return 0 if agree and cold < TARGET_COLD_S else 1


if __name__ == "__main__":
    sys.exit(main())
