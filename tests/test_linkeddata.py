"""Dereferenceable IRIs, pages, search, dumps and the dataset description over real HTTP."""

from __future__ import annotations

import io
import zipfile
from urllib.parse import quote

import httpx
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import SKOS

from .server import running_server

BASE = "https://w3id.org/ftz-kg/"
SICHUAN = URIRef(BASE + "zone/sichuan")


@pytest.fixture(scope="module")
def client():
    with running_server() as (base, process):
        with httpx.Client(base_url=base, timeout=60) as http:
            yield http


ENTITY_ACCEPT = [  # (Accept, expected status, expected content type)
    ("text/html", 200, "text/html"),
    ("text/turtle", 200, "text/turtle"),
    ("application/ld+json", 200, "application/ld+json"),
    ("application/n-triples", 200, "application/n-triples"),
    ("application/rdf+xml", 200, "application/rdf+xml"),
    ("text/turtle;q=0.5, application/rdf+xml;q=0.8", 200, "application/rdf+xml"),
    ("*/*", 200, "text/html"),
    ("image/png", 406, None),
]


@pytest.mark.parametrize("accept, status, content_type", ENTITY_ACCEPT)
def test_entity_content_negotiation(client, accept, status, content_type):
    response = client.get("/zone/sichuan", headers={"Accept": accept})
    assert response.status_code == status
    assert "Accept" in response.headers["vary"]
    if content_type:
        assert response.headers["content-type"].split(";")[0] == content_type
        assert 'rel="alternate"; type="text/turtle"' in response.headers["link"]


@pytest.mark.parametrize("suffix, content_type", [(".ttl", "text/turtle"), (".jsonld", "application/ld+json"),
                                                  (".nt", "application/n-triples"), (".rdf", "application/rdf+xml"),
                                                  (".html", "text/html")])
def test_format_suffixes(client, suffix, content_type):
    response = client.get("/agency/gacc" + suffix)
    assert response.status_code == 200 and response.headers["content-type"].split(";")[0] == content_type


def test_turtle_json_ld_and_html_show_the_same_facts(client):
    turtle = Graph().parse(data=client.get("/zone/sichuan.ttl").text, format="turtle")
    jsonld = Graph().parse(data=client.get("/zone/sichuan.jsonld").text, format="json-ld")
    assert set(turtle) == set(jsonld)
    html = client.get("/zone/sichuan.html?lang=zh").text
    # the report: 四川 is in the third batch; its measures include 企业“套餐式”注销服务模式 (table 1 row 2)
    assert (SICHUAN, SKOS.prefLabel, Literal("中国（四川）自由贸易试验区", lang="zh")) in turtle
    for s, p, o in turtle:
        if p == SKOS.prefLabel and o.language == "zh" and (s == SICHUAN or (SICHUAN, None, s) in turtle
                                                           or (s, None, SICHUAN) in turtle):
            assert str(o) in html, str(o)
    assert "企业“套餐式”注销服务模式" in html and "成都天府新区片区" in html


def test_head_etag_and_conditional_get(client):
    first = client.get("/measure/ip-securitisation", headers={"Accept": "text/turtle"})
    head = client.head("/measure/ip-securitisation", headers={"Accept": "text/turtle"})
    assert head.status_code == 200 and head.headers["etag"] == first.headers["etag"]
    again = client.get("/measure/ip-securitisation", headers={"Accept": "text/turtle",
                                                              "If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("path", ["/zone/atlantis", "/zone/Sichuan", "/zone/%00", "/zone/a%20b", "/zone/..%2F..%2Fdef",
                                  "/nothing/here", "/zone/sichuan/extra", "/source/part2-table1/row-999"])
def test_unknown_or_malformed_paths_are_404_never_500(client, path):
    for accept in ("text/html", "text/turtle", "application/json"):
        response = client.get(path, headers={"Accept": accept})
        assert response.status_code in (400, 404), (path, accept, response.status_code)


def test_language_switch_is_remembered(client):
    english = client.get("/zone/sichuan?lang=en", headers={"Accept": "text/html"})
    assert "China (Sichuan) Pilot Free Trade Zone" in english.text.split("<h1>")[1]
    assert english.cookies.get("lang") == "en"
    later = client.get("/zone/sichuan", headers={"Accept": "text/html"})   # the client keeps the cookie
    assert later.text.split("<h1>")[1].startswith("China (Sichuan)")
    client.get("/zone/sichuan?lang=zh", headers={"Accept": "text/html"})


def test_ontology_iri_serves_documentation_and_turtle(client):
    html = client.get("/def", headers={"Accept": "text/html"}).text
    assert "PilotFreeTradeZone" in html and "自由贸易试验区" in html
    turtle = Graph().parse(data=client.get("/def", headers={"Accept": "text/turtle"}).text, format="turtle")
    assert (URIRef(BASE + "def#PilotFreeTradeZone"), None, None) in turtle


def test_home_page_lists_zones_by_batch_and_the_taxonomy(client):
    html = client.get("/?lang=zh").text
    for zone in ("中国（北京）自由贸易试验区", "中国（湖南）自由贸易试验区", "中国（安徽）自由贸易试验区"):
        assert zone in html
    assert "推动并联化" in html and "海关总署" in html and "/dumps/ftz-kg.ttl" in html


