"""Bad data and failing writes, run through the command line as a user would.

Unusable input (malformed Turtle, CSV, YAML headers, wrong encodings, ill-typed literals, invalid
IRIs, RDF/XML with a DOCTYPE, JSON-LD with a remote @context) exits 2 with one line naming the file,
line and column, and nothing is written; SHACL violations exit 1 with the entity's label, the
property, the message and where it is defined. Strings that look like paths or URLs are data, never
fetched. A write that fails (disk full, permission denied, SIGINT/SIGTERM, SIGKILL) leaves the old
file as it was and no temporary file behind (a killed writer's is removed by the next write).
"""

from __future__ import annotations

import ast
import ctypes
import json
import os
import queue
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import Graph, Literal, URIRef

from ftz_kg.pipeline import export
from ftz_kg import resources
from ftz_kg.cli import main
from ftz_kg.pipeline.rdfio import parse_rdf, serialize_turtle
from ftz_kg.vocab import bind_prefixes

from .helpers import copy_sources

pytestmark = pytest.mark.hardening

ROOT = Path(__file__).resolve().parent.parent
BASE = "https://w3id.org/ftz-kg/"
PREFIX = "@prefix ex: <http://example.org/> .\n@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"


def ftz(*args: str, home: Path | None = None, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    """`ftz-kg ARGS` in a fresh process (FTZ_KG_HOME=home when given)."""
    env = {**os.environ, **({"FTZ_KG_HOME": str(home)} if home else {})}
    return subprocess.run([sys.executable, "-m", "ftz_kg.cli", *args], capture_output=True, text=True, env=env,
                          timeout=timeout, cwd=kwargs.pop("cwd", ROOT), check=False, **kwargs)


def invoke(*args: str, home: Path | None = None):
    """`ftz-kg ARGS` in this process (faster; the same code path)."""
    return CliRunner().invoke(main, list(args), env={"FTZ_KG_HOME": str(home)} if home else None,
                              catch_exceptions=False)


def error_line(stderr: str) -> str:
    """The one line the command printed, which must be its only output on stderr."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr[-3000:]
    return lines[0]


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture(scope="module")
def built_file(tmp_path_factory, graph) -> Path:
    path = tmp_path_factory.mktemp("built") / "ftz-kg.ttl"
    path.write_bytes(serialize_turtle(graph))
    return path


@pytest.fixture
def listener():
    """A loopback TCP server that counts connections (and answers with a JSON-LD context)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    state = {"connections": 0, "stop": False}
    body = b'{"@context": {"ex": "http://example.org/"}}'

    def serve():
        while not state["stop"]:
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            state["connections"] += 1
            with conn:
                conn.settimeout(2)
                try:
                    conn.recv(65536)
                    conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: application/ld+json\r\nContent-Length: "
                                 + str(len(body)).encode() + b"\r\n\r\n" + body)
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    port = server.getsockname()[1]
    yield type("Listener", (), {"url": f"http://127.0.0.1:{port}", "count": lambda self: state["connections"]})()
    state["stop"] = True
    thread.join(5)
    server.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ============================================================ malformed Turtle, any command

# the string opened on line 4 runs into the newline after `ex:d ex:e "unterminated .` (25 characters)
BAD_TURTLE = PREFIX + 'ex:a ex:b ex:c .\nex:d ex:e "unterminated .\n'


@pytest.mark.parametrize("command", ["export", "serve", "stats"])
def test_malformed_turtle_is_named_by_every_command_that_takes_a_file(tmp_path, command):
    bad = tmp_path / "bad.ttl"
    bad.write_text(BAD_TURTLE, encoding="utf-8")
    out = tmp_path / "out" / "dump.nt"
    args = {"export": ["export", "--graph", str(bad), "--format", "nt", "--out", str(out)],
            "serve": ["serve", "--graph", str(bad), "--port", str(_free_port())],
            "stats": ["stats", str(bad)]}[command]
    result = ftz(*args, timeout=90)   # serve must fail at start-up, not start serving
    assert result.returncode == 2
    line = error_line(result.stderr)
    assert line == f"error: {bad}:4:26: Turtle syntax error: newline found in string literal"
    assert not out.parent.exists()


def test_turtle_missing_a_prefix_declaration(tmp_path):
    bad = tmp_path / "noprefix.ttl"
    bad.write_text("@prefix ex: <http://example.org/> .\nex:a ex:b ex:c .\nex:a skos:prefLabel \"x\" .\n",
                   encoding="utf-8")
    result = ftz("validate", str(bad))
    assert result.returncode == 2
    # "ex:a " is 5 characters wide: the unbound prefix starts in column 6
    assert error_line(result.stderr) == f'error: {bad}:3:6: Turtle syntax error: Prefix "skos:" not bound'


