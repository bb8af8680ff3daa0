"""Which browsers can run the app from the server's public address, and why a phone cannot (docs/https.md).

Browsers run a service worker (offline capture, Web Push, install) only in a secure context: an ``https://``
page, or a plain ``http://`` page on the browser's own loopback (localhost, 127.0.0.0/8, ::1). A phone never
reaches this server on its own loopback, so it needs https; plain http on a network address serves nobody.
"""

from __future__ import annotations

import enum
import ipaddress
from urllib.parse import urlsplit

HTTPS_DOC = "docs/https.md"


class Reach(enum.Enum):
    """Who can run the app from an address."""

    PHONE = "a phone (https)"
    THIS_COMPUTER = "a browser on this computer only (http on loopback)"
    NOBODY = "no browser (http on a network address)"


def is_loopback(host: str) -> bool:
    """True for the names and addresses browsers treat as this machine (a secure context even over http)."""
    name = host.strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def reach(url: str) -> Reach:
    """Who can run the app from ``url`` (the server's PUBLIC_URL, or http://HOST:PORT)."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return Reach.PHONE
    return Reach.THIS_COMPUTER if is_loopback(parts.hostname or "") else Reach.NOBODY


def why_no_phone(url: str) -> str:
    """Why a phone cannot run the app from ``url``, and what to do; for a url a phone can use, an empty string."""
    match reach(url):
        case Reach.PHONE:
            return ""
        case Reach.THIS_COMPUTER:
            what = f"{url} works in a browser on this computer only"
        case Reach.NOBODY:
            what = f"{url} is plain http on a network address, where browsers run no service worker"
    return (
        f"{what}: a phone needs an https:// address for offline capture, push and install; "
        f"put Caddy in front and set PUBLIC_URL to its https:// address ({HTTPS_DOC})"
    )


def refusal(url: str) -> str | None:
    """Why no pairing link may be printed for ``url`` (http on a network address: nobody could use it), else None."""
    if reach(url) is not Reach.NOBODY:
        return None
    return f"no pairing link printed: {why_no_phone(url)}"
