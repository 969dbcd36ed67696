"""The query tools as an analyst meets them (issue 19, item 6): the canned queries' index and
their pages (a form from the declared parameters with entity pickers, answers as tables with
labels, local links and plain values, a chart for a column of numbers, the other formats), and
the /sparql page (YASGUI in the site's frame, examples loading into the current tab, offline).

Expected answers are written by hand from the report: 部分创新举措表 1 (lines 1846-1881) lists
the six measures under 推动并联化; the annex's tables 2, 5 and 6 (lines 5176-5245) name 海关总署
for nine experiences, more than any other unit; the sixth batch (2020) set up the Beijing,
Hunan and Anhui zones."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from .server import running_server
from .test_browser import block_all_but

AXE = Path(__file__).parent / "js" / "node_modules" / "axe-core" / "axe.min.js"

# 部分创新举措表 1, rows 1-6: the parallel-approval measures, by name and zone
PARALLEL_APPROVAL = {
    "企业“套餐式”注销服务模式": "中国（四川）自由贸易试验区",
    "市场准入“一业一证”行业综合许可制度": "中国（上海）自由贸易试验区",
    "出版物发行业务许可与网络发行备案联办制度": "中国（辽宁）自由贸易试验区",
    "电力工程审批绿色通道": "中国（福建）自由贸易试验区",
    "建设项目水、电、气、暖现场一次联办模式": "中国（河南）自由贸易试验区",
    "证照“一口受理、并联办理”审批服务模式": "中国（天津）自由贸易试验区",
}
APPROACH_PAGE = "/api/measures-by-approach.html?approach=" + quote("推动并联化")


class Page(HTMLParser):
    """What the tests read from a page: links, labels, form controls, table cells, figures."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []          # (href, text)
        self.labels: dict[str, str] = {}                # for -> text
        self.selects: dict[str, dict] = {}              # id -> {name, options: [(value, text, selected)]}
        self.inputs: dict[str, dict] = {}               # id -> attributes
        self.cells: list[str] = []                      # every td's text
        self.rows: list[list[str]] = []                 # tbody rows' cell texts
        self.figures: list[dict] = []                   # {caption, aria-labelledby}
        self.forms: list[dict] = []
        self.scripts: list[str] = []
        self.text_parts: list[str] = []
        self._open: list[tuple[str, dict, list[str]]] = []
        self._select: str | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("a", "label", "option", "td", "figcaption", "h1", "h2"):
            self._open.append((tag, attrs, []))
        if tag == "select":
            self._select = attrs.get("id")
            self.selects[self._select] = {"name": attrs.get("name"), "options": [], **attrs}
        elif tag == "input":
            self.inputs[attrs.get("id") or attrs.get("name")] = attrs
        elif tag == "tr":
            self.rows.append([])
        elif tag == "figure":
            self.figures.append({**attrs, "caption": ""})
        elif tag == "form":
            self.forms.append(attrs)
        elif tag == "script" and attrs.get("src"):
            self.scripts.append(attrs["src"])

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        if self._open and self._open[-1][0] == tag:
            _, attrs, parts = self._open.pop()
            text = "".join(parts).strip()
            for _, _, outer in self._open:
                outer.append(text)
            if tag == "a":
                self.links.append((attrs.get("href", ""), text))
            elif tag == "label":
                self.labels[attrs.get("for", "")] = text
            elif tag == "option" and self._select is not None:
                self.selects[self._select]["options"].append((attrs.get("value"), text, "selected" in attrs))
            elif tag == "td":
                self.cells.append(text)
                if self.rows:
                    self.rows[-1].append(text)
            elif tag == "figcaption" and self.figures:
                self.figures[-1]["caption"] = text

    def handle_data(self, data):
        self.text_parts.append(data)
        if self._open:
            self._open[-1][2].append(data)

    @property
    def text(self) -> str:
        return "".join(self.text_parts)

    def selected(self, select_id: str) -> list[str]:
        return [value for value, _, chosen in self.selects[select_id]["options"] if chosen]


