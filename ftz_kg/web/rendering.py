"""HTML for people, rendered from Jinja2 templates with autoescaping: every value a page shows is
escaped by construction, whatever the data or the request carries."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from ftz_kg import RELEASE_DATE
from ftz_kg import __version__

TEMPLATES = Path(__file__).parent / "templates"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    # every page's footer names the release it comes from
    env.globals.update(version=__version__, release_date=RELEASE_DATE, docs_href="")
    return env


def render(template: str, **context) -> str:
    return environment().get_template(template).render(**context)
