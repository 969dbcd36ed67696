"""The home page's dashboard, computed once per graph and kept beside the store (issue 21, item 4)."""

from __future__ import annotations

import json

import pytest
from rdflib import Graph

from ftz_kg.web.dashboard import Dashboard, file_name


class UntouchableGraph(Graph):
    """A graph that fails the test if anything reads it: the dashboard must come from the file."""

    def triples(self, *args, **kwargs):
        raise AssertionError("the dashboard read the graph instead of its kept figures")


def card(data: dict, href: str) -> int:
    return next(c["n"] for c in data["cards"] if c["href"] == href)


def test_the_figures_are_the_reports(graph):
    zh = Dashboard(graph).get("zh")
    # Part 1 §一: 21 pilot FTZs; the State Council plans: 67 sub-areas; Annex ①: 37 experiences
    assert card(zh, "/browse/PilotFreeTradeZone") == 21
    assert card(zh, "/browse/SubArea") == 67
    assert card(zh, "/explore/experiences") == 37
    # Annex ① 负责单位: 海关总署 is named for 9 experiences, the most
    assert (zh["units"][0]["term"]["text"], zh["units"][0]["n"]) == ("海关总署", 9)
    # six establishment batches, 2013 to 2020
    assert [row["year"] for row in zh["timeline"]] == ["2013", "2015", "2017", "2018", "2019", "2020"]


def test_kept_in_a_file_and_read_back_without_the_graph(graph, tmp_path):
    path = tmp_path / file_name("0" * 64)
    first = Dashboard(graph, path)
    assert not path.exists()
    english = first.get("en")
    assert path.exists() and set(json.loads(path.read_text(encoding="utf-8"))["langs"]) == {"zh", "en"}
    again = Dashboard(UntouchableGraph(), path)
    assert again.ready
    assert again.get("en") == english
    assert again.get("zh")["units"][0]["term"]["text"] == "海关总署"


@pytest.mark.parametrize("content", ["{not json", json.dumps({"format": 0, "langs": {}}),
                                     json.dumps({"format": 1, "langs": {"zh": {}}})])
def test_a_damaged_or_older_file_is_computed_again(graph, tmp_path, content):
    path = tmp_path / "dashboard.json"
    path.write_text(content, encoding="utf-8")
    dashboard = Dashboard(graph, path)
    assert not dashboard.ready
    assert card(dashboard.get("en"), "/browse/PilotFreeTradeZone") == 21
    assert json.loads(path.read_text(encoding="utf-8"))["format"] == 1    # replaced by a good one


def test_an_unwritable_place_still_serves_from_memory(graph, tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("", encoding="utf-8")
    dashboard = Dashboard(graph, blocked / "dashboard.json")      # its directory is a file
    assert card(dashboard.get("zh"), "/browse/SubArea") == 67
