"""Input files that are valid but hostile, and writes that fail half-way, run as a user would.

JSON-LD nested too deep and files declaring too many prefixes are refused with one line naming the
file and the limit, before the parser can overflow the stack or spend minutes (prefixes cost rdflib
time in their square: the refusal takes time in proportion to the file). `export --format all` is
all new or all old: a failure or an interruption at any format leaves every file of the previous
bundle as it was and no temporary folder behind. A `--store-dir` store is named by its source's
content, not its size and modification time. Labels and texts with control, bidirectional-control
or separator characters are violations. A query that is not UTF-8 is named with its byte offset.
"""

from __future__ import annotations

import errno
import json
import gc
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from rdflib import Graph, URIRef

from ftz_kg.pipeline import export
from ftz_kg import resources
from ftz_kg.errors import InputError
from ftz_kg.query.ondisk import StoreDir
from ftz_kg.pipeline.rdfio import MAX_JSONLD_DEPTH, MAX_PREFIXES, parse_rdf, parse_turtle, serialize_turtle

from .helpers import copy_sources
from .server import free_port, running_server
from .test_hardening_data import ROOT, _file_size_limit, _rest, error_line, ftz, invoke, listing

pytestmark = pytest.mark.hardening

EX = "http://example.org/"

# `ftz-kg ARGS`, held still once two dumps are on disk and the third is written (at its third
# fsync), until a signal comes
STALL_AT_THIRD_DUMP = """
import os, signal, sys, time

signal.signal(signal.SIGINT, signal.default_int_handler)   # as on a terminal, even if started with SIGINT ignored
synced, fsync = [], os.fsync

def stall(fd):
    synced.append(fd)
    if len(synced) < 3:
        return fsync(fd)
    print("STALLED", file=sys.stderr, flush=True)
    time.sleep(120)

os.fsync = stall
from ftz_kg.cli import main
main(sys.argv[1:], prog_name="ftz-kg")
"""


@pytest.fixture(scope="module")
def built_file(tmp_path_factory, graph) -> Path:
    path = tmp_path_factory.mktemp("built") / "ftz-kg.ttl"
    path.write_bytes(serialize_turtle(graph))
    return path


# ============================================================ JSON-LD nested too deep

def _objects(levels: int) -> dict:
    """Blank nodes inside blank nodes: rdflib's JSON-LD parser recurses into each."""
    node: dict = {f"{EX}p": "leaf"}
    for _ in range(levels - 1):
        node = {f"{EX}p": node}
    return node


def _arrays(levels: int) -> dict:
    """Values in arrays in objects (levels counts both): our own walk of the JSON used to recurse
    twice per level here."""
    node: dict = {"@value": "leaf"}
    depth = 1
    while depth + 2 <= levels:
        node, depth = {f"{EX}p": [node]}, depth + 2
    return {f"{EX}p": node} if depth < levels else node


def _graphs(levels: int) -> dict:
    """Named graphs inside named graphs."""
    node: dict = {"@id": f"{EX}leaf", f"{EX}p": "v"}
    depth = 1
    while depth + 2 <= levels:
        node, depth = {"@id": f"{EX}g{depth}", "@graph": [node]}, depth + 2
    return {"@id": f"{EX}top", f"{EX}p": node} if depth < levels else node


def _too_deep_line(path: Path, text: str) -> str:
    """The refusal, pointing at the bracket that opens level MAX_JSONLD_DEPTH + 1."""
    depth = 0
    for at, char in enumerate(text):   # these documents hold no brackets inside strings
        depth += {"{": 1, "[": 1, "}": -1, "]": -1}.get(char, 0)
        if depth > MAX_JSONLD_DEPTH:
            return (f"error: {path}:1:{at + 1}: JSON-LD nested deeper than {MAX_JSONLD_DEPTH} levels of arrays "
                    f"and objects (MAX_JSONLD_DEPTH) is refused")
    raise AssertionError("not too deep")


@pytest.mark.parametrize("shape", [_objects, _arrays, _graphs], ids=lambda f: f.__name__.strip("_"))
def test_jsonld_nested_450_levels_is_refused_by_validate_and_serve(tmp_path, shape):
    """450 levels are valid JSON; given to rdflib (or to a recursive walk of our own) they end in a
    RecursionError traceback."""
    text = json.dumps(shape(450))
    deep = tmp_path / "deep.jsonld"
    deep.write_text(text, encoding="utf-8")
    expected = _too_deep_line(deep, text)
    for args in (["validate", str(deep)], ["serve", "--graph", str(deep), "--port", str(free_port())]):
        result = ftz(*args, timeout=120)   # serve must refuse at start-up, never start serving
        assert result.returncode == 2, result.stderr[-2000:]
        assert error_line(result.stderr) == expected


