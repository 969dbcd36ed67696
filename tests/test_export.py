"""Dumps: every RDF export re-parses to the built graph, graph exports load in networkx with the
graph's entities and links, CSV round-trips its labels, output is deterministic and atomic."""

from __future__ import annotations

import csv
import os
import subprocess
import sys

import networkx as nx
import pytest
from click.testing import CliRunner
from rdflib import Dataset, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, RDF, SKOS

from ftz_kg.cli import main
from ftz_kg.pipeline.export import GRAPH_NAMES

from .helpers import copy_sources

BASE = "https://w3id.org/ftz-kg/"
VOID = Namespace("http://rdfs.org/ns/void#")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("dumps") / "bundle"
    result = CliRunner().invoke(main, ["export", "--format", "all", "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize("name, fmt", [("ftz-kg.ttl", "turtle"), ("ftz-kg.nt", "nt"), ("ftz-kg.jsonld", "json-ld"),
                                       ("ftz-kg.rdf", "xml")])
def test_rdf_exports_reparse_to_the_built_graph(bundle, graph, name, fmt):
    parsed = Graph().parse(bundle / name, format=fmt)
    assert set(parsed) == set(graph)


def test_trig_keeps_ontology_data_and_shapes_apart(bundle, graph, ontology, shapes):
    dataset = Dataset()
    dataset.parse(bundle / "ftz-kg.trig", format="trig")
    from rdflib.compare import isomorphic
    parts = {name: dataset.graph(iri) for name, iri in GRAPH_NAMES.items()}
    assert set(parts["ontology"]) == set(ontology)
    assert isomorphic(parts["shapes"], shapes)          # the shapes hold blank nodes
    assert set(parts["data"]) | set(parts["ontology"]) == set(graph)
    assert not set(parts["data"]) & set(parts["ontology"])


def _entities_and_links(graph):
    """Counted straight from the RDF: instances under our base, and the links between two of them.
    Statements, citations and conflicts are claims about the entities, not entities."""
    result = graph.query("""
        SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE {
          ?e a ?t . FILTER (STRSTARTS(STR(?e), "https://w3id.org/ftz-kg/") && !STRSTARTS(STR(?e), "https://w3id.org/ftz-kg/def#"))
          FILTER (!REGEX(STR(?e), "^https://w3id.org/ftz-kg/(statement|citation|conflict)/"))
          FILTER (STRSTARTS(STR(?t), "https://w3id.org/ftz-kg/def#") || STRSTARTS(STR(?t), "http://www.w3.org/2004/02/skos/core#"))
        }""")
    entities = int(next(iter(result))[0])
    claims = tuple(f"{BASE}{kind}/" for kind in ("statement", "citation", "conflict"))
    nodes = {s for s, t in graph.subject_objects(RDF.type) if str(s).startswith(BASE) and "/def" not in str(s)
             and not str(s).startswith(claims)
             and str(t).startswith(("https://w3id.org/ftz-kg/def#", "http://www.w3.org/2004/02/skos/core#"))}
    links = sum(1 for s, p, o in graph if s in nodes and o in nodes and p != RDF.type)
    return entities, links


@pytest.mark.parametrize("name, reader", [("ftz-kg.graphml", nx.read_graphml), ("ftz-kg.gexf", nx.read_gexf)])
def test_graph_exports_load_in_networkx(bundle, graph, name, reader):
    loaded = reader(bundle / name)
    entities, links = _entities_and_links(graph)
    assert loaded.number_of_nodes() == entities
    assert loaded.number_of_edges() == links
    sichuan = loaded.nodes[f"{BASE}zone/sichuan"]
    assert sichuan["label_zh"] == "中国（四川）自由贸易试验区" and sichuan["cls"] == "PilotFreeTradeZone"


def test_cytoscape_json_carries_labels_and_edge_labels(bundle):
    import json
    data = json.loads((bundle / "ftz-kg.cyjs").read_text(encoding="utf-8"))
    nodes = {n["data"]["id"]: n["data"] for n in data["elements"]["nodes"]}
    assert nodes[f"{BASE}agency/gacc"]["label_zh"] == "海关总署"
    edge = next(e["data"] for e in data["elements"]["edges"]
                if e["data"]["source"] == f"{BASE}subarea/jiangsu-nanjing" and e["data"]["predicate"] == "ftz:partOfZone")
    assert edge["target"] == f"{BASE}zone/jiangsu" and edge["label"] == "part of zone"


def test_csv_tables_round_trip_labels(bundle, graph):
    with open(bundle / "ftz-kg-csv" / "PilotFreeTradeZone.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 21
    for row in rows:
        node = URIRef(row["iri"])
        assert (node, SKOS.prefLabel, Literal(row["label_zh"], lang="zh")) in graph
        assert (node, SKOS.prefLabel, Literal(row["label_en"], lang="en")) in graph
    sichuan = next(r for r in rows if r["iri"].endswith("/zone/sichuan"))
    assert sichuan["label_zh"] == "中国（四川）自由贸易试验区"
    assert "四川自贸试验区@zh" in sichuan["skos:altLabel"]


def test_void_and_dcat_describe_the_bundle(bundle, graph):
    void = Graph().parse(bundle / "void.ttl")
    dataset = URIRef(BASE + "dataset")
    assert int(void.value(dataset, VOID.triples)) == len(graph)
    assert (dataset, RDF.type, DCAT.Dataset) in void and (dataset, RDF.type, VOID.Dataset) in void
    sizes = {str(void.value(d, DCAT.mediaType)): int(void.value(d, DCAT.byteSize))
             for d in void.objects(dataset, DCAT.distribution)}
    assert sizes["text/turtle"] == (bundle / "ftz-kg.ttl").stat().st_size
    assert sizes["application/n-triples"] == (bundle / "ftz-kg.nt").stat().st_size
    assert len(sizes) == 9


@pytest.mark.parametrize("fmt", ["ttl", "nt", "jsonld", "rdfxml", "trig", "graphml", "gexf", "cytoscape"])
def test_exports_are_deterministic(tmp_path, fmt):
    outputs = []
    for seed in ("1", "2"):
        out = tmp_path / f"{seed}.out"
        subprocess.run([sys.executable, "-m", "ftz_kg.cli", "export", "--format", fmt, "--out", str(out)], check=True,
                       env={**os.environ, "PYTHONHASHSEED": seed}, capture_output=True)
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]


def test_failed_export_keeps_the_old_file_and_leaves_no_temporaries(tmp_path):
    home = copy_sources(tmp_path)
    (home / "graph" / "zones.csv").write_text("id,name_zh\nbroken\n", encoding="utf-8")
    out = tmp_path / "dump" / "ftz-kg.ttl"
    out.parent.mkdir()
    out.write_text("previous dump", encoding="utf-8")
    result = CliRunner().invoke(main, ["export", "--format", "ttl", "--out", str(out)], env={"FTZ_KG_HOME": str(home)})
    assert result.exit_code == 2 and "zones.csv" in result.output
    assert out.read_text(encoding="utf-8") == "previous dump"
    assert [p.name for p in out.parent.iterdir()] == ["ftz-kg.ttl"]


def test_dump_files_are_readable_by_others(bundle):
    assert (bundle / "ftz-kg.ttl").stat().st_mode & 0o044