# ============================================================ malformed CSV in graph/

ZONES_ROW = ("shanghai,中国（上海）自由贸易试验区,China (Shanghai) Pilot Free Trade Zone,上海自贸试验区|上海自由贸易试验区,"
             "Shanghai FTZ,shanghai,zones-1,,eastern-modernisation,part1-s1-1|ext-state-council-plans,")
CSV_FAULTS = {
    # name: (edit of zones.csv, the line, the column pointed at in the edited line, the message)
    "unbalanced quote": (lambda t: t.replace(",zones-1,,eastern", ',"zones-1,,eastern', 1), 2,
                         lambda row: row.index('"zones-1') + 1, "malformed CSV: this quoted cell is never closed"),
    "text after a closing quote": (lambda t: t.replace(",zones-1,,eastern", ',"zones-1"x,,eastern', 1), 2,
                                   lambda row: row.index("x,,eastern") + 1,
                                   "malformed CSV: text after the closing quote of a cell"),
    # the twelfth cell is the empty one after the last comma
    "one cell too many": (lambda t: t.replace(",zones-1,,eastern", ",zones-1,,,eastern", 1), 2,
                          lambda row: len(row) + 1, "row has 12 cells but the header has 11"),
    "one cell short": (lambda t: t.replace(",zones-1,,eastern", ",zones-1,eastern", 1), 2,
                       lambda row: len(row) + 1, "row has 10 cells but the header has 11"),
    "unknown column": (lambda t: t.replace("id,name_zh,", "id,name_cn,name_zh,", 1), 1,
                       lambda row: row.index("name_cn,") + 1,
                       "unknown column(s) name_cn; expected: id,name_zh,name_en,"),
}


@pytest.mark.parametrize("fault", list(CSV_FAULTS))
def test_malformed_csv_names_file_line_and_column_and_build_writes_nothing(tmp_path, fault):
    edit, line, column_in, message = CSV_FAULTS[fault]
    home = copy_sources(tmp_path)
    zones = home / "graph" / "zones.csv"
    text = zones.read_text(encoding="utf-8")
    assert text.splitlines()[1] == ZONES_ROW
    zones.write_text(edit(text), encoding="utf-8")
    column = column_in(edit(text).splitlines()[line - 1])
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "graph.ttl").write_bytes(b"old graph\n")
    result = invoke("build", "--out", str(out_dir / "graph.ttl"), home=home)
    assert result.exit_code == 2
    assert error_line(result.stderr).startswith(f"error: {zones}:{line}:{column}: {message}")
    assert (out_dir / "graph.ttl").read_bytes() == b"old graph\n"
    assert listing(out_dir) == ["graph.ttl"]


def test_build_into_a_missing_target_creates_nothing_on_bad_input(tmp_path):
    home = copy_sources(tmp_path)
    zones = home / "graph" / "zones.csv"
    zones.write_text(CSV_FAULTS["unbalanced quote"][0](zones.read_text(encoding="utf-8")), encoding="utf-8")
    result = invoke("build", "--out", str(tmp_path / "out" / "graph.ttl"), home=home)
    assert result.exit_code == 2
    assert not (tmp_path / "out").exists()


def test_ill_typed_csv_value_is_unusable_input_not_a_violation(tmp_path):
    """A wrong datatype cannot even reach SHACL from the CSV: the build refuses it (exit 2, not 1)."""
    home = copy_sources(tmp_path)
    batches = home / "graph" / "batches.csv"
    text = batches.read_text(encoding="utf-8")
    batches.write_text(text.replace("zones-3,establishment,3,2017,", "zones-3,establishment,3,20x7,"), encoding="utf-8")
    line = next(i for i, row in enumerate(text.splitlines(), 1) if row.startswith("zones-3,"))
    result = invoke("validate", home=home)
    assert result.exit_code == 2
    assert error_line(result.stderr) == f"error: {batches}:{line} (column 'year'): '20x7' is not a valid xsd:gYear"


# ============================================================ malformed YAML in a query header

