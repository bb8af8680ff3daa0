"""Open server-sent streams: a per-user cap, Redis subscriptions that always close, and revocation that ends them.

Every stream holds one Redis connection (its subscription) for as long as the phone keeps it open, and phones
reconnect EventSource all day. So the subscription is closed under a shield (a client leaving cancels the request,
and a cancelled close would leak the connection), each user may hold only so many streams in this process, and a
revoked device's streams end within a second: ``Accounts.revoke`` publishes on the device's revocation channel,
to which every stream of that device is subscribed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import aclosing, asynccontextmanager, contextmanager
from typing import Final

import anyio
from litestar.exceptions import TooManyRequestsException
from litestar.response import ServerSentEventMessage
from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from adapters import keys
from api.accounts import Accounts, Principal

KEEPALIVE_S: Final = 15.0  # a comment this often keeps proxies and phones from closing an idle stream
RETRY_AFTER_S: Final = 5  # told to a client past its stream cap: streams of a closed tab end within this
_CLOSE_TIMEOUT_S: Final = 5.0


class Revoked:
    """What ``Subscription.next`` returns once the device's token is revoked: the stream must end."""


REVOKED: Final = Revoked()


class StreamLimit:
    """Counts each user's open streams in this process and refuses one past the cap (429 with Retry-After)."""

    def __init__(self, per_user: int) -> None:
        self.per_user = per_user
        self._open: Counter[str] = Counter()

    def open_for(self, user_id: str) -> int:
        return self._open[user_id]

    def total(self) -> int:
        """Open streams of every user here (a metric)."""
        return sum(self._open.values())

    @contextmanager
    def hold(self, user_id: str) -> Iterator[None]:
        """Count one open stream of the user while the block runs.

        Raises:
            TooManyRequestsException: the user already holds ``per_user`` streams here.
        """
        if self._open[user_id] >= self.per_user:
            raise TooManyRequestsException(
                detail=f"too many open streams: at most {self.per_user} per user (MAX_STREAMS_PER_USER); "
                "close another tab or device's live screen",
                headers={"Retry-After": str(RETRY_AFTER_S)},
            )
        self._open[user_id] += 1
        try:
            yield
        finally:
            self._open[user_id] -= 1
            if self._open[user_id] <= 0:
                del self._open[user_id]


class Subscription:
    """Messages on a stream's channels; the device's revocation ends it."""

    def __init__(self, pubsub: PubSub, revoked_channel: bytes, *, active: bool) -> None:
        self._pubsub = pubsub
        self._revoked_channel = revoked_channel
        self._active = active

    async def next(self, timeout: float) -> bytes | Revoked | None:  # noqa: ASYNC109 — redis-py's own wait
        """The next message's data, ``REVOKED``, or None when nothing came within ``timeout`` seconds."""
        if not self._active:
            return REVOKED
        message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=timeout)
        if message is None:
            return None
        if message["channel"] == self._revoked_channel:
            return REVOKED
        data: bytes = message["data"]
        return data

    async def messages(self, keepalive_s: float) -> AsyncGenerator[bytes | None, None]:
        """Each message's data as it comes; None after ``keepalive_s`` of quiet (time for a keepalive); ends when
        the device is revoked. The one read loop of every stream (live sessions, alerts, GraphQL subscriptions)."""
        while True:
            message = await self.next(keepalive_s)
            if isinstance(message, Revoked):
                return
            yield message


async def close_subscription(pubsub: PubSub) -> None:
    """Close a subscription even while the request is being cancelled: a cancelled close leaks its connection."""
    with anyio.CancelScope(shield=True), anyio.move_on_after(_CLOSE_TIMEOUT_S):
        # aclose disconnects the connection before returning it to the pool: Redis drops the subscription with it.
        await pubsub.aclose()


@asynccontextmanager
async def subscribed(
    redis: Redis, limit: StreamLimit, principal: Principal, *channels: str
) -> AsyncIterator[Subscription]:
    """Subscribe to ``channels`` for one open stream of ``principal``.

    Raises:
        TooManyRequestsException: past the user's stream cap.
    """
    revoked_channel = keys.revoked_channel(principal.device_id)
    with limit.hold(principal.user_id):
        pubsub = redis.pubsub()
        try:
            await pubsub.subscribe(*channels, revoked_channel)
            # A revocation published between authentication and the subscription would be missed: look once more.
            active = await Accounts(redis).is_active(principal)
            yield Subscription(pubsub, revoked_channel.encode(), active=active)
        finally:
            await close_subscription(pubsub)


async def revocation_feed(
    redis: Redis, limit: StreamLimit, principal: Principal, keepalive_s: float = KEEPALIVE_S
) -> AsyncGenerator[str | None, None]:
    """``"ready"``, keepalives (None) until the device is revoked, then ``"revoked"`` and the end."""
    async with (
        subscribed(redis, limit, principal) as subscription,
        aclosing(subscription.messages(keepalive_s)) as feed,
    ):
        yield "ready"
        async for _ in feed:  # no channel but the revocation's: only keepalives come
            yield None
        yield "revoked"


async def sse_messages(
    first: str | None, rest: AsyncGenerator[str | None, None], event: str = "state"
) -> AsyncIterator[ServerSentEventMessage]:
    """A feed as server-sent events: each item the data of one ``event``, None a keepalive comment.

    The feed is closed when the client leaves (or the feed ends), shielded: a cancelled close would leak its
    Redis connection until the garbage collector came by.
    """
    try:
        yield _message(first, event)
        async for item in rest:
            yield _message(item, event)
    finally:
        with anyio.CancelScope(shield=True):
            await rest.aclose()


def _message(item: str | None, event: str) -> ServerSentEventMessage:
    if item is None:
        return ServerSentEventMessage(comment="keepalive", data=None)
    return ServerSentEventMessage(data=item, event=event)
