"""Reading sessions from Redis: the live state, the user's list, the raw events and the SSE feed."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import UTC, datetime

import msgspec
from litestar.exceptions import NotFoundException
from redis.asyncio import Redis

from adapters import keys
from api.accounts import Principal
from api.events.ingest import StoredState
from api.streams import REVOKED, StreamLimit, subscribed
from shared.events import Event, decode_stored
from shared.reducer import LiveView, SessionSummary, live_view, summarize

_STATE = msgspec.json.Decoder(StoredState)
_ENC = msgspec.json.Encoder()


class SessionReader:
    """Read side of the live sessions; every read checks the caller owns the session."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def _owned(self, principal: Principal, session_id: str) -> None:
        owner = await self.redis.get(keys.session(session_id, "owner"))
        if owner is None or owner.decode() != principal.user_id:
            # Someone else's session answers exactly like a missing one: nothing leaks.
            raise NotFoundException(detail=f"no session {session_id}")

    async def live(self, principal: Principal, session_id: str) -> LiveView:
        await self._owned(principal, session_id)
        raw = await self.redis.get(keys.session(session_id, "state"))
        if raw is None:
            raise NotFoundException(detail=f"no session {session_id}")
        return live_view(_STATE.decode(raw).state, datetime.now(UTC))

    async def recent(self, principal: Principal, limit: int = 50, offset: int = 0) -> list[SessionSummary]:
        ids = await self.redis.zrevrange(keys.user_sessions(principal.user_id), offset, offset + limit - 1)
        if not ids:
            return []
        raws = await self.redis.mget([keys.session(i.decode(), "state") for i in ids])
        now = datetime.now(UTC)
        return [summarize(live_view(_STATE.decode(raw).state, now)) for raw in raws if raw is not None]

    async def events(self, principal: Principal, session_id: str) -> list[Event]:
        await self._owned(principal, session_id)
        raws = await self.redis.hvals(keys.session(session_id, "ev"))
        return sorted((decode_stored(r) for r in raws), key=lambda e: e.order_key)

    async def feed(
        self, principal: Principal, session_id: str, limit: StreamLimit, keepalive_s: float = 15.0
    ) -> AsyncGenerator[str | None, None]:
        """The current state, then the new state after each accepted batch; None asks for a keepalive comment.

        The feed ends when the caller's device is revoked. Past the user's stream cap it raises
        ``TooManyRequestsException`` before yielding anything.
        """
        await self._owned(principal, session_id)
        async with subscribed(self.redis, limit, principal, keys.live_channel(session_id)) as subscription:
            yield _ENC.encode(await self.live(principal, session_id)).decode()
            while True:
                message = await subscription.next(keepalive_s)
                if message is REVOKED:
                    return
                if message is None:
                    yield None
                    continue
                assert isinstance(message, bytes)
                state = _STATE.decode(message).state
                yield _ENC.encode(live_view(state, datetime.now(UTC))).decode()