@pytest.mark.parametrize("edit, line, column, problem", [
    # an unclosed flow list: YAML notices at the next line's `:` (line 7 once a comment is added above)
    (lambda t: t.replace("#+ tags: [search, labels]", "# a plain comment\n#+ tags: [search, labels", 1), 7, 10,
     "expected ',' or ']', but got ':'"),
    (lambda t: t.replace("#+   text:\n", "#+   text: : :\n", 1), 7, 12, "mapping values are not allowed here"),
])
def test_bad_query_header_names_file_line_and_column(tmp_path, edit, line, column, problem):
    home = copy_sources(tmp_path)
    shutil.copytree(resources.queries_dir(), home / "queries")
    query = home / "queries" / "label-search.rq"
    query.write_text(edit(query.read_text(encoding="utf-8")), encoding="utf-8")
    for args in (["queries"], ["query", "label-search", "--param", "text=x"]):
        result = invoke(*args, home=home)
        assert result.exit_code == 2
        assert error_line(result.stderr) == f"error: {query}:{line}:{column}: bad #+ header: {problem}"


# ============================================================ SHACL violations: exit 1, with where

def test_violations_injected_into_the_csv_are_reported_with_label_path_message_and_row(tmp_path):
    home = copy_sources(tmp_path)
    graph_dir = home / "graph"
    # missing required property: a report section with no parent (ftz:withinSource minCount 1)
    sources = graph_dir / "sources.csv"
    text = sources.read_text(encoding="utf-8")
    section = "part1-s6-1,section,part1-s6,"
    assert text.count(section) == 1
    sources.write_text(text.replace(section, "part1-s6-1,section,,"), encoding="utf-8")
    section_line = next(i for i, row in enumerate(text.splitlines(), 1) if row.startswith("part1-s6-1,"))
    # wrong class of a link: an experience promoted in a zone establishment batch
    experiences = graph_dir / "experiences.csv"
    text = experiences.read_text(encoding="utf-8")
    text = text.replace("publication-distribution-joint-licensing,experiences-6,",
                        "publication-distribution-joint-licensing,zones-3,")
    # cardinality: a second row for the same experience gives it a second rollout scope
    text += "green-ship-repair-regulation,experiences-6,investment,miit|mot,all-ftzs,annex1-table1#2\n"
    experiences.write_text(text, encoding="utf-8")
    extra_line = len(text.splitlines())

    result = ftz("validate", "--format", "json", home=home)
    assert result.returncode == 1, result.stderr[-2000:]
    report = json.loads(result.stdout)
    # the third fault also gives a rollout scope that no statement cites (StatedLinkShape)
    assert report["conforms"] is False and report["violations"] == 4
    nodes = {node["focus"]: node for node in report["focusNodes"]}

    section_node = nodes[BASE + "source/part1-s6-1"]
    assert section_node["label"] == ("（一）形成 37 项可复制推广的制度创新成果 / "
                                     "1.6.1 The 37 replicable institutional innovations")
    assert section_node["definedAt"] == f"graph/sources.csv:{section_line}"
    [finding] = [r for r in section_node["results"] if r["severity"] == "Violation"]
    assert finding["path"] == "ftz:withinSource"
    assert finding["message"]["en"] == ("Missing the larger place of the report that contains this one "
                                        "(ftz:withinSource).")

    licensing = nodes[BASE + "measure/publication-distribution-joint-licensing"]
    assert licensing["label"].endswith("/ Joint handling of publication distribution licences and online "
                                       "distribution filings")
    assert licensing["definedAt"] == "graph/measures/annex1.csv:2; graph/experiences.csv:2"
    [finding] = licensing["results"]
    assert (finding["path"], finding["value"]) == ("ftz:promotedInBatch", "batch:zones-3")
    assert finding["message"]["en"] == ("An experience is promoted in exactly one batch, which must be a "
                                        "promotion batch.")

    ship = nodes[BASE + "measure/green-ship-repair-regulation"]
    assert ship["definedAt"] == (f"graph/measures/annex1.csv:3; graph/experiences.csv:3; "
                                 f"graph/experiences.csv:{extra_line}")
    [finding] = ship["results"]
    assert finding["path"] == "ftz:rolloutScope"
    assert finding["message"]["zh"] == "改革试点经验须恰有一个推广范围。"
    [unstated] = nodes["https://w3id.org/ftz-kg/def"]["results"]
    assert unstated["value"] == "measure:green-ship-repair-regulation"
    assert "rolloutScope" in unstated["message"]["en"] and "all-ftzs" in unstated["message"]["en"]
    assert "without a statement citing where it is stated" in unstated["message"]["en"]


