"""`ftz-kg serve --store-dir`: the embedded store kept on disk, opened again at a restart.

Checked: the first start writes a validated store and a restart opens it without writing again;
a changed source is loaded afresh and the old version removed; a reload switches versions; a
graph that does not validate is never written; one server per directory; bad directories give
clear errors; the pages and the API answer from the store as from memory.
"""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import SKOS

from ftz_kg.query.ondisk import StoreDir, StoreDirError
from ftz_kg.pipeline.rdfio import serialize_turtle

from .server import running_server
from .helpers import built_triples
from .test_reload import grown, served_count, wait_for

TRIPLES = built_triples()   # the whole graph, as a fresh build makes it

# the report, line 289: "天津自贸试验区东疆片区" (the only Tianjin sub-area it names)
TIANJIN_SUBAREA_IN_REPORT = "东疆片区"


@pytest.fixture()
def graph_file(tmp_path, built):
    path = tmp_path / "graph.ttl"
    path.write_bytes(serialize_turtle(built.graph))
    return path


def manifest(directory) -> dict:
    return json.loads((directory / "manifest.json").read_text(encoding="utf-8"))


def versions(directory) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.is_dir())


def serve_fails(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ftz_kg.cli", "serve", "--port", "1", *args],
                          capture_output=True, text=True, timeout=300)


def test_first_start_writes_the_store_and_a_restart_opens_it(graph_file, tmp_path):
    store = tmp_path / "store"
    with running_server("--graph", str(graph_file), "--store-dir", str(store)) as (base, _):
        assert served_count(base) == TRIPLES
    written = manifest(store)
    assert written["triples"] == TRIPLES
    assert versions(store) == [written["version"]]
    contents = sorted(p.name for p in (store / written["version"]).iterdir())

    with running_server("--graph", str(graph_file), "--store-dir", str(store)) as (base, process):
        assert served_count(base) == TRIPLES
        # the same version, not written again
        assert manifest(store) == written
        assert sorted(p.name for p in (store / written["version"]).iterdir()) == contents
        rows = httpx.get(base + "/api/subareas-of-zone.json", params={"zone": "Tianjin"}, timeout=30).json()
        names = {name for b in rows["results"]["bindings"]
                 for name in [b["subarea_label"]["value"], *b.get("other_names", {}).get("value", "").split("; ")]}
        assert TIANJIN_SUBAREA_IN_REPORT in names


def test_pages_and_dumps_are_read_through_the_store(graph_file, tmp_path):
    with running_server("--graph", str(graph_file), "--store-dir", str(tmp_path / "store")) as (base, _):
        page = httpx.get(base + "/zone/tianjin", headers={"Accept": "text/html"}, timeout=30)
        assert page.status_code == 200 and "中国（天津）自由贸易试验区" in page.text
        turtle = httpx.get(base + "/zone/tianjin.ttl", timeout=30)
        assert turtle.status_code == 200 and "China (Tianjin) Pilot Free Trade Zone" in turtle.text
        assert httpx.get(base + "/zone/nowhere", timeout=30).status_code == 404
        home = httpx.get(base + "/", params={"lang": "en"}, timeout=60)
        assert home.status_code == 200 and "China (Shanghai) Pilot Free Trade Zone" in home.text
        dump = httpx.get(base + "/dumps/ftz-kg.nt", timeout=120)
        assert dump.status_code == 200 and len(dump.text.splitlines()) == TRIPLES
        void = httpx.get(base + "/.well-known/void", headers={"Accept": "text/turtle"}, timeout=120)
        assert str(TRIPLES) in void.text


def test_a_changed_source_is_loaded_afresh_and_the_old_version_removed(graph_file, built, tmp_path):
    store = tmp_path / "store"
    with running_server("--graph", str(graph_file), "--store-dir", str(store)) as (base, _):
        assert served_count(base) == TRIPLES
    first = manifest(store)["version"]
    graph_file.write_bytes(serialize_turtle(grown(built, 2)))
    with running_server("--graph", str(graph_file), "--store-dir", str(store)) as (base, _):
        assert served_count(base) == TRIPLES + 2
        wait_for(lambda: versions(store) == [manifest(store)["version"]])
    assert manifest(store)["version"] != first and manifest(store)["triples"] == TRIPLES + 2


def test_reload_switches_to_a_new_version_and_keeps_the_old_on_failure(graph_file, built, tmp_path):
    store = tmp_path / "store"
    with running_server("--graph", str(graph_file), "--store-dir", str(store)) as (base, process):
        first = manifest(store)["version"]
        graph = grown(built, 0)
        graph.add((URIRef("https://w3id.org/ftz-kg/zone/shanghai"), SKOS.prefLabel, Literal("第二个上海", lang="zh")))
        graph_file.write_bytes(serialize_turtle(graph))
        answer = httpx.post(base + "/admin/reload", timeout=120)
        assert answer.status_code == 422 and "validate" in answer.json()["reason"]
        # nothing that does not validate is ever written
        assert manifest(store)["version"] == first and versions(store) == [first]
        assert served_count(base) == TRIPLES

        graph_file.write_bytes(serialize_turtle(grown(built, 1)))
        answer = httpx.post(base + "/admin/reload", timeout=120)
        assert answer.status_code == 200 and answer.json()["triples"] == (TRIPLES + 1)
        assert served_count(base) == (TRIPLES + 1)
        assert httpx.get(base + "/healthz", timeout=10).json()["triples"] == (TRIPLES + 1)
        wait_for(lambda: versions(store) == [manifest(store)["version"]])
        assert manifest(store)["version"] != first


