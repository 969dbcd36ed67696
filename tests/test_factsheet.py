"""Entity pages as fact sheets: the header card (type, names, key facts, IRI, formats, "cite this"),
statements grouped by theme under human labels, reverse links named by their inverse and merged with
the outgoing links they mirror, and a layout that fits a phone."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from rdflib import URIRef

from ftz_kg import RELEASE_DATE, __version__
from ftz_kg.web import pages

from .test_browser import CHROMIUM, FLAGS, block_all_but

BASE = "https://w3id.org/ftz-kg/"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Element:
    def __init__(self, tag: str, attrs: dict, parent=None):
        self.tag, self.attrs, self.parent, self.children, self.parts = tag, attrs, parent, [], []

    @property
    def text(self) -> str:
        return re.sub(r"\s+", " ", "".join(p if isinstance(p, str) else p.text for p in self.parts)).strip()

    def find_all(self, test) -> list[Element]:
        found = []
        for child in self.children:
            if test(child):
                found.append(child)
            found.extend(child.find_all(test))
        return found

    def find(self, test) -> Element:
        found = self.find_all(test)
        assert found, "no such element"
        return found[0]

    def links(self) -> list[str]:
        return [a.attrs.get("href") for a in self.find_all(lambda e: e.tag == "a")]


class Tree(HTMLParser):
    """Just enough of an HTML tree to ask for elements by tag, id and class (no third-party parser)."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.root = self.current = Element("#root", {})
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        element = Element(tag, dict(attrs), self.current)
        self.current.children.append(element)
        self.current.parts.append(element)
        if tag not in VOID:
            self.current = element

    def handle_endtag(self, tag):
        node = self.current
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:
            self.current = node.parent

    def handle_data(self, data):
        self.current.parts.append(data)


def has_class(name: str):
    return lambda e: name in e.attrs.get("class", "").split()


def by_id(name: str):
    return lambda e: e.attrs.get("id") == name


def sheet(graph, path: str, lang: str) -> Element:
    html = pages.entity_page(graph, URIRef(BASE + path), lang, "/" + path,
                             [("text/turtle", f"/{path}.ttl"), ("application/ld+json", f"/{path}.jsonld"),
                              ("application/n-triples", f"/{path}.nt"), ("application/rdf+xml", f"/{path}.rdf")])
    return Tree(html).root


def statements(page: Element) -> dict[str, Element]:
    """The rows of the statement tables by their heading (th)."""
    section = page.find(has_class("fs-statements"))
    rows = {}
    for row in section.find_all(lambda e: e.tag == "tr"):
        heading = row.find(lambda e: e.tag == "th")
        count = heading.find_all(has_class("fs-count"))
        label = heading.text[:-len(count[0].text)].strip() if count else heading.text
        assert label not in rows, f"two rows are headed {label!r}"
        rows[label] = row.find(lambda e: e.tag == "td")
    return rows


def facts(page: Element) -> dict[str, str]:
    card = page.find(has_class("fs-facts"))
    return {f.find(lambda e: e.tag == "dt").text: f.find(lambda e: e.tag == "dd").text
            for f in card.find_all(has_class("fs-fact"))}


# The Sichuan FTZ (report Part 1 §一; zones.csv): third batch, 2017; three sub-areas of its plan
# (成都天府新区片区, 成都青白江铁路港片区, 川南临港片区); 14 measures in the curated tables.
SICHUAN_MEASURES = {"air-rail-single-document", "bank-government-distributed-sharing", "chengdu-regulation-clean-up",
                    "chilled-seafood-two-stage-access", "china-europe-railway-freight-segmented-valuation",
                    "contactless-online-case-handling", "departure-port-dry-port-policy-linkage",
                    "enterprise-package-deregistration", "ftz-linkage-innovation-zones", "remote-ip-legal-services",
                    "sichuan-china-europe-e-document-dual-chain", "sichuan-chongqing-collaborative-opening-zone",
                    "sichuan-guangxi-capacity-cooperation-park", "sichuan-multimodal-single-document-reform"}


def test_zone_header_card_names_type_province_batch_and_counts(graph):
    page = sheet(graph, "zone/sichuan", "zh")
    card = page.find(has_class("fs-card"))
    assert card.find(lambda e: e.tag == "h1").text == "中国（四川）自由贸易试验区"
    assert card.find(has_class("fs-other-name")).text == "China (Sichuan) Pilot Free Trade Zone"
    assert [b.text for b in card.find_all(has_class("fs-badge"))] == ["自由贸易试验区"]
    shown = facts(page)
    assert shown["省级行政区"] == "四川省"
    assert "第三批自贸试验区" in shown["设立批次"] and "2017" in shown["设立批次"]
    assert shown["片区"] == "3" and shown["制度创新举措"] == "14"
    summary = card.find(has_class("fs-summary")).text
    assert "四川省" in summary and "2017" in summary and "3 个片区" in summary and "14 项" in summary
    english = facts(sheet(graph, "zone/sichuan", "en"))
    assert english["Province"] == "Sichuan Province" and "2017" in english["Establishment batch"]
    assert english["Sub-areas"] == "3" and english["Innovation measures"] == "14"


