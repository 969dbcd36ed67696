"""Statement-level provenance (issue 17): every link and name cites the places of the report that
state it, and the report's contradictions are data. Expected answers are written out from the
report's text edition (line numbers given), never produced by running the code."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import SKOS

from ftz_kg.errors import InputError
from ftz_kg.pipeline.build import build
from ftz_kg.pipeline.quotes import check_quotes, quote_found
from ftz_kg.query.binding import bind
from ftz_kg.query.store import SelectResult
from ftz_kg.vocab import FTZ
from tests.helpers import copy_sources
from tests.test_queries import catalogue, engine  # noqa: F401  (the query tests' fixtures)

ROOT = Path(__file__).resolve().parent.parent
BASE = "https://w3id.org/ftz-kg/"
SOURCE = BASE + "source/"
ZH = lambda short: f"中国（{short}）自由贸易试验区"  # noqa: E731  the official zone name
ONE_GUARANTEE = "货物贸易“一保多用”管理模式"
SINGLE_CODE = "“一码集成”涉企检查新模式"


def rows(engine, catalogue, name, **params) -> list[dict]:
    result = engine.query(bind(catalogue.get(name), {k: str(v) for k, v in params.items()}, engine))
    assert isinstance(result, SelectResult)
    return [{v: ("" if row[i] is None else str(row[i])) for i, v in enumerate(result.variables)} for row in result.rows]


def places(found: list[dict], value_label: str, prop: str = BASE + "def#originatesIn") -> set[str]:
    return {r["place"][len(SOURCE):] for r in found if r["property"] == prop and r["value_label"] == value_label}


# ---------------------------------------------------------------- where-stated

def test_where_stated_separates_what_each_part_credits(engine, catalogue):
    # Part 1 §六(一) (lines 1310-1312): 天津、湖北、重庆自贸试验区创新“货物贸易‘一保多用’管理模式”.
    # Part 2 table 2 row 6 (2347-2348) and the prose of §二(二) (2059-2061) credit 重庆 alone.
    found = rows(engine, catalogue, "where-stated", entity=ONE_GUARANTEE)
    assert places(found, ZH("天津")) == {"part1-s6-1"}
    assert places(found, ZH("湖北")) == {"part1-s6-1"}
    assert {"part1-s6-1", "part2-table2/row-6", "part2-s2-2"} <= places(found, ZH("重庆"))
    tianjin = [r for r in found if r["value_label"] == ZH("天津")]
    assert all(1308 <= int(r["first_line"]) <= int(r["last_line"]) <= 1312 for r in tianjin)
    assert all("天津" in r["quote"] and "一保多用" in r["quote"] for r in tianjin)
    row6 = next(r for r in found if r["place"] == SOURCE + "part2-table2/row-6" and r["value_label"] == ZH("重庆"))
    assert 2346 <= int(row6["first_line"]) <= int(row6["last_line"]) <= 2348
    assert "重庆自贸试验区" in row6["quote"]
    assert all(r["followed"] == "true" for r in found if r["property"] == BASE + "def#originatesIn")


def test_where_stated_accepts_any_name_form_and_gives_names_their_places(engine, catalogue):
    # table 6 row 9 (3633) prints 知识产权纠纷调解新模式; the prose (3560-3561) and the figure (3587-3588)
    # print 知识产权纠纷诉源治理新模式: both are names of one measure, each cited where it is printed.
    # (the table's form is also the name of the innovation point 知识产权纠纷调解新模式, so it names two things)
    by_table = rows(engine, catalogue, "where-stated", entity="ip-dispute-pre-litigation-mediation")
    by_prose = rows(engine, catalogue, "where-stated", entity="知识产权纠纷诉源治理新模式")
    assert by_table == by_prose and by_table
    pref = places(by_table, "知识产权纠纷诉源治理新模式", str(SKOS.prefLabel))
    alt = places(by_table, "知识产权纠纷调解新模式", str(SKOS.altLabel))
    assert any(p.startswith("part2-s6") for p in pref)
    assert "part2-table6/row-9" in alt


def test_where_stated_shows_a_reading_the_graph_does_not_follow(engine, catalogue):
    # the figure of Part 2 §四(二) (lines 2812-2816) credits 海南; the prose (2787) and table 4 row 6 say 湖南
    found = rows(engine, catalogue, "where-stated", entity=SINGLE_CODE)
    hainan = [r for r in found if r["value_label"] == ZH("海南")]
    assert hainan and all(r["followed"] == "false" and r["conflict"] for r in hainan)
    assert all(2810 <= int(r["first_line"]) <= 2816 for r in hainan)
    hunan = [r for r in found if r["value_label"] == ZH("湖南")]
    assert hunan and all(r["followed"] == "true" for r in hunan)
    assert "part2-table4/row-6" in places(found, ZH("湖南"))


def test_english_names_cite_the_editors_not_the_report(engine, catalogue):
    found = rows(engine, catalogue, "where-stated", entity="四川自贸试验区")
    english = [r for r in found if r["value_label"] == "China (Sichuan) Pilot Free Trade Zone"]
    assert english and {r["place"] for r in english} == {SOURCE + "ext-editorial"}
    assert all(r["quote"] == "" and r["first_line"] == "" for r in english)


# ---------------------------------------------------------------- conflicting-statements

def test_conflicting_statements_gives_both_readings_with_their_places(engine, catalogue):
    single_code = BASE + "measure/single-code-enterprise-inspection"
    found = [r for r in rows(engine, catalogue, "conflicting-statements") if r["subject"] == single_code]
    assert {r["conflict"] for r in found} == {BASE + "conflict/c1"}
    followed = {r["value_label"] for r in found if r["followed"] == "true"}
    other = {r["value_label"] for r in found if r["followed"] == "false"}
    assert ZH("湖南") in followed and ZH("海南") in other
    assert all("湖南" in r["explanation"] for r in found)
    english = [r for r in rows(engine, catalogue, "conflicting-statements", lang="en") if r["subject"] == single_code]
    assert all("Hunan" in r["explanation"] for r in english)


def test_every_conflict_has_a_followed_and_a_competing_reading(engine, catalogue):
    found = rows(engine, catalogue, "conflicting-statements")
    readings: dict[str, set[str]] = {}
    for r in found:
        readings.setdefault(r["conflict"], set()).add(r["followed"])
    assert len(readings) >= 50     # graph/SOURCE_NOTES.md listed 55, one (C21) was no contradiction
    assert all(flags == {"true", "false"} for flags in readings.values())
    assert BASE + "conflict/c21" not in readings   # drafted (1838) then approved (5053-5055): two stages
    assert BASE + "conflict/c2" in readings        # 一保多用: Part 1 (1310-1312) against Part 2 (2347)


# ---------------------------------------------------------------- Part 2 only

def test_measures_by_zone_according_to_part_2_does_not_over_report(engine, catalogue):
    anywhere = {r["measure_label"] for r in rows(engine, catalogue, "measures-by-zone", zone="天津")}
    part2 = {r["measure_label"] for r in rows(engine, catalogue, "measures-by-zone", zone="天津", part="part2")}
    part1 = {r["measure_label"] for r in rows(engine, catalogue, "measures-by-zone", zone="天津", part="part1")}
    assert ONE_GUARANTEE in anywhere and ONE_GUARANTEE in part1 and ONE_GUARANTEE not in part2
    # table 2 row 8 (lines 2343-2344): 保税航煤出口质量流量计计量新模式 … 天津自贸试验区
    assert "保税航煤出口质量流量计计量新模式" in part2
    # table 1 row 6 (1866-1868): 证照“一口受理、并联办理”审批服务模式 … 天津自贸试验区
    assert "证照“一口受理、并联办理”审批服务模式" in part2
    assert part2 < anywhere


# ---------------------------------------------------------------- names, audit fixes

def test_name_forms_and_misprints(graph):
    measure = URIRef(BASE + "measure/ip-dispute-pre-litigation-mediation")
    assert Literal("知识产权纠纷诉源治理新模式", lang="zh") in set(graph.objects(measure, SKOS.prefLabel))
    assert Literal("知识产权纠纷调解新模式", lang="zh") in set(graph.objects(measure, SKOS.altLabel))
    # the figure at 2099 misprints 保税航煤 as 报税航煤: a hidden label (found by search), never a name
    jet = URIRef(BASE + "measure/bonded-jet-fuel-mass-flowmeter")
    hidden = {str(l) for l in graph.objects(jet, SKOS.hiddenLabel)}
    assert any(l.startswith("报税航煤") for l in hidden)
    assert not any(str(l).startswith("报税") for l in graph.objects(jet, SKOS.altLabel))


def test_audit_fixes(graph):
    names = lambda kind, entity, p=SKOS.prefLabel: {str(l) for l in graph.objects(URIRef(f"{BASE}{kind}/{entity}"), p)}  # noqa: E731
    # table 7 row 1 (3905), prose 3768, figure 3799-3801 print the name in quotes
    assert "“沈哈红运模式”" in names("measure", "shenha-hongyun-mixed-ownership-model")
    # 境外机构境内外汇账户结汇业务 (2444-2446, 2620) and NRA 账户结汇 (2452, 2473); never NRA 账户结汇业务
    nra = names("measure", "nra-account-fx-settlement") | names("measure", "nra-account-fx-settlement", SKOS.altLabel)
    assert {"境外机构境内外汇账户结汇业务", "NRA 账户结汇"} <= nra and "NRA 账户结汇业务" not in nra
    # 1249-1250: only 协同开放示范区; 1178-1180: 一次性授权… is an arrangement, not a name
    assert names("measure", "sichuan-chongqing-collaborative-opening-zone") >= {"协同开放示范区"}
    assert not {l for l in names("measure", "hengqin-port-macao-port-zone", SKOS.altLabel) if "授权" in l}
    # 2238-2244: 鼓励试点企业…并实行先行赔付制度 — encouraged, not required
    cbec = URIRef(BASE + "measure/cbec-pharmaceutical-sales-pilot")
    description = {l.language: str(l) for l in graph.objects(cbec, URIRef("http://purl.org/dc/terms/description"))}
    assert "鼓励" in description["zh"] and "encouraged" in description["en"]
    # 212 does not state Zhejiang's batch: the outside source is cited, as for the zones of batches 1-5
    assert URIRef(SOURCE + "ext-state-council-plans") in set(graph.objects(URIRef(BASE + "zone/zhejiang"), FTZ.source))
    # box 3-11 names no strategy
    assert not set(graph.objects(URIRef(BASE + "measure/departure-confirmation-waterborne-transit"), FTZ.servesStrategy))
    # 3668: 广西、云南、黑龙江3个自贸试验区都肩负着全面落实中央关于加快沿边开放要求的使命
    border = URIRef(BASE + "strategy/border-opening")
    assert {str(z)[len(BASE) + 5:] for z in graph.subjects(FTZ.servesStrategy, border)
            if str(z).startswith(BASE + "zone/")} == {"guangxi", "yunnan", "heilongjiang"}
    # the report's line map: preface to 120, Part 1 §二 from 471, Annex ② from 5254
    lines = lambda place: (int(graph.value(URIRef(SOURCE + place), FTZ.firstLine)),  # noqa: E731
                           int(graph.value(URIRef(SOURCE + place), FTZ.lastLine)))
    assert lines("preface") == (1, 120) and lines("part1-s2")[0] == 471 and lines("annex2")[0] == 5254
    assert lines("part2-table1")[1] >= 1921    # table 1 row 15 is printed at 1921


def test_zone_strategies_follow_what_the_report_says_of_each_zone(engine, catalogue):
    pairs = {(r["zone_label"], r["strategy_label"]) for r in rows(engine, catalogue, "zone-strategies")}
    assert (ZH("云南"), "沿边开放发展") in pairs        # 3668
    assert (ZH("四川"), "沿边开放发展") not in pairs    # the report never names Sichuan a border zone
    assert (ZH("北京"), "京津冀协同发展") in pairs      # 1190-1198


# ---------------------------------------------------------------- bad input

CITATION = "measure/one-guarantee-multiple-uses,zone,chongqing,part2-table2#6,2347-2348,{quote},,,\n"


@pytest.mark.parametrize("row, column, problem", [
    (CITATION.replace("measure/one-guarantee", "measure/no-such"), "subject", "unknown measure id"),
    (CITATION.replace("2347-2348", "2348-2347"), "lines", "end before they start"),
    (CITATION.replace("{quote}", "重庆自贸试验区。天津自贸试验区"), "quote", "more than one sentence"),
    (CITATION.replace(",zone,chongqing,", ",zone,hainan,"), None, "which the entity does not have"),
    (CITATION.replace(",,,\n", ",c999,followed,\n"), "conflict", "unknown conflict"),
    (CITATION.replace(",zone,", ",description_zh,"), "property", "carries no statements"),
    (CITATION.replace("2347-2348", ""), "lines", "must be N or N-M"),
])
def test_a_bad_citation_is_refused_naming_file_line_and_column(tmp_path, row, column, problem):
    home = copy_sources(tmp_path)
    path = home / "graph" / "citations" / "zz-test.csv"
    text = "subject,property,value,source,lines,quote,conflict,reading,note\n" + row.replace(
        "{quote}", "货物贸易“一保多用”管理模式 对企业不同业务视为整体进行管理 重庆自贸试验区")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as raised:
        build(home / "graph", home / "ontology" / "ftz.ttl")
    message = str(raised.value)
    assert problem in message
    assert "zz-test.csv" in message
    if column:
        assert ":2" in message and column in message


def test_a_conflict_without_a_competing_reading_is_refused(tmp_path):
    home = copy_sources(tmp_path)
    conflicts = home / "graph" / "conflicts.csv"
    conflicts.write_text(conflicts.read_text(encoding="utf-8") +
                         "c999,wording,measure/one-guarantee-multiple-uses,name_zh,两处写法不同。,Two wordings.\n",
                         encoding="utf-8")
    with pytest.raises(InputError, match="conflict c999 has no citation of reading 'followed'"):
        build(home / "graph", home / "ontology" / "ftz.ttl")


# ---------------------------------------------------------------- check-quotes (a curator's tool)

def test_quote_rule_joins_lines_and_allows_an_elision():
    text = "自贸试验区 NRA 账户" + "探索金融监管模式" + "结汇在内的 NRA 账户综合服务方案"
    assert quote_found(text, "自贸试验区 NRA 账户…结汇在内的")
    assert not quote_found(text, "结汇在内的…自贸试验区 NRA 账户")   # pieces in order only


def test_check_quotes_as_the_curation_guide_shows_it():
    # docs/curation.md shows the command and its output on the made-up folder tests/data/quotes/
    page = (ROOT / "docs" / "curation.md").read_text(encoding="utf-8")
    console = re.search(r"```console\n\$ (ftz-kg check-quotes [^\n]+)\n(.*?)```", page, re.S)
    assert console, "docs/curation.md shows check-quotes in a console block"
    result = subprocess.run(shlex.split(console.group(1)), cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stdout == console.group(2)


def test_check_quotes_counts_only_places_of_the_report():
    checked, problems = check_quotes(ROOT / "tests/data/quotes/report.txt", ROOT / "tests/data/quotes/graph")
    assert checked == 2      # the third citation is of an outside source: nothing to check
    assert [str(p) for p in problems] == ["a.csv:3: quote not found in lines 3-5: '湖北、重庆自贸试验区'"]
