"""Web Push state: the VAPID key pair and its key file, and each user's subscription book in Redis.

Errors: ``InvalidInput`` (from ``shared.push.check_subscription``) for a subscription that breaks a rule.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import msgspec
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from adapters import keys
from shared.errors import InvalidInput
from shared.push import MAX_SUBSCRIPTIONS_PER_USER, PushSubscription, b64url_encode, check_subscription

log = logging.getLogger(__name__)

VAPID_DIR = "vapid"
VAPID_KEY_FILE = "private_key.pem"


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


__all__ = ["HashStore", "PushBook", "VapidKeys", "load_or_create_vapid"]
