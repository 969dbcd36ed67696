"""The text index (ftz_kg/search/textindex.py) behind /search and the type-ahead.

Expectations are the graph's own names and texts, written out by hand: 四川省 / Sichuan Province,
中国（四川）自由贸易试验区, 海关总署 (GACC), the four 推动… innovation approaches of part 2 (推动并联化,
推动在线化, 推动精简化, 推动标准化), the data safe box also called "digital safe box", the Nanjing
measures whose description quotes "订单不足", and the Sichuan chilled-seafood measure whose description
names 四川, 海关 and 监管 together.
"""

from __future__ import annotations

import sqlite3
from urllib.parse import quote

import pytest

from ftz_kg.search import TextIndex
from ftz_kg.search.textindex import FILE_PREFIX, highlight
from ftz_kg.vocab import BASE, FTZ


@pytest.fixture(scope="module")
def graph():
    from ftz_kg.pipeline.build import build
    return build().graph


@pytest.fixture(scope="module")
def index(graph):
    return TextIndex.from_graph(graph)


def iris(hits) -> list[str]:
    return [hit.iri[len(BASE):] for hit in hits]


def hit_for(hits, local: str):
    return next(hit for hit in hits if hit.iri == BASE + local)


def test_pinyin_finds_the_chinese_names(index):
    # sichuan: 四川省 (the province's name, shortest) then the zone 中国（四川）自由贸易试验区, both by name
    hits = index.search("sichuan", "zh", 10)
    assert iris(hits)[:2] == ["province/sichuan", "zone/sichuan"]
    assert [hit.rank for hit in hits[:2]] == [1, 1]
    assert hits[0].segments == (("四川", True), ("省", False))
    # the same word restricted to zones: the Sichuan zone first
    zones = index.search("sichuan", "zh", 5, types=[str(FTZ.PilotFreeTradeZone)])
    assert iris(zones)[0] == "zone/sichuan" and all(str(FTZ.PilotFreeTradeZone) in h.types for h in zones)
    # by initials: sc is 四川 (si chuan)
    sc = index.search("sc", "zh", 200)
    assert "province/sichuan" in iris(sc)
    assert hit_for(sc, "province/sichuan").segments == (("四川", True), ("省", False))
    # haiguan is 海关: GACC, 海关总署
    haiguan = index.search("haiguan", "zh", 200)
    assert hit_for(haiguan, "agency/gacc").segments == (("海关", True), ("总署", False))


def test_traditional_characters_find_simplified_names(index):
    # 推動 is the traditional form of 推动: the four approaches of part 2 named 推动…化
    hits = index.search("推動", "zh", 200)
    approaches = {iri for iri in iris(hits) if iri.startswith("innovation/")}
    assert {"innovation/parallel-processing", "innovation/online-processing", "innovation/streamlining",
            "innovation/standardisation"} <= approaches
    assert hit_for(hits, "innovation/parallel-processing").segments == (("推动", True), ("并联化", False))


def test_english_words_are_stemmed(index):
    # "approvals" finds the singular in "Extending parallel approval to more departments", a name
    hits = index.search("parallel approvals", "en", 10)
    first = hits[0]
    assert first.iri == BASE + "innovation/wider-parallel-approval-departments" and first.rank == 1
    assert first.segments == (("Extending ", False), ("parallel", True), (" ", False), ("approval", True),
                              (" to more departments", False))
    # approving and approval share the stem approv: "Green channel for power project approvals"
    assert "measure/power-project-approval-green-channel" in iris(index.search("approving", "en", 200))


def test_every_word_is_required(index):
    # 出版物 and 备案 together: table 1 row 2's name has both, the power project green channel neither
    hits = index.search("出版物 备案", "zh", 200)
    assert hits[0].iri == BASE + "measure/publication-distribution-joint-licensing" and hits[0].rank == 1
    assert hits[0].segments == (("出版物", True), ("发行业务许可与网络发行", False), ("备案", True), ("联办制度", False))
    assert "measure/power-project-approval-green-channel" not in iris(hits)
    assert index.search("parallel qqqzzz", "en") == []
    assert index.search("并联 qqqzzz", "zh") == []


