"""The faceted explorer (/explore, /explore/experiences) over real HTTP and in a browser.

Expected answers are counted by hand in the curated CSVs (graph/measures/*.csv, graph/experiences.csv)
and checked against the report, never computed by the explorer's own code."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest

from ftz_kg.web import explorer

from .test_browser import block_all_but

# the zone column of graph/measures/*.csv holds `sichuan` in 14 rows (part1-strategies 3, part1-initiatives-a 5,
# part1-initiatives-b 1, part2-differentiated-tasks 1, annex1 4)
SICHUAN_MEASURES = {
    "sichuan-guangxi-capacity-cooperation-park", "departure-port-dry-port-policy-linkage",
    "sichuan-chongqing-collaborative-opening-zone", "chengdu-regulation-clean-up", "remote-ip-legal-services",
    "contactless-online-case-handling", "sichuan-multimodal-single-document-reform",
    "sichuan-china-europe-e-document-dual-chain", "china-europe-railway-freight-segmented-valuation",
    "enterprise-package-deregistration", "chilled-seafood-two-stage-access", "air-rail-single-document",
    "bank-government-distributed-sharing", "ftz-linkage-innovation-zones"}
# 部分创新举措表 1 rows 1-6, the measures under 推动并联化 (report lines 1846-1881)
PARALLEL_APPROVAL = {
    "publication-distribution-joint-licensing": "出版物发行业务许可与网络发行备案联办制度",
    "enterprise-package-deregistration": "企业“套餐式”注销服务模式",
    "one-industry-one-permit-licensing": "市场准入“一业一证”行业综合许可制度",
    "power-project-approval-green-channel": "电力工程审批绿色通道",
    "construction-utilities-one-visit": "建设项目水、电、气、暖现场一次联办模式",
    "licence-single-window-parallel-approval": "证照“一口受理、并联办理”审批服务模式"}


def listed(html: str) -> list[str]:
    """The measure or experience ids in the results table, in order."""
    return re.findall(r'<td class="name"><a href="/measure/([a-z0-9-]+)"', html)


def test_zone_filter_gives_exactly_the_sichuan_measures(client):
    response = client.get("/explore", params={"zone": "sichuan", "lang": "zh"})
    assert response.status_code == 200
    assert set(listed(response.text)) == SICHUAN_MEASURES and len(listed(response.text)) == 14
    assert "共 266 项，当前选中 14 项" in response.text
    # the active filter is shown with a link that removes it
    assert "四川自贸试验区" in response.text and 'href="/explore?lang=zh"' in response.text


def test_the_parallel_processing_approach_gives_the_six_parallel_approval_measures(client):
    html = client.get("/explore", params={"innovation": "parallel-processing", "lang": "zh"}).text
    assert set(listed(html)) == set(PARALLEL_APPROVAL)
    for name in PARALLEL_APPROVAL.values():
        assert name in html
    # the tree: its domain above it, its four points below it (3 + 1 + 1 + 1 measures)
    assert "投资自由化便利化" in html and "扩大并联审批的部门范围" in html


def test_the_domain_counts_the_measures_of_its_approaches_and_points(client):
    html = client.get("/explore", params={"lang": "zh"}).text
    facet = html[html.index('data-facet="innovation"'):html.index('data-facet="zone"')]
    # 推动并联化 (6) is one approach of 投资自由化便利化, whose table 1 lists 18 rows
    assert re.search(r"推动并联化</span> <span class=\"n\">6</span>", facet)
    assert re.search(r"投资自由化便利化</span> <span class=\"n\">18</span>", facet)


def test_sorting_keeps_the_filter_and_filters_keep_the_sort(client):
    html = client.get("/explore", params={"zone": "sichuan", "sort": "places", "lang": "zh"}).text
    rows = listed(html)
    assert set(rows) == SICHUAN_MEASURES
    # four places each: annex item, Part 1 §六 (一), Part 2 table row and section
    assert set(rows[:2]) == {"enterprise-package-deregistration", "chilled-seafood-two-stage-access"}
    sort_links = re.findall(r'href="(/explore\?[^"]*sort=(?:name|zone)[^"]*)"', html)
    assert sort_links and all("zone=sichuan" in link for link in sort_links)
    # a facet value's link adds its filter and keeps the sort
    chongqing = re.search(r'href="(/explore\?[^"]*zone=chongqing[^"]*)"', html).group(1)
    assert "zone=sichuan" in chongqing and "sort=places" in chongqing
    narrowed = client.get(chongqing.replace("&amp;", "&")).text
    # both zones: the four Sichuan rows whose zone column also names chongqing
    assert set(listed(narrowed)) == {"sichuan-chongqing-collaborative-opening-zone", "remote-ip-legal-services",
                                     "contactless-online-case-handling", "ftz-linkage-innovation-zones"}


def test_search_matches_every_word_in_names_alt_names_and_descriptions(client):
    # 并联 is in its description (一窗受理、并联审批), 注销 in its name
    html = client.get("/explore", params={"q": "并联 注销", "lang": "zh"}).text
    assert listed(html) == ["enterprise-package-deregistration"]
    # case-insensitive, in English: 数据保险箱 is named "Data safe box", also called (and described as) "digital safe box"
    assert listed(client.get("/explore", params={"q": "DIGITAL safe BOX", "lang": "en"}).text) == ["data-safe-box"]
    assert listed(client.get("/explore", params={"q": "并联 注销 不存在的词"}).text) == []


def test_text_matching_is_one_function():
    assert explorer.text_matches("企业“套餐式”注销服务模式\npackage-style deregistration", "注销 PACKAGE")
    assert not explorer.text_matches("企业“套餐式”注销服务模式", "注销 并联")


def test_experiences_by_agency_alone_or_jointly_and_domain(client):
    html = client.get("/explore/experiences", params={"lang": "zh"}).text
    assert "共 37 项，当前选中 37 项" in html
    agencies = html[html.index('data-facet="agency"'):html.index('data-facet="units"')]
    # 海关总署 (gacc) is named for 9 of the 37 experiences in experiences.csv, more than any other unit
    first = re.search(r'<span class="text">([^<]+)</span> <span class="n">(\d+)</span>', agencies)
    assert first.groups() == ("海关总署", "9")
    # 24 rows of experiences.csv name one unit; 附表1 lists 11 investment experiences
    alone = client.get("/explore/experiences", params={"units": "alone", "lang": "zh"}).text
    assert "当前选中 24 项" in alone
    investment = client.get("/explore/experiences", params={"domain": "investment", "lang": "zh"}).text
    assert "当前选中 11 项" in investment
    samr = client.get("/explore/experiences", params={"agency": "samr", "lang": "zh"}).text
    assert set(listed(samr)) == {"licence-single-window-parallel-approval", "enterprise-package-deregistration",
                                 "equity-transfer-remote-confirmation", "business-credit-repair"}


@pytest.mark.parametrize("query, parameter", [
    ({"zone": "atlantis"}, "zone"), ({"sort": "colour"}, "sort"), ({"view": "3d"}, "view"), ({"page": "0"}, "page"),
    ({"format": "pdf"}, "format"), ({"scope": "nationwide"}, "scope"), ({"innovation": "parallel"}, "innovation")])
def test_bad_parameters_get_a_400_page_naming_them(client, query, parameter):
    response = client.get("/explore", params={**query, "lang": "en"})
    assert response.status_code == 400
    assert "text/html" in response.headers["content-type"]
    assert re.search(rf"parameter:? {parameter}\b", response.text)


def test_unknown_explorer_is_404(client):
    assert client.get("/explore/zones").status_code == 404


def test_chart_view_is_a_figure_with_the_numbers_as_text(client):
    html = client.get("/explore", params={"zone": "sichuan", "view": "chart", "lang": "zh"}).text
    figures = re.findall(r'<figure class="explore-chart" aria-label="([^"]+)">(.*?)</figure>', html, re.S)
    assert len(figures) == 2 and all("图表" in label for label, _ in figures)
    by_zone = next(body for label, body in figures if "自贸试验区" in label)
    assert re.search(r'四川自贸试验区</a></th><td><span class="bar"[^>]*></span><span class="bar-value">14<', by_zone)
    # the four Sichuan measures also credited to Chongqing
    assert re.search(r'重庆自贸试验区</a></th><td><span class="bar"[^>]*></span><span class="bar-value">4<', by_zone)
    # the view survives the filters' links
    assert 'view=chart' in re.search(r'href="(/explore\?[^"]*zone=chongqing[^"]*)"', html).group(1)


def test_map_view_names_itself_a_map(client):
    html = client.get("/explore", params={"zone": "sichuan", "view": "map", "lang": "zh"}).text
    assert re.search(r'<figure[^>]*aria-label="[^"]*地图', html)
    assert "四川自贸试验区" in html or "中国（四川）自由贸易试验区" in html


def test_csv_download_has_a_bom_label_headers_and_the_selection(client):
    response = client.get("/explore", params={"zone": "sichuan", "format": "csv", "lang": "zh"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith("attachment")
    assert response.content.startswith("\ufeff".encode("utf-8"))
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert header[:2] == ["中文名称", "英文名称"] and "自贸试验区" in header and "报告出处" in header
    assert len(body) == 14
    zone = header.index("自贸试验区")
    deregistration = next(r for r in body if r[0] == "企业“套餐式”注销服务模式")
    assert deregistration[zone] == "中国（四川）自由贸易试验区"
    # labels, not IRIs: only the last column (the item's own IRI) holds one
    assert header[-1] == "IRI"
    assert not any("w3id.org" in value for row in body for value in row[:-1])
    english = client.get("/explore", params={"zone": "sichuan", "format": "csv", "lang": "en"})
    assert english.content.decode("utf-8-sig").startswith("Name (Chinese),Name (English)")


def test_xlsx_download_opens_with_the_names(client):
    response = client.get("/explore", params={"innovation": "parallel-processing", "format": "xlsx", "lang": "zh"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert response.headers["content-disposition"].startswith("attachment")
    with zipfile.ZipFile(io.BytesIO(response.content)) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode("utf-8")
        shared = book.read("xl/sharedStrings.xml").decode("utf-8")
    # header row and six rows
    assert '<row r="7"' in sheet and '<row r="8"' not in sheet
    for name in PARALLEL_APPROVAL.values():
        assert name in shared
    assert "中文名称" in shared


def test_the_page_cache_key_has_every_parameter(client):
    # same language, different filters: two different pages (a key without the filters would mix them)
    a = client.get("/explore", params={"zone": "sichuan", "lang": "zh"}).text
    b = client.get("/explore", params={"zone": "hunan", "lang": "zh"}).text
    assert listed(a) != listed(b) and "当前选中 14 项" not in b


def test_facet_data_is_computed_once_per_graph(graph):
    first = explorer.index_of(graph, "measures")
    assert explorer.index_of(graph, "measures") is first
    assert len(first.items) == 266   # the data rows of graph/measures/*.csv (278 lines less 12 headers)


def test_phone_width_no_overflow_and_a_facet_click_narrows_the_list(server, browser):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    outside = block_all_but(page, server)
    page.goto(server + "/explore?lang=zh")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.locator("td.name").count() == 50     # the first page of 266
    page.locator("[data-facet=zone] a.facet-value", has_text="四川自贸试验区").click()
    page.wait_for_url("**zone=sichuan**")
    assert page.locator("td.name").count() == 14
    assert "当前选中 14 项" in page.inner_text("body")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # sort, then the filter is still there
    page.locator(".explore-sorts a", has_text="报告出处数").click()
    page.wait_for_url("**sort=places**")
    assert "zone=sichuan" in page.url and page.locator("td.name").count() == 14
    for view in ("图表", "地图"):
        page.locator(".explore-views a", has_text=view).click()
        page.wait_for_load_state()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, view
    assert not any(url.startswith(server) for url in outside)
    page.close()
