"""The one Redis client factory: every process (API, worker, CLI) connects the same way."""

from __future__ import annotations

from typing import Any

from arq.connections import ArqRedis
from redis import exceptions as redis_errors
from redis.asyncio import ConnectionPool
from redis.asyncio.client import Pipeline
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff

from adapters.jobs import deserialize_job, serialize_job

MAX_CONNECTIONS = 256


class _Pipeline(Pipeline):  # type: ignore[misc]  # redis-py is read as untyped (see pyproject's mypy section)
    """redis-py's pipeline, which always gives its connection back when it is reset.

    redis-py's ``reset`` sends UNWATCH when the pipeline was watching, reconnecting first if the connection had
    died, and gives the connection back only if that succeeds or fails with a ``ConnectionError``. A cancellation
    or a timeout there (arq's WATCH pipeline when the worker is stopped while Redis is gone or silent) left the
    pipeline holding a dead connection, which warned (ResourceWarning) when the pipeline was collected, and the
    reconnection itself could wait out every retry. Here a closed connection is not reopened just to UNWATCH
    (closing it dropped the WATCH), and whatever fails, the connection is dropped and released.
    """

    connection: Any
    watching: bool

    async def reset(self) -> None:
        if self.watching and self.connection is not None and not self.connection.is_connected:
            self.watching = False
        try:
            await super().reset()
        except BaseException:
            connection, self.connection = self.connection, None
            self.watching = False
            if connection is not None:
                # Dropping it also drops its WATCH; nowait: the peer may never answer.
                await connection.disconnect(nowait=True)
                await self.connection_pool.release(connection)
            raise


class _Client(ArqRedis):
    """arq's client whose pipelines are ``_Pipeline`` (arq's own WATCH pipelines included)."""

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> _Pipeline:
        return _Pipeline(self.connection_pool, self.response_callbacks, transaction, shard_hint)


def redis_client(
    url: str, *, retries: int = 10, backoff_cap_s: float = 2.0, reply_timeout_s: float | None = None
) -> ArqRedis:
    """A client for reads, writes and the job queue; it reconnects on its own after a Redis restart.

    Args:
        url: the Redis URL (``unix://`` for the private Redis).
        retries: tries again on connection errors this many times, waiting ``0.05 s × 2^n`` up to
            ``backoff_cap_s``; the API keeps this short so a long outage answers 503 quickly.
        reply_timeout_s: the longest a reply may take (also bounds connecting and closing). A connection whose
            reply never comes (its peer went silent) then fails with ``TimeoutError`` instead of hanging its caller
            for good; a timeout is not tried again on the same client, so the caller learns of it after one wait.
            Only for clients that never block on purpose (the worker); pub/sub readers wait on idle sockets.

    Close it with ``await client.aclose()`` and ``await client.connection_pool.disconnect()``.
    """
    # redis-py's Retry tries timeouts again unless told otherwise: with a reply deadline that would wait it
    # out ``retries`` times over.
    retry_on: tuple[type[redis_errors.RedisError], ...] = (redis_errors.ConnectionError,)
    if reply_timeout_s is None:
        retry_on += (redis_errors.TimeoutError,)
    return _Client(
        connection_pool=ConnectionPool.from_url(
            url,
            retry=Retry(ExponentialBackoff(cap=backoff_cap_s, base=0.05), retries, supported_errors=retry_on),
            retry_on_error=list(retry_on),
            max_connections=MAX_CONNECTIONS,
            # No TCP keepalive: it is refused by unix:// connections (the private Redis), and it detects a
            # vanished host after minutes, not a silent peer; the reply deadline does.
            socket_timeout=reply_timeout_s,
        ),
        job_serializer=serialize_job,
        job_deserializer=deserialize_job,
    )
