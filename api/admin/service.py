"""What the owner's overview shows, read from the same places ``/metrics`` reads (Redis, the fan-out figures)."""

from __future__ import annotations

from datetime import datetime

import msgspec
from redis.asyncio import Redis

from adapters import keys
from adapters import metrics as worker_metrics
from adapters.sessions import SessionStore
from api.accounts import Accounts
from api.deps import FanoutReader

LIVE_SCAN = 20  # the newest sessions of each user looked at for live ones (a live session is a recent one)


class LiveSession(msgspec.Struct, frozen=True, kw_only=True):
    user: str
    session_id: str
    game: str
    currency: str
    small_blind: int  # minor units (chips at a tournament)
    big_blind: int
    started_at: datetime | None


class DeviceSeen(msgspec.Struct, frozen=True, kw_only=True):
    device_id: str
    label: str
    paired_at: float  # seconds since the epoch, UTC
    revoked: bool


class UserView(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    admin: bool
    devices: list[DeviceSeen]


class SinkView(msgspec.Struct, frozen=True, kw_only=True):
    sink: str
    backlog: int
    lag_s: float
    dead_letters: int


class Count(msgspec.Struct, frozen=True, kw_only=True):
    family: str  # the worker metric (bankroll_pushes, bankroll_tilt_alerts, ...)
    labels: dict[str, str]
    value: float


class Overview(msgspec.Struct, frozen=True, kw_only=True):
    live_sessions: list[LiveSession]
    sinks: list[SinkView]
    outbox_length: int
    worker_counts: list[Count]  # the workers' counters since Redis began keeping them
    users: list[UserView]


class AdminService:
    """Reads the overview; the caller must be an admin (``Accounts.is_admin``)."""

    def __init__(self, redis: Redis, sessions: SessionStore, fanout: FanoutReader | None) -> None:
        self.redis = redis
        self.accounts = Accounts(redis)
        self.sessions = sessions
        self.fanout = fanout

    async def overview(self) -> Overview:
        users_raw: dict[bytes, bytes] = await self.redis.hgetall(keys.USERS)
        users = sorted((n.decode(), u.decode()) for n, u in users_raw.items())
        live: list[LiveSession] = []
        views: list[UserView] = []
        for name, user_id in users:
            for stored in await self.sessions.recent_states(user_id, 0, LIVE_SCAN):
                s = stored.state
                if s.status in ("active", "on_break"):
                    live.append(
                        LiveSession(
                            user=name,
                            session_id=s.session_id,
                            game=s.game,
                            currency=s.currency,
                            small_blind=s.small_blind,
                            big_blind=s.big_blind,
                            started_at=s.started_at,
                        )
                    )
            devices = [
                DeviceSeen(
                    device_id=d.device_id, label=d.label, paired_at=d.created_at, revoked=d.revoked_at is not None
                )
                for d in await self.accounts.devices(user_id)
            ]
            views.append(UserView(name=name, admin=await self.accounts.is_admin(user_id), devices=devices))
        sinks: list[SinkView] = []
        outbox_length = 0
        if self.fanout is not None:
            figures = await self.fanout(self.redis)
            outbox_length = figures.outbox_length
            sinks = [
                SinkView(
                    sink=sink,
                    backlog=figures.backlog.get(sink, 0),
                    lag_s=figures.lag_s.get(sink, 0.0),
                    dead_letters=figures.dead_letters.get(sink, 0),
                )
                for sink in sorted(set(figures.backlog) | set(figures.dead_letters))
            ]
        counts = [
            Count(family=family.name, labels=dict(zip(family.labels, series.labels, strict=False)), value=series.value)
            for family, all_series in (await worker_metrics.read(self.redis)).items()
            if family.kind == "counter"
            for series in all_series
        ]
        live.sort(key=lambda x: (x.started_at is None, x.started_at), reverse=False)
        return Overview(live_sessions=live, sinks=sinks, outbox_length=outbox_length, worker_counts=counts, users=views)