@pytest.fixture(scope="module")
def server():
    with running_server("--workers", "2") as (base, process):
        yield base


def page(client, path: str, status: int = 200, **headers) -> Page:
    client.cookies.clear()      # each page asked afresh: a remembered language would decide it
    response = client.get(path, headers=headers)
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    return Page(response.text)


# ---------------------------------------------------------------- a canned query's page

def test_a_query_page_lists_the_parallel_approval_measures_with_links_and_a_labelled_picker(client):
    shown = page(client, APPROACH_PAGE + "&lang=zh")
    # the form: a labelled picker of innovation concepts, with the asked concept selected, sent by GET
    assert shown.labels["param-approach"] == "创新方式（或领域、创新点）"
    assert shown.selected("param-approach") == ["推动并联化"]
    assert len(shown.selects["param-approach"]["options"]) > 50        # the whole taxonomy to pick from
    form = next(f for f in shown.forms if f.get("class") == "query-form")
    assert form["method"] == "get" and form["action"] == "/api/measures-by-approach.html"
    # the answer: the six measures of table 1, named and linked to their local pages, with their zones
    measures = {text: href for href, text in shown.links if href.startswith("/measure/")}
    assert set(measures) == set(PARALLEL_APPROVAL)
    assert measures["企业“套餐式”注销服务模式"] == "/measure/enterprise-package-deregistration"
    for row in shown.rows[1:]:
        assert PARALLEL_APPROVAL[row[0]] == row[2]
    assert len(shown.rows) == 1 + 6
    assert "结果 (6 行)" in shown.text
    # nothing leaves for w3id.org, and the site's frame and its language are there
    assert not [href for href, _ in shown.links if "w3id.org/ftz-kg/" in href]
    assert "示例查询" in shown.text and "English" in shown.text


def test_the_english_page_shows_english_labels_and_keeps_the_question_in_its_switch(client):
    response = client.get(APPROACH_PAGE + "&lang=en")
    shown = Page(response.text)
    assert response.cookies.get("lang") == "en"
    assert shown.labels["param-approach"] == "Innovation approach (or domain, point)"
    # the picker shows the same concept, by its English name
    assert [text for _, text, chosen in shown.selects["param-approach"]["options"] if chosen] == ["Parallel processing"]
    names = {text for href, text in shown.links if href.startswith("/measure/")}
    assert "Green channel for power project approvals" in names and len(names) == 6
    switch = next(href for href, text in shown.links if text == "中文")
    assert parse_qs(urlsplit(switch).query) == {"approach": ["推动并联化"], "lang": ["zh"]}


def test_numbers_are_plain_and_a_number_column_gets_a_chart(client):
    shown = page(client, "/api/agencies-ranked.html?lang=zh")
    first = shown.rows[1]
    assert first[0] == "海关总署" and first[1] == "9"          # nine experiences (annex tables 2, 5, 6)
    assert "^^" not in shown.text and "xsd:" not in shown.text and "@zh" not in shown.text
    [chart] = shown.figures
    assert "图表" in chart["caption"] and "经验数" in chart["caption"]
    response = client.get("/api/agencies-ranked.html?lang=zh")
    assert re.search(r'<a href="/agency/gacc">海关总署</a></span><span class="qbar-track"><span class="qbar" '
                     r'style="width:100.0%"></span></span><span class="qbar-value">9</span>', response.text)
    english = page(client, "/api/agencies-ranked.html?lang=en")
    assert english.rows[1][1] == "9" and "Chart" in english.figures[0]["caption"]


def test_row_numbers_are_not_charted(client):
    # parallel-approval's only number column is the table's row number: no chart of it
    shown = page(client, "/api/parallel-approval.html?lang=zh")
    assert shown.figures == []
    assert [row[-1] for row in shown.rows[1:]] == ["1", "2", "3", "4", "5", "6"]