def test_json_too_deep_for_the_standard_library_is_refused_with_the_same_line(tmp_path):
    text = "[" * 100_000 + "]" * 100_000
    deep = tmp_path / "abyss.jsonld"
    deep.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as refused:
        parse_rdf(deep)
    assert f"error: {refused.value}" == _too_deep_line(deep, text)


@pytest.mark.parametrize("shape", [_objects, _arrays, _graphs], ids=lambda f: f.__name__.strip("_"))
def test_jsonld_at_the_depth_limit_is_read_and_one_level_more_is_not(tmp_path, shape):
    """The limit is below what rdflib can read (~330 levels), whatever the nesting is made of."""
    at_limit = tmp_path / "at-limit.jsonld"
    at_limit.write_text(json.dumps(shape(MAX_JSONLD_DEPTH)), encoding="utf-8")
    assert len(parse_rdf(at_limit)) > 0
    beyond = tmp_path / "beyond.jsonld"
    beyond.write_text(json.dumps({f"{EX}p": shape(MAX_JSONLD_DEPTH)}), encoding="utf-8")
    with pytest.raises(InputError, match="nested deeper than"):
        parse_rdf(beyond)


# ============================================================ files declaring too many prefixes

def _prefixes(count: int) -> str:
    return "".join(f"@prefix p{i}: <{EX}ns{i}/> .\n" for i in range(count)) + "p0:a p1:b p2:c .\n"


def _refusal_time(path: Path) -> float:
    """CPU seconds until parse_rdf refuses the file (CPU time: other processes share the machine). The
    garbage collector is held off meanwhile: late in a full run it walks every graph the other tests
    keep in memory, a cost that grows with them and says nothing about parsing."""
    gc.collect()
    gc.disable()
    try:
        start = time.process_time()
        with pytest.raises(InputError) as refused:
            parse_rdf(path)
        elapsed = time.process_time() - start
    finally:
        gc.enable()
    assert str(refused.value) == (f"{path}:{MAX_PREFIXES + 1}:1: more than {MAX_PREFIXES} namespaces declared, the "
                                  f"limit (MAX_PREFIXES): refused, as rdflib takes time growing with their square "
                                  f"to bind them")
    return elapsed


def test_prefix_heavy_turtle_is_refused_in_time_proportional_to_its_size(tmp_path):
    """20,000 @prefix lines took rdflib 85 s to bind (every new namespace is compared with every
    one bound before it) and 200,000 over 300 s. The ratio is the mechanism: twice the prefixes
    cost four times as long when binding is quadratic, twice as long when the file is only read
    and refused; 3x leaves room for noise. Each size is timed twice, the faster run kept."""
    one, two = tmp_path / "20k.ttl", tmp_path / "40k.ttl"
    one.write_text(_prefixes(20_000), encoding="utf-8")
    two.write_text(_prefixes(40_000), encoding="utf-8")
    first = min(_refusal_time(one) for _ in range(2))
    second = min(_refusal_time(two) for _ in range(2))
    assert second < 3 * first, (first, second)


def test_prefix_heavy_turtle_is_one_clear_line_on_the_command_line(tmp_path):
    bad = tmp_path / "prefixes.ttl"
    bad.write_text(_prefixes(20_000), encoding="utf-8")
    result = ftz("validate", str(bad), timeout=120)
    assert result.returncode == 2
    assert error_line(result.stderr) == (f"error: {bad}:{MAX_PREFIXES + 1}:1: more than {MAX_PREFIXES} namespaces "
                                         f"declared, the limit (MAX_PREFIXES): refused, as rdflib takes time growing "
                                         f"with their square to bind them")


def test_up_to_the_limit_every_prefix_is_bound_as_rdflib_binds_it(tmp_path):
    at_limit = tmp_path / "at-limit.ttl"
    at_limit.write_text(_prefixes(MAX_PREFIXES), encoding="utf-8")
    graph = parse_rdf(at_limit)
    assert len(graph) == 1
    bound = dict(graph.namespaces())
    assert all(bound[f"p{i}"] == URIRef(f"{EX}ns{i}/") for i in range(MAX_PREFIXES))
    # the same prefixes, in the same places, as rdflib left to itself gives
    for path in (resources.ontology_file(), resources.shapes_file()):
        plain = Graph().parse(data=path.read_text(encoding="utf-8"), format="turtle", publicID=path.resolve().as_uri())
        assert sorted(parse_turtle(path).namespaces()) == sorted(plain.namespaces())


