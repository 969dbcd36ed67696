"""Take the README's screenshots (home page, an entity page, the neighbourhood graph) with
Debian's Chromium through Playwright, from a server started for the purpose.

    python scripts/screenshots.py        # writes docs/home.png, docs/entity.png, docs/graph.png
(install fonts-wqy-zenhei or fonts-noto-cjk first, or Chinese text shows as boxes)
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.server import running_server  # noqa: E402
from tests.test_browser import CHROMIUM, FLAGS  # noqa: E402


def main() -> None:
    docs = ROOT / "docs"
    docs.mkdir(exist_ok=True)
    with running_server() as (base, _), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(base + "/?lang=zh")
        page.screenshot(path=str(docs / "home.png"))
        page.goto(base + "/measure/enterprise-package-deregistration?lang=en")
        page.screenshot(path=str(docs / "entity.png"))
        page.goto(base + "/zone/sichuan?lang=zh")
        page.wait_for_function("() => document.getElementById('graph').dataset.nodes > 1")
        page.evaluate("ftzGraph.cy.getElementById('https://w3id.org/ftz-kg/batch/zones-3').emit('tap')")
        page.wait_for_timeout(1500)
        page.locator("#graph").screenshot(path=str(docs / "graph.png"))
        browser.close()
    print("wrote docs/home.png, docs/entity.png, docs/graph.png")


if __name__ == "__main__":
    main()