def test_a_zone_lists_each_of_its_measures_once(graph):
    page = sheet(graph, "zone/sichuan", "zh")
    links = page.find(has_class("fs-statements")).links()
    for measure in SICHUAN_MEASURES:
        assert links.count(f"/measure/{measure}") == 1, measure
    rows = statements(page)
    measure_row = rows["源自本区的举措"]
    assert {h[len("/measure/"):] for h in measure_row.links() if h.startswith("/measure/")} == SICHUAN_MEASURES
    assert "被以下实体引用" not in page.text and "Linked from" not in sheet(graph, "zone/sichuan", "en").text
    # the merged link keeps the report's places: table 1 row 2 credits the deregistration service to Sichuan
    value = measure_row.find(lambda e: e.tag == "li" and "/measure/enterprise-package-deregistration" in e.links())
    assert "/source/part2-table1/row-2" in value.links()


def test_the_count_links_to_its_row(graph):
    page = sheet(graph, "zone/sichuan", "en")
    number = page.find(has_class("fs-facts")).find(lambda e: e.tag == "a" and e.text == "14")
    row = page.find(by_id(number.attrs["href"][1:]))
    assert row.tag == "tr" and "Measures originating here" in row.text


@pytest.mark.parametrize("lang, broader, narrower", [("zh", "上位概念", "下位概念"),
                                                      ("en", "Broader concept", "Narrower concepts")])
def test_narrower_concepts_are_listed_as_narrower_not_broader(graph, lang, broader, narrower):
    # 推动并联化 (Part 2 §一(一)): under 投资自由化便利化, with four innovation points
    page = sheet(graph, "innovation/parallel-processing", lang)
    rows = statements(page)
    assert rows[broader].links() == ["/innovation/investment-liberalisation"]
    links = page.find(has_class("fs-statements")).links()
    assert links.count("/innovation/wider-parallel-approval-departments") == 1     # merged, not listed again
    assert sorted(rows[narrower].links()) == ["/innovation/integrating-multiple-permit-types",
                                              "/innovation/parallel-business-licence-and-permits",
                                              "/innovation/parallel-licensing-and-filing",
                                              "/innovation/wider-parallel-approval-departments"]
    point = statements(sheet(graph, "innovation/wider-parallel-approval-departments", lang))
    assert point[broader].links() == ["/innovation/parallel-processing"] and narrower not in point


def test_reverse_links_without_an_inverse_get_a_reverse_name(graph):
    # the third batch (2017) established 7 zones; SAMR is responsible for 4 experiences (annex tables 1 and 4)
    rows = statements(sheet(graph, "batch/zones-3", "en"))
    assert len([h for h in rows["Zones established in this batch"].links() if h.startswith("/zone/")]) == 7
    assert "/zone/sichuan" in rows["Zones established in this batch"].links()
    samr = sheet(graph, "agency/samr", "zh")
    responsible = statements(samr)["负责经验"].links()
    assert sorted(h for h in responsible if h.startswith("/measure/")) == [
        "/measure/business-credit-repair", "/measure/enterprise-package-deregistration",
        "/measure/equity-transfer-remote-confirmation", "/measure/licence-single-window-parallel-approval"]
    assert facts(samr)["负责的复制推广经验"] == "4"


RAW_NAMES = {"broader", "narrower", "inScheme", "prefLabel", "altLabel", "topConceptOf", "hasTopConcept", "notation",
             "closeMatch", "exactMatch", "isPartOf", "hasPart", "references", "isReferencedBy", "spatial", "issued",
             "wasDerivedFrom", "atLocation", "wasAssociatedWith", "generated", "passed_by", "id_local", "title",
             "dataSet", "type", "note", "description", "definition", "date", "source"}


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("path", ["zone/sichuan", "innovation/parallel-processing", "scheme/innovation-taxonomy",
                                  "measure/enterprise-package-deregistration", "subarea/sichuan-tianfu",
                                  "document/sichuan-ftz-covid-response-notice", "source/part2-table1/row-2",
                                  "indicator/share-of-provincial-land-area", "dataset/report-figures",
                                  "event/chengdu-customs-china-europe-freight-valuation-guide", "conflict/c1"])
def test_no_heading_is_a_raw_property_name(graph, lang, path):
    page = sheet(graph, path, lang)
    headings = [e.text for e in page.find_all(lambda e: e.tag in ("th", "h2", "h3", "dt"))]
    assert headings
    for heading in headings:
        bare = re.sub(r"\s*\d+$", "", heading)      # a row heading ends in its count
        assert bare not in RAW_NAMES and not re.fullmatch(r"[a-z]+[A-Z]\w*", bare), (path, heading)
        assert not re.match(r"(skos|dcterms|prov|eli|qb|org|rdfs?|owl|ftz):", bare), (path, heading)