def _xml_with_namespaces(count: int) -> str:
    declarations = "".join(f'\n    xmlns:p{i}="{EX}ns{i}/"' for i in range(count))
    return (f'<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"{declarations}>\n'
            f'  <rdf:Description rdf:about="{EX}a"><p1:b>x</p1:b></rdf:Description>\n</rdf:RDF>\n')


@pytest.mark.parametrize("name, content, where", [
    # rdflib's RDF/XML parser copies the namespaces in scope at each declaration (20,000: 23 s)
    ("namespaces.rdf", _xml_with_namespaces(20_000), f":{MAX_PREFIXES + 2}:5"),   # the rdf: namespace is one
    # rdflib's JSON-LD parser binds each prefix of the top-level @context (20,000: over 20 s)
    ("context.jsonld", json.dumps({"@context": {f"p{i}": f"{EX}ns{i}/" for i in range(20_000)},
                                   "@id": "p0:a", "p1:b": "x"}), ""),
], ids=["rdfxml", "jsonld"])
def test_prefix_heavy_rdfxml_and_jsonld_are_refused_before_rdflib_reads_them(tmp_path, monkeypatch, name, content,
                                                                             where):
    bad = tmp_path / name
    bad.write_text(content, encoding="utf-8")

    def never(*args, **kwargs):
        raise AssertionError("rdflib was given the file")

    monkeypatch.setattr(Graph, "parse", never)
    with pytest.raises(InputError) as refused:
        parse_rdf(bad)
    in_context = " in the top-level @context" if name.endswith(".jsonld") else ""
    assert str(refused.value) == (f"{bad}{where}: more than {MAX_PREFIXES} namespaces declared{in_context}, the "
                                  f"limit (MAX_PREFIXES): refused, as rdflib takes time growing with their square "
                                  f"to bind them")


# ============================================================ export --format all: all new or all old

def _old_bundle(out: Path) -> dict[str, bytes]:
    """A previous bundle in `out` whose every file differs from a new export's, beside a file of
    the user's own; returns the folder's content."""
    out.mkdir(parents=True)
    for fmt, name in export.FILE_NAMES.items():
        if fmt == "csv":
            (out / name).mkdir()
            (out / name / "Zone.csv").write_bytes(b"old table\n")
        else:
            (out / name).write_bytes(f"old {fmt}\n".encode())
    (out / export.DESCRIPTION).write_bytes(b"old description\n")
    (out / "NOTES.txt").write_bytes(b"the user's own file\n")
    return _snapshot(out)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _third_format_fails(monkeypatch, error: int = errno.ENOSPC) -> str:
    """Make writing the third format's dump fail as a full disk does; its file name."""
    third = export.FILE_NAMES[export.FORMATS[2]]
    put = export._put

    def failing(path: Path, content) -> None:
        if path.name == third:
            raise OSError(error, os.strerror(error))
        put(path, content)

    monkeypatch.setattr(export, "_put", failing)
    return third


def _assert_a_new_bundle(out: Path, kept: dict[str, bytes]) -> None:
    assert sorted(os.listdir(out)) == sorted([*export.BUNDLE_NAMES, "NOTES.txt"])
    for name in export.BUNDLE_NAMES - {export.FILE_NAMES["csv"]}:
        assert not (out / name).read_bytes().startswith(b"old ")
    tables = os.listdir(out / export.FILE_NAMES["csv"])
    assert "PilotFreeTradeZone.csv" in tables and "Zone.csv" not in tables   # the old table went with its folder
    assert (out / "NOTES.txt").read_bytes() == kept["NOTES.txt"]


def test_export_all_failing_at_the_third_format_leaves_the_old_bundle(tmp_path, built_file, monkeypatch):
    out = tmp_path / "dumps"
    before = _old_bundle(out)
    _third_format_fails(monkeypatch)
    result = invoke("export", "--graph", str(built_file), "--format", "all", "--out", str(out))
    assert result.exit_code == 2
    assert error_line(result.stderr) == f"error: cannot write {out}: No space left on device"
    assert _snapshot(out) == before
    assert listing(tmp_path) == ["dumps"]   # no temporary folder beside it


