"""Response headers that make every page safe to open: no inline script, no framing, no sniffing.

A pure ASGI middleware (no per-request objects beyond the header list), so it costs the
endpoint's hot path next to nothing and never buffers a streamed answer.
"""

from __future__ import annotations

# Scripts and styles come from this server only; inline script is forbidden, so even markup that
# slipped through escaping could not run. Inline style attributes stay allowed: the vendored
# YASGUI and Cytoscape.js set element styles from script.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode("ascii")),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]


class SecurityHeaders:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)
