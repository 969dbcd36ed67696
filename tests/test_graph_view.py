"""The neighbourhood graph on entity pages (issue 19 item 7), in Debian's chromium with every request
to anything but our own server blocked: types in the data and the legend, nodes that stay where they
were placed, labels that never overlap, the page scrolling under the wheel, a keyboard-usable list."""

from __future__ import annotations

import httpx
import pytest

from .server import running_server
from .test_browser import block_all_but

BASE = "https://w3id.org/ftz-kg/"
SICHUAN = BASE + "zone/sichuan"
THIRD_BATCH = BASE + "batch/zones-3"
WESTERN_DEVELOPMENT = BASE + "strategy/western-development"

# Label boxes (text only, model coordinates) of every node, and the pairs whose boxes intersect.
OVERLAPPING_LABELS = """() => {
  const boxes = ftzGraph.cy.nodes().map(n => [n.id(), n.boundingBox(
    {includeNodes: false, includeEdges: false, includeLabels: true, includeOverlays: false, includeUnderlays: false})]);
  const pairs = [];
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i][1], b = boxes[j][1];
      if (a.w === 0 || b.w === 0) throw new Error("a node has no label box");
      if (a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2) pairs.push([boxes[i][0], boxes[j][0]]);
    }
  return pairs;
}"""
# A node's label box touching another node's body
LABELS_ON_NODES = """() => {
  const cy = ftzGraph.cy, hits = [];
  const only = {includeEdges: false, includeOverlays: false, includeUnderlays: false};
  const opts = {...only, includeNodes: false, includeLabels: true};
  const body = {...only, includeNodes: true, includeLabels: false};
  cy.nodes().forEach(n => cy.nodes().forEach(m => {
    if (n.same(m)) return;
    const a = n.boundingBox(opts), b = m.boundingBox(body);
    if (a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2) hits.push([n.id(), m.id()]);
  }));
  return hits;
}"""
POSITIONS = "() => Object.fromEntries(ftzGraph.cy.nodes().map(n => [n.id(), n.position()]))"
NODE_COUNT = "() => Number(document.getElementById('graph').dataset.nodes || 0)"


@pytest.fixture(scope="module")
def server():
    with running_server("--workers", "2") as (base, process):
        yield base


def open_graph(browser, server, path, width=1280, height=900):
    page = browser.new_page(viewport={"width": width, "height": height})
    outside = block_all_but(page, server)
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server + path)
    assert page.evaluate("typeof cytoscape") == "undefined"     # loaded only when the graph comes near
    page.locator("#graph-section").scroll_into_view_if_needed()
    page.wait_for_function(NODE_COUNT + " > 1", timeout=30_000)
    return page, outside, errors


def node_on_screen(page, iri):
    """Where a node is drawn, in page coordinates, once any scroll has been dispatched (Cytoscape.js
    reads the drawing's place on the page again on the scroll event)."""
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
    return page.evaluate("""iri => { const r = document.getElementById('graph').getBoundingClientRect();
        const p = ftzGraph.cy.getElementById(iri).renderedPosition(); return [r.left + p.x, r.top + p.y]; }""", iri)


def nodes_of(elements):
    return {e["data"]["id"]: e["data"] for e in elements if "source" not in e["data"]}


def test_the_neighbourhood_json_carries_each_nodes_type(server):
    zh = nodes_of(httpx.get(server + "/neighbourhood", params={"iri": SICHUAN, "lang": "zh"}).json())
    en = nodes_of(httpx.get(server + "/neighbourhood", params={"iri": SICHUAN, "lang": "en"}).json())
    assert zh[SICHUAN]["type"] == "PilotFreeTradeZone" and zh[SICHUAN]["typeLabel"] == "自由贸易试验区"
    assert en[SICHUAN]["typeLabel"] == "pilot free trade zone" and zh[SICHUAN]["family"] == "zone"
    province = zh[BASE + "province/sichuan"]
    assert (province["type"], province["typeLabel"], province["family"]) == \
        ("ProvinceLevelDivision", "省级行政区", "place")
    # Sichuan's three sub-areas (Chengdu Tianfu New Area, Qingbaijiang railway port, Sichuan south port)
    assert {d["label"] for d in zh.values() if d["type"] == "SubArea"} == \
        {"成都天府新区片区", "成都青白江铁路港片区", "川南临港片区"}
    # the most specific class: 企业“套餐式”注销服务模式 is a replicable experience, not just a measure
    experience = zh[BASE + "measure/enterprise-package-deregistration"]
    assert (experience["type"], experience["typeLabel"], experience["family"]) == \
        ("ReplicableExperience", "可复制推广的改革试点经验", "measure")
    assert zh[BASE + "batch/zones-3"]["family"] == "concept"
    assert all(d["type"] and d["typeLabel"] and d["family"] != "other" for d in zh.values())
    # the strategies' concept scheme, a class of SKOS the ontology does not label, is named in both languages
    scheme = [d for d in nodes_of(httpx.get(server + "/neighbourhood", params={
        "iri": WESTERN_DEVELOPMENT, "lang": "zh"}).json()).values() if d["type"] == "ConceptScheme"]
    assert [d["typeLabel"] for d in scheme] == ["概念体系"]


