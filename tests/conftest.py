"""Shared fixtures: the ontology, the shapes and one full build of the curated graph per session."""

from __future__ import annotations

import pytest

from ftz_kg import resources
from ftz_kg.pipeline.build import build
from ftz_kg.pipeline.rdfio import parse_turtle
from ftz_kg.pipeline.validate import load_shapes, validate_graph


@pytest.fixture(scope="session")
def ontology():
    return parse_turtle(resources.ontology_file())


@pytest.fixture(scope="session")
def shapes():
    return load_shapes()


@pytest.fixture(scope="session")
def built():
    """The real graph, built once from graph/."""
    return build()


@pytest.fixture(scope="session")
def graph(built):
    return built.graph


@pytest.fixture(scope="session")
def full_report(built, shapes):
    return validate_graph(built.graph, shapes, built.origins)


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium driven by Playwright, one per test module (tests/test_browser.py has the flags)."""
    import shutil

    from playwright.sync_api import sync_playwright

    from .test_browser import CHROMIUM, FLAGS
    if not shutil.which("chromium"):
        pytest.fail("Debian's chromium is not installed: run scripts/install-test-deps")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield instance
        instance.close()


@pytest.fixture(scope="module")
def server():
    """`ftz-kg serve` on the embedded store, one per test module (a module needing other options defines its own)."""
    from .server import running_server
    with running_server() as (base, process):
        yield base


@pytest.fixture(scope="module")
def client(server):
    """An HTTP client of the module's server."""
    import httpx
    with httpx.Client(base_url=server, timeout=60) as http:
        yield http
