"""The arq worker: a coalesced `drain` job fans accepted batches out to every sink; a cron sweeps and trims.

arq handles a few hundred jobs a second, so a job never carries one event: `drain` empties the outbox stream
for every sink in entries of up to 50 x 200 events, and at most one `drain` is queued at a time.
Jobs may run twice (arq's warning): the sinks are idempotent and the stream is acked per sink.

Crash safety: arq marks a running job "in progress" for the largest job timeout + 10 s and skips a queued job
with the same id while the mark lasts. Every job here has a deliberate timeout (so the mark is short), and a
starting worker clears the mark of `drain` (a process killed mid-drain must not freeze the fan-out until the
mark expires; a second drain running meanwhile is harmless, the stream hands each entry to one consumer).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import stamina
from arq import cron, func
from arq.constants import in_progress_key_prefix
from arq.worker import Worker
from redis import exceptions as redis_errors
from redis.asyncio import Redis
from redis.backoff import EqualJitterBackoff

from adapters.connections import redis_client
from adapters.jobs import DRAIN_JOB, DRAIN_JOB_ID, deserialize_job, enqueue_drain, serialize_job
from workers.outbox import DRAIN_BUDGET_S, backlog, drain_safely, ensure_groups, heartbeat, others_alive, trim
from workers.sinks import Sink

log = logging.getLogger(__name__)

TRIM_EVERY_S = 10.0
DRAIN_TIMEOUT_S = DRAIN_BUDGET_S + 20  # the budget, plus one ClickHouse insert that started just before it ran out
SWEEP_TIMEOUT_S = 10.0
# Any other job (a push round: three sends of up to 10 s and the waits between). arq's default of 300 s
# would keep a killed job's in-progress mark for 310 s.
JOB_TIMEOUT_S = 60.0
CLOSE_TIMEOUT_S = 5.0
# No worker call waits on Redis on purpose: a reply this late comes from a connection whose peer went silent.
REPLY_TIMEOUT_S = 10.0
STOP_CHECK_S = 1.0  # how often a stop that was not delivered is sent again (see Supervisor.stop)
DRAIN_MARK = in_progress_key_prefix + DRAIN_JOB_ID  # arq's "in progress" key of the one drain job
REDIS_DOWN = (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError)
# What ends a worker's poll loop when Redis goes away: also a WatchError, which redis-py raises instead of the
# ConnectionError when the connection dies while a pipeline WATCHes (arq's start_jobs does not catch it there).
REDIS_LOST = (*REDIS_DOWN, redis_errors.WatchError)
# A sink that failed waits before it is tried again: 0.5 s doubling to 15 s, with jitter.
_SINK_BACKOFF = EqualJitterBackoff(cap=15.0, base=0.5)


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
        self.draining = 0
        # arq's running jobs of this worker by id (its ``Worker.tasks``, set by build_worker): a drain counts as
        # running from the moment arq set its in-progress mark, long before the job function itself starts.
        self.jobs: dict[str, asyncio.Task[None]] = {}

    async def clear_stale_drain_mark(self) -> None:
        """Clear arq's in-progress mark of `drain` when no live drain holds it.

        Redis dying while arq finishes a drain leaves the mark (for the largest job timeout + 10 s) in a worker
        that lives on; with no drain running here and no other consumer alive, nobody holds it.
        """
        if self.draining or DRAIN_JOB_ID in self.jobs or not await self.redis.exists(DRAIN_MARK):
            return
        if self.sinks and await others_alive(self.redis, self.sinks[0], self.consumer):
            return
        log.warning("clearing a stale in-progress mark of the drain job")
        await self.redis.delete(DRAIN_MARK)

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()

    def ready(self, sink: Sink) -> bool:
        return self._now() >= self._retry_at.get(sink.name, 0.0)

    async def drain(self) -> dict[str, int | None]:
        """Drain every sink not waiting out a backoff; one sink down does not hold the others."""
        await heartbeat(self.redis, self.consumer)
        sinks = [s for s in self.sinks if self.ready(s)]
        self.draining += 1
        try:
            results = await asyncio.gather(*(drain_safely(self.redis, s, self.consumer) for s in sinks))
        finally:
            self.draining -= 1
        for sink, result in zip(sinks, results, strict=True):
            if result is None:
                failures = self._failures.get(sink.name, 0) + 1
                self._failures[sink.name] = failures
                self._retry_at[sink.name] = self._now() + _SINK_BACKOFF.compute(failures)
            else:
                self._failures.pop(sink.name, None)
                self._retry_at.pop(sink.name, None)
        return {s.name: r for s, r in zip(sinks, results, strict=True)}

    async def needs_drain(self) -> bool:
        waiting = await backlog(self.redis, self.sinks, cap=1)
        return any(waiting[s.name] > 0 and self.ready(s) for s in self.sinks)

    async def maybe_trim(self) -> None:
        if self._now() - self._trimmed_at >= TRIM_EVERY_S:
            self._trimmed_at = self._now()
            await trim(self.redis, self.sinks)


async def drain_job(ctx: dict[str, Any]) -> dict[str, int | None]:
    """Deliver the outbox to every sink."""
    fanout: Fanout = ctx["fanout"]
    return await fanout.drain()


async def sweep_job(ctx: dict[str, Any]) -> None:
    """Every second: say this consumer lives, wake a drain for anything left behind, and trim the stream."""
    fanout: Fanout = ctx["fanout"]
    await heartbeat(fanout.redis, fanout.consumer)
    await fanout.clear_stale_drain_mark()
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
    reply_timeout_s: float = REPLY_TIMEOUT_S,
) -> Worker:
    """An arq Worker over these sinks; ``bankroll serve`` runs it in-process, ``bankroll worker`` alone."""
    redis = redis_client(redis_url, reply_timeout_s=reply_timeout_s)
    fanout = Fanout(redis, sinks, consumer)

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["fanout"] = fanout
        # A drain killed with its process left its in-progress mark: without this, no drain runs until it expires.
        await redis.delete(DRAIN_MARK)
        await heartbeat(redis, fanout.consumer)
        await ensure_groups(redis, fanout.sinks)
        if on_startup is not None:
            await on_startup(ctx)

    async def shutdown(ctx: dict[str, Any]) -> None:
        if on_shutdown is not None:
            await on_shutdown(ctx)
        for sink in fanout.sinks:
            await sink.close()

    drain = func(drain_job, name=DRAIN_JOB, keep_result=0, timeout=DRAIN_TIMEOUT_S, max_tries=1000)
    sweep = cron(
        sweep_job,
        name="sweep",
        second=set(range(60)),
        keep_result=0,
        run_at_startup=True,
        timeout=SWEEP_TIMEOUT_S,
        max_tries=3,
    )
    worker = Worker(
        functions=[drain, *extra_functions],
        cron_jobs=[sweep],
        redis_pool=redis,
        job_serializer=serialize_job,
        job_deserializer=deserialize_job,
        on_startup=startup,
        on_shutdown=shutdown,
        poll_delay=0.05,
        handle_signals=handle_signals,
        max_jobs=20,
        keep_result=0,
        job_timeout=JOB_TIMEOUT_S,
    )
    fanout.jobs = worker.tasks
    return worker


async def close_worker(worker: Worker) -> None:
    """Close a worker, also when Redis is gone: what needs no Redis (sinks, clients, the pool) is released."""
    try:
        await asyncio.wait_for(worker.close(), CLOSE_TIMEOUT_S)
        return
    except (*REDIS_DOWN, TimeoutError) as exc:
        log.warning("closing the worker without Redis (%s)", exc)
    # arq's close() stopped at its first Redis call (deleting its health key): release the rest here.
    if worker.on_shutdown is not None:
        try:
            await worker.on_shutdown(worker.ctx)
        except Exception:
            log.exception("the worker's shutdown hook failed")
    pool = worker.ctx.get("redis")
    if pool is not None:
        await pool.connection_pool.disconnect()


class Supervisor:
    """Runs a worker and starts a fresh one whenever Redis vanished under it (arq's loop gives up on an error)."""

    def __init__(self, make: Callable[[], Worker]) -> None:
        self.make = make
        self.worker: Worker | None = None
        self._stopping = False  # a stop reached the running worker (see stop)

    async def run(self) -> None:
        """Run until stopped, restarting the worker with backoff (0.2 s doubling to 2 s) while Redis is down."""

        @stamina.retry(on=REDIS_LOST, attempts=None, timeout=None, wait_initial=0.2, wait_max=2.0, wait_jitter=0.2)
        async def once() -> None:
            self.worker = self.make()
            try:
                await self.worker.async_run()
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    self._stopping = True
                    raise  # we are being stopped
                return  # the worker stopped itself on a signal (it cancels its own main task)
            except REDIS_LOST as exc:
                log.warning("worker lost Redis (%s); starting a new one", exc)
                raise
            finally:
                await close_worker(self.worker)

        await once()

    async def stop(self, task: asyncio.Task[None], grace_s: float = 10.0) -> None:
        """Let running jobs finish (up to ``grace_s``: cancelling a thread mid-insert helps no one), then stop."""
        worker = self.worker
        if worker is not None and worker.tasks:
            await asyncio.wait(list(worker.tasks.values()), timeout=grace_s)
        # One cancel is not always enough: the worker's client sends through asyncio.wait_for (redis-py does when
        # a reply timeout is set), and Python 3.11's wait_for drops a cancellation that lands just as the send
        # completes (CPython gh-86296; 3.12 rewrote wait_for). The poll loop would then run on and this wait
        # never end. So cancel again until the stop is seen, but never once it is: a second cancel would cut
        # the worker's close short.
        while not self._stopping and not task.done():
            task.cancel()
            await asyncio.wait([task], timeout=STOP_CHECK_S)
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def run_supervised(make: Callable[[], Worker]) -> None:
    """Run workers (made with ``handle_signals=False``) under a ``Supervisor`` until SIGTERM or SIGINT.

    The supervisor handles the signals, not arq: arq's handler cancels the poll loop once, and that one
    cancellation can be lost (see ``Supervisor.stop``).
    """
    supervisor = Supervisor(make)
    task = asyncio.create_task(supervisor.run())
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopped.set)
    waiter = asyncio.create_task(stopped.wait())
    try:
        await asyncio.wait([task, waiter], return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        await supervisor.stop(task)
