"""Per-user rate limits and quotas, counted in Redis: batches per second and new sessions per UTC day.

Past a limit the API answers 429 with ``Retry-After`` (seconds until the window that counted it is over); the
PWA's outbox keeps the batch and sends it again then, so nothing is lost.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from litestar.exceptions import TooManyRequestsException
from redis.asyncio import Redis

from adapters import keys


def _too_many(detail: str, retry_after_s: int) -> TooManyRequestsException:
    return TooManyRequestsException(detail=detail, headers={"Retry-After": str(max(1, retry_after_s))})


class Limits:
    """One user's rate limit and quota checks, against the shared Redis."""

    def __init__(self, redis: Redis, *, batches_per_second: int, sessions_per_day: int) -> None:
        self.redis = redis
        self.batches_per_second = batches_per_second
        self.sessions_per_day = sessions_per_day

    async def count_batch(self, user_id: str) -> None:
        """Count one posted batch in the user's current second.

        Raises:
            TooManyRequestsException: the user already posted ``batches_per_second`` batches this second.
        """
        key = keys.rate(user_id, "batches", int(time.time()))
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, 2)
            count, _ = await pipe.execute()
        if count > self.batches_per_second:
            per = self.batches_per_second
            raise _too_many(f"more than {per} batches per second from this user; send them one at a time", 1)

    async def check_new_session(self, user_id: str) -> None:
        """Raises ``TooManyRequestsException`` when today's quota of new sessions is used up (nothing is written)."""
        day, rest = _day_and_rest(time.time())
        used = int(await self.redis.get(keys.rate(user_id, "sessions", day)) or 0)
        if used >= self.sessions_per_day:
            raise _too_many(
                f"{self.sessions_per_day} new sessions today already, the most one user may start per day (UTC); "
                "events of sessions already started are still taken",
                rest,
            )

    async def spend_new_session(self, user_id: str) -> None:
        """Count one session started now."""
        day, rest = _day_and_rest(time.time())
        key = keys.rate(user_id, "sessions", day)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, rest + 3600)
            await pipe.execute()


def _day_and_rest(now: float) -> tuple[str, int]:
    moment = datetime.fromtimestamp(now, UTC)
    midnight = datetime(moment.year, moment.month, moment.day, tzinfo=UTC).timestamp() + 86400
    return moment.date().isoformat(), int(midnight - now) + 1
