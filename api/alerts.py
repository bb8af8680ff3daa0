"""The caller's tilt alerts: the latest ones the tilt worker kept, and each new one as it is raised."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing

import msgspec
from redis.asyncio import Redis

from adapters import keys
from api.accounts import Principal
from api.streams import StreamLimit, subscribed
from shared.tilt_policy import Alert

_ALERT = msgspec.json.Decoder(Alert)


class AlertReader:
    """Read side of the alerts the tilt sink writes (a short list per user, and a pub/sub channel)."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def recent(self, principal: Principal, limit: int) -> list[Alert]:
        """The caller's latest alerts, newest first."""
        raws = await self.redis.lrange(keys.alerts(principal.user_id), 0, limit - 1)
        return [_ALERT.decode(raw) for raw in raws]

    async def feed(
        self, principal: Principal, limit: StreamLimit, keepalive_s: float = 15.0
    ) -> AsyncGenerator[Alert | None, None]:
        """Each new alert of the caller as the tilt worker raises it; None after ``keepalive_s`` of quiet.

        Counts as one of the user's open streams; ends when the caller's device is revoked.
        """
        async with (
            subscribed(self.redis, limit, principal, keys.alert_channel(principal.user_id)) as subscription,
            aclosing(subscription.messages(keepalive_s)) as messages,
        ):
            async for message in messages:
                yield None if message is None else _ALERT.decode(message)
