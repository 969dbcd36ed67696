"""The documentation site under /docs: the MkDocs build of docs/, served as static files when present.

`mkdocs build` (from the checkout root) writes the site into `site/`; `ftz-kg serve` then serves it
at /docs/. `FTZ_KG_DOCS` names another built site. Without a built site there is no /docs route,
and /docs is answered like any other unknown path.
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.datastructures import URL
from starlette.responses import RedirectResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

ENVIRONMENT_VARIABLE = "FTZ_KG_DOCS"
# beside the package in a checkout or an editable install: <checkout>/site, where mkdocs.yml builds to
DEFAULT_SITE = Path(__file__).resolve().parents[2] / "site"


def site_directory() -> Path | None:
    """The built site to serve: $FTZ_KG_DOCS if set, else `site/` beside the project; None if it
    holds no built site (no index.html)."""
    configured = os.environ.get(ENVIRONMENT_VARIABLE)
    folder = Path(configured) if configured else DEFAULT_SITE
    return folder.resolve() if (folder / "index.html").is_file() else None


class SiteFiles(StaticFiles):
    """Static files whose folder redirects (`/docs/guide` -> `/docs/guide/`) name the path only:
    Starlette's own name the request's Host, which any client can set."""

    async def get_response(self, path: str, scope):
        response = await super().get_response(path, scope)
        if isinstance(response, RedirectResponse):
            url = URL(response.headers["location"])
            return RedirectResponse(url.path + (f"?{url.query}" if url.query else ""), status_code=response.status_code)
        return response


async def _to_folder(request) -> RedirectResponse:
    return RedirectResponse("/docs/", status_code=308)


def mount_docs(app, directory: Path | None = None) -> Path | None:
    """Serve the built site at /docs/ (with /docs redirected there), before any catch-all route
    added later. Returns the folder served, or None when there is none."""
    folder = directory if directory is not None else site_directory()
    if folder is None or not (Path(folder) / "index.html").is_file():
        return None
    from ftz_kg.web.rendering import environment
    environment().globals["docs_href"] = "/docs/"    # the pages' footer links the documentation
    app.router.routes.extend([
        Route("/docs", _to_folder, methods=["GET", "HEAD"]),
        Mount("/docs", SiteFiles(directory=str(folder), html=True), name="docs"),
    ])
    return Path(folder)
