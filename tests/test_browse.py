"""Browse pages: sorting and filtering on the server (no JavaScript), answers from the report."""

from __future__ import annotations

import pytest



def test_experiences_filtered_by_scope(client):
    # 附表1 rows 10-11 and 附表2 row 8: rolled out within the pilot free trade zones
    html = client.get("/browse/ReplicableExperience", params={"rolloutScope": "/scope/all-ftzs"}).text
    for name in ("建设项目水、电、气、暖现场一次联办模式", "股权转让登记远程确认服务", "野生动植物进出口行政许可审批事项改革"):
        assert name in html
    assert "空铁联运一单制货物运输模式" not in html


def test_experiences_filtered_by_agency(client):
    # 人力资源和社会保障部: 附表5 rows 2 and 3
    html = client.get("/browse/ReplicableExperience", params={"responsibleUnit": "/agency/mohrss"}).text
    assert "直接采认台湾地区部分技能人员职业资格" in html and "航空维修产业职称评审" in html
    assert "领事业务“一网通办”" not in html


def test_zones_sorted_by_batch(client):
    html = client.get("/browse/PilotFreeTradeZone", params={"sort": "establishedInBatch", "lang": "zh"}).text
    body = html.split("<table", 1)[1]
    assert body.index("中国（上海）自由贸易试验区") < body.index("中国（四川）自由贸易试验区") < body.index("中国（北京）自由贸易试验区")


def test_a_second_click_sorts_descending_and_the_filter_survives_sorting(client):
    # the 2020 zones (北京、湖南、安徽) come first when the batch column is sorted descending
    html = client.get("/browse/PilotFreeTradeZone", params={"sort": "-establishedInBatch", "lang": "zh"}).text
    body = html.split("<tbody>", 1)[1]
    assert body.index("中国（北京）自由贸易试验区") < body.index("中国（四川）自由贸易试验区") < body.index("中国（上海）自由贸易试验区")
    # sorting a filtered table keeps the filter in every column's link, and the form keeps the sort
    html = client.get("/browse/ReplicableExperience", params={"responsibleUnit": "/agency/mohrss", "sort": "name",
                                                              "lang": "zh"}).text
    head = html.split("<thead>", 1)[1].split("</thead>", 1)[0]
    assert head.count("responsibleUnit=%2Fagency%2Fmohrss") == head.count("<th")
    assert '<input type="hidden" name="sort" value="-name">' not in html
    assert "aria-sort=\"ascending\"" in html


def test_linked_cells_are_links(client):
    html = client.get("/browse/PilotFreeTradeZone", params={"lang": "zh"}).text
    row = html.split("中国（四川）自由贸易试验区", 1)[1].split("</tr>", 1)[0]
    assert '<a href="/province/sichuan">四川省</a>' in row and '<a href="/batch/zones-3">' in row


def test_download_this_table_as_csv_with_labels_and_a_byte_order_mark(client):
    response = client.get("/browse/ReplicableExperience.csv", params={"responsibleUnit": "/agency/mohrss", "lang": "zh"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    text = response.content.decode("utf-8-sig")
    header, *rows = text.splitlines()
    assert header.startswith("名称,IRI,") and "负责单位" in header and "ftz:" not in header
    # 附表5 rows 2 and 3: the two experiences of 人力资源和社会保障部
    assert len(rows) == 2
    assert any(r.startswith("直接采认台湾地区部分技能人员职业资格,https://w3id.org/ftz-kg/") for r in rows)
    assert all("人力资源和社会保障部" in r and "/agency/" not in r for r in rows)


def test_an_unknown_filter_or_sort_is_a_400_naming_it(client):
    response = client.get("/browse/PilotFreeTradeZone", params={"colour": "red"})
    assert response.status_code == 400 and "colour" in response.text
    response = client.get("/browse/PilotFreeTradeZone", params={"sort": "<b>x</b>"})
    assert response.status_code == 400 and "&lt;b&gt;x&lt;/b&gt;" in response.text and "<b>x</b>" not in response.text


def test_the_browse_index_counts_each_class(client):
    html = client.get("/browse", params={"lang": "en"}).text
    assert '<span class="n">21</span>' in html and '<span class="n">37</span>' in html   # zones, experiences


@pytest.mark.parametrize("path", ["/browse/Nope", "/browse/%2E%2E", "/browse/pilotFreeTradeZone"])
def test_unknown_class_is_404(client, path):
    assert client.get(path).status_code == 404