@pytest.mark.parametrize("lang, cite_label", [("zh", "引用本页"), ("en", "Cite this")])
def test_cite_this_names_the_entity_its_iri_the_version_and_release(graph, lang, cite_label):
    page = sheet(graph, "measure/enterprise-package-deregistration", lang)
    cite = page.find(has_class("fs-cite-this"))
    assert cite.find(lambda e: e.tag == "summary").text == cite_label
    text = cite.find(has_class("fs-citation")).text
    names = {"zh": "企业“套餐式”注销服务模式", "en": "Package-style enterprise deregistration service"}
    iri = BASE + "measure/enterprise-package-deregistration"
    for part in (names[lang], iri, f"ftz-kg {__version__}", RELEASE_DATE):
        assert part in text
    assert page.find(by_id("fs-iri-text")).text == iri


def test_format_buttons_link_the_four_rdf_views(graph):
    formats = sheet(graph, "zone/sichuan", "en").find(has_class("fs-formats"))
    assert {a.text: a.attrs["href"] for a in formats.find_all(lambda e: e.tag == "a")} == {
        "Turtle": "/zone/sichuan.ttl", "JSON-LD": "/zone/sichuan.jsonld", "N-Triples": "/zone/sichuan.nt",
        "RDF/XML": "/zone/sichuan.rdf"}


def test_measure_key_facts_carry_their_citation_markers(graph):
    # 企业“套餐式”注销服务模式: Sichuan (table 1 row 2), 市场监管总局 (annex table 1 row 8),
    # promoted nationwide
    shown = sheet(graph, "measure/enterprise-package-deregistration", "zh").find(has_class("fs-facts"))
    zone = shown.find(lambda e: e.tag == "dd" and "/zone/sichuan" in e.links())
    assert zone.find_all(has_class("cite")) and "/source/part2-table1/row-2" in zone.links()
    classification = shown.find(lambda e: e.tag == "dd" and "/innovation/parallel-business-licence-and-permits"
                                in e.links())
    assert "投资自由化便利化 ›" in classification.text and "推动并联化 ›" in classification.text
    texts = [d.text for d in shown.find_all(lambda e: e.tag == "dd")]
    assert any("国家市场监督管理总局" in t for t in texts) and any("全国" in t for t in texts)


def test_a_zone_page_leads_to_its_measures_and_its_batch_comparison(graph):
    page = sheet(graph, "zone/sichuan", "zh")
    links = page.links()
    assert "/explore?zone=sichuan&lang=zh" in links
    # the third batch (2017): 四川 beside five of 重庆、河南、湖北、辽宁、陕西、浙江 (six zones at most)
    assert "/compare?zone=sichuan&zone=chongqing&zone=henan&zone=hubei&zone=liaoning&zone=shaanxi" in links
    assert not any(link.startswith("/compare?zone=") for link in sheet(graph, "province/sichuan", "zh").links())


def test_mini_map_on_zone_and_province_pages_only(graph):
    for path in ("zone/sichuan", "province/sichuan"):
        figure = sheet(graph, path, "zh").find(has_class("china-map-mini"))
        assert figure.tag == "figure" and "地图" in figure.attrs["aria-label"]
    assert not sheet(graph, "measure/enterprise-package-deregistration", "zh").find_all(has_class("china-map"))


def test_phone_layout_copy_button_and_formats_in_a_browser(server):
    import httpx
    from playwright.sync_api import sync_playwright
    for suffix, media in ((".ttl", "text/turtle"), (".jsonld", "application/ld+json"),
                          (".nt", "application/n-triples"), (".rdf", "application/rdf+xml")):
        response = httpx.get(server + "/zone/sichuan" + suffix, timeout=60)
        assert response.status_code == 200 and response.headers["content-type"].startswith(media)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            phone = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
            phone.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
            page = phone.new_page()
            outside = block_all_but(page, server)
            errors = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            for path in ("/zone/sichuan?lang=zh", "/zone/sichuan?lang=en", "/measure/single-code-enterprise-inspection",
                         "/innovation/parallel-processing?lang=en", "/scheme/innovation-taxonomy"):
                page.goto(server + path)
                assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
                # statement tables are stacked cards: the value sits below its heading, not beside it
                th = page.locator(".fs-table th").first.bounding_box()
                td = page.locator(".fs-table td").first.bounding_box()
                assert td["y"] >= th["y"] + th["height"] - 1 and td["x"] < th["x"] + 5, path
            page.goto(server + "/zone/sichuan?lang=zh")
            button = page.locator(".fs-iri button.fs-copy")
            assert button.is_visible() and button.inner_text() == "复制 IRI"
            button.click()
            page.wait_for_function("document.querySelector('.fs-copy-status').textContent === '已复制'")
            assert page.evaluate("navigator.clipboard.readText()") == BASE + "zone/sichuan"
            assert errors == [] and not any(url.startswith(server) for url in outside)
            # without JavaScript the IRI stays as selectable text and the button does not show
            plain = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False)
            page = plain.new_page()
            block_all_but(page, server)
            page.goto(server + "/zone/sichuan?lang=en")
            assert page.inner_text("#fs-iri-text") == BASE + "zone/sichuan"
            assert not page.locator(".fs-iri button.fs-copy").is_visible()
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
        finally:
            browser.close()
