"""Web Push pieces the API and the workers share: the VAPID key pair, subscription validation, the subscription book.

Pure: ``cryptography`` and ``msgspec`` only. ``PushBook`` takes any client with the few Redis hash commands it
uses (the ``HashStore`` protocol), so the API and the workers store subscriptions through one implementation
without this module importing a database client.

Errors: ``InvalidInput`` for a subscription that breaks a rule, naming the field, the value and the rule.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import logging
import os
import tempfile
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import msgspec
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from adapters import keys
from shared.errors import InvalidInput

log = logging.getLogger(__name__)

VAPID_DIR = "vapid"
VAPID_KEY_FILE = "private_key.pem"
MAX_ENDPOINT_LENGTH = 2048
MAX_SUBSCRIPTIONS_PER_USER = 32  # one per browser profile; re-subscribing replaces, so this is only reached by abuse
_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


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


# --- VAPID keys (RFC 8292) ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VapidKeys:
    """The application server's P-256 key pair; its public half is the browser's ``applicationServerKey``."""

    private_key: ec.EllipticCurvePrivateKey

    @property
    def public_point(self) -> bytes:
        """The 65-byte uncompressed public point."""
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )

    @property
    def application_server_key(self) -> str:
        """Base64url of the uncompressed public point, for ``pushManager.subscribe({applicationServerKey})``."""
        return b64url_encode(self.public_point)

    @property
    def private_pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    @property
    def public_pem(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def load_or_create_vapid(data_dir: Path) -> VapidKeys:
    """Load the VAPID key pair from ``data_dir/vapid/private_key.pem``, creating it (mode 0600) on first start.

    The key must outlive restarts: every browser subscription is bound to it, so a new key silently orphans all
    existing subscriptions (push services answer 401/403 to them).

    Raises:
        ValueError: the file exists but is not a P-256 private key in PEM.
    """
    folder = data_dir / VAPID_DIR
    path = folder / VAPID_KEY_FILE
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fresh = VapidKeys(ec.generate_private_key(ec.SECP256R1()))
        # Written whole to a private temporary file, then linked into place: link() refuses an existing name, so
        # when two processes start at once one key wins, and no reader ever sees a half-written file.
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".vapid-")  # mkstemp creates it 0600
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(fresh.private_pem)
                out.flush()
                os.fsync(out.fileno())
            os.link(tmp, path)
        except FileExistsError:
            pass
        else:
            log.info("created VAPID key %s", path)
            return fresh
        finally:
            os.unlink(tmp)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError(f"{path}: must be a P-256 (prime256v1) private key in PEM, as VAPID requires")
    return VapidKeys(key)


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
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except ValueError:
        raise InvalidInput(f"keys.p256dh {value[:16]!r}… is not a point on the P-256 curve") from None


def _check_auth(value: str) -> None:
    try:
        raw = b64url_decode(value)
    except ValueError:
        raise InvalidInput(f"keys.auth {value[:8]!r}… is not base64url") from None
    if len(raw) != 16:
        raise InvalidInput(f"keys.auth decodes to {len(raw)} bytes; the authentication secret must be 16 bytes")


# --- the book of subscriptions -----------------------------------------------------------------------------------


class HashStore(Protocol):
    """The Redis hash commands ``PushBook`` uses; ``redis.asyncio.Redis`` provides them."""

    def hset(self, name: str, key: str, value: bytes) -> Awaitable[Any]: ...
    def hdel(self, name: str, *keys: str) -> Awaitable[Any]: ...
    def hgetall(self, name: str) -> Awaitable[Any]: ...
    def hexists(self, name: str, key: str) -> Awaitable[Any]: ...
    def hlen(self, name: str) -> Awaitable[Any]: ...


_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder(PushSubscription)


class PushBook:
    """Each user's push subscriptions: one Redis hash, endpoint → subscription JSON."""

    def __init__(self, store: HashStore, *, allow_insecure_endpoints: bool = False) -> None:
        """Args:
        store: a Redis client (``redis.asyncio.Redis``) or anything with its hash commands.
        allow_insecure_endpoints: accept http://127.0.0.1 endpoints; for tests only.
        """
        self._store = store
        self._allow_insecure = allow_insecure_endpoints

    async def add(self, user_id: str, sub: PushSubscription) -> PushSubscription:
        """Validate and store a subscription; the same endpoint again replaces its keys (idempotent)."""
        check_subscription(sub, allow_insecure_endpoints=self._allow_insecure)
        key = keys.push_subscriptions(user_id)
        # Not atomic with the write; two racing adds can overshoot the cap by one, which is harmless.
        known = await self._store.hexists(key, sub.endpoint)
        if not known and await self._store.hlen(key) >= MAX_SUBSCRIPTIONS_PER_USER:
            raise InvalidInput(
                f"this user already has {MAX_SUBSCRIPTIONS_PER_USER} push subscriptions; remove one first"
            )
        await self._store.hset(key, sub.endpoint, _ENCODER.encode(sub))
        return sub

    async def remove(self, user_id: str, endpoint: str) -> bool:
        """Forget one of the user's subscriptions; return whether it was there."""
        removed = await self._store.hdel(keys.push_subscriptions(user_id), endpoint)
        return bool(removed)

    async def list(self, user_id: str) -> list[PushSubscription]:
        """The user's subscriptions, by endpoint; unreadable entries are logged and skipped."""
        raw: dict[Any, Any] = await self._store.hgetall(keys.push_subscriptions(user_id))
        subs: list[PushSubscription] = []
        for endpoint, value in sorted(raw.items()):
            try:
                subs.append(_DECODER.decode(value))
            except msgspec.DecodeError:
                log.warning("skipping unreadable push subscription %r of user %s", endpoint, user_id)
        return subs


__all__ = [
    "MAX_SUBSCRIPTIONS_PER_USER",
    "HashStore",
    "PushBook",
    "PushSubscription",
    "SubscriptionKeys",
    "VapidKeys",
    "b64url_decode",
    "b64url_encode",
    "check_subscription",
    "load_or_create_vapid",
]
