"""The analyst's tasks of issue 19, walked through the pages by clicking, in Debian's chromium with
every request to another host blocked. Expected answers are the report's."""

from __future__ import annotations

import pytest

from .test_browser import block_all_but

# 部分创新举措表 1 rows 1-6 (lines 1846-1881): the measures of 推动并联化
PARALLEL = {"企业“套餐式”注销服务模式", "出版物发行业务许可与网络发行备案联办制度", "电力工程审批绿色通道",
            "证照“一口受理、并联办理”审批服务模式"}
SICHUAN_MEASURES = 14        # the measures the graph credits to 四川 (graph/measures/*.csv, checked by hand)


@pytest.fixture()
def page(server, browser):
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.outside = block_all_but(page, server)
    page.errors = []
    page.on("console", lambda message: message.type == "error" and page.errors.append(message.text))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield page
    assert page.outside == [] and page.errors == []
    context.close()


def test_which_measures_expand_parallel_approval(server, page):
    page.goto(server + "/?lang=zh")
    page.click("nav a:has-text('探索举措')")
    page.click("a.facet-value:has-text('推动并联化')")
    names = set(page.locator("table.explore-table td.name > a").all_inner_texts())
    assert len(names) == 6 and PARALLEL <= names


def test_which_unit_is_responsible_for_the_most_experiences(server, page):
    page.goto(server + "/?lang=zh")
    first = page.locator("#h-units ~ figure .bar-row").first
    assert first.locator(".bar-value").inner_text() == "9"
    first.locator("a").click()
    page.wait_for_url("**/agency/gacc**")
    assert page.inner_text("h1") == "海关总署"


def test_all_sichuan_measures_sorted_and_filtered_then_downloaded_and_switched_to_english(server, page, tmp_path):
    page.goto(server + "/explore?lang=zh")
    page.click("a.facet-value:has-text('四川自贸试验区')")
    assert page.locator("table.explore-table tbody tr").count() == SICHUAN_MEASURES
    page.click("nav.explore-sorts a:has-text('报告出处数')")
    assert "zone=sichuan" in page.url and "sort=places" in page.url
    assert page.locator("table.explore-table tbody tr").count() == SICHUAN_MEASURES
    places = [int(n) for n in page.locator("table.explore-table td.num").all_inner_texts()]
    assert places == sorted(places, reverse=True)
    with page.expect_download() as download:
        page.click("p.explore-downloads a:has-text('CSV')")
    path = tmp_path / "view.csv"
    download.value.save_as(path)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and len(data.decode("utf-8-sig").strip().splitlines()) == 1 + SICHUAN_MEASURES
    page.click("#lang-switch")
    assert "zone=sichuan" in page.url and "lang=en" in page.url
    assert page.locator("table.explore-table tbody tr").count() == SICHUAN_MEASURES
    assert "Explore innovation measures" in page.inner_text("h1")


def test_the_map_leads_to_a_zone(server, page):
    page.goto(server + "/?lang=zh")
    page.click("figure.china-map a[data-region='sichuan']")
    page.wait_for_url("**/zone/sichuan**")
    assert page.inner_text("h1") == "中国（四川）自由贸易试验区"


def test_a_canned_query_asked_with_its_form(server, page):
    page.goto(server + "/?lang=zh")
    page.click("nav a:has-text('示例查询')")
    page.click("a[href^='/api/measures-by-approach.html']")
    page.select_option("form.query-form select", label="推动并联化")
    page.click("form.query-form button[type=submit]")
    page.wait_for_url("**/api/measures-by-approach.html?**")
    body = page.inner_text("main")
    assert all(name in body for name in PARALLEL)
    assert page.locator("form.query-form select option:checked").inner_text().strip() == "推动并联化"


def test_the_graph_of_a_zone_grows_from_its_list(server, page):
    page.goto(server + "/zone/tianjin?lang=zh")
    page.locator("#graph-section").scroll_into_view_if_needed()
    page.wait_for_function("() => Number(document.getElementById('graph').dataset.nodes || 0) > 1", timeout=30_000)
    before = page.evaluate("ftzGraph.cy.nodes().length")
    # the second batch (2015) adds 广东 and 福建
    page.click("#graph-list button.graph-expand[data-iri='https://w3id.org/ftz-kg/batch/zones-2']")
    page.wait_for_function(f"() => ftzGraph.cy.nodes().length > {before}", timeout=30_000)
    labels = page.evaluate("ftzGraph.cy.nodes().map(n => n.data('label'))")
    assert any("广东" in text for text in labels) and any("福建" in text for text in labels)
