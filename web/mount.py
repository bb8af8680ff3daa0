"""Mounts the web app into the Litestar API: the only place the web side meets the API framework."""

from __future__ import annotations

from urllib.parse import unquote

from litestar.handlers import asgi
from litestar.handlers.asgi_handlers import ASGIRouteHandler
from litestar.types import Receive, Scope, Send
from starlette.types import ASGIApp

from web.app import create_web_app

# Every path the web app answers; Litestar keeps /api and /schema.
MOUNTS = ["/app", "/_reactpy", "/static", "/capture", "/pair", "/sw.js", "/manifest.webmanifest"]


def web_routes(app: ASGIApp | None = None) -> list[ASGIRouteHandler]:
    """Litestar handlers that hand the web paths, unchanged, to the web app."""
    web = app or create_web_app()

    async def forward(scope: Scope, receive: Receive, send: Send) -> None:
        # A Litestar mount strips its prefix from scope["path"]; the web app routes on the full path.
        raw = scope.get("raw_path")
        full = unquote(raw.decode("latin-1")) if raw else scope["path"]
        await web({**scope, "path": full, "root_path": ""}, receive, send)  # type: ignore[arg-type]

    mounted = asgi(path=MOUNTS, is_mount=True, copy_scope=True)(forward)
    home = asgi(path="/", copy_scope=True)(forward)
    return [mounted, home]
