"""The pages as a person meets them, measured in Debian's chromium (Playwright, network blocked but
for our server): axe-core finds no critical or serious violation, nothing overflows horizontally,
and the page logs no console error and asks our server for nothing it does not have.

Each page is visited once per language and window size; the three checks below read that visit,
so every page × language × size is its own test id for each check. axe-core comes from npm
(`tests/js`, installed by scripts/install-test-deps)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from .test_browser import CHROMIUM, FLAGS

AXE = Path(__file__).parent / "js" / "node_modules" / "axe-core" / "axe.min.js"

# the pages issue 19 names: home, a zone, a measure, the faceted explorer, search and /sparql
PAGES = {
    "home": "/",
    "zone": "/zone/sichuan",
    "measure": "/measure/single-code-enterprise-inspection",
    "explore": "/explore",
    "search": "/search?q=海关",
    "sparql": "/sparql",
}
LANGUAGES = ("zh", "en")
# a desktop window and a phone (390 × 844 CSS px, as an iPhone 12–15: mobile viewport, touch, 3× pixels)
SIZES = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
              "device_scale_factor": 3},
}
SERIOUS = ("critical", "serious")

CASES = [pytest.param(page, lang, size, id=f"{page}-{lang}-{size}")
         for page in PAGES for lang in LANGUAGES for size in SIZES]


@dataclass
class Visit:
    url: str
    status: int | None = None
    violations: list[dict] = field(default_factory=list)   # axe-core results, every impact
    rules_passed: int = 0                                   # rules axe-core found satisfied: it did run
    inner_width: int = 0
    scroll_width: int = 0
    widest: list[str] = field(default_factory=list)         # elements reaching past the right edge
    console_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)         # requests to our server that failed
    outside: list[str] = field(default_factory=list)        # requests that tried to leave our server


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    if not shutil.which("chromium"):
        pytest.fail("Debian's chromium is not installed: run scripts/install-test-deps")
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run scripts/install-test-deps (npm ci --prefix tests/js)")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield instance
        instance.close()


@pytest.fixture(scope="module")
def visits(server, browser):
    """Visits made so far, by (page, language, size): each page is loaded and measured once."""
    made: dict[tuple[str, str, str], Visit] = {}

    def visit(page_id: str, lang: str, size: str) -> Visit:
        if (page_id, lang, size) not in made:
            made[page_id, lang, size] = measure(browser, server, page_id, lang, size)
        return made[page_id, lang, size]
    return visit


def page_url(server: str, page_id: str, lang: str) -> str:
    path = PAGES[page_id]
    return f"{server}{path}{'&' if '?' in path else '?'}lang={lang}"


def measure(browser, server: str, page_id: str, lang: str, size: str) -> Visit:
    visit = Visit(page_url(server, page_id, lang))
    context = browser.new_context(**SIZES[size])
    page = context.new_page()

    def only_our_server(route):
        if route.request.url.startswith(server):
            route.continue_()
        else:
            visit.outside.append(route.request.url)
            route.abort()

    def failed_response(response):
        if response.url.startswith(server) and response.status >= 400:
            visit.failed.append(f"{response.status} {response.url}")

    page.route("**/*", only_our_server)
    page.on("console", lambda message: message.type == "error" and visit.console_errors.append(
        f"{message.text} ({message.location.get('url', '')}:{message.location.get('lineNumber', '')})"))
    page.on("pageerror", lambda error: visit.console_errors.append(f"uncaught: {error}"))
    page.on("response", failed_response)
    page.on("requestfailed", lambda request: request.url.startswith(server) and visit.failed.append(
        f"{request.failure} {request.url}"))
    try:
        response = page.goto(visit.url, wait_until="networkidle", timeout=60_000)
        visit.status = response.status if response else None
        # the browser asks for the icon on its own, outside the page's requests: ask for it too
        icon = page.evaluate("() => document.querySelector('link[rel~=\"icon\"]')?.href"
                             " || new URL('/favicon.ico', location.origin).href")
        if icon.startswith(server):
            answer = page.request.get(icon)
            if not answer.ok:
                visit.failed.append(f"{answer.status} {icon} (icon)")
        widths = page.evaluate("""() => {
            const edge = document.documentElement.clientWidth;
            const widest = [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > edge + 1
                             && getComputedStyle(e).position !== 'fixed')
                .filter(e => !e.parentElement || e.parentElement.getBoundingClientRect().right <= edge + 1)
                .slice(0, 5)
                .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                          + (e.className && typeof e.className === 'string'
                             ? '.' + e.className.trim().split(/\\s+/).join('.') : '')
                          + ' (right edge ' + Math.round(e.getBoundingClientRect().right) + ' px)');
            return {inner: window.innerWidth, scroll: document.documentElement.scrollWidth, widest};
        }""")
        visit.inner_width, visit.scroll_width = widths["inner"], widths["scroll"]
        visit.widest = widths["widest"]
        # evaluated through the DevTools protocol, so the page's own content security policy stays on
        page.evaluate(AXE.read_text(encoding="utf-8"))
        results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        visit.violations = results["violations"]
        visit.rules_passed = len(results["passes"])
    finally:
        context.close()
    return visit


def describe(violation: dict, shown: int = 8) -> list[str]:
    """The rule, its impact and what it asks, then the elements (the first SHOWN) with axe's first reason."""
    lines = [f"{violation['id']} ({violation['impact']}): {violation['help']}"]
    for node in violation["nodes"][:shown]:
        reasons = [line.strip() for line in (node.get("failureSummary") or "").splitlines()[1:] if line.strip()]
        lines.append(f"    {' '.join(map(str, node['target']))} — {reasons[0] if reasons else ''}")
    if len(violation["nodes"]) > shown:
        lines.append(f"    … and {len(violation['nodes']) - shown} more elements")
    return lines


