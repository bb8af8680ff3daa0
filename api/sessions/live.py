"""Reading sessions from Redis: the live state, the user's list, the raw events and the SSE feed."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from datetime import UTC, datetime

import msgspec
from litestar.exceptions import NotFoundException

from adapters import keys
from adapters.sessions import SessionStore, StoredState, decode_update, joined
from api.accounts import Principal
from api.streams import KEEPALIVE_S, StreamLimit, subscribed
from shared.events import Event, decode_stored
from shared.reducer import LiveView, SessionSummary, live_view, summarize

_ENC = msgspec.json.Encoder()


class SessionReader:
    """Read side of the live sessions; every read checks the caller owns the session."""

    def __init__(self, store: SessionStore) -> None:
        self.store = store

    async def _owned(self, principal: Principal, session_id: str) -> None:
        if not await self.store.exists(principal.user_id, session_id):
            # Sessions live under their user: someone else's session of this id is simply not there for the caller.
            raise NotFoundException(detail=f"no session {session_id}")

    async def live(self, principal: Principal, session_id: str) -> LiveView:
        await self._owned(principal, session_id)
        stored = await self.store.state(principal.user_id, session_id)
        if stored is None:
            raise NotFoundException(detail=f"no session {session_id}")
        return live_view(stored.state, datetime.now(UTC))

    async def recent(self, principal: Principal, limit: int = 50, offset: int = 0) -> list[SessionSummary]:
        return _summaries(await self.store.recent_states(principal.user_id, offset, limit))

    async def summaries(self, principal: Principal, session_ids: list[str]) -> list[SessionSummary]:
        """Summaries of the given sessions in the given order; unknown ids and other users' are left out."""
        return _summaries(await self.store.owned_states(principal.user_id, session_ids))

    async def events(self, principal: Principal, session_id: str) -> list[Event]:
        await self._owned(principal, session_id)
        raws = await self.store.stored_events(principal.user_id, session_id)
        return sorted((decode_stored(r) for r in raws), key=lambda e: e.order_key)

    async def feed(
        self, principal: Principal, session_id: str, limit: StreamLimit, keepalive_s: float = KEEPALIVE_S
    ) -> AsyncGenerator[str | None, None]:
        """The current state, then the new state after each accepted batch, as JSON; None asks for a keepalive."""
        async with aclosing(self.views(principal, session_id, limit, keepalive_s)) as views:
            async for view in views:
                yield None if view is None else _ENC.encode(view).decode()

    async def views(
        self, principal: Principal, session_id: str, limit: StreamLimit, keepalive_s: float = 15.0
    ) -> AsyncGenerator[LiveView | None, None]:
        """The live view now, then after each accepted batch; None after ``keepalive_s`` of quiet. Subscribed
        before the first read, so no batch falls between.

        The commit publishes a small ``LiveUpdate`` (the numbers and the batch's new list items): this feed keeps
        the state it showed last and joins each update onto it; an update it already holds is skipped, and one it
        cannot join (lists rebuilt, an update missed) makes it read the state again.

        The feed ends when the caller's device is revoked. Past the user's stream cap it raises
        ``TooManyRequestsException`` before yielding anything.
        """
        await self._owned(principal, session_id)
        async with (
            subscribed(
                self.store.redis, limit, principal, keys.live_channel(principal.user_id, session_id)
            ) as subscription,
            aclosing(subscription.messages(keepalive_s)) as messages,
        ):
            shown = await self.live(principal, session_id)
            state = shown.state
            yield shown
            async for message in messages:
                if message is None:
                    yield None
                    continue
                update = decode_update(message)
                if update.state.version <= state.version:
                    continue  # published before the first read, which already holds it
                fresh = joined(state, update)
                if fresh is None:
                    stored = await self.store.state(principal.user_id, session_id)
                    if stored is None:
                        continue
                    fresh = stored.state
                state = fresh
                yield live_view(state, datetime.now(UTC))


def _summaries(stored: list[StoredState]) -> list[SessionSummary]:
    now = datetime.now(UTC)
    return [summarize(live_view(s.state, now)) for s in stored]
