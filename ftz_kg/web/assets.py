"""The static files (stylesheets, scripts, vendored libraries, geometry) with compression and cache
lifetimes: each file is read and gzip-compressed once per process, then served from memory."""

from __future__ import annotations

import gzip
import hashlib
import os
import threading
from pathlib import Path

from starlette.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml", "application/geo+json")
MIN_COMPRESSED = 512           # below this, gzip's header costs more than it saves
# A URL carrying ?v=<version> (as every page writes it) names one release's file: cache it for a
# year. Without it, a day, then revalidate by ETag.
VERSIONED = "public, max-age=31536000, immutable"
UNVERSIONED = "public, max-age=86400"


class CompressedStaticFiles(StaticFiles):
    def __init__(self, directory: str | os.PathLike = STATIC):
        super().__init__(directory=str(directory))
        self._cache: dict[tuple[str, float], tuple[bytes, bytes | None, str]] = {}
        self._lock = threading.Lock()

    def _prepared(self, full_path: str, mtime: float) -> tuple[bytes, bytes | None, str]:
        key = (full_path, mtime)
        with self._lock:
            found = self._cache.get(key)
        if found is None:
            body = Path(full_path).read_bytes()
            etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            packed = gzip.compress(body, 9, mtime=0) if len(body) >= MIN_COMPRESSED else None
            found = (body, packed if packed is not None and len(packed) < len(body) else None, etag)
            with self._lock:
                self._cache[key] = found
        return found

    async def get_response(self, path: str, scope) -> Response:
        response = await super().get_response(path, scope)
        if not isinstance(response, FileResponse) or response.status_code != 200:
            return response
        media_type = response.media_type or "application/octet-stream"
        stat = os.stat(response.path)
        body, packed, etag = self._prepared(str(response.path), stat.st_mtime)
        headers = {"ETag": etag, "Vary": "Accept-Encoding",
                   "Cache-Control": VERSIONED if b"v=" in scope.get("query_string", b"") else UNVERSIONED}
        request_headers = dict((k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"])
        if etag in request_headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        accepts_gzip = "gzip" in request_headers.get("accept-encoding", "")
        if packed is not None and accepts_gzip and media_type.startswith(COMPRESSIBLE):
            headers["Content-Encoding"] = "gzip"
            return Response(packed, headers=headers, media_type=media_type)
        return Response(body, headers=headers, media_type=media_type)
