"""The site shell every page shares (navigation, search, language, footer) and the home dashboard,
checked over HTTP against a running server; expected numbers are the report's."""

from __future__ import annotations

import gzip
import re

import httpx
import pytest

from ftz_kg import RELEASE_DATE, __version__
from ftz_kg.web.catalogue import strings

from .server import running_server


@pytest.fixture(scope="module")
def client():
    with running_server() as (base, process):
        with httpx.Client(base_url=base, timeout=60) as http:
            yield http


PAGES = ["/", "/zone/sichuan", "/measure/enterprise-package-deregistration", "/browse", "/browse/SubArea",
         "/search?q=%E6%B5%B7%E5%85%B3", "/def", "/no/such/page"]


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_has_the_shell(client, path, lang):
    html = client.get(path, params={"lang": lang}, headers={"Accept": "text/html"}).text
    ui = strings()[lang]
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert '<meta name="description" content="' in html
    assert f'<nav aria-label="{ui["nav_label"]}">' in html
    for key in ("nav_home", "nav_explore", "nav_compare", "nav_browse", "nav_queries"):
        assert f">{ui[key]}</a>" in html
    assert f'<label for="site-q" class="visually-hidden">{ui["search"]}</label>' in html
    assert 'id="lang-switch"' in html and '<link rel="icon" href="/favicon.ico"' in html
    footer = html.split('<footer id="site-footer">', 1)[1]
    assert "CC BY 4.0" in footer and __version__ in footer and RELEASE_DATE in footer
    assert ("引用" if lang == "zh" else "Cite as") in footer


def test_the_language_switch_keeps_the_query(client):
    html = client.get("/search", params={"q": "海关 监管", "lang": "zh"}).text
    switch = re.search(r'<a href="([^"]+)" id="lang-switch"', html)[1]
    assert switch == "/search?q=%E6%B5%B7%E5%85%B3+%E7%9B%91%E7%AE%A1&amp;lang=en"
    html = client.get("/browse/ReplicableExperience", params={"responsibleUnit": "/agency/mohrss", "sort": "name",
                                                              "lang": "en"}).text
    switch = re.search(r'<a href="([^"]+)" id="lang-switch"', html)[1]
    assert "responsibleUnit=%2Fagency%2Fmohrss" in switch and "sort=name" in switch and switch.endswith("lang=zh")


def test_the_language_comes_from_the_cookie_then_the_browser(client):
    ui = strings()
    fresh = httpx.Client(base_url=str(client.base_url), timeout=60)
    assert f'>{ui["en"]["nav_home"]}</a>' in fresh.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"}).text
    assert f'>{ui["zh"]["nav_home"]}</a>' in fresh.get("/", headers={"Accept-Language": "zh-CN"}).text
    fresh.get("/", params={"lang": "en"})         # remembered in a cookie
    assert f'>{ui["en"]["nav_home"]}</a>' in fresh.get("/browse", headers={"Accept-Language": "zh-CN"}).text
    fresh.close()


def test_the_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.headers["content-type"] == "image/x-icon"
    assert response.content[:4] == b"\x00\x00\x01\x00"        # an ICO header
    assert client.get("/static/favicon.svg").text.startswith("<svg")


