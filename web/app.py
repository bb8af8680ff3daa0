"""The web app as one ASGI app: ReactPy screens under /app, the offline shell, the manifest and the service worker.

ReactPy 1.1's own ``reactpy.backend.starlette.configure`` calls ``Starlette.add_websocket_route``, which
Starlette 1.x removed, so the few routes it would add are declared here with its ``serve_layout``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Mapping
from html import escape
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import anyio
from exceptiongroup import BaseExceptionGroup
from reactpy import component
from reactpy.backend._common import CLIENT_BUILD_DIR
from reactpy.backend.types import Connection, Location
from reactpy.core.hooks import ConnectionContext, use_connection, use_location
from reactpy.core.layout import Layout
from reactpy.core.serve import serve_layout
from reactpy.core.types import ComponentType, VdomDict
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from shared.origin import foreign_origin
from shared.settings import TOKEN_COOKIE
from web.client import ApiError, BankrollClient
from web.screens.bankroll import bankroll_screen
from web.screens.breakdowns import breakdowns_screen
from web.screens.detail import detail
from web.screens.history import history
from web.screens.home import home
from web.screens.stats import stats_screen
from web.widgets import MORE, NAV, notice, page

STATIC = Path(__file__).parent / "static"
APP_PREFIX = "/app"
# What the service worker precaches (the one list: sw.js gets it from here); its cache name carries a hash of
# these files. Everything a page of the shell loads must be here, or it is missing offline (tests/e2e/test_weight.py).
SHELL_FILES = (
    "capture.html",
    "pair.html",
    "app.css",
    "outbox.js",
    "fold.js",
    "rules.js",
    "money.js",
    "checks.js",
    "pad.js",
    "capture.js",
    "reading.js",
    "pair.js",
    "push.js",
    "manifest.webmanifest",
    "icons/icon-192.png",
    "icons/icon-512.png",
    "icons/maskable-512.png",
)
log = logging.getLogger(__name__)


# Shell files served at their own address rather than under /static.
SHELL_ROUTES = {"capture.html": "/capture", "pair.html": "/pair", "manifest.webmanifest": "/manifest.webmanifest"}


def shell_urls() -> list[str]:
    """The addresses the service worker precaches, one per shell file."""
    return [SHELL_ROUTES.get(name, f"/static/{name}") for name in SHELL_FILES]


def shell_version() -> str:
    digest = hashlib.sha256()
    for name in SHELL_FILES:
        digest.update(capture_html().encode() if name == "capture.html" else (STATIC / name).read_bytes())
    return digest.hexdigest()[:12]


def capture_html() -> str:
    """The live screen's shell (also the frame of the offline copies), with every screen of the app one tap away in
    a "Screens" menu: the same list as the screens' tabs (``NAV`` and ``MORE``), on one row above the pad."""
    links = "".join(f'<a href="{escape(href)}">{escape(label)}</a>' for href, label in (*NAV, *MORE))
    menu = (
        '<nav class="nav" aria-label="Screens"><details class="more"><summary>Screens</summary>'
        f'<div class="menu">{links}</div></details></nav>'
    )
    marker = re.compile(r"<!--screens:.*?-->")
    return marker.sub(menu, (STATIC / "capture.html").read_text(), count=1)


def token_from(scope: Mapping[str, Any]) -> str:
    """The device token the pairing page left in a cookie (the ReactPy socket can carry no header)."""
    cookie = SimpleCookie()
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            cookie.load(value.decode("latin-1"))
    morsel = cookie.get(TOKEN_COOKIE)
    return morsel.value if morsel is not None else ""


def loopback_url(scope: Mapping[str, Any]) -> str:
    """The API as reachable from this process: the socket this request came in on."""
    host, port = scope.get("server") or ("127.0.0.1", 8000)
    host = "127.0.0.1" if host in ("0.0.0.0", "", None) else host  # noqa: S104 — mapping a wildcard bind, not binding
    return f"http://[{host}]:{port}" if ":" in str(host) else f"http://{host}:{port}"


ClientFactory = Callable[[Mapping[str, Any]], BankrollClient]


def default_client(scope: Mapping[str, Any]) -> BankrollClient:
    return BankrollClient(loopback_url(scope), token_from(scope))


def make_root(client_for: ClientFactory) -> Callable[[], Any]:
    @component
    def root() -> VdomDict | ComponentType:
        """Routes /app/<path> to its screen; every screen gets an API client holding this device's token."""
        location = use_location()
        path, search = location.pathname.rstrip("/") or "/", location.search
        client = client_for(use_connection().scope)
        parts = path.strip("/").split("/")
        match parts:
            case [""]:
                return home(client, key="home")
            case ["history"]:
                return history(client, search, key=f"history{search}")
            case ["stats"]:
                return stats_screen(client, search, key=f"stats{search}")
            case ["bankroll"]:
                return bankroll_screen(client, search, key=f"bankroll{search}")
            case ["breakdowns"]:
                return breakdowns_screen(client, search, key=f"breakdowns{search}")
            case ["sessions", session_id]:
                return detail(client, session_id, key=f"detail-{session_id}")
            case _:
                return page("missing", "", notice("Nothing here", f"There is no screen at {path}."))

    return root


