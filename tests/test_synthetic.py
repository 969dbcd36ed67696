"""The synthetic graphs the growth benchmarks run on (benchmarks/synthetic.py) validate, as the real one does."""

from __future__ import annotations

import sys
from pathlib import Path

from rdflib import RDF, Graph

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from synthetic import synthetic_lines  # noqa: E402

from ftz_kg.pipeline.validate import validate_graph  # noqa: E402
from ftz_kg.vocab import FTZ  # noqa: E402


def test_a_synthetic_graph_validates_and_holds_factor_copies(built):
    graph = Graph().parse(data="\n".join(synthetic_lines(built.graph, 2)), format="nt")
    zones = set(graph.subjects(RDF.type, FTZ.PilotFreeTradeZone))
    assert len(zones) == 2 * 21        # Part 1 §一: 21 pilot FTZs, copied twice
    report = validate_graph(graph)
    assert report.conforms, [(f.focus, f.message_en) for f in report.findings[:5]]
    assert report.count("Violation") == 0
