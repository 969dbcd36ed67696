"""Browse pages: sorting and filtering on the server (no JavaScript), answers from the report."""

from __future__ import annotations

import httpx
import pytest

from .server import running_server


@pytest.fixture(scope="module")
def client():
    with running_server() as (base, process):
        with httpx.Client(base_url=base, timeout=60) as http:
            yield http


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
    body = html.split("<table>", 1)[1]
    assert body.index("中国（上海）自由贸易试验区") < body.index("中国（四川）自由贸易试验区") < body.index("中国（北京）自由贸易试验区")


@pytest.mark.parametrize("path", ["/browse/Nope", "/browse/%2E%2E", "/browse/pilotFreeTradeZone"])
def test_unknown_class_is_404(client, path):
    assert client.get(path).status_code == 404