def test_violations_injected_into_a_built_turtle_file_point_at_its_lines(tmp_path, graph):
    ftz_ = "https://w3id.org/ftz-kg/def#"
    broken = Graph()
    bind_prefixes(broken)
    for triple in graph:
        broken.add(triple)
    # wrong datatype: a year as a plain string instead of xsd:gYear
    batch = URIRef(BASE + "batch/zones-1")
    broken.remove((batch, URIRef(ftz_ + "year"), None))
    broken.add((batch, URIRef(ftz_ + "year"), Literal("2013")))
    # IRI pattern: a zone minted from a label instead of a slug
    old, new = URIRef(BASE + "zone/sichuan"), URIRef(BASE + "zone/Sichuan_FTZ")
    for s, p, o in list(broken):
        if old in (s, o):
            broken.remove((s, p, o))
            broken.add((new if s == old else s, p, new if o == old else o))
    path = tmp_path / "broken.ttl"
    path.write_bytes(serialize_turtle(broken))
    lines = path.read_text(encoding="utf-8").splitlines()
    batch_line = lines.index("batch:zones-1 a ftz:EstablishmentBatch ;") + 1
    zone_line = lines.index("zone:Sichuan_FTZ a ftz:PilotFreeTradeZone ;") + 1

    result = ftz("validate", str(path))
    assert result.returncode == 1 and result.stderr == ""
    text = result.stdout
    assert (f"第一批自贸试验区 / First batch of pilot free trade zones  <{BASE}batch/zones-1>\n"
            f"  defined at: {path}:{batch_line}\n") in text
    assert "  Violation [ftz:year]: A batch has exactly one year (xsd:gYear). (value: 2013)\n" in text
    assert (f"中国（四川）自由贸易试验区 / China (Sichuan) Pilot Free Trade Zone  "
            f"<{BASE}zone/Sichuan_FTZ>\n"
            f"  defined at: {path}:{zone_line}\n") in text
    assert ("  Violation: A pilot free trade zone's IRI must be https://w3id.org/ftz-kg/zone/<slug>. "
            "(value: zone:Sichuan_FTZ)\n") in text
    assert text.endswith("does not conform: 2 violation(s), 0 warning(s) on 2 focus node(s)\n")


# ============================================================ encodings, empty files, odd bytes

@pytest.mark.parametrize("encoding, line", [("gb18030", 3), ("utf-16", 1)])
def test_turtle_not_in_utf8_is_refused_with_its_line(tmp_path, encoding, line):
    bad = tmp_path / "bad.ttl"
    bad.write_bytes((PREFIX + 'ex:a ex:b "自贸试验区" .\n').encode(encoding))
    result = ftz("validate", str(bad))
    assert result.returncode == 2
    assert re.fullmatch(rf"error: {re.escape(str(bad))}:{line}: not valid UTF-8 \(byte 0x[0-9a-f]{{2}}\); "
                        r"save the file as UTF-8", error_line(result.stderr))


@pytest.mark.parametrize("encoding, line", [("gb18030", 2), ("utf-16", 1)])
def test_csv_not_in_utf8_is_refused_with_its_line(tmp_path, encoding, line):
    home = copy_sources(tmp_path)
    zones = home / "graph" / "zones.csv"
    zones.write_bytes(zones.read_text(encoding="utf-8").encode(encoding))
    result = invoke("build", "--out", str(tmp_path / "graph.ttl"), home=home)
    assert result.exit_code == 2
    assert f"error: {zones}:{line}: not valid UTF-8" in error_line(result.stderr)
    assert not (tmp_path / "graph.ttl").exists()


def test_empty_csv_is_refused(tmp_path):
    home = copy_sources(tmp_path)
    (home / "graph" / "zones.csv").write_bytes(b"\n \n")
    result = invoke("build", "--out", str(tmp_path / "graph.ttl"), home=home)
    assert result.exit_code == 2
    assert error_line(result.stderr) == f"error: {home / 'graph' / 'zones.csv'}: file is empty"


def test_csv_with_a_byte_order_mark_builds_the_same_graph(tmp_path, graph):
    """Excel's "CSV UTF-8" starts every file with a BOM: the build drops it rather than reading
    `\\ufeffid` as the first column's name."""
    home = copy_sources(tmp_path)
    for name in ("zones.csv", "sources.csv"):
        path = home / "graph" / name
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    out = tmp_path / "graph.ttl"
    result = invoke("build", "--out", str(out), home=home)
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == serialize_turtle(graph)