@pytest.mark.parametrize("query, expected", [("并联", BASE + "innovation/parallel-processing"),
                                              ("parallel", BASE + "innovation/parallel-processing"),
                                              ("东疆", BASE + "subarea/tianjin-port")])
def test_search_in_both_languages(client, query, expected):
    html = client.get("/search?q=" + quote(query)).text
    assert "/" + expected[len(BASE):] in html


def test_dumps_and_void(client):
    void = Graph().parse(data=client.get("/.well-known/void").text, format="turtle")
    sizes = {str(o) for o in void.objects(None, URIRef("http://www.w3.org/ns/dcat#downloadURL"))}
    assert len(sizes) == 9
    dump = client.get("/dumps/ftz-kg.ttl")
    assert dump.status_code == 200
    assert (SICHUAN, SKOS.prefLabel, Literal("中国（四川）自由贸易试验区", lang="zh")) in Graph().parse(
        data=dump.text, format="turtle")
    archive = zipfile.ZipFile(io.BytesIO(client.get("/dumps/ftz-kg-csv.zip").content))
    assert "ftz-kg-csv/PilotFreeTradeZone.csv" in archive.namelist()
    assert client.get("/dumps/nope.ttl").status_code == 404


def test_search_json_for_search_as_you_type(client):
    hits = client.get("/search", params={"q": "parallel", "format": "json", "lang": "en"}).json()
    assert {"iri": BASE + "innovation/parallel-processing", "href": "/innovation/parallel-processing",
            "label": "Parallel processing", "type": "innovation approach"} in hits


def test_the_json_ld_context_is_published_and_used_by_the_dump(client):
    import json
    published = client.get("/context.jsonld").json()
    dump = json.loads(client.get("/dumps/ftz-kg.jsonld").text)
    assert dump["@context"] == published["@context"]
    assert published["@context"]["ftz"] == BASE + "def#"


def test_every_value_carries_its_places_and_a_conflict_says_so(client):
    # “一码集成”涉企检查新模式: Hunan in the prose (2787) and table 4 row 6 (2961-2962); the figure (2812-2816)
    # says Hainan, a reading the graph does not follow (conflict C1)
    zh = client.get("/measure/single-code-enterprise-inspection?lang=zh", headers={"Accept": "text/html"}).text
    hunan = zh[zh.index('href="/zone/hunan"'):]
    marker = hunan[:hunan.index("</details>")]
    assert '<details class="cite conflicted">' in marker
    assert "行 2961–2962" in marker and "“一码集成”涉企检查新模式 明确事中事后监管规则 湖南自贸试验区" in marker
    assert 'href="/source/part2-table4/row-6"' in marker
    assert "报告表述不一致" in marker and 'href="/conflict/c1"' in marker
    assert "本图谱未采用的报告表述" in zh and 'href="/zone/hainan"' in zh
    en = client.get("/measure/single-code-enterprise-inspection?lang=en", headers={"Accept": "text/html"}).text
    assert "the report contradicts itself" in en and "lines 2961–2962" in en
    assert "Readings of the report the graph does not follow" in en


def test_names_carry_their_places_and_statements_are_not_shown_as_links(client):
    # the table's name 知识产权纠纷调解新模式 (table 6 row 9) is an alternative name with its place
    html = client.get("/measure/ip-dispute-pre-litigation-mediation?lang=zh", headers={"Accept": "text/html"}).text
    alt = html[html.index("知识产权纠纷调解新模式"):]
    assert 'href="/source/part2-table6/row-9"' in alt[:alt.index("</details>")]
    zone = client.get("/zone/chongqing?lang=zh", headers={"Accept": "text/html"}).text
    assert "/statement/" not in zone and "/citation/" not in zone    # claims are markers, not "linked from"


def test_statements_citations_and_conflicts_resolve(client):
    # Part 1 §六(一) (1310-1312) credits 一保多用 to Tianjin: the statement and its citation are pages of their own
    statement = client.get("/statement/measure/one-guarantee-multiple-uses/originatesIn/tianjin",
                           headers={"Accept": "text/turtle"})
    assert statement.status_code == 200
    graph = Graph().parse(data=statement.text, format="turtle")
    node = URIRef(BASE + "statement/measure/one-guarantee-multiple-uses/originatesIn/tianjin")
    [citation] = list(graph.objects(node, URIRef("http://www.w3.org/ns/prov#wasDerivedFrom")))
    cited = client.get(str(citation)[len(BASE) - 1:], headers={"Accept": "text/turtle"})
    assert cited.status_code == 200 and "1310" in cited.text and "天津" in cited.text
    conflict = client.get("/conflict/c1?lang=en", headers={"Accept": "text/html"})
    assert conflict.status_code == 200 and "Hunan" in conflict.text
    assert client.get("/conflict/c1/followed", headers={"Accept": "text/turtle"}).status_code == 200
    assert client.get("/statement/measure/x/../../etc/passwd", headers={"Accept": "text/turtle"}).status_code == 404
