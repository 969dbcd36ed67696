"""The home page's dashboard: its figures computed once per graph and kept.

Counting entities per class, ranking units and summing measures down the taxonomy walk the whole
graph: at 100× the real size, read through the on-disk store, that took 2.6 s on the first visit
to the home page. The figures only change with the graph, so they are computed once (in memory, or
kept in a JSON file under `serve --store-dir` beside the store they come from, so a restart reads
them back) and the page is rendered from them.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

from rdflib import Graph

from ftz_kg.pipeline.rdfio import atomic_write

LANGS = ("zh", "en")
FORMAT = 1
log = logging.getLogger("ftz_kg.dashboard")


def compute(graph: Graph, lang: str) -> dict:
    """What the home page shows, as plain data (JSON-ready)."""
    from ftz_kg.web import chinamap, pages

    def plain(node: dict) -> dict:
        return {"term": node["term"], "n": node["n"], "href": node["href"],
                "children": [plain(child) for child in node["children"]]}

    return {"cards": pages.home_cards(graph, lang), "timeline": pages.establishment_timeline(graph, lang),
            "units": pages.top_units(graph, lang), "taxonomy": [plain(d) for d in pages.taxonomy_tree(graph, lang)],
            "map": chinamap.home_map(graph, lang)}


def file_name(fingerprint: str) -> str:
    return f"dashboard-{fingerprint[:32]}.json"


class Dashboard:
    """The dashboard of one graph, in both languages: computed on first use (or read from `path`),
    then kept."""

    def __init__(self, graph: Graph, path: Path | None = None):
        self.graph = graph
        self.path = path
        self._data: dict[str, dict] = {}
        self._lock = threading.Lock()
        if path is not None:
            self._data = self._read(path)

    @staticmethod
    def _read(path: Path) -> dict[str, dict]:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as error:     # a damaged file is computed afresh, never trusted
            log.warning("%s: unreadable (%s); computing the dashboard again", path, error)
            return {}
        if data.get("format") != FORMAT or not all(lang in data.get("langs", {}) for lang in LANGS):
            return {}
        return data["langs"]

    def get(self, lang: str) -> dict:
        data = self._data.get(lang)
        if data is None:
            with self._lock:      # two first visits at once compute it once
                if lang not in self._data:
                    self.compute_all()
            data = self._data[lang]
        return data

    def compute_all(self) -> None:
        """Compute both languages (and keep them in `path`, written atomically)."""
        langs = {lang: self._data.get(lang) or compute(self.graph, lang) for lang in LANGS}
        self._data = langs
        if self.path is not None:
            try:
                body = json.dumps({"format": FORMAT, "langs": langs}, ensure_ascii=False).encode("utf-8")
                atomic_write(self.path, body)
            except OSError as error:    # a read-only directory: the dashboard still works from memory
                log.warning("%s: cannot keep the dashboard (%s)", self.path, error)
                return
            for other in self.path.parent.glob("dashboard-*.json"):   # those of graphs no longer served
                if other != self.path:
                    other.unlink(missing_ok=True)

    @property
    def ready(self) -> bool:
        return all(lang in self._data for lang in LANGS)