def test_turtle_with_a_byte_order_mark_is_still_refused_for_export(tmp_path):
    bad = tmp_path / "bom.ttl"
    bad.write_bytes(b"\xef\xbb\xbf" + PREFIX.encode())
    result = ftz("export", "--graph", str(bad), "--format", "nt", "--out", str(tmp_path / "dump.nt"))
    assert result.returncode == 2
    assert error_line(result.stderr) == (f"error: {bad}:1: file starts with a byte-order mark; "
                                         f"save it as UTF-8 without BOM")
    assert listing(tmp_path) == ["bom.ttl"]


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b"])
def test_control_character_in_a_csv_cell_is_refused_with_line_and_column(tmp_path, char):
    home = copy_sources(tmp_path)
    zones = home / "graph" / "zones.csv"
    text = zones.read_text(encoding="utf-8")
    zones.write_text(text.replace("China (Shanghai) Pilot", f"China (Shang{char}hai) Pilot", 1), encoding="utf-8")
    column = ZONES_ROW.index("China (Shanghai)") + len("China (Shang") + 1
    result = invoke("build", "--out", str(tmp_path / "graph.ttl"), home=home)
    assert result.exit_code == 2
    assert error_line(result.stderr) == (f"error: {zones}:2:{column}: control character U+{ord(char):04X} "
                                         f"is not allowed")


BAD_TERMS = {
    # file name: (Turtle after the prefixes, the message; every bad term is on line 4 at column 11)
    "space-in-iri.ttl": ("ex:a ex:b ex:c .\nex:a ex:b <http://example.org/a b> .\n",
                         "invalid IRI <http://example.org/a b>: it contains ' '"),
    "angle-in-iri.ttl": ("ex:a ex:b ex:c .\nex:a ex:b <http://example.org/a<b> .\n",
                         "invalid IRI <http://example.org/a<b>: it contains '<'"),
    "bad-date.ttl": ('ex:a ex:b ex:c .\nex:a ex:b "2020-13-45"^^xsd:date .\n',
                     "ill-typed literal: '2020-13-45' is not a valid xsd:date"),
    "bad-integer.ttl": ('ex:a ex:b ex:c .\nex:a ex:b "abc"^^xsd:integer .\n',
                        "ill-typed literal: 'abc' is not a valid xsd:integer"),
    "bad-year.ttl": ('ex:a ex:b ex:c .\nex:a ex:b "20x1"^^xsd:gYear .\n',
                     "ill-typed literal: '20x1' is not a valid xsd:gYear"),
}


@pytest.mark.parametrize("name", list(BAD_TERMS))
def test_invalid_iri_or_ill_typed_literal_is_refused_and_never_exported(tmp_path, name):
    body, message = BAD_TERMS[name]
    bad = tmp_path / name
    bad.write_text(PREFIX + body, encoding="utf-8")
    result = ftz("export", "--graph", str(bad), "--format", "nt", "--out", str(tmp_path / "dump.nt"))
    assert result.returncode == 2
    assert error_line(result.stderr) == f"error: {bad}:4:11: {message}"
    assert listing(tmp_path) == [name]   # no dump.nt, no temporary file
    result = invoke("validate", str(bad))
    assert result.exit_code == 2 and f"{bad}:4:11: {message}" in result.stderr


# ============================================================ RDF/XML and JSON-LD: nothing else read

XXE = """<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [ <!ENTITY secret SYSTEM "{target}"> ]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://example.org/">
  <rdf:Description rdf:about="http://example.org/a"><ex:p>&secret;</ex:p></rdf:Description>
</rdf:RDF>
"""
LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://example.org/">
  <rdf:Description rdf:about="http://example.org/a"><ex:p>&lol9;</ex:p></rdf:Description>