def test_export_all_onto_a_disk_that_fills_up_leaves_the_old_bundle(tmp_path, built_file, graph, ontology, shapes):
    """The case reported: Turtle fits, N-Triples (the second dump, twice as large) does not. Each
    dump used to replace its file on its own, leaving new Turtle beside old everything else."""
    turtle = len(export.render("ttl", graph, ontology, shapes))
    ntriples = len(export.render("nt", graph, ontology, shapes))
    assert turtle < ntriples
    out = tmp_path / "dumps"
    before = _old_bundle(out)
    result = ftz("export", "--graph", str(built_file), "--format", "all", "--out", str(out),
                 preexec_fn=_file_size_limit((turtle + ntriples) // 2))
    assert result.returncode == 2
    assert error_line(result.stderr) == f"error: cannot write {out}: File too large"
    assert _snapshot(out) == before
    assert listing(tmp_path) == ["dumps"]


@pytest.mark.parametrize("exchange", [True, False], ids=["exchanged", "renamed-aside"])
def test_export_all_swaps_the_whole_bundle_and_keeps_other_files(tmp_path, built_file, monkeypatch, exchange):
    out = tmp_path / "dumps"
    before = _old_bundle(out)
    notes = (out / "NOTES.txt").stat().st_ino
    if not exchange:   # a system or file system without an atomic exchange: two renames
        monkeypatch.setattr(export, "_exchange", lambda a, b: False)
    result = invoke("export", "--graph", str(built_file), "--format", "all", "--out", str(out))
    assert result.exit_code == 0, result.output
    _assert_a_new_bundle(out, before)
    assert (out / "NOTES.txt").stat().st_ino == notes   # linked into the new folder, not copied
    assert listing(tmp_path) == ["dumps"]


def test_export_all_into_a_folder_that_cannot_be_swapped_still_changes_nothing_on_failure(tmp_path, built_file,
                                                                                         monkeypatch):
    """A mount point, or a folder whose parent we may not write: the bundle is staged inside it,
    and nothing is renamed into place until every dump is written."""
    out = tmp_path / "dumps"
    before = _old_bundle(out)
    monkeypatch.setattr(export, "_swappable", lambda folder: False)
    with monkeypatch.context() as patch:
        _third_format_fails(patch)
        result = invoke("export", "--graph", str(built_file), "--format", "all", "--out", str(out))
    assert result.exit_code == 2
    assert _snapshot(out) == before
    assert sorted(os.listdir(out)) == sorted([*export.BUNDLE_NAMES, "NOTES.txt"])   # no staging folder left
    result = invoke("export", "--graph", str(built_file), "--format", "all", "--out", str(out))
    assert result.exit_code == 0, result.output
    _assert_a_new_bundle(out, before)
    assert listing(tmp_path) == ["dumps"]


def _start_stalled(*args: str):
    proc = subprocess.Popen([sys.executable, "-c", STALL_AT_THIRD_DUMP, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT)
    lines: queue.Queue = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in proc.stderr], daemon=True)
    reader.start()
    try:
        while lines.get(timeout=120).strip() != "STALLED":
            pass
    except queue.Empty:
        proc.kill()
        raise AssertionError("the export never reached its third dump") from None
    return proc, lines, reader


@pytest.mark.parametrize("sig, name", [(signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "SIGINT")])
def test_export_all_interrupted_mid_bundle_leaves_the_old_bundle(tmp_path, built_file, sig, name):
    out = tmp_path / "dumps"
    before = _old_bundle(out)
    proc, lines, reader = _start_stalled("export", "--graph", str(built_file), "--format", "all", "--out", str(out))
    proc.send_signal(sig)
    stderr = _rest(proc, lines, reader)
    assert proc.returncode == 2
    assert error_line(stderr) == f"error: cannot write {out}: interrupted by {name}"
    assert _snapshot(out) == before
    assert listing(tmp_path) == ["dumps"]


def test_export_all_killed_mid_bundle_leaves_the_old_bundle_and_the_next_export_sweeps_up(tmp_path, built_file):
    out = tmp_path / "dumps"
    before = _old_bundle(out)
    proc, lines, reader = _start_stalled("export", "--graph", str(built_file), "--format", "all", "--out", str(out))
    proc.kill()
    _rest(proc, lines, reader)
    assert _snapshot(out) == before
    [stale] = [name for name in listing(tmp_path) if name != "dumps"]
    assert stale.startswith(f".dumps.{proc.pid}.") and stale.endswith(".tmp")
    result = ftz("export", "--graph", str(built_file), "--format", "all", "--out", str(out))
    assert result.returncode == 0, result.stderr
    _assert_a_new_bundle(out, before)
    assert listing(tmp_path) == ["dumps"]


# ============================================================ --store-dir: named by content

def test_the_source_digest_changes_with_a_same_size_edit_whose_time_is_restored(tmp_path):
    source = tmp_path / "graph.nt"
    source.write_bytes(b'<https://w3id.org/ftz-kg/a> <https://w3id.org/ftz-kg/b> "x" .\n')
    directory = StoreDir(tmp_path / "store")
    try:
        first = directory.file_digest(source)
        before = source.stat()
        source.write_bytes(b'<https://w3id.org/ftz-kg/a> <https://w3id.org/ftz-kg/b> "y" .\n')
        os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns))
        after = source.stat()
        assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
        assert directory.file_digest(source) != first
    finally:
        directory.close()