def test_expanding_keeps_placed_nodes_still_and_labels_apart(server, browser):
    page, outside, errors = open_graph(browser, server, "/zone/sichuan?lang=zh")
    figure = page.locator("figure#graph-figure")
    assert "关系图" in figure.get_attribute("aria-label") and figure.is_visible()
    assert page.evaluate(OVERLAPPING_LABELS) == []
    legend = page.inner_text(".graph-legend")
    present = set(page.evaluate("() => ftzGraph.cy.nodes().map(n => n.data('typeLabel'))"))
    entries = page.eval_on_selector_all(".graph-legend li", "items => items.map(i => i.textContent.trim())")
    assert {label for entry in entries for label in entry.split("、")} == present    # the types present, no more
    for type_label in ("自由贸易试验区", "片区", "省级行政区", "制度创新举措", "自贸试验区设立批次"):
        assert type_label in legend
    assert "Pilot" not in legend and "province" not in legend

    # expand the third batch with the keyboard, from the list beside the graph
    placed = page.evaluate(POSITIONS)
    page.focus(f"#graph-list button.graph-expand[data-iri='{THIRD_BATCH}']")
    page.keyboard.press("Enter")
    page.wait_for_function(f"{NODE_COUNT} > {len(placed)}", timeout=30_000)
    listed = page.inner_text("#graph-list")
    # the third batch (2017): Liaoning, Zhejiang, Henan, Hubei, Chongqing, Sichuan, Shaanxi
    for zone in ("辽宁", "浙江", "河南", "湖北", "重庆", "陕西"):
        assert f"中国（{zone}）自由贸易试验区" in listed
    button = page.locator(f"#graph-list button.graph-expand[data-iri='{THIRD_BATCH}']")
    assert button.get_attribute("aria-disabled") == "true" and "已展开" in button.inner_text()
    assert page.evaluate("() => document.activeElement.dataset.iri") == THIRD_BATCH   # focus stays

    # select 西部大开发 by clicking it in the drawing; the visible controls expand it and open its page
    page.click("button.graph-fit")
    x, y = node_on_screen(page, WESTERN_DEVELOPMENT)
    page.mouse.click(x, y)
    chosen = page.locator(".graph-chosen")
    assert chosen.is_visible() and chosen.locator(".graph-chosen-name").inner_text() == "西部大开发"
    assert "国家战略" in chosen.locator(".graph-type").inner_text()
    assert chosen.locator("a.graph-chosen-open").get_attribute("href") == "/strategy/western-development"
    assert chosen.locator("a.graph-chosen-open").inner_text() == "打开页面"
    before = page.evaluate(POSITIONS)
    assert all(before[iri] == position for iri, position in placed.items())
    chosen.locator("button.graph-expand").click()
    page.wait_for_function(f"{NODE_COUNT} > {len(before)}", timeout=30_000)
    after = page.evaluate(POSITIONS)
    assert len(after) > len(before)
    assert {iri: after[iri] for iri in before} == before       # nothing placed before has moved
    assert page.evaluate(OVERLAPPING_LABELS) == []
    assert page.evaluate(LABELS_ON_NODES) == []
    assert "概念体系" in page.inner_text(".graph-legend")        # a type the expansion brought in
    chosen.locator("a.graph-chosen-open").click()
    page.wait_for_url("**/strategy/western-development")
    assert errors == [] and outside == []
    page.close()