</rdf:RDF>
"""


@pytest.fixture
def fifo(tmp_path) -> Path:
    """A named pipe: opening it for reading blocks until a writer comes, so a process that tries to
    read it hangs (and the test times out) instead of quietly succeeding."""
    path = tmp_path / "secret.fifo"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("name, content, line", [
    ("xxe.rdf", XXE, 2),
    ("laughs.owl", LAUGHS, 2),
    ("xxe-lowercase.xml", XXE.replace("<!DOCTYPE", "<!doctype"), 2),
])
def test_rdfxml_with_a_doctype_is_refused_before_parsing(tmp_path, fifo, name, content, line):
    bad = tmp_path / name
    bad.write_text(content.replace("{target}", fifo.as_uri()), encoding="utf-8")
    out = tmp_path / "dump.nt"
    result = ftz("export", "--graph", str(bad), "--format", "nt", "--out", str(out), timeout=60)
    assert result.returncode == 2
    assert error_line(result.stderr) == (f"error: {bad}:{line}:1: RDF/XML with <!DOCTYPE ...> is refused: DOCTYPE "
                                         f"and entity declarations can read other files or expand without bound")
    assert not out.exists()


def test_jsonld_with_a_remote_context_is_refused_without_connecting(tmp_path, listener):
    doc = {"@context": [f"{listener.url}/ctx", {"ex": "http://example.org/"}], "@id": "ex:a", "ex:p": "v"}
    text = json.dumps(doc)
    bad = tmp_path / "remote.jsonld"
    bad.write_text(text, encoding="utf-8")
    column = text.index(f'"{listener.url}') + 1
    for args in (["validate", str(bad)], ["export", "--graph", str(bad), "--format", "nt", "--out",
                                          str(tmp_path / "dump.nt")]):
        result = ftz(*args, timeout=60)
        assert result.returncode == 2
        assert error_line(result.stderr) == (f"error: {bad}:1:{column}: JSON-LD @context '{listener.url}/ctx' is "
                                             f"refused: only inline @context objects are read, never a context "
                                             f"from a URL or another file")
    assert listener.count() == 0
    assert not (tmp_path / "dump.nt").exists()
    # the control: rdflib left to itself does fetch it, so the listener would have seen the CLI do so
    Graph().parse(data=text, format="json-ld")
    assert listener.count() >= 1


def test_jsonld_with_a_file_context_or_import_is_refused_without_opening_it(tmp_path, fifo):
    for name, doc in [
        ("file.jsonld", {"@context": fifo.as_uri(), "@id": "http://example.org/a"}),
        ("scoped.jsonld", {"@context": {"ex": "http://example.org/",
                                        "knows": {"@id": "ex:knows", "@context": {"@import": fifo.as_uri()}}},
                           "@id": "ex:a", "knows": {"@id": "ex:b"}}),
    ]:
        bad = tmp_path / name
        bad.write_text(json.dumps(doc), encoding="utf-8")
        result = ftz("validate", str(bad), timeout=60)   # opening the FIFO would hang until the timeout
        assert result.returncode == 2
        key = "@import" if name == "scoped.jsonld" else "@context"
        assert f"JSON-LD {key} '{fifo.as_uri()}' is refused" in error_line(result.stderr)


@pytest.mark.parametrize("name, content, expected", [
    ("broken.nt", ("<http://example.org/a> <http://example.org/b> <http://example.org/c> .\n"
                   "<http://example.org/a> <http://example.org/b> \"open .\n"),
     ":2:54: Turtle syntax error: newline found in string literal"),   # the string runs to the end of line 2
    ("broken.rdf", ('<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
                    '<rdf:Description rdf:about="http://example.org/a">\n<x></rdf:RDF>\n'),
     ":4:6: cannot parse as RDF/XML: mismatched tag"),
    ("broken.jsonld", '{"@context": {"ex": "http://example.org/"},\n "@id": "ex:a", "ex:p": [}\n',
     ":2:26: JSON syntax error: Expecting value"),
    ("typed.jsonld", json.dumps({"@id": "http://example.org/a", "http://example.org/p":
                                 {"@value": "abc", "@type": "http://www.w3.org/2001/XMLSchema#integer"}}),
     ":1:", ),
])
def test_syntax_errors_in_other_rdf_formats_name_line_and_column(tmp_path, name, content, expected):
    bad = tmp_path / name
    bad.write_text(content, encoding="utf-8")
    result = ftz("validate", str(bad))
    assert result.returncode == 2
    line = error_line(result.stderr)
    assert line.startswith(f"error: {bad}{expected}")
    if name == "typed.jsonld":
        assert line.endswith("ill-typed literal: 'abc' is not a valid xsd:integer")


@pytest.mark.parametrize("fmt", ["nt", "rdfxml", "jsonld", "ttl"])
def test_every_rdf_dump_reads_back_through_the_file_loader(tmp_path, graph, ontology, shapes, fmt):
    path = tmp_path / export.FILE_NAMES[fmt]
    path.write_bytes(export.render(fmt, graph, ontology, shapes))
    assert len(parse_rdf(path)) == len(graph)


# ============================================================ look like paths or URLs, but are data

def test_url_and_path_in_a_csv_cell_stay_literals(tmp_path, listener):
    home = copy_sources(tmp_path)
    zones = home / "graph" / "zones.csv"
    text = zones.read_text(encoding="utf-8")
    text = text.replace(",Shanghai FTZ,", f",{listener.url}/x,", 1)
    text = text.replace(",上海自贸试验区|", ",上海自贸试验区|file:///etc/passwd|", 1)
    zones.write_text(text, encoding="utf-8")
    out = tmp_path / "graph.ttl"
    result = invoke("build", "--out", str(out), home=home)
    assert result.exit_code == 0, result.output
    built = Graph().parse(out)
    shanghai = URIRef(BASE + "zone/shanghai")
    skos_alt = URIRef("http://www.w3.org/2004/02/skos/core#altLabel")
    assert Literal(f"{listener.url}/x", lang="en") in set(built.objects(shanghai, skos_alt))
    assert Literal("file:///etc/passwd", lang="zh") in set(built.objects(shanghai, skos_alt))
    assert "root:" not in out.read_text(encoding="utf-8")
    assert listener.count() == 0


def test_url_and_path_as_query_parameters_match_nothing_and_fetch_nothing(listener):
    for value in ("file:///etc/passwd", f"{listener.url}/x", f"<{listener.url}/x>"):
        result = invoke("query", "label-search", "--param", f"text={value}", "--format", "json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout) == []
    result = invoke("query", "describe", "--param", f"iri={listener.url}/x", "--format", "turtle")
    assert result.exit_code == 0
    assert len(Graph().parse(data=result.stdout, format="turtle")) == 0
    assert listener.count() == 0


def test_a_file_iri_as_a_parameter_is_never_opened(fifo):
    result = ftz("query", "describe", "--param", f"iri={fifo.as_uri()}", "--format", "turtle", timeout=90)
    assert result.returncode == 0, result.stderr
    assert len(Graph().parse(data=result.stdout, format="turtle")) == 0


def test_rdflib_parse_is_only_ever_given_data_never_a_location():
    """Graph.parse(source) fetches URLs and opens paths; the package only ever hands it text (data=)."""
    offenders = []
    for path in sorted((ROOT / "ftz_kg").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "parse":
                receiver = node.func.value
                if isinstance(receiver, ast.Name) and receiver.id in ("ox", "yaml", "json", "urllib"):
                    continue   # pyoxigraph.parse takes bytes positionally; files only by path=
                if node.args or not any(k.arg == "data" for k in node.keywords):
                    offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []


# ============================================================ export faults

STALL = """
import os, signal, sys, time