def test_the_page_language_is_the_querys_language(client):
    shown = page(client, "/api/zones-in-batch.html?number=6&lang=en")
    zones = {text for href, text in shown.links if href.startswith("/zone/")}
    assert zones == {"China (Beijing) Pilot Free Trade Zone", "China (Hunan) Pilot Free Trade Zone",
                     "China (Anhui) Pilot Free Trade Zone"}
    assert ["2020"] * 3 == [row[1] for row in shown.rows[1:]]
    # the language comes from the browser too, and a query without a language ignores ?lang=
    chinese = page(client, "/api/zones-in-batch.html?number=6", **{"Accept-Language": "zh-CN,zh;q=0.9"})
    assert "中国（安徽）自由贸易试验区" in chinese.cells
    names = page(client, "/api/agency-names.html?agency=" + quote("人社部") + "&lang=en")
    assert "人力资源和社会保障部" in names.cells


def test_other_formats_are_linked_with_the_same_parameters(client):
    shown = page(client, APPROACH_PAGE + "&lang=zh")
    links = {text: href for href, text in shown.links}
    for text, path in (("CSV", "/api/measures-by-approach.csv"), ("JSON", "/api/measures-by-approach.json"),
                       ("SPARQL 文本", "/api/measures-by-approach.rq")):
        assert urlsplit(links[text]).path == path
        assert parse_qs(urlsplit(links[text]).query) == {"approach": ["推动并联化"], "lang": ["zh"]}
    csv = client.get(links["CSV"])
    assert csv.headers["content-type"].startswith("text/csv") and len(csv.text.strip().splitlines()) == 1 + 6
    text = client.get(links["SPARQL 文本"])
    assert text.status_code == 200 and text.headers["content-type"].startswith("text/plain")
    assert "<https://w3id.org/ftz-kg/innovation/parallel-processing>" in text.text    # bound, as a term
    editor = urlsplit(links["在编辑器中打开"])
    assert editor.path == "/sparql" and "parallel-processing" in parse_qs(editor.fragment)["query"][0]


def test_a_bad_parameter_is_a_400_page_naming_it(client):
    shown = page(client, "/api/zones-in-batch.html?number=six&lang=zh", status=400)
    assert "参数有误" in shown.text and "批次序号" in shown.text and "number" in shown.text
    assert shown.inputs["param-number"]["aria-invalid"] == "true"
    assert shown.inputs["param-number"]["value"] == "six"
    unknown = page(client, "/api/zones-in-batch.html?number=6&numbr=1&lang=en", status=400)
    assert "Bad parameter" in unknown.text and "numbr" in unknown.text
    assert page(client, "/api/zones-by-batch.html?lang=fr", status=400).text.count("lang") >= 1
    missing = page(client, "/api/no-such-query.html?lang=en", status=404)
    assert "unknown query" in missing.text


def test_a_query_asked_without_parameters_shows_its_form_ready_with_the_example(client):
    shown = page(client, "/api/measures-by-zone.html?lang=zh")
    assert shown.selected("param-zone") == ["中国（四川）自由贸易试验区"]    # the catalogue's example
    assert shown.selected("param-part") == ["anywhere"]
    assert shown.labels["param-part"].startswith("报告部分")
    assert shown.rows == [] and "请选择参数" in shown.text


def test_request_values_are_escaped_on_the_page(client):
    attack = "<img src=x onerror=alert(1)>"
    response = client.get("/api/label-search.html?lang=en&text=" + quote(attack))
    assert response.status_code == 200
    assert attack not in response.text and "&lt;img src=x onerror=alert(1)&gt;" in response.text
    picked = client.get("/api/where-stated.html?lang=en&entity=" + quote(attack))
    assert attack not in picked.text and "&lt;img" in picked.text
    bad = client.get("/api/zones-in-batch.html?number=" + quote(attack))
    assert bad.status_code == 400 and attack not in bad.text


