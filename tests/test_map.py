"""The maps of China (ftz_kg/web/chinamap.py, templates/map.html): which provinces are shaded and how,
where they link, the legend, the table alternative, the mini maps, and that everything the graph
says is escaped. Rendered through Jinja as the pages do."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SKOS

from ftz_kg.vocab import BASE, FTZ
from ftz_kg.web import chinamap
from ftz_kg.web.rendering import environment

# The six establishment batches, written out by hand: 2020 北京、湖南、安徽 from the report
# (Part 1 §一: “2020 年，我国新设北京、湖南、安徽 3 个自贸试验区 … 至此，我国已批准设立六批自贸试验区，
# 总数量增至 21 个”), the earlier ones from the State Council plans the graph cites (graph/zones.csv).
BATCHES = {
    (1, 2013): ["shanghai"],
    (2, 2015): ["guangdong", "tianjin", "fujian"],
    (3, 2017): ["liaoning", "zhejiang", "henan", "hubei", "chongqing", "sichuan", "shaanxi"],
    (4, 2018): ["hainan"],
    (5, 2019): ["shandong", "jiangsu", "guangxi", "hebei", "yunnan", "heilongjiang"],
    (6, 2020): ["beijing", "hunan", "anhui"],
}
BATCH_OF = {slug: key for key, slugs in BATCHES.items() for slug in slugs}
ZH_NAMES = {"shanghai": "上海", "sichuan": "四川", "shaanxi": "陕西", "guangxi": "广西", "beijing": "北京"}
SVG = "http://www.w3.org/2000/svg"


def render(m: dict) -> str:
    return environment().from_string('{% from "map.html" import china_map %}{{ china_map(m) }}').render(m=m)


def map_svg(html: str) -> ET.Element:
    """The map's <svg> (not the legend's swatches), parsed as XML."""
    start = html.index('<svg class="map-svg"')
    text = html[start:html.index("</svg>", start) + len("</svg>")]
    return ET.fromstring(text.replace('<svg class="map-svg"', f'<svg xmlns="{SVG}" class="map-svg"', 1))


def q(tag: str) -> str:
    return f"{{{SVG}}}{tag}"


@pytest.fixture(scope="module")
def home_zh(graph):
    return chinamap.home_map(graph, "zh")


@pytest.fixture(scope="module")
def home_html(home_zh):
    return render(home_zh)


def test_the_21_zone_provinces_are_shaded_by_their_batch(home_zh):
    shaded = {r["slug"]: r for r in home_zh["regions"] if r["shaded"]}
    assert len(shaded) == 21 and set(shaded) == set(BATCH_OF)
    for slug, region in shaded.items():
        ordinal, year = BATCH_OF[slug]
        assert region["batch"] == ordinal, slug
        assert region["fill"] == chinamap.BATCH_FILLS[ordinal - 1], slug
        assert str(year) in region["title"], slug
    # one fill per batch: the six classes are told apart
    assert len({r["fill"] for r in shaded.values()}) == 6


def test_every_province_is_drawn_and_only_the_zones_link(home_html):
    svg = map_svg(home_html)
    regions = {el.get("data-region"): el for el in svg.iter() if el.get("data-region")}
    assert len(regions) == 34     # 31 provinces, Hong Kong, Macao, Taiwan
    links = {slug: el for slug, el in regions.items() if el.tag == q("a")}
    assert set(links) == set(BATCH_OF)
    for slug, link in links.items():
        assert link.get("href") == f"/zone/{slug}?lang=zh"
        ordinal, year = BATCH_OF[slug]
        title = link.find(q("title")).text
        assert f"{year}年" in title and "自由贸易试验区" in title, title
        assert link.get("aria-label") == title
    assert links["sichuan"].find(q("title")).text == "中国（四川）自由贸易试验区：2017年设立（第三批自贸试验区）"
    # a province without a zone is drawn, named, and not a link
    assert regions["shanxi"].tag == q("g") and "无自贸试验区" in regions["shanxi"].find(q("title")).text
    assert regions["shanxi"].find(q("path")).get("fill") == chinamap.NO_ZONE_FILL


def test_the_map_is_a_named_figure_with_a_viewbox(graph, home_html):
    svg = map_svg(home_html)
    assert svg.get("viewBox").startswith("0 0 1000 ")
    assert svg.get("width") == "100%" and svg.find(q("title")).text == "自贸试验区分布地图（按设立批次）"
    figure = re.search(r'<figure class="china-map china-map-batches" aria-label="([^"]+)"', home_html)
    assert figure and "地图" in figure.group(1)
    english = render(chinamap.home_map(graph, "en"))
    label = re.search(r'<figure class="china-map china-map-batches" aria-label="([^"]+)"', english).group(1)
    assert "Map" in label or "map" in label
    assert "中国" not in label
    # English tooltips name the zone in English
    sichuan = next(a for a in map_svg(english).iter(q("a")) if a.get("data-region") == "sichuan")
    assert sichuan.get("href") == "/zone/sichuan?lang=en"
    assert sichuan.find(q("title")).text == ("China (Sichuan) Pilot Free Trade Zone: established 2017 "
                                             "(Third batch of pilot free trade zones)")


def test_the_legend_has_one_entry_per_batch_with_its_year_and_zone_count(home_zh, home_html):
    legend = [(item["text"], item["count"]) for item in home_zh["legend"]]
    assert legend == [("第1批（2013年）", "1个"), ("第2批（2015年）", "3个"), ("第3批（2017年）", "7个"),
                      ("第4批（2018年）", "1个"), ("第5批（2019年）", "6个"), ("第6批（2020年）", "3个"),
                      ("无自贸试验区", "")]
    assert home_html.count('<ul class="map-legend"') == 1
    assert 'aria-label="图例"' in home_html


def test_the_table_alternative_lists_the_21_zones_with_province_batch_and_year(home_html):
    table = home_html[home_html.index('<details class="map-table">'):]
    rows = re.findall(r"<tr><th scope=\"row\">(.*?)</tr>", table)
    assert len(rows) == 21
    found = {}
    for row in rows:
        cells = re.findall(r">([^<>]+)</a>|data-label=\"设立年份\">(\d{4})<", row)
        zone = re.search(r'href="/zone/([a-z]+)\?lang=zh"', row).group(1)
        found[zone] = (re.search(r'/batch/zones-(\d)\?lang=zh', row).group(1), cells[-1][1])
    assert found == {slug: (str(o), str(y)) for slug, (o, y) in BATCH_OF.items()}
    assert '<a href="/zone/sichuan?lang=zh">四川自贸试验区</a>' in table
    assert '<a href="/province/guangxi?lang=zh">广西壮族自治区</a>' in table
    # the earliest batch comes first
    assert rows[0].startswith('<a href="/zone/shanghai?lang=zh">')


def test_no_sub_area_is_placed_without_a_known_location(home_zh, graph):
    # the graph has no coordinates for sub-areas; the map says so instead of guessing
    assert home_zh["points"] == []
    assert "片区" in home_zh["note"]


@pytest.mark.parametrize("node, slug, marked", [
    ("zone/sichuan", "sichuan", False),
    ("province/shanghai", "shanghai", True),       # too small to see: ringed
    ("subarea/hubei-wuhan", "hubei", False),       # a sub-area's zone's province
    ("zone/beijing", "beijing", True),
])
def test_the_mini_map_highlights_the_right_province(graph, node, slug, marked):
    m = chinamap.mini_map(graph, URIRef(BASE + node), "zh")
    highlighted = [r["slug"] for r in m["regions"] if r["shaded"]]
    assert highlighted == [slug]
    assert len(m["regions"]) == 34
    assert (m["marker"] is not None) == marked
    html = render(m)
    svg = map_svg(html)
    assert svg.get("role") == "img" and "地图" in svg.get("aria-label")
    fills = [p.get("fill") for p in svg.iter(q("path"))]
    assert fills.count(chinamap.HIGHLIGHT_FILL) == 1
    assert ZH_NAMES.get(slug, "") in m["label"]


def test_the_mini_map_is_only_for_places(graph):
    assert chinamap.mini_map(graph, URIRef(BASE + "batch/zones-3"), "zh") is None
    assert chinamap.mini_map(graph, URIRef(BASE + "agency/samr"), "en") is None
    english = chinamap.mini_map(graph, URIRef(BASE + "zone/guangxi"), "en")
    assert english["label"] == "Map of China showing Guangxi Zhuang Autonomous Region"


def test_the_selection_map_shades_by_count_classes(graph):
    counts = {URIRef(BASE + "zone/sichuan"): 40, URIRef(BASE + "zone/shanghai"): 120,
              URIRef(BASE + "zone/hainan"): 3}
    m = chinamap.selection_map(graph, counts, "en", "Measures")
    assert "map" in m["label"].lower() and "Measures" in m["label"]
    by_slug = {r["slug"]: r for r in m["regions"]}
    assert [i["text"] for i in m["legend"]] == ["1–10", "11–20", "21–50", "51–100", "101–120", "0",
                                                  "No pilot FTZ"]
    fill_of = {i["text"]: i["fill"] for i in m["legend"]}
    assert by_slug["sichuan"]["fill"] == fill_of["21–50"]
    assert by_slug["shanghai"]["fill"] == fill_of["101–120"]
    assert by_slug["hainan"]["fill"] == fill_of["1–10"]
    assert by_slug["anhui"]["fill"] == fill_of["0"] and by_slug["anhui"]["count"] == 0
    assert by_slug["gansu"]["fill"] == fill_of["No pilot FTZ"] and by_slug["gansu"]["href"] is None
    assert by_slug["sichuan"]["title"] == "China (Sichuan) Pilot Free Trade Zone: 40"
    rows = m["table"]["rows"]
    assert len(rows) == 21 and [r[0]["text"] for r in rows[:3]] == ["Shanghai FTZ", "Sichuan FTZ", "Hainan FTZ"]
    assert [r[2]["text"] for r in rows[:4]] == ["120", "40", "3", "0"]
    # the explorer links each zone to its narrowed view
    linked = chinamap.selection_map(graph, counts, "zh", "举措", link=lambda zone: "/explore?zone=" + zone.rsplit("/", 1)[1])
    assert {r["slug"]: r["href"] for r in linked["regions"]}["sichuan"] == "/explore?zone=sichuan"
    html = render(linked)
    assert map_svg(html).find(f".//{q('a')}[@data-region='sichuan']").get("href") == "/explore?zone=sichuan"
    assert "地图" in re.search(r'<figure class="china-map china-map-counts" aria-label="([^"]+)"', html).group(1)


def test_count_classes_are_at_most_five_and_cover_the_range():
    assert chinamap.count_classes(0) == []
    assert chinamap.count_classes(3) == [(1, 1), (2, 2), (3, 3)]
    assert chinamap.count_classes(8) == [(1, 1), (2, 2), (3, 5), (6, 8)]
    assert chinamap.count_classes(300) == [(1, 20), (21, 50), (51, 100), (101, 200), (201, 300)]


def test_labels_from_the_graph_are_escaped():
    graph = Graph()
    zone, province, batch = URIRef(BASE + "zone/x"), URIRef(BASE + "province/sichuan"), URIRef(BASE + "batch/zones-3")
    graph.add((zone, RDF.type, FTZ.PilotFreeTradeZone))
    graph.add((zone, SKOS.prefLabel, Literal('<script>alert("zone")</script>', lang="zh")))
    graph.add((zone, FTZ.inProvince, province))
    graph.add((zone, FTZ.establishedInBatch, batch))
    graph.add((province, SKOS.prefLabel, Literal("<script>alert(1)</script>省", lang="zh")))
    graph.add((batch, FTZ.ordinal, Literal(3)))
    graph.add((batch, FTZ.year, Literal(2017)))
    for m in (chinamap.home_map(graph, "zh"), chinamap.mini_map(graph, zone, "zh"),
              chinamap.selection_map(graph, {zone: 2}, "zh", "<b>举措</b>")):
        html = render(m)
        assert "<script>" not in html and "<b>" not in html
        assert "&lt;script&gt;" in html
        map_svg(html)     # still well-formed


def test_the_geometry_is_vendored_with_its_licence_and_covers_every_province_of_the_graph(graph):
    geo = chinamap.geometry()
    codes = [r["code"] for r in geo["regions"]]
    assert len(codes) == 34 == len(set(codes))
    assert {"510000": "sichuan", "610000": "shaanxi", "140000": "shanxi"} == {
        r["code"]: r["slug"] for r in geo["regions"] if r["code"] in ("510000", "610000", "140000")}
    slugs = {r["slug"] for r in geo["regions"]}
    provinces = {str(p).rsplit("/", 1)[1] for p in graph.subjects(RDF.type, FTZ.ProvinceLevelDivision)}
    assert len(provinces) == 21 and provinces <= slugs
    folder = Path(chinamap.GEOMETRY).parent
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert "echarts" in readme and "4.9.0" in readme and "Apache License 2.0" in readme
    assert "Apache License" in (folder / "LICENSE-echarts.txt").read_text(encoding="utf-8")
    assert chinamap.GEOMETRY.stat().st_size < 300_000