def index_html() -> str:
    bundle = next((CLIENT_BUILD_DIR / "assets").glob("index.*.js")).name
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<meta name="theme-color" content="#0b0f14">
<title>Bankroll</title>
<link rel="manifest" href="/manifest.webmanifest">
<link rel="icon" href="/static/icons/icon-192.png">
<link rel="apple-touch-icon" href="/static/icons/icon-192.png">
<link rel="stylesheet" href="/static/app.css">
<script src="/static/rules.js" defer></script>
<script src="/static/outbox.js" defer></script>
<script src="/static/fold.js" defer></script>
<script src="/static/money.js" defer></script>
<script src="/static/checks.js" defer></script>
<script src="/static/pad.js" defer></script>
<script src="/static/reading.js" defer></script>
<script type="module" crossorigin src="/_reactpy/assets/{bundle}"></script>
</head>
<body><div id="app"></div><noscript>This app needs JavaScript.</noscript></body>
</html>
"""


REVOKED_CLOSE_CODE = 4401  # the socket's close code when this device's token is revoked while it is open


def stream_handler(root: Callable[[], Any], client_for: ClientFactory) -> Callable[[WebSocket], Any]:
    """ReactPy's socket: the screen's path after /app becomes its location; a revoked device's socket closes."""

    async def model_stream(socket: WebSocket) -> None:
        origin = foreign_origin(socket.scope["headers"])
        if origin is not None:
            log.warning("refused a cross-origin ReactPy socket from %s", origin)
            await socket.close(code=1008, reason="cross-origin WebSocket refused")  # a close reason is <= 123 bytes
            return
        await socket.accept()
        pathname = "/" + socket.scope["path_params"].get("path", "")
        pathname = pathname[len(APP_PREFIX) :] if pathname.startswith(APP_PREFIX) else pathname
        search = socket.scope["query_string"].decode()

        async def send(value: Any) -> None:
            await socket.send_text(json.dumps(value))

        async def recv() -> Any:
            return json.loads(await socket.receive_text())

        location = Location(pathname or "/", f"?{search}" if search else "")
        connection = Connection(scope=socket.scope, location=location, carrier=socket)
        try:
            async with anyio.create_task_group() as screens:
                watching = anyio.Event()

                async def close_when_revoked() -> None:
                    if await revoked(client_for(socket.scope), watching.set):
                        await socket.close(code=REVOKED_CLOSE_CODE, reason="this device was revoked")
                        screens.cancel_scope.cancel()

                screens.start_soon(close_when_revoked)
                # The screens start once a revocation would be seen: one made meanwhile is not missed.
                await watching.wait()
                await serve_layout(Layout(ConnectionContext(root(), value=connection)), send, recv)
                screens.cancel_scope.cancel()
        except BaseExceptionGroup as group:
            # The phone left: the disconnect may sit in a group nested by serve_layout's own task group.
            disconnected, _ = group.split(WebSocketDisconnect)
            if disconnected is None:
                raise
        except WebSocketDisconnect:
            pass

    return model_stream


async def revoked(client: BankrollClient, watching: Callable[[], None]) -> bool:
    """Wait until the device is revoked (True); False at once when it is not paired or the API cannot say.

    ``watching`` is called once a revocation would be seen, or when there is nothing to watch. An unpaired
    screen has its own notice: only a token that worked when the socket opened closes it.
    """
    try:
        await client.until_revoked(watching)
    except ApiError as exc:
        log.info("not watching for revocation: %s", exc)
        return False
    finally:
        watching()
    return True


def text(body: str, media_type: str) -> Callable[[Request], Any]:
    """A fixed response, revalidated on every load so a new version is seen at once."""

    async def serve(request: Request) -> Response:
        return Response(body, media_type=media_type, headers={"Cache-Control": "no-cache"})

    return serve


async def to_home(request: Request) -> Response:
    return RedirectResponse("/app/")


def create_web_app(client_for: ClientFactory = default_client) -> Starlette:
    """The whole web side as one Starlette app; the composition root mounts it (see ``web.mount``)."""
    sw = (STATIC / "sw.js").read_text().replace("__VERSION__", shell_version())
    sw = sw.replace('"__SHELL__"', json.dumps(shell_urls()))
    capture = text(capture_html(), "text/html")
    manifest = json.dumps(json.loads((STATIC / "manifest.webmanifest").read_text()))
    screen = text(index_html(), "text/html")
    stream = stream_handler(make_root(client_for), client_for)
    return Starlette(
        routes=[
            WebSocketRoute("/_reactpy/stream", stream),
            WebSocketRoute("/_reactpy/stream/{path:path}", stream),
            Mount("/_reactpy/assets", StaticFiles(directory=CLIENT_BUILD_DIR / "assets")),
            Route("/", to_home),
            Route(APP_PREFIX, to_home),
            Route(APP_PREFIX + "/", screen),
            # The live screen is drawn in the page from the phone's copy of the session (capture.js).
            Route(APP_PREFIX + "/live/{session_id}", capture),
            Route(APP_PREFIX + "/{path:path}", screen),
            Route("/capture", capture),
            Route("/pair", text((STATIC / "pair.html").read_text(), "text/html")),
            # The service worker is served from the root so its scope is the whole origin.
            Route("/sw.js", text(sw, "text/javascript")),
            Route("/manifest.webmanifest", text(manifest, "application/manifest+json")),
            Mount("/static", StaticFiles(directory=STATIC)),
        ]
    )
