"""The documentation site: built strictly, every command and query it shows run, served at /docs.

- `mkdocs build --strict` (warnings are errors: a broken link or anchor fails) into a temporary
  folder; the reference pages are generated from the code (scripts/gen_docs.py), so they name every
  command, canned query, API operation and ontology term there is.
- Every `sh` and `python` block of every page under docs/ runs as the README's do
  (tests/test_readme.py's runner): in order, in a scratch folder per page, against servers the page
  starts or one started for it. Every `sparql` block runs on the embedded store and answers.
- `ftz-kg serve` serves the built site at /docs/ (ftz_kg/web/docsite.py); pages carry the release in
  their footer, VoID names it, `ftz-kg --version` prints it, and CHANGELOG.md has its section.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from starlette.applications import Starlette

import ftz_kg
from ftz_kg.web import docsite

from .helpers import installed_package
from .server import running_server
from .test_readme import ROOT, blocks_of, run_blocks

DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))
PAGES_WITH_COMMANDS = [page for page in PAGES if blocks_of(page.read_text(encoding="utf-8"))]
SPARQL = [(page, text) for page in PAGES
          for text in re.findall(r"^```sparql\n(.*?)^```", page.read_text(encoding="utf-8"), flags=re.S | re.M)]
REQUIRED_PAGES = ["index", "tutorial", "guide", "model", "reference/cli", "reference/http", "reference/queries",
                  "reference/ontology", "operations", "remote-stores", "curation", "performance", "development",
                  "changelog"]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("site")
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"),
                             "--site-dir", str(folder)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    return folder


def test_site_builds_strictly_with_every_page(site):
    for page in REQUIRED_PAGES:
        assert (site / page / "index.html" if page != "index" else site / "index.html").is_file(), page


def test_reference_pages_are_generated_from_the_code(site):
    from ftz_kg.query.catalogue import Catalogue
    from ftz_kg.cli import main

    cli = (site / "reference" / "cli" / "index.html").read_text(encoding="utf-8")
    for name, command in main.commands.items():
        assert f"ftz-kg {name}" in cli, name
        for param in command.params:
            for flag in getattr(param, "opts", []):
                if flag.startswith("--"):
                    assert flag in cli, (name, flag)
    queries = (site / "reference" / "queries" / "index.html").read_text(encoding="utf-8")
    http = (site / "reference" / "http" / "index.html").read_text(encoding="utf-8")
    for query in Catalogue.load():
        assert f'id="{query.name}"' in queries, query.name
        assert f"/api/{query.name}" in http, query.name
    ontology = (site / "reference" / "ontology" / "index.html").read_text(encoding="utf-8")
    for term in ("PilotFreeTradeZone", "ReplicableExperience", "partOfZone", "source", "withinSource"):
        assert f"ftz:{term}" in ontology
    assert "自由贸易试验区" in ontology and "pilot free trade zone" in ontology


def test_site_runs_under_the_servers_content_security_policy(site):
    """The server forbids inline script and loads nothing from elsewhere: neither may the site."""
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        for attributes, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S):
            assert "src=" in attributes or "application/json" in attributes or not body.strip(), page
        assert "fonts.googleapis.com" not in html and "unpkg.com" not in html, page


@pytest.mark.parametrize("page", PAGES_WITH_COMMANDS, ids=lambda p: str(p.relative_to(DOCS)))
def test_every_command_a_page_shows_succeeds(page, tmp_path):
    run_blocks(blocks_of(page.read_text(encoding="utf-8")), tmp_path)


def test_every_page_with_commands_is_run():
    """The guide, the tutorial and the operations pages show commands; they must be found here."""
    shown = {page.relative_to(DOCS).as_posix() for page in PAGES_WITH_COMMANDS}
    assert {"tutorial.md", "guide.md", "operations.md", "remote-stores.md", "curation.md"} <= shown


@pytest.mark.parametrize("page,query", SPARQL, ids=[f"{p.relative_to(DOCS)}-{i}" for i, (p, _) in enumerate(SPARQL)])
def test_every_sparql_example_answers(page, query, tmp_path):
    with installed_package():
        result = subprocess.run(["ftz-kg", "sparql", "-", "--format", "csv"], input=query, capture_output=True,
                                text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, (query, result.stderr[-1000:])
    assert len(result.stdout.strip().splitlines()) > 1, (query, result.stdout)


# ----------------------------------------------------------------------- /docs on the server


def test_docsite_serves_a_built_site_and_redirects_without_the_host(tmp_path):
    (tmp_path / "guide").mkdir()
    (tmp_path / "index.html").write_text("<p>home</p>", encoding="utf-8")
    (tmp_path / "guide" / "index.html").write_text("<p>guide</p>", encoding="utf-8")
    app = Starlette()
    assert docsite.mount_docs(app, tmp_path) == tmp_path
    get = _client(app)
    assert get("/docs/").text == "<p>home</p>"
    assert get("/docs/guide/").text == "<p>guide</p>"
    for path, target in (("/docs", "/docs/"), ("/docs/guide", "/docs/guide/")):
        response = get(path)
        assert response.status_code in (307, 308) and response.headers["location"] == target, path
    assert get("/docs/../pyproject.toml").status_code == 404
    assert get("/docs/missing/").status_code == 404


def _client(app):
    """GET on the app in process, with a Host that must never come back in a redirect."""
    async def get(path):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://attacker.example") as client:
            return await client.get(path)
    return lambda path: asyncio.run(get(path))


def test_docsite_mounts_nothing_without_a_built_site(tmp_path, monkeypatch):
    app = Starlette()
    assert docsite.mount_docs(app, tmp_path) is None
    assert app.router.routes == []
    monkeypatch.setenv(docsite.ENVIRONMENT_VARIABLE, str(tmp_path))
    assert docsite.site_directory() is None
    (tmp_path / "index.html").write_text("<p>home</p>", encoding="utf-8")
    assert docsite.site_directory() == tmp_path.resolve()


@pytest.fixture(scope="module")
def served(site):
    with running_server(env={docsite.ENVIRONMENT_VARIABLE: str(site)}) as (base, _):
        yield base


def test_serve_shows_the_docs_the_release_footer_and_the_version_in_void(served):
    docs = httpx.get(served + "/docs/", timeout=30)
    assert docs.status_code == 200 and "ftz-kg documentation" in docs.text
    assert "content-security-policy" in docs.headers
    assert httpx.get(served + "/docs/reference/cli/", timeout=30).status_code == 200
    for lang in ("en", "zh"):
        home = httpx.get(served + f"/?lang={lang}", timeout=30).text
        footer = home[home.index("<footer"):home.index("</footer>")]
        assert ftz_kg.__version__ in footer and ftz_kg.RELEASE_DATE in footer
        assert "CC BY 4.0" in footer and "MIT" in footer
    void = httpx.get(served + "/.well-known/void", headers={"Accept": "application/n-triples"}, timeout=30).text
    assert f'<http://purl.org/dc/terms/hasVersion> "{ftz_kg.__version__}"' in void
    assert (f'<http://purl.org/dc/terms/issued> "{ftz_kg.RELEASE_DATE}"'
            '^^<http://www.w3.org/2001/XMLSchema#date>') in void


def test_served_docs_run_in_a_browser_under_the_policy(served):
    """Headless Chromium (Debian's), everything but our server blocked: no script is refused by the
    Content-Security-Policy, and the site's search finds a command's reference."""
    from playwright.sync_api import sync_playwright

    from .test_browser import CHROMIUM, FLAGS, block_all_but

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page()
            outside = block_all_but(page, served)
            errors = []
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(served + "/docs/")
            page.click("input.md-search__input")
            page.keyboard.type("validate", delay=20)     # key by key, as the search box listens
            page.wait_for_selector(".md-search-result__item a[href*='reference/cli/']", timeout=30_000)
            page.goto(served + "/docs/reference/cli/")
            page.wait_for_selector("#ftz-kg-serve", state="attached", timeout=30_000)
            assert not errors, errors
            assert not outside, outside
        finally:
            browser.close()


# ----------------------------------------------------------------------- the release


def test_void_names_the_version_and_release_date():
    from rdflib import Graph, Literal, URIRef
    from rdflib.namespace import DCTERMS, XSD

    from ftz_kg.pipeline.void import DATASET, describe

    description = describe(Graph(), {}, "2026-12-06")
    assert (DATASET, DCTERMS.hasVersion, Literal(ftz_kg.__version__)) in description
    assert (DATASET, DCTERMS.issued, Literal(ftz_kg.RELEASE_DATE, datatype=XSD.date)) in description
    assert isinstance(DATASET, URIRef)


def test_version_option_prints_version_and_release_date():
    from ftz_kg.cli import main

    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"ftz-kg {ftz_kg.__version__}, released {ftz_kg.RELEASE_DATE}"


def test_changelog_has_a_section_for_this_release():
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert changelog.startswith("# Changelog")
    sections = re.findall(r"^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$", changelog, flags=re.M)
    assert sections[0] == (ftz_kg.__version__, ftz_kg.RELEASE_DATE)
    assert ("0.1.0", "2026-11-25") in sections
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["version"] == ftz_kg.__version__
    assert any(requirement.startswith("mkdocs") for requirement in project["optional-dependencies"]["docs"])
