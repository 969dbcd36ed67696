"""The queries / query / sparql commands: formats, errors and exit codes."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner
from rdflib import Graph

from ftz_kg.cli import main
from ftz_kg.query.results import display_width


def run(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def test_queries_lists_the_catalogue():
    result = run("queries")
    assert result.exit_code == 0
    lines = result.output.strip().splitlines()
    assert len(lines) >= 30
    assert any(line.startswith("parallel-approval ") and "推动并联化" in line for line in lines)


@pytest.mark.parametrize("words", ["并联", "parallel approval", "PARALLEL"])
def test_queries_search_in_either_language(words):
    result = run("queries", "--search", words)
    assert result.exit_code == 0
    assert "parallel-approval" in result.output


def test_queries_search_without_hits_exits_1():
    result = run("queries", "--search", "no-such-words-anywhere")
    assert result.exit_code == 1


def test_query_table_is_aligned_for_cjk():
    result = run("query", "parallel-approval")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    header, rows = lines[0], lines[2:-1]
    assert lines[-1] == "(6 rows)"
    assert len(rows) == 6
    start = display_width(header[:header.index("row")])
    for row in rows:   # the last column starts at the same display column in every row
        cut = next(i for i in range(len(row) + 1) if display_width(row[:i]) >= start)
        assert display_width(row[:cut]) == start
        assert row[cut:].strip() in {"1", "2", "3", "4", "5", "6"}


def test_query_unknown_name_suggests_closest():
    result = run("query", "parallel-aproval")
    assert result.exit_code == 2
    assert "unknown query 'parallel-aproval'; closest: parallel-approval" in result.output


@pytest.mark.parametrize("args, message", [
    (["measures-by-zone"], "missing parameter 'zone'"),
    (["measures-by-zone", "--param", "zon=Sichuan"], "unknown parameter 'zon'"),
    (["zones-in-batch", "--param", "number=five"], "parameter 'number' expects an integer; got 'five'"),
    (["zones-in-batch", "--param", "number"], "'number' is not KEY=VALUE"),
    (["zones-in-batch", "--param", "number=1", "--param", "number=2"], "parameter 'number' given twice"),
])
def test_query_bad_parameters_exit_2_naming_them(args, message):
    result = run("query", *args)
    assert result.exit_code == 2
    assert message in result.output


def test_query_formats():
    csv_out = run("query", "zones-in-batch", "--param", "number=6", "--format", "csv").output
    rows = list(csv.DictReader(io.StringIO(csv_out)))
    assert {r["zone"] for r in rows} == {f"https://w3id.org/ftz-kg/zone/{z}" for z in ("beijing", "hunan", "anhui")}
    tsv_out = run("query", "zones-in-batch", "--param", "number=6", "--format", "tsv").output
    assert tsv_out.splitlines()[0] == "?zone\t?zone_label\t?year"
    assert '"中国（北京）自由贸易试验区"@zh' in tsv_out
    as_json = json.loads(run("query", "zones-in-batch", "--param", "number=6", "--format", "json", "--lang", "en").output)
    assert {r["zone_label"] for r in as_json} == {"China (Beijing) Pilot Free Trade Zone",
                                                   "China (Hunan) Pilot Free Trade Zone",
                                                   "China (Anhui) Pilot Free Trade Zone"}
    sparql_json = json.loads(run("query", "zones-in-batch", "--param", "number=6", "--format", "sparql-json").output)
    assert sparql_json["head"]["vars"] == ["zone", "zone_label", "year"]
    first = sparql_json["results"]["bindings"][0]
    assert first["zone"]["type"] == "uri" and first["zone_label"]["xml:lang"] == "zh"
    assert first["year"]["datatype"] == "http://www.w3.org/2001/XMLSchema#gYear"


def test_describe_as_turtle():
    result = run("query", "describe", "--param", "iri=https://w3id.org/ftz-kg/agency/gacc", "--format", "turtle")
    assert result.exit_code == 0
    graph = Graph().parse(data=result.output, format="turtle")
    assert len(graph) > 20


def test_turtle_for_a_select_query_is_refused():
    result = run("query", "zones-by-batch", "--format", "turtle")
    assert result.exit_code == 2
    assert "turtle is for CONSTRUCT" in result.output


def test_sparql_from_stdin_and_file(tmp_path):
    query = "PREFIX ftz: <https://w3id.org/ftz-kg/def#> SELECT (COUNT(?z) AS ?n) WHERE { ?z a ftz:PilotFreeTradeZone }"
    result = run("sparql", "-", "--format", "csv", input=query)
    assert result.exit_code == 0 and result.output.splitlines()[1] == "21"
    path = tmp_path / "q.rq"
    path.write_text(query, encoding="utf-8")
    assert run("sparql", str(path), "--format", "json").output.strip().startswith("[")


@pytest.mark.parametrize("query", [
    "INSERT DATA { <http://example.org/a> <http://example.org/b> <http://example.org/c> }",
    "SELECT * WHERE { ?s ?p }",
    "",
])
def test_sparql_rejects_updates_and_bad_syntax(query):
    result = run("sparql", "-", input=query)
    assert result.exit_code == 2
    assert "error:" in result.output