def test_a_same_size_edit_with_the_time_restored_rebuilds_the_store(tmp_path, graph):
    source = tmp_path / "graph.ttl"
    text = serialize_turtle(graph)
    source.write_bytes(text)
    store = tmp_path / "store"
    ask = 'ASK { <https://w3id.org/ftz-kg/zone/tianjin> ?p "China (Tianjim) Pilot Free Trade Zone"@en }'

    def edited_label_served(base: str) -> bool:
        answer = httpx.get(base + "/sparql", params={"query": ask},
                           headers={"Accept": "application/sparql-results+json"}, timeout=60)
        return answer.json()["boolean"]

    with running_server("--graph", str(source), "--store-dir", str(store)) as (base, _):
        assert not edited_label_served(base)
    first = json.loads((store / "manifest.json").read_text(encoding="utf-8"))["fingerprint"]
    before = source.stat()
    edited = text.replace(b"China (Tianjin) Pilot Free Trade Zone", b"China (Tianjim) Pilot Free Trade Zone")
    assert edited != text and len(edited) == len(text)
    source.write_bytes(edited)
    os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns))
    with running_server("--graph", str(source), "--store-dir", str(store)) as (base, _):
        assert edited_label_served(base)
    assert json.loads((store / "manifest.json").read_text(encoding="utf-8"))["fingerprint"] != first
    assert not (store / "source-digest.json").exists()


# ============================================================ labels with hidden characters

HIDDEN = {"right-to-left-override": "\u202e", "left-to-right-isolate": "\u2066", "line-separator": "\u2028",
          "zero-width-no-break-space": "\ufeff", "next-line": "\u0085"}


@pytest.mark.parametrize("name", list(HIDDEN))
def test_a_label_with_a_hidden_character_in_the_csv_is_a_violation_at_its_row(tmp_path, name):
    char = HIDDEN[name]
    home = copy_sources(tmp_path)
    zones = home / "graph" / "zones.csv"
    text = zones.read_text(encoding="utf-8")
    zones.write_text(text.replace("China (Shanghai) Pilot", f"China (Shang{char}hai) Pilot", 1), encoding="utf-8")
    result = invoke("validate", "--format", "json", home=home)
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    [node] = [n for n in report["focusNodes"] if n["focus"] == "https://w3id.org/ftz-kg/zone/shanghai"]
    assert node["definedAt"].startswith("graph/zones.csv:2")
    [finding] = node["results"]
    assert (finding["severity"], finding["path"]) == ("Violation", "skos:prefLabel")
    assert finding["message"]["en"].startswith("A preferred label (skos:prefLabel) contains a control character")
    assert finding["message"]["zh"].startswith("首选标签（skos:prefLabel）含控制字符")


# ============================================================ ftz-kg sparql: a query that is not UTF-8

def test_a_query_file_that_is_not_utf8_is_named_with_its_byte_offset(tmp_path):
    query = tmp_path / "query.rq"
    data = 'SELECT * WHERE { ?s ?p "自贸'.encode() + b"\xff" + b'" }\n'
    query.write_bytes(data)
    offset = data.index(b"\xff")
    result = ftz("sparql", str(query))
    assert result.returncode == 2
    assert error_line(result.stderr) == (f"error: {query}: not valid UTF-8 (byte 0xff at byte offset {offset}); "
                                         f"save the query as UTF-8")
    result = ftz("sparql", "-", input=data.decode("latin-1"), encoding="latin-1")
    assert result.returncode == 2
    assert error_line(result.stderr) == (f"error: standard input: not valid UTF-8 (byte 0xff at byte offset "
                                         f"{offset}); save the query as UTF-8")


def test_a_query_in_gb18030_is_refused_at_its_first_chinese_character(tmp_path):
    query = tmp_path / "gb.rq"
    head = 'SELECT * WHERE { ?s ?p "'
    query.write_bytes((head + '自贸" }\n').encode("gb18030"))
    offset = len(head)   # 自 is D7 D4: a lead byte without its continuation
    result = ftz("sparql", str(query))
    assert result.returncode == 2
    assert error_line(result.stderr) == (f"error: {query}: not valid UTF-8 (byte 0xd7 at byte offset {offset}); "
                                         f"save the query as UTF-8")
