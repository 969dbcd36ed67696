"""Zone comparison (/compare): the facts, counts and figures it sets side by side, checked against values read by
hand from the report and the curated tables; its refusals (400) and escaping; its layout on a phone."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest

from ftz_kg.web import compare

from .test_browser import block_all_but


class Tables(HTMLParser):
    """Every table of a page as rows of cell texts (th and td alike), keyed by the table's class."""

    def __init__(self):
        super().__init__()
        self.tables: list[tuple[str, list[list[str]]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append((dict(attrs).get("class", ""), []))
        elif tag == "tr" and self.tables:
            self.tables[-1][1].append([])
        elif tag in ("td", "th") and self.tables:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def table(html: str, css_class: str) -> list[list[str]]:
    parser = Tables()
    parser.feed(html)
    return next(rows for cls, rows in parser.tables if css_class in cls.split())


def row(rows: list[list[str]], heading: str) -> list[str]:
    return next(r for r in rows if r and r[0] == heading)


# --- what the page compares, from the graph -------------------------------------------------------------------

def test_sichuan_and_chongqing_key_facts(graph):
    # both are zones of the third batch (2017), three sub-areas each; measures counted by hand in the `zone`
    # column of graph/measures/*.csv: Sichuan 14, Chongqing 17
    sichuan = compare.key_facts(graph, compare.zone_iri("sichuan"), "zh")
    chongqing = compare.key_facts(graph, compare.zone_iri("chongqing"), "zh")
    assert (sichuan["batch"]["text"], sichuan["year"]) == ("第三批自贸试验区", "2017")
    assert (chongqing["batch"]["text"], chongqing["year"]) == ("第三批自贸试验区", "2017")
    assert sichuan["province"]["text"] == "四川省" and chongqing["province"]["text"] == "重庆市"
    assert len(sichuan["subareas"]) == 3 and len(chongqing["subareas"]) == 3
    assert sichuan["measures"] == 14 and chongqing["measures"] == 17
    # Annex ① experiences of Sichuan: package deregistration, chilled seafood, air-rail single document,
    # bank-government sharing
    assert sichuan["experiences"] == 4


def test_strategies_name_the_zones_own_and_those_through_a_measure(graph):
    strategies = compare.strategies_of(graph, compare.zone_iri("sichuan"), "zh")
    own = [s["strategy"]["text"] for s in strategies if not s["via"]]
    via = {s["strategy"]["text"]: [v["text"] for v in s["via"]] for s in strategies if s["via"]}
    assert sorted(own) == sorted(["成渝地区双城经济圈建设", "西部大开发"])
    assert all(s["strategy"]["cite"] for s in strategies if not s["via"])      # where the report says so
    # Part 1 §五 gives 川桂国际产能合作产业园 as Sichuan's example of border opening: the measure's link
    assert via["沿边开放发展"] == ["川桂国际产能合作产业园"]


def test_measures_by_domain_follow_the_taxonomy(graph):
    # by hand: each measure's `innovation` in graph/measures/*.csv, up the `broader` column of graph/taxonomy/
    rows = compare.measures_by_domain(graph, [compare.zone_iri("sichuan"), compare.zone_iri("chongqing")], "zh")
    counts = {r["domain"]["text"]: r["counts"] for r in rows}
    assert counts == {"投资自由化便利化": [1, 1], "贸易便利化": [2, 2], "金融开放创新": [1, 1], "事中事后监管": [0, 0],
                      "产业链开放发展": [0, 0], "要素资源保障服务": [0, 1], "差别化任务探索": [1, 1],
                      "未归入分类": [9, 11]}
    # Part 2's order of the seven domains, unclassified last
    assert [r["domain"]["text"] for r in rows][:2] == ["投资自由化便利化", "贸易便利化"]


def test_figures_are_aligned_by_indicator_shared_first(graph):
    zones = [compare.zone_iri("sichuan"), compare.zone_iri("henan")]
    rows = compare.aligned_figures(graph, zones, "zh")
    assert rows[0]["shared"] and not rows[-1]["shared"]
    time_saved = next(r for r in rows if r["indicator"]["text"] == "缩短的办理时间")
    assert time_saved["shared"]
    sichuan, henan = time_saved["cells"]
    # 1.6.1: 较传统模式平均压缩办理时限 25 天以上 (Sichuan); 将跨境货品退货时间缩短 5 天以上 (Henan);
    # 缩短货物放行时间 3-5天 (Sichuan, printed as a range: lower end first)
    assert [(f["qualifier"], f["value"], f["unit"]) for f in sichuan] == [
        ("超过", "25", "天"), ("区间下限", "3", "天"), ("区间上限", "5", "天")]
    assert ("超过", "5", "天") in [(f["qualifier"], f["value"], f["unit"]) for f in henan]
    assert all(f["cite"]["citations"][0]["lines"] for f in sichuan)


def test_a_figure_of_a_shared_measure_stays_with_the_zone_it_is_printed_for(graph):
    # 1.6.1 prints 办理担保总额超过 2.7 亿元 for Chongqing's customs district; Hubei and Tianjin share the measure
    zones = [compare.zone_iri(s) for s in ("hubei", "tianjin", "chongqing")]
    rows = compare.aligned_figures(graph, zones, "zh")
    guarantees = next(r for r in rows if r["indicator"]["text"] == "办理担保总额")
    hubei, tianjin, chongqing = guarantees["cells"]
    assert hubei == [] and tianjin == [] and not guarantees["shared"]
    assert [(f["qualifier"], f["value"], f["unit"]) for f in chongqing] == [("超过", "2.7", "亿元")]


@pytest.mark.parametrize("values, reason", [
    (["sichuan"], "compare_too_few"),
    (["sichuan", "sichuan"], "compare_too_few"),
    (["sichuan", "atlantis"], "compare_unknown_zone"),
    (["sichuan", "Sichuan"], "compare_unknown_zone"),
    (["sichuan", "zone/chongqing"], "compare_unknown_zone"),
    (["shanghai", "tianjin", "fujian", "guangdong", "sichuan", "chongqing", "hubei"], "compare_too_many"),
])
def test_parse_zones_refuses(graph, values, reason):
    with pytest.raises(compare.BadZones) as refused:
        compare.parse_zones(graph, values)
    assert refused.value.reason == reason


def test_parse_zones_keeps_order_and_drops_repeats_and_empty_pickers(graph):
    assert compare.parse_zones(graph, ["chongqing", "", "sichuan", "chongqing"]) == ["chongqing", "sichuan"]


# --- over HTTP ------------------------------------------------------------------------------------------------

def test_compare_page_sets_the_zones_side_by_side(client):
    response = client.get("/compare", params=[("zone", "sichuan"), ("zone", "chongqing"), ("lang", "zh")])
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    html = response.text
    facts = table(html, "cmp-table")
    assert facts[0][1:] == ["四川自贸试验区", "重庆自贸试验区"]
    assert row(facts, "设立批次")[1:] == ["第三批自贸试验区 (2017)", "第三批自贸试验区 (2017)"]
    assert row(facts, "制度创新举措")[1].startswith("14") and row(facts, "制度创新举措")[2].startswith("17")
    counts = table(html, "cmp-counts")
    assert row(counts, "贸易便利化")[1:] == ["2", "2"] and row(counts, "举措总数")[1:] == ["14", "17"]
    assert 'href="/explore?zone=chongqing&amp;innovation=factor-support">1</a>' in html     # counts lead to the list
    # Part 1 §五: 川渝自贸试验区…形成 1 个合作方案、3 张合作清单、50 余项合作事项 — a figure both zones have
    figures = table(html, "cmp-figures")
    items = row(figures, "合作事项数")
    assert all("超过 50 项" in cell for cell in items[1:])
    assert figures.index(items) < figures.index(row(figures, "跨境融资金额"))   # shared before single
    assert 'href="/observation/fb-sichuan-chongqing-cooperation-items"' in html
    assert 'class="cite' in html                       # markers to the places that print each value
    # the chart is a figure named as a chart, its numbers also as text
    assert '<figure class="cmp-chart" aria-labelledby="cmp-chart-caption">' in html
    assert '<figcaption id="cmp-chart-caption">图表：' in html
    # links to each zone's page and to the explorer filtered by zone; the language switch keeps the zones
    assert 'href="/zone/chongqing"' in html and 'href="/explore?zone=sichuan"' in html
    assert 'href="/compare?zone=sichuan&amp;zone=chongqing&amp;lang=en"' in html


def test_compare_page_in_english(client):
    html = client.get("/compare?zone=sichuan&zone=chongqing&lang=en").text
    facts = table(html, "cmp-table")
    assert facts[0][1:] == ["Sichuan FTZ", "Chongqing FTZ"]
    assert row(facts, "Establishment batch")[1] == "Third batch of pilot free trade zones (2017)"
    assert "Chart: measures by innovation domain" in html


def test_picker_without_zones_is_a_form_submitted_by_get(client):
    response = client.get("/compare?lang=zh")
    assert response.status_code == 200
    html = response.text
    assert '<form class="cmp-form" method="get" action="/compare">' in html
    assert html.count('type="checkbox" name="zone"') == 21
    assert '<label><input type="checkbox" name="zone" value="sichuan"> 四川自贸试验区</label>' in html


@pytest.mark.parametrize("query", ["zone=sichuan", "zone=sichuan&zone=atlantis",
                                   "zone=a&zone=b&zone=c&zone=d&zone=e&zone=f&zone=g"])
def test_bad_zones_get_400_naming_the_parameter(client, query):
    response = client.get("/compare?" + query + "&lang=en")
    assert response.status_code == 400
    assert "<code>zone</code>" in response.text and "Cannot compare" in response.text


def test_one_zone_keeps_it_ticked(client):
    response = client.get("/compare?zone=sichuan&lang=en")
    assert response.status_code == 400 and "Choose at least 2 zones." in response.text
    assert 'value="sichuan" checked' in response.text


def test_hostile_zone_value_is_escaped(client):
    hostile = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    response = client.get("/compare", params=[("zone", "sichuan"), ("zone", hostile)])
    assert response.status_code == 400
    assert "<script>alert(1)" not in response.text and "<img src=x" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


# --- in a browser, on a phone ---------------------------------------------------------------------------------

@pytest.mark.parametrize("zones", [("sichuan", "chongqing"), ("sichuan", "henan", "hubei", "tianjin", "chongqing",
                                                              "shanghai")])
def test_no_horizontal_overflow_on_a_phone(server, browser, zones):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    blocked = block_all_but(page, server)
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.goto(server + "/compare?" + "&".join(f"zone={z}" for z in zones) + "&lang=zh")
    assert page.locator("figure.cmp-chart").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # the wide tables scroll inside their wrappers, not the page
    for wrapper in page.locator(".table-scroll").all():
        box = wrapper.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert blocked == [] and errors == []
    page.close()


def test_picking_zones_in_the_browser_gives_a_shareable_url(server, browser):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    block_all_but(page, server)
    page.goto(server + "/compare?lang=en")
    page.get_by_label("Hubei FTZ").check()
    page.get_by_label("Hunan FTZ").check()
    page.get_by_role("button", name="Compare").click()
    page.wait_for_url("**/compare?zone=hubei&zone=hunan")
    assert page.locator("h1").inner_text() == "Compare pilot free trade zones: Hubei FTZ · Hunan FTZ"
    page.close()


AXE = Path(__file__).parent / "js" / "node_modules" / "axe-core" / "axe.min.js"


@pytest.mark.parametrize("width", [390, 1280])
def test_axe_finds_no_violation(server, browser, width):
    if not AXE.exists():
        pytest.fail("axe-core is not installed: run scripts/install-test-deps")
    # axe is injected as an inline script: the page's policy forbids those, rightly, so the test context bypasses it
    page = browser.new_page(viewport={"width": width, "height": 844}, bypass_csp=True)
    block_all_but(page, server)
    for query in ("zone=sichuan&zone=chongqing&lang=zh", "zone=sichuan&zone=henan&zone=hubei&zone=tianjin"
                  "&zone=chongqing&zone=shanghai&lang=en", "lang=zh", "zone=sichuan&lang=en"):
        page.goto(server + "/compare?" + query)
        page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
        violations = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']}))"
                                   ".violations.map(v => v.id + ' (' + v.impact + ')')")
        assert violations == [], query
    page.close()


def test_link_from_a_zone_page_compares_it_with_its_batch(graph):
    # graph/zones.csv: Beijing, Hunan, Anhui are the sixth batch (2020); Shanghai is alone in the first, so it
    # goes beside the second batch (Guangdong, Tianjin, Fujian)
    assert compare.compare_href(graph, compare.zone_iri("beijing")) == "/compare?zone=beijing&zone=anhui&zone=hunan"
    assert compare.compare_href(graph, compare.zone_iri("shanghai")) == \
        "/compare?zone=shanghai&zone=fujian&zone=guangdong&zone=tianjin"