def test_an_exact_name_ranks_first_then_names_then_alternative_names_then_texts(index):
    # "Parallel processing" is innovation/parallel-processing's English name exactly; 2.1.1 Parallel
    # processing (the report's section) only contains it
    hits = index.search("Parallel processing", "en", 50)
    assert hits[0].iri == BASE + "innovation/parallel-processing" and hits[0].rank == 0
    assert hit_for(hits, "source/part2-s1-1").rank == 1
    ranks = [hit.rank for hit in hits]
    assert ranks == sorted(ranks)
    # 海关总署 exactly, then the quotes that mention it
    gacc = index.search("海关总署", "zh", 50)
    assert gacc[0].iri == BASE + "agency/gacc" and gacc[0].rank == 0 and gacc[0].field == "name"
    assert {hit.rank for hit in gacc[1:]} == {3}
    # the data safe box is also called "digital safe box": an alternative name
    safe = index.search("digital safe box", "en", 10)
    assert iris(safe) == ["measure/data-safe-box"]
    assert (safe[0].rank, safe[0].field, safe[0].passage) == (2, "alternative name", "Digital safe box")


def test_descriptions_and_quotes_are_searched(index):
    # "…助力企业解决招商难、订单不足等问题" is in both Nanjing measures' descriptions (and quotes)
    hits = index.search("订单不足", "zh", 10)
    assert set(iris(hits)) == {"measure/nanjing-cloud-smart-investment-platform", "measure/nanjing-online-offline-roadshow"}
    assert {hit.rank for hit in hits} == {3}
    assert ("订单不足", True) in hits[0].segments


def test_one_and_two_chinese_characters(index):
    # trigrams cannot match two characters: 海关 and 川 still find their names
    haiguan = index.search("海关", "zh", 200)
    assert {"agency/gacc", "agency/chengdu-customs", "agency/shanghai-customs"} <= set(iris(haiguan))
    assert hit_for(haiguan, "agency/chengdu-customs").segments == (("成都", False), ("海关", True))
    chuan = index.search("川", "zh", 200)
    assert {"province/sichuan", "zone/sichuan", "subarea/sichuan-chuannan"} <= set(iris(chuan))


def test_a_run_of_chinese_without_spaces_is_cut_into_its_words(index):
    # 四川的海关监管举措: 四川 / 的 (joins words, dropped) / 海关 / 监管 / 举措
    required, optional = index.words("四川的海关监管举措")
    assert (required, optional) == ([], ["四川", "海关", "监管", "举措"])
    hits = index.search("四川的海关监管举措", "zh", 20)
    seafood = hit_for(hits, "measure/chilled-seafood-two-stage-access")
    marked = [text for text, matched in seafood.segments if matched]
    assert {"四川", "海关", "监管"} <= set(marked)


def test_highlight_cuts_the_text_into_marked_segments():
    assert highlight("推动并联化", ["并联"]) == [("推动", False), ("并联", True), ("化", False)]
    # case and traditional forms are folded; the original characters are kept
    assert highlight("推動 PARALLEL", ["推动", "parallel"]) == [("推動", True), (" ", False), ("PARALLEL", True)]
    # a short Latin word marks the start of words only, not the middle of "foreign"
    assert highlight("or foreign", ["or"]) == [("or", True), (" foreign", False)]
    assert highlight("中国（四川）", ["sc"]) == [("中国（", False), ("四川", True), ("）", False)]


@pytest.mark.parametrize("hostile", ['"', "*", "NEAR(", "NEAR(四川, 3)", "-", "-四川", 'a" OR b', "四川*", "AND",
                                     "NOT 四川", "^海关", "body:四川", "(", ")", "{}", "''", '"""', "\\", "%", "_",
                                     "\x00", "\udcff", "四" * 300])
def test_fts5_syntax_in_a_query_is_text(index, hostile):
    assert isinstance(index.search(hostile, "zh", 10), list)


def test_quoted_words_are_the_words(index):
    assert iris(index.search('"四川"', "zh", 20)) == iris(index.search("四川", "zh", 20))


def test_kept_on_disk_opened_again_and_rebuilt_for_another_version(graph, index, tmp_path):
    first = tmp_path / TextIndex.file_name("aaa")
    stored = TextIndex.open_or_build(graph, first)
    assert first.is_file()
    assert iris(stored.search("sichuan", "zh", 10)) == iris(index.search("sichuan", "zh", 10))
    stored.close()
    # opened, not rebuilt: a marker row put in the file survives
    with sqlite3.connect(first) as db:
        db.execute("INSERT INTO meta VALUES ('marker', 'kept')")
    reopened = TextIndex.open_or_build(graph, first)
    assert reopened._db.execute("SELECT value FROM meta WHERE key = 'marker'").fetchone() == ("kept",)
    reopened.close()
    # another version of the graph: its own file, the old one removed, nothing half-written left
    second = tmp_path / TextIndex.file_name("bbb")
    TextIndex.open_or_build(graph, second).close()
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{FILE_PREFIX}bbb.sqlite"]
    # a damaged file is rebuilt
    second.write_bytes(b"not a database")
    rebuilt = TextIndex.open_or_build(graph, second)
    assert iris(rebuilt.search("海关总署", "zh", 1)) == ["agency/gacc"]