def test_a_graph_answer_is_a_table_of_labelled_triples(client):
    shown = page(client, "/api/describe.html?iri=https://w3id.org/ftz-kg/zone/sichuan&lang=zh")
    assert "中国（四川）自由贸易试验区" in shown.cells
    assert ("/zone/sichuan", "中国（四川）自由贸易试验区") in shown.links
    assert not [href for href, _ in shown.links if href.startswith("https://w3id.org/ftz-kg/")]


# ---------------------------------------------------------------- the index

def test_the_index_lists_the_questions_in_the_page_language(client):
    chinese = page(client, "/api/docs?lang=zh")
    assert "示例查询" in chinese.text
    assert ("/api/parallel-approval.html?lang=zh",
            "哪些举措属于推动并联化（含其下各创新点）？") in chinese.links
    english = page(client, "/api/docs?lang=en")
    assert any(text == "Which zones were established in the batch with the given number?" and
               href == "/api/zones-in-batch.html?number=6&lang=en" for href, text in english.links)
    # /api: a page for a browser, the JSON list for a program
    browser = page(client, "/api", Accept="text/html,application/xhtml+xml,*/*;q=0.8", **{"Accept-Language": "en"})
    assert "Canned queries" in browser.text
    assert ("/api/parallel-approval.html?lang=en", "Which measures expand parallel approval (推动并联化), "
            "including those classified under its points?") in browser.links
    assert client.get("/api").json()[0]["name"] == "agencies-ranked"


# ---------------------------------------------------------------- the /sparql page

def test_the_sparql_page_is_in_the_site_frame_with_our_prefixes_and_no_outside_scripts(client):
    response = client.get("/sparql?lang=zh", headers={"Accept": "text/html"})
    shown = Page(response.text)
    assert "site-header" in response.text and "site-footer" in response.text
    assert shown.scripts and all(src.startswith("/static/") for src in shown.scripts)
    data = json.loads(re.search(r'<script type="application/json" id="query-data">(.*?)</script>',
                                response.text, re.S).group(1))
    assert data["prefixes"]["ftz"] == "https://w3id.org/ftz-kg/def#"
    assert data["prefixes"]["zone"] == "https://w3id.org/ftz-kg/zone/"
    assert "https://w3id.org/ftz-kg/def#PilotFreeTradeZone" in data["classes"]
    assert "https://w3id.org/ftz-kg/def#originatesIn" in data["properties"]
    example = next(e for e in data["examples"] if e["name"] == "parallel-approval")
    assert example["title"] == "哪些举措属于推动并联化（含其下各创新点）？"
    assert not example["query"].startswith("#+")
    assert 'VALUES (?_lang_string) { ("zh") }' in example["query"]
    english = json.loads(re.search(r'id="query-data">(.*?)</script>',
                                   client.get("/sparql?lang=en", headers={"Accept": "text/html"}).text, re.S).group(1))
    assert 'VALUES (?_lang_string) { ("en") }' in next(e["query"] for e in english["examples"]
                                                       if e["name"] == "parallel-approval")
    # every example button is a labelled button, with a form page beside it
    assert ('/api/parallel-approval.html?lang=zh', "表单") in shown.links


# ---------------------------------------------------------------- in a browser, offline

