"""The device service: pairing, listing and revoking, on top of ``api.accounts.Accounts``."""

from __future__ import annotations

import msgspec
from redis.asyncio import Redis

from api.accounts import Accounts, Principal


class PairRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    code: str
    label: str | None = None


class Paired(msgspec.Struct, frozen=True):
    token: str
    device_id: str
    user_id: str


class DeviceView(msgspec.Struct, frozen=True):
    """A device as its owner sees it: never the token or its hash."""

    device_id: str
    label: str
    created_at: float
    revoked_at: float | None
    current: bool


class DeviceService:
    """Pair, list and revoke the caller's devices."""

    def __init__(self, redis: Redis) -> None:
        self.accounts = Accounts(redis)

    async def pair(self, request: PairRequest) -> Paired:
        """Trade a one-time pairing code for this device's own token (the code is the credential)."""
        label = (request.label or "").strip()[:64] or None
        new = await self.accounts.redeem_pairing(request.code.strip(), label)
        return Paired(token=new.token, device_id=new.device_id, user_id=new.user_id)

    async def list(self, principal: Principal) -> list[DeviceView]:
        return [
            DeviceView(
                device_id=d.device_id,
                label=d.label,
                created_at=d.created_at,
                revoked_at=d.revoked_at,
                current=d.device_id == principal.device_id,
            )
            for d in await self.accounts.devices(principal.user_id)
        ]

    async def revoke(self, principal: Principal, device_id: str) -> DeviceView:
        device = await self.accounts.revoke(principal.user_id, device_id)
        return DeviceView(
            device_id=device.device_id,
            label=device.label,
            created_at=device.created_at,
            revoked_at=device.revoked_at,
            current=device.device_id == principal.device_id,
        )