@pytest.mark.parametrize(("page_id", "lang", "size"), CASES)
def test_axe_finds_no_critical_or_serious_violation(visits, page_id, lang, size):
    visit = visits(page_id, lang, size)
    assert visit.rules_passed > 10, f"axe-core checked almost nothing on {visit.url}: {visit.rules_passed} rules passed"
    found = [line for violation in visit.violations if violation["impact"] in SERIOUS
             for line in describe(violation)]
    assert not found, f"axe-core on {visit.url} at {size} (HTTP {visit.status}):\n" + "\n".join(found)


@pytest.mark.parametrize(("page_id", "lang", "size"), CASES)
def test_nothing_overflows_horizontally(visits, page_id, lang, size):
    visit = visits(page_id, lang, size)
    width = SIZES[size]["viewport"]["width"]
    # a phone shrinks a page to fit when it has no device-width viewport tag (980 px layout) or when
    # its content is wider than the screen; either way the window reports more than the screen's width
    assert visit.inner_width == width, (
        f"{visit.url}: shown {visit.inner_width} px wide on a {width} px screen (no device-width viewport tag, "
        "or content wider than the screen); reaching past the edge: " + "; ".join(visit.widest))
    assert visit.scroll_width <= visit.inner_width, (
        f"{visit.url} is {visit.scroll_width} px wide in a {visit.inner_width} px window; reaching past "
        "the edge: " + "; ".join(visit.widest))


@pytest.mark.parametrize(("page_id", "lang", "size"), CASES)
def test_no_console_error_nor_failed_request(visits, page_id, lang, size):
    visit = visits(page_id, lang, size)
    assert visit.status == 200, f"{visit.url} answered HTTP {visit.status}"
    assert not visit.failed, f"{visit.url}: requests to our server failed:\n" + "\n".join(visit.failed)
    assert not visit.console_errors, f"{visit.url}: console errors:\n" + "\n".join(visit.console_errors)
    hosts = sorted({urlsplit(url).netloc for url in visit.outside})
    assert not visit.outside, f"{visit.url} asked for resources outside our server ({', '.join(hosts)})"
