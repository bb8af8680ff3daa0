"""The arq worker: a coalesced `drain` job fans accepted batches out to every sink; a cron sweeps and trims.

arq handles a few hundred jobs a second, so a job never carries one event: `drain` empties the outbox stream
for every sink in entries of up to 50 x 200 events, and at most one `drain` is queued at a time.
Jobs may run twice (arq's warning): the sinks are idempotent and the stream is acked per sink.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from arq import cron, func
from arq.worker import Worker
from redis import exceptions as redis_errors
from redis.asyncio import Redis

from adapters.connections import redis_client
from adapters.jobs import DRAIN_JOB, deserialize_job, enqueue_drain, serialize_job
from workers.outbox import backlog, drain_safely, ensure_groups, trim
from workers.sinks import Sink

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 15.0
TRIM_EVERY_S = 10.0


class Fanout:
    """The sinks, their backoff after failures, and this worker's consumer name."""

    def __init__(self, redis: Redis, sinks: Sequence[Sink], consumer: str | None = None) -> None:
        self.redis = redis
        self.sinks = list(sinks)
        # Stable per process: a worker restarted after a Redis outage picks up its own unacked entries at once.
        self.consumer = consumer or f"w-{uuid.uuid4().hex[:10]}"
        self._retry_at: dict[str, float] = {}
        self._failures: dict[str, int] = {}
        self._trimmed_at = 0.0

    def ready(self, sink: Sink) -> bool:
        return time.monotonic() >= self._retry_at.get(sink.name, 0.0)

    async def drain(self) -> dict[str, int | None]:
        """Drain every sink not waiting out a backoff; one sink down does not hold the others."""
        sinks = [s for s in self.sinks if self.ready(s)]
        results = await asyncio.gather(*(drain_safely(self.redis, s, self.consumer) for s in sinks))
        for sink, result in zip(sinks, results, strict=True):
            if result is None:
                failures = self._failures.get(sink.name, 0) + 1
                self._failures[sink.name] = failures
                self._retry_at[sink.name] = time.monotonic() + min(MAX_BACKOFF_S, 0.5 * 2**failures)
            else:
                self._failures.pop(sink.name, None)
                self._retry_at.pop(sink.name, None)
        return {s.name: r for s, r in zip(sinks, results, strict=True)}

    async def needs_drain(self) -> bool:
        waiting = await backlog(self.redis, self.sinks)
        return any(n > 0 and self.ready(s) for s, n in zip(self.sinks, waiting.values(), strict=True))

    async def maybe_trim(self) -> None:
        if time.monotonic() - self._trimmed_at >= TRIM_EVERY_S:
            self._trimmed_at = time.monotonic()
            await trim(self.redis, self.sinks)


async def drain_job(ctx: dict[str, Any]) -> dict[str, int | None]:
    """Deliver the outbox to every sink."""
    fanout: Fanout = ctx["fanout"]
    return await fanout.drain()


async def sweep_job(ctx: dict[str, Any]) -> None:
    """Every second: wake a drain for anything left behind (failed sinks, races) and trim the stream."""
    fanout: Fanout = ctx["fanout"]
    if await fanout.needs_drain():
        await enqueue_drain(ctx["redis"])
    await fanout.maybe_trim()


def build_worker(
    redis_url: str,
    sinks: Sequence[Sink],
    *,
    on_startup: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
    on_shutdown: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
    handle_signals: bool = True,
    extra_functions: Sequence[Any] = (),
    consumer: str | None = None,
) -> Worker:
    """An arq Worker over these sinks; ``bankroll serve`` runs it in-process, ``bankroll worker`` alone."""
    redis = redis_client(redis_url)
    fanout = Fanout(redis, sinks, consumer)

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["fanout"] = fanout
        await ensure_groups(redis, fanout.sinks)
        if on_startup is not None:
            await on_startup(ctx)

    async def shutdown(ctx: dict[str, Any]) -> None:
        if on_shutdown is not None:
            await on_shutdown(ctx)
        for sink in fanout.sinks:
            await sink.close()

    return Worker(
        functions=[func(drain_job, name=DRAIN_JOB, keep_result=0, timeout=120, max_tries=1000), *extra_functions],
        cron_jobs=[cron(sweep_job, name="sweep", second=set(range(60)), keep_result=0, run_at_startup=True)],
        redis_pool=redis,
        job_serializer=serialize_job,
        job_deserializer=deserialize_job,
        on_startup=startup,
        on_shutdown=shutdown,
        poll_delay=0.05,
        handle_signals=handle_signals,
        max_jobs=20,
        keep_result=0,
    )


async def run_supervised(make: Callable[[], Worker], retry_delay_s: float = 1.0) -> None:
    """Run a worker, and start a fresh one when Redis vanished under it (arq's poll loop does not reconnect)."""
    while True:
        worker = make()
        try:
            await worker.async_run()
            return
        except (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError) as exc:
            log.warning("worker lost Redis (%s); starting again in %.0f s", exc, retry_delay_s)
            await worker.close()
            await asyncio.sleep(retry_delay_s)