def watch(page) -> list[str]:
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def test_an_example_runs_in_the_same_tab_with_plain_values_and_local_links(server, browser):
    context = browser.new_context()
    page = context.new_page()
    outside = block_all_but(page, server)
    errors = watch(page)
    popups = []
    context.on("page", lambda opened: popups.append(opened.url))
    page.goto(server + "/sparql?lang=zh", wait_until="networkidle")
    page.wait_for_selector(".yasqe", timeout=30_000)
    assert page.locator(".tabPanel").count() == 1
    page.click("[data-example='parallel-approval']")
    page.wait_for_selector("text=企业“套餐式”注销服务模式", timeout=30_000)
    assert page.locator(".tabPanel").count() == 1 and popups == []     # the same tab ran it
    editor = page.evaluate("document.querySelector('.CodeMirror').CodeMirror.getValue()")
    assert editor.startswith("# 哪些举措属于推动并联化") and "推动并联化" in editor
    results = page.inner_text(".yasr_results")
    for name in PARALLEL_APPROVAL:
        assert name in results
    assert "^^" not in results and "@zh" not in results
    hrefs = page.eval_on_selector_all(".yasr_results a", "links => links.map(a => [a.getAttribute('href'), a.target])")
    assert hrefs and all(href.startswith("/") and target in ("", "_self") for href, target in hrefs
                         if "ftz-kg" not in href), hrefs
    assert ["/measure/publication-distribution-joint-licensing", ""] in [list(h) for h in hrefs]
    # a second example replaces the first in the same tab
    page.click("[data-example='agencies-ranked']")
    page.wait_for_selector(".yasr_results >> text=海关总署", timeout=30_000)
    assert page.locator(".tabPanel").count() == 1 and popups == []
    # a result link opens our page here
    page.click(".yasr_results a[href='/agency/gacc']")
    page.wait_for_url(server + "/agency/gacc")
    assert popups == [] and errors == [] and outside == []
    context.close()


def test_the_editor_completes_our_prefixes_without_asking_anyone(server, browser):
    page = browser.new_page()
    outside = block_all_but(page, server)
    errors = watch(page)
    page.goto(server + "/sparql?lang=en", wait_until="networkidle")
    page.wait_for_selector(".yasqe", timeout=30_000)
    page.evaluate("""() => { const cm = document.querySelector('.CodeMirror').CodeMirror;
                             cm.setValue(''); cm.focus(); }""")
    page.keyboard.type("SELECT * WHERE { ?m a measure:")
    page.wait_for_function("document.querySelector('.CodeMirror').CodeMirror.getValue().includes('PREFIX measure:')",
                           timeout=10_000)
    value = page.evaluate("document.querySelector('.CodeMirror').CodeMirror.getValue()")
    assert "PREFIX measure: <https://w3id.org/ftz-kg/measure/>" in value
    assert outside == [] and errors == []
    page.close()


def test_a_canned_query_form_in_a_browser_makes_a_shareable_address(server, browser):
    page = browser.new_page()
    outside = block_all_but(page, server)
    errors = watch(page)
    page.goto(server + "/api/measures-by-approach.html?lang=zh", wait_until="load")
    page.get_by_label("创新方式（或领域、创新点）").select_option("推动并联化")
    page.get_by_role("button", name="运行").click()
    page.wait_for_selector("table.query-table")
    asked = parse_qs(urlsplit(page.url).query)
    assert asked == {"approach": ["推动并联化"], "lang": ["zh"]}
    names = page.eval_on_selector_all("table.query-table a[href^='/measure/']",
                                      "links => links.map(a => a.textContent)")
    assert set(names) == set(PARALLEL_APPROVAL)
    assert outside == [] and errors == []
    page.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_the_query_pages_have_no_serious_accessibility_violation_or_overflow(server, browser, width):
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run scripts/install-test-deps (npm ci --prefix tests/js)")
    found = {}
    for path in ("/sparql?lang=zh", "/sparql?lang=en", "/api/docs?lang=zh", APPROACH_PAGE + "&lang=en",
                 "/api/agencies-ranked.html?lang=zh", "/api/zones-in-batch.html?number=six&lang=zh",
                 "/api/where-stated.html?entity=Sichuan&lang=en"):
        context = browser.new_context(viewport={"width": width, "height": 800})
        page = context.new_page()
        block_all_but(page, server)
        page.goto(server + path, wait_until="networkidle")
        if path.startswith("/sparql"):     # with a result drawn: its table controls count too
            page.click("[data-example='agencies-ranked']")
            page.wait_for_selector(".yasr_results a[href='/agency/gacc']", timeout=30_000)
        page.evaluate(AXE.read_text(encoding="utf-8"))    # through DevTools: the page's CSP stays on
        results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        serious = [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in results["violations"]
                   if v["impact"] in ("critical", "serious")]
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if serious or overflow > 0:
            found[path] = (serious, overflow)
        context.close()
    assert found == {}
