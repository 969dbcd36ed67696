#!/usr/bin/env python3
"""Retake the screenshots in docs/: each page at a desktop size (1280 px, Chinese) and a phone size
(390 px, English), from a server started on the embedded store, in Debian's chromium with every
request to another host blocked.

    python scripts/screenshots.py     # writes docs/home.png, docs/home-phone.png, docs/entity.png …
(install fonts-wqy-zenhei or fonts-noto-cjk first, or Chinese text shows as boxes)
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.server import running_server  # noqa: E402
from tests.test_browser import CHROMIUM, FLAGS, block_all_but  # noqa: E402

# (file name, path, what to do before the picture, whole page or the first screen)
SHOTS = [
    ("home", "/", None, True),
    ("entity", "/zone/sichuan", None, False),
    ("measure", "/measure/enterprise-package-deregistration", None, False),
    ("explore", "/explore?zone=sichuan", None, False),
    ("compare", "/compare?zone=sichuan&zone=chongqing", None, False),
    ("query", "/api/measures-by-approach.html?approach=%E6%8E%A8%E5%8A%A8%E5%B9%B6%E8%81%94%E5%8C%96", None, False),
    ("graph", "/zone/tianjin", "graph", False),
]
SIZES = {"": ("zh", {"width": 1280, "height": 900}), "-phone": ("en", {"width": 390, "height": 844})}


def main() -> int:
    out = ROOT / "docs"
    with running_server() as (base, _), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        for name, path, action, whole in SHOTS:
            for suffix, (lang, viewport) in SIZES.items():
                page = browser.new_page(viewport=viewport, device_scale_factor=1)
                block_all_but(page, base)
                page.goto(base + path + ("&" if "?" in path else "?") + f"lang={lang}", wait_until="networkidle")
                if action == "graph":
                    page.locator("#graph").scroll_into_view_if_needed()
                    page.wait_for_timeout(1500)
                    page.locator("figure:has(#graph)").screenshot(path=str(out / f"{name}{suffix}.png"))
                else:
                    # the whole page at desktop size where asked; a phone shows its first screen
                    page.screenshot(path=str(out / f"{name}{suffix}.png"), full_page=whole and not suffix)
                page.close()
                print(f"docs/{name}{suffix}.png")
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
