"""Users, devices and their bearer tokens (stored hashed), and one-time pairing codes."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid

import msgspec
from redis.asyncio import Redis

from adapters import keys
from adapters.logs import bind_user
from shared.errors import InvalidInput, NotAllowed

PAIRING_TTL_S = 15 * 60


class Principal(msgspec.Struct, frozen=True, gc=False):
    """Who is calling: the user and the device whose token was presented."""

    user_id: str
    user_name: str
    device_id: str


class Device(msgspec.Struct, frozen=True, gc=False):
    device_id: str
    label: str
    created_at: float
    token_hash: str
    revoked_at: float | None = None


class NewToken(msgspec.Struct, frozen=True, gc=False):
    user_id: str
    device_id: str
    token: str


def hash_token(token: str) -> str:
    """Tokens are stored as SHA-256: high-entropy secrets need no slow hash, and a leak of Redis leaks no token."""
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    """Account records in Redis."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def add_user(self, name: str, *, admin: bool = False) -> NewToken:
        """Create a user and a first device token ("cli"); a name is taken once. An admin sees the owner's
        overview."""
        name = name.strip()
        if not name or len(name) > 64:
            raise InvalidInput(f"user name {name!r} must be 1–64 characters")
        user_id = uuid.uuid4().hex
        if not await self.redis.hsetnx(keys.USERS, name, user_id):
            raise InvalidInput(f"user {name!r} already exists; use `bankroll device pair {name}` for a new device")
        if admin:
            await self.grant_admin(user_id)
        return await self.add_device(user_id, "cli")

    async def grant_admin(self, user_id: str) -> None:
        """Let the user see the owner's overview (idempotent)."""
        await self.redis.sadd(keys.ADMINS, user_id)

    async def is_admin(self, user_id: str) -> bool:
        return bool(await self.redis.sismember(keys.ADMINS, user_id))

    async def user_id(self, name: str) -> str:
        found = await self.redis.hget(keys.USERS, name)
        if found is None:
            raise InvalidInput(f"no user named {name!r}; create one with `bankroll user add {name}`")
        return found.decode() if isinstance(found, bytes) else str(found)

    async def add_device(self, user_id: str, label: str) -> NewToken:
        """Issue a token for a new device of the user; only its hash is kept."""
        token = "pbt_" + secrets.token_urlsafe(32)
        device_id = uuid.uuid4().hex[:12]
        token_hash = hash_token(token)
        name = await self._user_name(user_id)
        device = Device(device_id=device_id, label=label[:64], created_at=time.time(), token_hash=token_hash)
        principal = Principal(user_id=user_id, user_name=name, device_id=device_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(keys.token(token_hash), msgspec.json.encode(principal))
            pipe.hset(keys.devices(user_id), device_id, msgspec.json.encode(device))
            await pipe.execute()
        return NewToken(user_id=user_id, device_id=device_id, token=token)

    async def _user_name(self, user_id: str) -> str:
        users = await self.redis.hgetall(keys.USERS)
        for name, uid in users.items():
            if (uid.decode() if isinstance(uid, bytes) else uid) == user_id:
                return name.decode() if isinstance(name, bytes) else str(name)
        raise InvalidInput(f"no user with id {user_id}")

    async def authenticate(self, token: str) -> Principal:
        """Resolve a bearer token, or raise NotAllowed (unknown and revoked tokens look the same); the request's
        log lines name the user from here on."""
        raw = await self.redis.get(keys.token(hash_token(token)))
        if raw is None:
            raise NotAllowed("the token is unknown or revoked; pair this device again")
        principal = msgspec.json.decode(raw, type=Principal)
        bind_user(principal.user_id)
        return principal

    async def devices(self, user_id: str) -> list[Device]:
        raw = await self.redis.hvals(keys.devices(user_id))
        return sorted((msgspec.json.decode(r, type=Device) for r in raw), key=lambda d: d.created_at)

    async def is_active(self, principal: Principal) -> bool:
        """Whether the caller's device is still known and not revoked."""
        raw = await self.redis.hget(keys.devices(principal.user_id), principal.device_id)
        return raw is not None and msgspec.json.decode(raw, type=Device).revoked_at is None

    async def revoke(self, user_id: str, device_id: str) -> Device:
        """Revoke a device: its token stops working at once and its open streams end; its events stay."""
        raw = await self.redis.hget(keys.devices(user_id), device_id)
        if raw is None:
            raise InvalidInput(f"no device {device_id!r} for this user")
        device = msgspec.json.decode(raw, type=Device)
        revoked = msgspec.structs.replace(device, revoked_at=device.revoked_at or time.time())
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(keys.token(device.token_hash))
            pipe.hset(keys.devices(user_id), device_id, msgspec.json.encode(revoked))
            pipe.publish(keys.revoked_channel(device_id), b"revoked")  # every open stream of the device ends
            await pipe.execute()
        return revoked

    async def create_pairing(self, user_id: str, label: str) -> str:
        """A one-time code, valid 15 minutes, that a phone trades for its own device token."""
        code = secrets.token_urlsafe(18)
        # Stored under its hash, like tokens: whoever reads Redis or its AOF cannot redeem a pending code.
        await self.redis.set(keys.pairing(hash_token(code)), msgspec.json.encode([user_id, label]), ex=PAIRING_TTL_S)
        return code

    async def redeem_pairing(self, code: str, label: str | None = None) -> NewToken:
        """Trade a pairing code for a device token; a code works once."""
        raw = await self.redis.getdel(keys.pairing(hash_token(code)))
        if raw is None:
            raise NotAllowed("this pairing link is unknown, used or expired; run `bankroll device pair NAME` again")
        user_id, default_label = msgspec.json.decode(raw, type=tuple[str, str])
        return await self.add_device(user_id, label or default_label)
