"""Push dependencies: the subscription book over the shared Redis (the VAPID keys are a shared dependency)."""

from __future__ import annotations

from litestar.di import NamedDependency
from redis.asyncio import Redis

from adapters.push import PushBook


def provide_push_book(redis: NamedDependency[Redis], insecure_push: NamedDependency[bool]) -> PushBook:
    return PushBook(redis, allow_insecure_endpoints=insecure_push)
