"""The build / validate / stats commands: determinism, exit codes and error messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ftz_kg.vocab import FTZ

import pytest
from click.testing import CliRunner
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import SKOS

from ftz_kg.cli import main
from ftz_kg.pipeline.rdfio import serialize_turtle

from .helpers import copy_sources

SICHUAN = URIRef("https://w3id.org/ftz-kg/zone/sichuan")


def run(*args: str, env: dict | None = None):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


@pytest.fixture(scope="module")
def built_file(tmp_path_factory, graph) -> Path:
    path = tmp_path_factory.mktemp("built") / "ftz-kg.ttl"
    path.write_bytes(serialize_turtle(graph))
    return path


def test_build_is_byte_identical_across_processes(tmp_path):
    outputs = []
    for seed in ("1", "2"):
        out = tmp_path / f"out-{seed}.ttl"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run([sys.executable, "-m", "ftz_kg.cli", "build", "--out", str(out)], check=True, env=env,
                       capture_output=True)
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    assert len(outputs[0]) > 100_000


def test_build_writes_complete_graph_and_no_temporary_files(tmp_path):
    out = tmp_path / "nested" / "graph.ttl"
    result = run("build", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "triples" in result.output
    assert [p.name for p in out.parent.iterdir()] == ["graph.ttl"]
    graph = Graph().parse(out)
    # the ontology and the data are both in the one file
    assert (URIRef("https://w3id.org/ftz-kg/def"), None, None) in graph
    assert (SICHUAN, SKOS.prefLabel, Literal("中国（四川）自由贸易试验区", lang="zh")) in graph


def test_build_with_unknown_reference_names_file_line_and_column_and_keeps_old_output(tmp_path):
    home = copy_sources(tmp_path)
    zones = home / "graph" / "zones.csv"
    text = zones.read_text(encoding="utf-8").replace(",sichuan,zones-3,", ",atlantis,zones-3,")
    zones.write_text(text, encoding="utf-8")
    out = tmp_path / "graph.ttl"
    out.write_text("old", encoding="utf-8")
    result = run("build", "--out", str(out), env={"FTZ_KG_HOME": str(home)})
    assert result.exit_code == 2
    line = next(i for i, row in enumerate(text.splitlines(), 1) if ",atlantis," in row)
    assert f"zones.csv:{line} (column 'province'): unknown province id 'atlantis'" in result.output
    assert out.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.ttl", "home"]


def test_ontology_syntax_error_names_file_line_and_column(tmp_path):
    home = copy_sources(tmp_path)
    ontology = home / "ontology" / "ftz.ttl"
    lines = ontology.read_text(encoding="utf-8").splitlines()
    target = next(i for i, line in enumerate(lines) if line.startswith("ftz:SubArea a owl:Class"))
    lines[target] = "ftz:SubArea a owl:Class ;;; ]"
    ontology.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run("validate", env={"FTZ_KG_HOME": str(home)})
    assert result.exit_code == 2
    assert f"ftz.ttl:{target + 1}:" in result.output
    assert "Turtle syntax error" in result.output


def test_validate_file_with_syntax_error_exits_2_with_line_and_column(tmp_path):
    bad = tmp_path / "bad.ttl"
    bad.write_text('@prefix ex: <http://example.org/> .\nex:a ex:b ex:c .\nex:d ex:e "unterminated .\n', encoding="utf-8")
    result = run("validate", str(bad))
    assert result.exit_code == 2
    assert "bad.ttl:3:" in result.output


@pytest.mark.parametrize("content, message", [
    (b"", "file is empty"),
    (b"\xef\xbb\xbf@prefix ex: <http://example.org/> .\n", "byte-order mark"),
    (b"@prefix ex: <http://example.org/> .\nex:a ex:b \"\xff\" .\n", "not valid UTF-8"),
])
def test_validate_unusable_file_exits_2(tmp_path, content, message):
    bad = tmp_path / "bad.ttl"
    bad.write_bytes(content)
    result = run("validate", str(bad))
    assert result.exit_code == 2
    assert message in result.output and "bad.ttl" in result.output


def test_validate_missing_file_exits_2(tmp_path):
    result = run("validate", str(tmp_path / "nope.ttl"))
    assert result.exit_code == 2
    assert "nope.ttl" in result.output


def test_validate_fresh_build_conforms():
    result = run("validate")
    assert result.exit_code == 0, result.output[-2000:]
    assert result.output.strip().endswith("conforms: 0 violation(s), 0 warning(s) on 0 focus node(s)")


def _written_without(graph, pattern, path: Path) -> Path:
    """The built graph minus the triples matching `pattern` (and the statements about them, which
    would otherwise claim triples that are gone), written as Turtle to `path`."""
    copy = Graph()
    for triple in graph:
        copy.add(triple)
    for subject, predicate, value in list(copy.triples(pattern)):
        copy.remove((subject, predicate, value))
        for statement in list(copy.subjects(FTZ.statementValue, value)):
            if (statement, FTZ.statementSubject, subject) in copy and (statement, FTZ.statementProperty, predicate) in copy:
                copy.remove((statement, None, None))
    path.write_bytes(serialize_turtle(copy))
    return path


def test_validate_reports_violation_with_label_origin_and_source(tmp_path, graph):
    path = _written_without(graph, (SICHUAN, URIRef("https://w3id.org/ftz-kg/def#inProvince"), None),
                            tmp_path / "broken.ttl")
    result = run("validate", str(path))
    assert result.exit_code == 1
    assert "中国（四川）自由贸易试验区 / China (Sichuan) Pilot Free Trade Zone" in result.output
    assert "Violation [ftz:inProvince]: A zone lies in exactly one province-level division." in result.output
    assert "自贸试验区须恰位于一个省级行政区。" in result.output
    assert "report: " in result.output
    assert "does not conform: 1 violation(s)" in result.output

    as_json = json.loads(run("validate", str(path), "--format", "json").output)
    assert as_json["conforms"] is False and as_json["violations"] == 1
    [node] = as_json["focusNodes"]
    assert node["focus"] == str(SICHUAN)
    assert node["results"][0]["path"] == "ftz:inProvince"

    report = Graph().parse(data=run("validate", str(path), "--format", "turtle").output, format="turtle")
    assert len(report) > 5


def test_validate_warnings_alone_do_not_fail(tmp_path, graph):
    path = _written_without(graph, (SICHUAN, SKOS.altLabel, None), tmp_path / "warned.ttl")
    result = run("validate", str(path))
    assert result.exit_code == 0
    assert "Warning [skos:altLabel]" in result.output
    assert "conforms: 0 violation(s), 1 warning(s)" in result.output


def test_stats_reports_counts_beside_report_totals(built_file):
    result = run("stats", str(built_file), "--format", "json")
    assert result.exit_code == 0
    payload = json.loads(result.output)
    totals = {t["id"]: (t["stated"], t["ours"]) for t in payload["reportTotals"]}
    # stated in the report: Part 1 §一(一), §六(一) and Annex ①
    assert totals["zones"] == (21, 21)
    assert totals["subareas"] == (67, 67)
    assert totals["experiences"] == (37, 37)
    assert totals["experiences-nationwide"] == (31, 31)
    assert totals["experiences-specific-areas"] == (6, 6)
    assert [totals[f"experiences-{d}"] for d in ("investment", "trade", "finance", "supervision", "human-resources")] \
        == [(11, 11), (11, 11), (4, 4), (6, 6), (5, 5)]
    classes = {c["label_en"]: c["count"] for c in payload["classes"]}
    assert classes["pilot free trade zone"] == 21
    assert classes["innovation domain"] == 7
    text = run("stats", str(built_file)).output
    assert "Sub-areas" in text and "DIFFERS" not in text