def test_a_version_that_is_not_a_plain_name_is_refused():
    with pytest.raises(ValueError, match="version"):
        TextIndex.file_name("../x")


def test_search_pages_use_the_index(client, graph):
    # pinyin through the site: 四川省 with 四川 marked, grouped under its type
    html = client.get("/search", params={"q": "sichuan", "lang": "zh"}).text
    assert "<mark>四川</mark>省" in html
    # the type-ahead: traditional characters
    suggestions = client.get("/search?format=json&lang=zh&q=" + quote("推動並聯")).json()
    assert suggestions[0]["href"] == "/innovation/parallel-processing"
    # names and types from the index, as the pages name them from the graph
    from rdflib import URIRef
    from rdflib.namespace import RDF
    from ftz_kg.web.pages import label
    for lang in ("zh", "en"):
        for suggestion in client.get("/search", params={"q": "sichuan", "format": "json", "lang": lang}).json():
            node = URIRef(suggestion["iri"])
            assert suggestion["label"] == label(graph, node, lang)
            assert suggestion["type"] == label(graph, graph.value(node, RDF.type), lang)
    # FTS5 syntax is text, not an error: NEAR finds "nearly"
    response = client.get("/search", params={"q": 'NEAR("', "format": "json", "lang": "en"})
    assert response.status_code == 200
    assert "/observation/fa-pudong-regional-hq-2020" in [s["href"] for s in response.json()]


@pytest.mark.parametrize("text, limit", [("海关", 5), ("sichuan", 5), ("free trade", 5), ("parallel", 5),
                                         ("出版物 备案", 1), ("Parallel processing", 3)])
def test_the_quick_path_gives_the_best_hits_that_counting_them_all_gives(index, text, limit):
    # search() stops reading once it has `limit` hits among the best texts; search_counted() reads all
    quick = index.search(text, "zh", limit)
    counted, total = index.search_counted(text, "zh", limit)
    assert iris(quick) == iris(counted) and len(quick) == limit and total >= limit


LABEL_SEARCH_TEXTS = ["并联", "parallel", "东疆", "Parallel Approval", "四川", "海关", "ip", "臺灣", "自贸试验区", "a",
                      "zone", "片区", "ＰＡＲＡＬＬＥＬ", "e-commerce", "跨境电商", "nothing-here", "一", "Free Trade", "(",
                      "“", "pboc", "区", "新片区", '"', "'", "*", "NEAR(", "\\"]


@pytest.mark.parametrize("text", LABEL_SEARCH_TEXTS)
def test_label_search_through_the_index_answers_as_the_scan_does(graph, index, text):
    """`label-search` given the index's candidates first answers exactly as the scan of every label:
    the candidates hold every entity a name of which contains the text."""
    from ftz_kg.query.binding import bind
    from ftz_kg.query.catalogue import Catalogue
    from ftz_kg.query.store import OxigraphEngine
    from ftz_kg.search.narrowing import narrowed

    engine = OxigraphEngine(graph)
    query = Catalogue.load().get("label-search")
    for lang in ("zh", "en"):
        values = {"text": text, "lang": lang}
        scan = bind(query, values, engine)
        fast = narrowed("label-search", values, scan, index)
        assert [tuple(map(str, r)) for r in engine.query(fast).rows] == [tuple(map(str, r)) for r in engine.query(scan).rows]
    # the index narrows three letters and more, and Chinese of any length; not one or two other letters
    assert (narrowed("label-search", {"text": text}, scan, index) == scan) == (index.name_candidates(text) is None)


def test_label_search_over_http_answers_through_the_index(client):
    # 东疆: the one name with it is the sub-area 天津港东疆片区 (Tianjin FTZ, Part 1); how much faster the
    # index makes it is measured by benchmarks/search.py, against Oxigraph's server scanning the labels
    response = client.get("/api/label-search.json", params={"text": "东疆"})
    assert response.status_code == 200
    rows = response.json()["results"]["bindings"]
    assert [row["entity"]["value"] for row in rows] == [BASE + "subarea/tianjin-port"]
    # the SPARQL shown to people is the canned query as bound, without the candidates
    shown = client.get("/api/label-search.rq", params={"text": "东疆"}).text
    assert "VALUES ?entity" not in shown
