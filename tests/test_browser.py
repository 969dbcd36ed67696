"""The query UI in a real browser: headless Chromium (Debian's) driven by Playwright, with every
request to anything but our own server blocked, so the page must work offline."""

from __future__ import annotations

import shutil

import pytest

from .server import running_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def server():
    with running_server("--workers", "2") as (base, process):
        yield base


def block_all_but(page, server: str) -> list[str]:
    """Abort every request that is not for our server; the list records what was blocked."""
    blocked = []

    def only_our_server(route):
        if route.request.url.startswith(server):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.route("**/*", only_our_server)
    return blocked


def test_yasgui_runs_a_canned_example_offline(server, browser):
    page = browser.new_page()
    outside = block_all_but(page, server)
    page.goto(server + "/sparql?lang=zh")      # the examples answer in the page's language
    page.wait_for_selector(".yasqe", timeout=30_000)
    button = page.locator("[data-example='parallel-approval']")
    assert "推动并联化" in button.inner_text()
    button.click()
    # 部分创新举措表 1 rows 1-6: the six parallel-approval measures (lines 1846-1881)
    page.wait_for_selector("text=企业“套餐式”注销服务模式", timeout=30_000)
    body = page.inner_text("body")
    for name in ("出版物发行业务许可与网络发行备案联办制度", "电力工程审批绿色通道", "证照“一口受理、并联办理”审批服务模式"):
        assert name in body
    assert not any(url.startswith(server) for url in outside)
    page.close()


def test_browsing_search_entity_zone_agency_language_graph_and_download(server, browser, tmp_path):
    page = browser.new_page(accept_downloads=True)
    outside = block_all_but(page, server)
    page.goto(server + "/?lang=zh")
    page.type("#site-q", "并联")       # search as you type: a combobox's options appear under the box
    page.wait_for_selector("#site-q-suggestions [role=option]:has-text('推动并联化')", timeout=30_000)
    assert page.get_attribute("#site-q", "aria-expanded") == "true"
    page.keyboard.press("ArrowDown")     # the keyboard moves through the options
    assert page.get_attribute("#site-q", "aria-activedescendant") == "site-q-option-0"
    page.keyboard.press("Escape")
    assert page.get_attribute("#site-q", "aria-expanded") == "false"
    page.click("form[action='/search'] button")
    page.wait_for_url("**/search?**")
    # 证照“一口受理、并联办理”审批服务模式: table 1 row 6 (Tianjin), annex table 1 item 7 (市场监管总局)
    page.click("text=证照“一口受理、并联办理”审批服务模式")
    page.wait_for_url("**/measure/licence-single-window-parallel-approval**")
    assert "扩大并联审批的部门范围" in page.inner_text("body")
    page.click("a[href='/agency/samr']")
    page.wait_for_url("**/agency/samr**")
    assert "国家市场监督管理总局" in page.inner_text("h1")
    page.go_back()
    page.click("a[href='/zone/tianjin']")
    page.wait_for_url("**/zone/tianjin**")
    assert page.inner_text("h1") == "中国（天津）自由贸易试验区"
    page.click("#lang-switch")
    page.wait_for_url("**lang=en")
    assert page.inner_text("h1") == "China (Tianjin) Pilot Free Trade Zone"
    page.goto(server + "/zone/tianjin")          # the choice is remembered
    assert page.inner_text("h1") == "China (Tianjin) Pilot Free Trade Zone"
    page.click("#lang-switch")
    assert page.inner_text("h1") == "中国（天津）自由贸易试验区"
    # the neighbourhood graph: the zone and its neighbours; expanding its batch (the second, 2015) adds 广东, 福建
    page.locator("#graph-section").scroll_into_view_if_needed()
    page.wait_for_function("() => document.getElementById('graph').dataset.nodes > 1", timeout=30_000)
    before = int(page.get_attribute("#graph", "data-nodes"))
    page.click("#graph-list button.graph-expand[data-iri='https://w3id.org/ftz-kg/batch/zones-2']")
    page.wait_for_function(f"() => document.getElementById('graph').dataset.nodes > {before}", timeout=30_000)
    page.goto(server + "/")
    with page.expect_download() as download:
        page.click("a[href='/dumps/ftz-kg.ttl']")
    path = tmp_path / "dump.ttl"
    download.value.save_as(path)
    assert "中国（天津）自由贸易试验区" in path.read_text(encoding="utf-8")
    assert not any(url.startswith(server) for url in outside)
    page.close()


def test_a_value_marker_opens_on_its_places_and_quotes(server, browser):
    # “一码集成”涉企检查新模式 is Hunan's (prose 2787, table 4 row 6 at 2961-2962); the figure says Hainan (C1)
    page = browser.new_page()
    outside = block_all_but(page, server)
    page.goto(server + "/measure/single-code-enterprise-inspection?lang=zh")
    marker = page.locator("td:has(a[href='/zone/hunan']) details.cite")
    quote = marker.locator("q").first
    assert not quote.is_visible()                       # closed until asked
    assert "行 2961–2962" in marker.locator("summary").get_attribute("title")    # the tooltip
    marker.locator("summary").click()
    assert quote.is_visible() and "湖南自贸试验区" in quote.inner_text()
    assert "报告表述不一致" in marker.inner_text()
    marker.locator("a[href='/conflict/c1']").click()
    page.wait_for_url("**/conflict/c1")
    assert "海南" in page.inner_text("body") and "湖南" in page.inner_text("body")
    assert not any(url.startswith(server) for url in outside)
    page.close()