signal.signal(signal.SIGINT, signal.default_int_handler)   # as on a terminal, even if started with SIGINT ignored

def stall(fd):   # the temporary file is written; hold the process here, before the rename
    print("STALLED", file=sys.stderr, flush=True)
    time.sleep(120)

os.fsync = stall
from ftz_kg.cli import main
main(sys.argv[1:], prog_name="ftz-kg")
"""


def _start_stalled(*args: str):
    proc = subprocess.Popen([sys.executable, "-c", STALL, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT)
    lines: queue.Queue = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in proc.stderr], daemon=True)
    reader.start()
    try:
        while lines.get(timeout=120).strip() != "STALLED":
            pass
    except queue.Empty:
        proc.kill()
        raise AssertionError("the export never reached its write") from None
    return proc, lines, reader


def _rest(proc, lines, reader) -> str:
    proc.wait(timeout=60)
    reader.join(10)
    return "".join(lines.queue)


@pytest.fixture
def target(tmp_path) -> Path:
    folder = tmp_path / "dumps"
    folder.mkdir()
    out = folder / "ftz-kg.nt"
    out.write_bytes(b"previous dump\n")
    return out


@pytest.mark.parametrize("sig, name", [(signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "SIGINT")])
def test_export_interrupted_mid_write_keeps_the_old_file(built_file, target, sig, name):
    proc, lines, reader = _start_stalled("export", "--graph", str(built_file), "--format", "nt", "--out", str(target))
    assert len(listing(target.parent)) == 2       # the old file and the temporary one
    proc.send_signal(sig)
    stderr = _rest(proc, lines, reader)
    assert proc.returncode == 2
    assert error_line(stderr) == f"error: cannot write {target}: interrupted by {name}"
    assert target.read_bytes() == b"previous dump\n"
    assert listing(target.parent) == ["ftz-kg.nt"]


def test_export_killed_mid_write_keeps_the_old_file_and_the_next_write_sweeps_up(built_file, target, graph):
    proc, lines, reader = _start_stalled("export", "--graph", str(built_file), "--format", "nt", "--out", str(target))
    proc.kill()
    _rest(proc, lines, reader)
    assert proc.returncode == -signal.SIGKILL
    assert target.read_bytes() == b"previous dump\n"
    [stale] = [name for name in listing(target.parent) if name != "ftz-kg.nt"]
    assert re.fullmatch(rf"\.ftz-kg\.nt\.{proc.pid}\.[a-z0-9_]+\.tmp", stale)
    # a live writer's temporary file (this process is alive) must survive the sweep
    live = target.parent / f".ftz-kg.nt.{os.getpid()}.abcd1234.tmp"
    live.write_bytes(b"being written")
    # a dead writer's file, but of the target `ftz-kg.nt.{pid}`, not of `ftz-kg.nt`
    other_target = target.parent / f".ftz-kg.nt.{proc.pid}.{proc.pid}.x.tmp"
    other_target.write_bytes(b"not ours")

    result = ftz("export", "--graph", str(built_file), "--format", "nt", "--out", str(target))
    assert result.returncode == 0, result.stderr
    assert len(target.read_bytes().splitlines()) == len(graph)   # the new dump, one line per triple
    assert listing(target.parent) == sorted(["ftz-kg.nt", live.name, other_target.name])


def test_stale_csv_export_folders_are_swept_too(tmp_path, graph):
    out = tmp_path / "ftz-kg-csv"
    dead = 999_999_999   # above any pid_max: no such process
    (tmp_path / f".ftz-kg-csv.{dead}.abcd1234.tmp").mkdir()
    (tmp_path / f".ftz-kg-csv.{dead}.abcd1234.tmp" / "Zone.csv").write_text("half", encoding="utf-8")
    (tmp_path / f".ftz-kg-csv.{dead}.old").mkdir()
    export.write(out, {"a.csv": "iri\n"})
    assert listing(tmp_path) == ["ftz-kg-csv"]
    assert listing(out) == ["a.csv"]


def _file_size_limit(limit: int):
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # so the write fails with EFBIG instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_export_onto_a_full_disk_keeps_the_old_file(built_file, target):
    result = ftz("export", "--graph", str(built_file), "--format", "nt", "--out", str(target),
                 preexec_fn=_file_size_limit(64 * 1024))
    assert result.returncode == 2
    assert error_line(result.stderr) == f"error: cannot write {target}: File too large"
    assert target.read_bytes() == b"previous dump\n"
    assert listing(target.parent) == ["ftz-kg.nt"]


def _can_drop_capabilities() -> bool:
    status = Path("/proc/self/status").read_text(encoding="ascii")
    effective = int(re.search(r"^CapEff:\s*([0-9a-f]+)$", status, re.MULTILINE).group(1), 16)
    return bool(effective & (1 << 8))   # CAP_SETPCAP, needed for PR_CAPBSET_DROP


def _without_permission_override():
    """Drop the capabilities that let root write anywhere (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH,
    CAP_FOWNER) from the bounding set, so the exec'd process obeys file permissions. (Dropping to
    `nobody` would also lock it out of an interpreter installed under /root.)"""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2, 3):
        if libc.prctl(24, capability, 0, 0, 0) != 0:   # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def test_export_into_a_folder_it_may_not_write_keeps_the_old_file(built_file, target, monkeypatch):
    folder = target.parent
    if os.geteuid() == 0 and not _can_drop_capabilities():
        # root that cannot give up its override: the same code path, with the refusal the kernel
        # would have given (creating the temporary file is the first write into the folder)
        import tempfile

        def refuse(*args, **kwargs):
            raise PermissionError(13, "Permission denied")
        monkeypatch.setattr(tempfile, "mkstemp", refuse)
        result = invoke("export", "--graph", str(built_file), "--format", "nt", "--out", str(target))
        assert result.exit_code == 2
        assert error_line(result.output) == f"error: cannot write {target}: Permission denied"
        assert target.read_bytes() == b"previous dump\n"
        assert listing(folder) == ["ftz-kg.nt"]
        return
    if os.geteuid() == 0:
        os.chown(folder, 65534, 65534)   # someone else's folder, 0755: root without the override may not write
        folder.chmod(0o755)
        preexec = _without_permission_override
    else:
        folder.chmod(0o555)
        preexec = None
    try:
        result = ftz("export", "--graph", str(built_file), "--format", "nt", "--out", str(target),
                     preexec_fn=preexec)
    finally:
        folder.chmod(0o755)
        if os.geteuid() == 0:
            os.chown(folder, 0, 0)
    assert result.returncode == 2
    assert error_line(result.stderr) == f"error: cannot write {target}: Permission denied"
    assert target.read_bytes() == b"previous dump\n"
    assert listing(folder) == ["ftz-kg.nt"]