def test_static_files_are_compressed_and_cached(client):
    response = client.get("/static/yasgui/yasgui.min.js", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response.headers["content-encoding"] == "gzip"
    assert "max-age=" in response.headers["cache-control"] and "Accept-Encoding" in response.headers["vary"]
    raw = client.get("/static/yasgui/yasgui.min.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in raw.headers
    assert int(response.headers["content-length"]) < int(raw.headers["content-length"]) / 2
    # a URL with the release's version is cached for a year; an unchanged file revalidates to 304
    versioned = client.get("/static/site.css", params={"v": __version__})
    assert "immutable" in versioned.headers["cache-control"]
    again = client.get("/static/site.css", headers={"If-None-Match": versioned.headers["etag"]})
    assert again.status_code == 304
    assert client.get("/static/../pyproject.toml").status_code == 404


def test_the_home_dashboard(client):
    html = client.get("/", params={"lang": "zh"}).text
    cards = dict((label, int(n)) for n, label in re.findall(r'<span class="n">(\d+)</span>([^<]+)</a>', html))
    # 21 zones and 67 sub-areas (Preface), 37 experiences (Annex ①)
    assert cards["自贸试验区"] == 21 and cards["片区"] == 67 and cards["2020 年复制推广的改革试点经验"] == 37
    assert 'href="/explore?lang=zh"' in html and 'href="/browse/PilotFreeTradeZone?lang=zh"' in html
    timeline = html.split('<ol class="timeline">', 1)[1].split("</ol>", 1)[0]
    assert re.findall(r'<time datetime="(\d{4})">', timeline) == ["2013", "2015", "2017", "2018", "2019", "2020"]
    assert timeline.index("中国（上海）自由贸易试验区") < timeline.index("中国（海南）自由贸易试验区") \
        < timeline.index("中国（北京）自由贸易试验区")
    # 海关总署 is named for 9 of the 37 experiences (附表2 rows 2-6, 9, 10; 附表4 row 3; 附表5 row 5)
    units = html.split('class="chart"', 1)[1].split("</figure>", 1)[0]
    first = re.search(r'<a class="bar-label" href="([^"?]+)[^"]*">([^<]+)</a>.*?<span class="bar-value">(\d+)</span>',
                      units, re.S)
    assert first.groups() == ("/agency/gacc", "海关总署", "9")
    assert 'aria-label="图表' in units
    # the taxonomy tree: 推动并联化 has the six parallel-approval measures of table 1 rows 1-6
    assert re.search(r">推动并联化(?:</a>)? <span class=\"count\">\(6\)</span>", html)


def test_search_groups_by_type_and_highlights(client):
    html = client.get("/search", params={"q": "并联", "lang": "zh"}).text
    groups = re.findall(r'<section class="hits-group"><h2>([^<]+) <span', html)
    assert "制度创新举措" in groups and len(groups) == len(set(groups)) >= 2
    assert "<mark>并联</mark>" in html
    # several words are all required: 出版物 and 备案 together find table 1 row 2
    html = client.get("/search", params={"q": "出版物 备案", "lang": "zh"}).text
    assert "出版物发行业务许可与网络发行<mark>备案</mark>联办制度".replace("出版物", "<mark>出版物</mark>") in html
    assert "电力工程审批绿色通道" not in html.split("</h1>", 1)[1].split("<footer", 1)[0]


def test_a_hostile_search_is_escaped_everywhere(client):
    hostile = '"><script>alert(1)</script>'
    html = client.get("/search", params={"q": hostile}).text
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html


def test_pages_are_compressed_when_asked(client):
    response = client.get("/", params={"lang": "en"}, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and "Pilot free trade zones" in response.text
    assert response.headers["content-encoding"] == "gzip" and "Accept-Encoding" in response.headers["vary"]


def test_the_string_catalogue_has_each_key_once_in_both_languages():
    from collections import Counter
    from ftz_kg.web.catalogue import CATALOGUE
    keys = re.findall(r"^([A-Za-z0-9_]+):", CATALOGUE.read_text(encoding="utf-8"), re.M)
    assert [k for k, n in Counter(keys).items() if n > 1] == []     # YAML would silently keep the last
    assert set(strings()["zh"]) == set(strings()["en"]) == set(keys)


def test_a_catalogue_string_without_one_language_is_an_error_naming_it(tmp_path, monkeypatch):
    from ftz_kg.web import catalogue
    bad = tmp_path / "strings.yaml"
    bad.write_text('home: {zh: "首页", en: "Home"}\nnav_x: {zh: "只有中文"}\n', encoding="utf-8")
    monkeypatch.setattr(catalogue, "CATALOGUE", bad)
    catalogue.strings.cache_clear()
    try:
        with pytest.raises(ValueError, match="strings.yaml: string 'nav_x' has no 'en' text"):
            catalogue.strings()
    finally:
        catalogue.strings.cache_clear()
