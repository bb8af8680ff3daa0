"""The HTTP edge every response crosses: a request id, the security headers, and one log line for every 5xx
(with the request id the client also sees); and the same-origin guard of the streams and sockets."""

from __future__ import annotations

import logging
import secrets
from typing import Any, Final

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.exceptions import PermissionDeniedException
from litestar.handlers import BaseRouteHandler
from litestar.types import Message, Scope

from shared.origin import foreign_origin, refusal

log = logging.getLogger("api.edge")

REQUEST_ID_HEADER: Final = "x-request-id"
# The app loads scripts, styles, its service worker and its manifest from itself only; its sockets and fetches go
# back to the same origin; nothing may frame it.
CSP: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# The OpenAPI pages under /schema are Litestar's: their viewers come from a CDN and start with an inline script.
DOCS_CSP: Final = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://unpkg.com; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://unpkg.com https://fonts.googleapis.com; "
    "font-src 'self' https://fonts.gstatic.com; img-src 'self' data: https:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
HSTS: Final = "max-age=31536000; includeSubDomains"
_COMMON: Final = [
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    ("cross-origin-opener-policy", "same-origin"),
]


def is_https(scope: Scope | dict[str, Any]) -> bool:
    """Whether the client reached us over TLS: directly, or through a proxy uvicorn trusts (``--forwarded-allow-ips``,
    which rewrites the scheme from ``X-Forwarded-Proto``)."""
    return scope.get("scheme") in ("https", "wss")


def security_headers(path: str, https: bool) -> list[tuple[str, str]]:
    """The headers every HTTP response carries."""
    csp = DOCS_CSP if path == "/schema" or path.startswith("/schema/") else CSP
    headers = [*_COMMON, ("content-security-policy", csp)]
    if https:
        headers.append(("strict-transport-security", HSTS))
    return headers


def request_id_of(scope: Scope) -> str:
    """The id of this request, made on first use (it goes into the ``X-Request-ID`` header and every 5xx log)."""
    state: dict[str, Any] = scope.setdefault("state", {})
    rid = state.get("request_id")
    if rid is None:
        rid = state["request_id"] = secrets.token_hex(8)
    return str(rid)


async def add_edge_headers(message: Message, scope: Scope) -> None:
    """Litestar ``before_send`` hook: runs for every response, 404s and mounted web pages included."""
    if message["type"] != "http.response.start":
        return
    rid = request_id_of(scope)
    headers = MutableScopeHeaders.from_message(message)
    for key, value in security_headers(scope["path"], is_https(scope)):
        if key not in headers:
            headers.add(key, value)
    headers[REQUEST_ID_HEADER] = rid
    if message["status"] >= 500:
        log.error("%s %s answered %d (request id %s)", scope.get("method", ""), scope["path"], message["status"], rid)


def internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    """Any exception no handler expected: logged with its traceback and the request id; the client gets the id."""
    rid = request_id_of(request.scope)
    log.error("unexpected error on %s %s (request id %s)", request.method, request.url.path, rid, exc_info=exc)
    detail = f"internal error; quote request id {rid} when reporting it"
    return Response({"status_code": 500, "detail": detail, "request_id": rid}, status_code=500)


def same_origin_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Litestar guard of the server-sent streams and the GraphQL socket: a page of another origin gets a 403.

    Requests without ``Origin`` (curl, scripts, the app's own server-side client) pass: they carry no browser's
    cookie. The rule itself is ``shared.origin``'s, the one the ReactPy socket also asks.
    """
    origin = foreign_origin(connection.scope["headers"])
    if origin is not None:
        raise PermissionDeniedException(detail=refusal(origin))


def same_origin_sockets(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """``same_origin_only`` for WebSocket handshakes alone (a controller that also serves plain HTTP)."""
    if connection.scope["type"] == ScopeType.WEBSOCKET:
        same_origin_only(connection, handler)
