"""Web Push rules the API and the workers share: base64url and the checks a browser subscription must pass.

Pure: no key files, no store, no crypto client; the P-256 point check is the curve equation. The key pair and the
subscription book live in ``adapters.push``.

Errors: ``InvalidInput`` for a subscription that breaks a rule, naming the field, the value and the rule.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from urllib.parse import urlsplit

import msgspec

from shared.errors import InvalidInput

MAX_ENDPOINT_LENGTH = 2048
MAX_SUBSCRIPTIONS_PER_USER = 32  # one per browser profile; re-subscribing replaces, so this is only reached by abuse
_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

# NIST P-256 (FIPS 186-4 D.1.2.3, SEC 2 §2.4.2): y² = x³ - 3x + b over GF(p).
_P256_P = 2**256 - 2**224 + 2**192 + 2**96 - 1
_P256_B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B


def b64url_encode(raw: bytes) -> str:
    """Unpadded base64url, the encoding of every key in Web Push (RFC 8291 §3.2, RFC 8292 §3.2)."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode base64url with or without padding; raise ``ValueError`` on characters outside the alphabet."""
    padded = text + "=" * (-len(text) % 4)
    try:
        return base64.b64decode(padded, altchars=b"-_", validate=True)
    except binascii.Error as exc:
        raise ValueError(str(exc)) from None


# --- subscriptions -----------------------------------------------------------------------------------------------


class SubscriptionKeys(msgspec.Struct, frozen=True):
    """The browser's keys: its ECDH public key and the authentication secret (RFC 8291 §3)."""

    p256dh: str
    auth: str


class PushSubscription(msgspec.Struct, frozen=True):
    """``PushSubscription.toJSON()`` from the browser; other fields it sends (``expirationTime``) are ignored."""

    endpoint: str
    keys: SubscriptionKeys


def check_subscription(sub: PushSubscription, *, allow_insecure_endpoints: bool = False) -> PushSubscription:
    """Return ``sub`` if it can be pushed to, else raise ``InvalidInput`` naming the field and the rule.

    Args:
        sub: the subscription as sent by the browser.
        allow_insecure_endpoints: accept ``http://`` endpoints on 127.0.0.1 / localhost — for tests only.
    """
    _check_endpoint(sub.endpoint, allow_insecure_endpoints)
    _check_p256dh(sub.keys.p256dh)
    _check_auth(sub.keys.auth)
    return sub


def _check_endpoint(endpoint: str, allow_insecure: bool) -> None:
    if len(endpoint) > MAX_ENDPOINT_LENGTH:
        raise InvalidInput(f"endpoint is {len(endpoint)} characters long; at most {MAX_ENDPOINT_LENGTH} are allowed")
    try:
        parts = urlsplit(endpoint)
        host = parts.hostname or ""
        parts.port  # noqa: B018 — raises ValueError on a bad port
    except ValueError as exc:
        raise InvalidInput(f"endpoint {endpoint!r} is not a valid URL: {exc}") from None
    if parts.username is not None or parts.password is not None or parts.fragment:
        raise InvalidInput(f"endpoint {endpoint!r} must not carry credentials or a fragment")
    local = host in _LOCAL_HOSTS
    if parts.scheme == "http" and allow_insecure and local:
        return
    if parts.scheme != "https" or not host:
        raise InvalidInput(f"endpoint {endpoint!r} must be an https:// URL of a push service (RFC 8030 §8)")
    if allow_insecure:
        return
    # Push services live on the public internet; an IP literal of a private network is an attempt to make this
    # server POST into its own network. (A public name that resolves to a private address is not caught here.)
    if local or _private_ip(host):
        raise InvalidInput(f"endpoint {endpoint!r} points into a private network; push services are public")


def _private_ip(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return not address.is_global


def _check_p256dh(value: str) -> None:
    try:
        raw = b64url_decode(value)
    except ValueError:
        raise InvalidInput(f"keys.p256dh {value[:16]!r}… is not base64url") from None
    if len(raw) != 65 or raw[0] != 0x04:
        raise InvalidInput(
            f"keys.p256dh decodes to {len(raw)} bytes; it must be a 65-byte uncompressed P-256 point (0x04‖X‖Y)"
        )
    if not _on_p256(int.from_bytes(raw[1:33]), int.from_bytes(raw[33:])):
        raise InvalidInput(f"keys.p256dh {value[:16]!r}… is not a point on the P-256 curve") from None


def _on_p256(x: int, y: int) -> bool:
    """Whether (x, y) is a point of P-256: both coordinates in the field and the curve equation holds."""
    return x < _P256_P and y < _P256_P and (y * y - (x * x * x - 3 * x + _P256_B)) % _P256_P == 0


def _check_auth(value: str) -> None:
    try:
        raw = b64url_decode(value)
    except ValueError:
        raise InvalidInput(f"keys.auth {value[:8]!r}… is not base64url") from None
    if len(raw) != 16:
        raise InvalidInput(f"keys.auth decodes to {len(raw)} bytes; the authentication secret must be 16 bytes")


__all__ = [
    "MAX_SUBSCRIPTIONS_PER_USER",
    "PushSubscription",
    "SubscriptionKeys",
    "b64url_decode",
    "b64url_encode",
    "check_subscription",
]