def test_the_wheel_scrolls_the_page_until_zooming_is_asked_for(server, browser):
    page, outside, errors = open_graph(browser, server, "/zone/sichuan?lang=en", height=700)
    page.locator("#graph").scroll_into_view_if_needed()
    page.evaluate("() => window.scrollBy(0, -150)")      # the graph under the pointer, page room to scroll
    box = page.locator("#graph").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 100)
    assert page.evaluate("() => document.elementFromPoint(%f, %f).closest('#graph') !== null"
                         % (box["x"] + box["width"] / 2, box["y"] + 100))
    scrolled, zoom = page.evaluate("window.scrollY"), page.evaluate("ftzGraph.cy.zoom()")
    page.mouse.wheel(0, 200)
    page.wait_for_function(f"() => window.scrollY > {scrolled}", timeout=10_000)
    assert page.evaluate("ftzGraph.cy.zoom()") == zoom
    toggle = page.locator("button.graph-zoom")
    assert toggle.inner_text() == "Zoom with the wheel and drag" and toggle.get_attribute("aria-pressed") == "false"
    toggle.click()
    assert toggle.get_attribute("aria-pressed") == "true"
    # Cytoscape.js lets a wheel that follows a page scroll closely go on scrolling the page
    page.wait_for_function("() => !ftzGraph.cy.renderer().scrollingPage")
    box = page.locator("#graph").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    scrolled = page.evaluate("window.scrollY")
    page.mouse.wheel(0, -200)
    page.wait_for_function(f"() => ftzGraph.cy.zoom() > {zoom}", timeout=10_000)
    assert page.evaluate("window.scrollY") == scrolled
    page.click("button.graph-fit")
    assert errors == [] and outside == []
    page.close()


def test_edge_labels_show_on_hover_and_keyboard_focus(server, browser):
    page, outside, errors = open_graph(browser, server, "/zone/sichuan?lang=en")
    labelled = "() => ftzGraph.cy.edges().filter(e => e.style('label') !== '').map(e => e.id()).sort()"
    edges_of = "iri => ftzGraph.cy.getElementById(iri).connectedEdges().map(e => e.id()).sort()"
    assert page.evaluate(labelled) == []                     # no edge labels until asked
    page.locator("#graph").scroll_into_view_if_needed()
    x, y = node_on_screen(page, BASE + "province/sichuan")
    page.mouse.move(x, y)
    page.wait_for_function(labelled + ".length > 0")
    assert page.evaluate(labelled) == page.evaluate(edges_of, BASE + "province/sichuan") == \
        [f"{SICHUAN} {BASE}def#inProvince {BASE}province/sichuan"]
    page.mouse.move(1, 1)
    page.wait_for_function(labelled + ".length === 0")
    page.focus(f"#graph-list li[data-iri='{BASE}subarea/sichuan-tianfu'] a")   # the keyboard: a list entry
    page.wait_for_function(labelled + ".length > 0")
    tianfu = BASE + "subarea/sichuan-tianfu"
    assert page.evaluate(labelled) == page.evaluate(edges_of, tianfu) and len(page.evaluate(labelled)) == 2
    assert page.evaluate(f"() => ftzGraph.cy.getElementById('{tianfu}').connectedEdges()"
                         ".every(e => e.style('label') === e.data('label') && e.data('label') !== '')")
    assert page.get_attribute(f"#graph-list li[data-iri='{BASE}subarea/sichuan-tianfu'] a", "href") == \
        "/subarea/sichuan-tianfu"
    assert errors == [] and outside == []
    page.close()


def test_on_a_phone_labels_stay_readable_and_nothing_overflows(server, browser):
    page, outside, errors = open_graph(browser, server, "/zone/sichuan?lang=zh", width=390, height=844)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    graph = page.locator("#graph").bounding_box()
    assert graph["x"] >= 0 and graph["x"] + graph["width"] <= 390
    # 13 px labels drawn at this zoom: at least 10 px on screen
    assert page.evaluate("ftzGraph.cy.zoom()") * 13 >= 10
    assert page.evaluate(OVERLAPPING_LABELS) == []
    page.click(f"#graph-list button.graph-expand[data-iri='{THIRD_BATCH}']")
    page.wait_for_selector(f"#graph-list button.graph-expand[data-iri='{THIRD_BATCH}'][aria-disabled=true]")
    assert page.evaluate("ftzGraph.cy.zoom()") * 13 >= 10
    assert page.evaluate(OVERLAPPING_LABELS) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert errors == [] and outside == []
    page.close()
