"""The worker supervisor: a stop always ends the worker, and losing Redis mid-WATCH starts a new one.

The worker here is a stand-in with arq's ``Worker`` surface that the supervisor uses (``async_run``, ``close``,
``tasks``, ``ctx``, ``on_shutdown``); the real worker against real Redis is in tests/integration/fanout.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from arq.worker import Worker
from redis.exceptions import WatchError

from workers.worker import Supervisor

STOP_WITHIN_S = 5.0


class PollLoop:
    """A poll loop that ignores the first ``deaf`` cancellations (as Python 3.11's wait_for can) or fails."""

    def __init__(self, deaf: int = 0, error: BaseException | None = None) -> None:
        self.deaf = deaf
        self.error = error
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.ctx: dict[str, Any] = {}
        self.on_shutdown = None
        self.closed = False
        self.polling = asyncio.Event()

    async def async_run(self) -> None:
        if self.error is not None:
            raise self.error
        while True:
            self.polling.set()
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                if self.deaf == 0:
                    raise
                self.deaf -= 1

    async def close(self) -> None:
        self.closed = True


async def test_a_stop_the_poll_loop_lost_is_sent_again_until_it_ends() -> None:
    loop = PollLoop(deaf=2)
    supervisor = Supervisor(lambda: cast(Worker, loop))
    task = asyncio.create_task(supervisor.run())
    await asyncio.wait_for(loop.polling.wait(), STOP_WITHIN_S)
    await asyncio.wait_for(supervisor.stop(task), STOP_WITHIN_S)
    assert task.done() and loop.closed


async def test_a_worker_that_lost_redis_mid_watch_is_replaced() -> None:
    # The first worker's poll loop dies as arq's does when the WATCHed connection drops.
    made = [PollLoop(error=WatchError("A ConnectionError occurred on while watching")), PollLoop()]
    supervisor = Supervisor(lambda: cast(Worker, made.pop(0)))
    second = made[1]
    task = asyncio.create_task(supervisor.run())
    await asyncio.wait_for(second.polling.wait(), STOP_WITHIN_S)
    await asyncio.wait_for(supervisor.stop(task), STOP_WITHIN_S)
    assert not made and second.closed
