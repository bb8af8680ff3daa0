"""The same-origin rule for connections a browser opens with the user's cookie: WebSockets and server-sent streams.

Browsers send cookies along on a cross-site WebSocket or EventSource (another port of the same host is even
"same-site"), so without this check any other page could open a player's live screens. Browsers always send
``Origin`` on those; a request without one is not from a browser and carries no one else's cookie. The ReactPy
socket and the API's streams ask this one function.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit


def foreign_origin(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The ``Origin`` of a request sent by a page of another origin; None when same-origin or without ``Origin``.

    Args:
        headers: the raw ASGI headers of the request (lower-case names).
    """
    found = {name.lower(): value.decode("latin-1") for name, value in headers}
    origin, host = found.get(b"origin"), found.get(b"host")
    if origin is None:
        return None
    parts = urlsplit(origin)
    if host is not None and parts.scheme in ("http", "https") and parts.netloc.lower() == host.lower():
        return None
    return origin


def refusal(origin: str) -> str:
    """The one message a cross-origin stream or socket is refused with."""
    return f"cross-origin request refused: Origin {origin} is not this server; open the app from this server's address"