def test_without_a_graph_file_the_fresh_build_is_stored(tmp_path):
    store = tmp_path / "store"
    with running_server("--store-dir", str(store)) as (base, _):
        assert served_count(base) == TRIPLES
    assert manifest(store)["triples"] == TRIPLES


def test_one_server_per_directory(graph_file, tmp_path):
    store = tmp_path / "store"
    with running_server("--graph", str(graph_file), "--store-dir", str(store)) as (base, _):
        second = serve_fails("--graph", str(graph_file), "--store-dir", str(store))
        assert second.returncode == 2
        assert f"{store}: in use by another ftz-kg process" in second.stderr
        assert served_count(base) == TRIPLES


def test_bad_store_directories_are_refused_clearly(graph_file, tmp_path):
    store = tmp_path / "store"
    store.mkdir()
    (store / "manifest.json").write_text("{not json", encoding="utf-8")
    result = serve_fails("--graph", str(graph_file), "--store-dir", str(store))
    assert result.returncode == 2 and f"{store / 'manifest.json'}: unreadable" in result.stderr

    occupied = tmp_path / "a-file"
    occupied.write_text("x", encoding="utf-8")
    result = serve_fails("--graph", str(graph_file), "--store-dir", str(occupied))
    assert result.returncode == 2 and "store-dir" in result.stderr.lower()

    both = serve_fails("--store-dir", str(tmp_path / "s"), "--store", "http://127.0.0.1:1/sparql")
    assert both.returncode == 2 and "either --store-dir or --store" in both.stderr


def test_a_failed_write_leaves_the_current_version(tmp_path, graph):
    directory = StoreDir(tmp_path / "store")
    try:
        ntriples = graph.serialize(format="nt", encoding="utf-8")
        kept = directory.write("a" * 32, ntriples, len(graph))
        with pytest.raises(StoreDirError, match=f"wrote {TRIPLES} triples, expected {TRIPLES + 1}"):
            directory.write("b" * 32, ntriples, len(graph) + 1)
        assert directory.current("a" * 32) == kept
        assert directory.current("b" * 32) is None
        assert versions(tmp_path / "store") == [kept.path.name]
    finally:
        directory.close()


def test_the_source_digest_follows_the_file(tmp_path):
    """The content hash of the file as it is now, whatever its size and modification time say."""
    import hashlib
    import os
    source = tmp_path / "graph.nt"
    source.write_bytes(b"<https://w3id.org/ftz-kg/a> <https://w3id.org/ftz-kg/b> \"x\" .\n")
    directory = StoreDir(tmp_path / "store")
    try:
        assert directory.file_digest(source) == hashlib.sha256(source.read_bytes()).digest()
        changed = b"<https://w3id.org/ftz-kg/a> <https://w3id.org/ftz-kg/b> \"y\" .\n"   # same size
        source.write_bytes(changed)
        stat = source.stat()
        os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
        assert directory.file_digest(source) == hashlib.sha256(changed).digest()
    finally:
        directory.close()


@pytest.fixture()
def dump_file(tmp_path, built):
    path = tmp_path / "graph.nt"
    path.write_bytes(built.graph.serialize(format="nt", encoding="utf-8"))
    return path


def test_a_dump_is_read_straight_into_the_store(dump_file, tmp_path):
    """An N-Triples dump is parsed by Oxigraph into the store being written, checked and validated
    there (no rdflib copy): served the same as the Turtle file."""
    store = tmp_path / "store"
    with running_server("--graph", str(dump_file), "--store-dir", str(store)) as (base, _):
        assert served_count(base) == TRIPLES
        page = httpx.get(base + "/zone/tianjin", headers={"Accept": "text/html"}, timeout=30)
        assert page.status_code == 200 and "中国（天津）自由贸易试验区" in page.text
    assert manifest(store)["triples"] == TRIPLES and versions(store) == [manifest(store)["version"]]


@pytest.mark.parametrize("case", ["bad-iri", "ill-typed", "does-not-validate"])
def test_a_bad_dump_is_refused_by_line_and_nothing_is_written(dump_file, tmp_path, case):
    lines = dump_file.read_text(encoding="utf-8").splitlines()
    if case == "bad-iri":
        lines.insert(9, '<https://w3id.org/ftz-kg/zone/a b> <http://www.w3.org/2004/02/skos/core#note> "x" .')
        expected = f"{dump_file}:10:"
    elif case == "ill-typed":
        lines.insert(9, '<https://w3id.org/ftz-kg/zone/x> <http://www.w3.org/2004/02/skos/core#note> '
                        '"twelve"^^<http://www.w3.org/2001/XMLSchema#integer> .')
        expected = f"{dump_file}:10:"
    else:
        # the Tianjin zone without its English name: ftzsh:PrefLabelEn
        label = '<https://w3id.org/ftz-kg/zone/tianjin> <http://www.w3.org/2004/02/skos/core#prefLabel> '
        lines = [line for line in lines if not (line.startswith(label) and line.endswith("@en ."))]
        expected = "the graph does not validate"
    dump_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    store = tmp_path / "store"
    result = serve_fails("--graph", str(dump_file), "--store-dir", str(store))
    assert result.returncode != 0 and expected in result.stderr, result.stderr
    if case == "ill-typed":
        assert "ill-typed literal: 'twelve' is not a valid xsd:integer" in result.stderr
    assert not (store / "manifest.json").exists() and versions(store) == []
