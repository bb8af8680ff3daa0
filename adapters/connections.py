"""The one Redis client factory: every process (API, worker, CLI) connects the same way."""

from __future__ import annotations

from arq.connections import ArqRedis
from redis import exceptions as redis_errors
from redis.asyncio import ConnectionPool
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff

from adapters.jobs import deserialize_job, serialize_job

MAX_CONNECTIONS = 256


def redis_client(url: str, *, retries: int = 10, backoff_cap_s: float = 2.0) -> ArqRedis:
    """A client for reads, writes and the job queue; it reconnects on its own after a Redis restart.

    Args:
        url: the Redis URL (``unix://`` for the private Redis).
        retries: tries again on connection errors this many times, waiting ``0.05 s × 2^n`` up to
            ``backoff_cap_s``; the API keeps this short so a long outage answers 503 quickly.

    Close it with ``await client.aclose()`` and ``await client.connection_pool.disconnect()``.
    """
    return ArqRedis(
        connection_pool=ConnectionPool.from_url(
            url,
            retry=Retry(ExponentialBackoff(cap=backoff_cap_s, base=0.05), retries),
            retry_on_error=[redis_errors.ConnectionError, redis_errors.TimeoutError],
            max_connections=MAX_CONNECTIONS,
        ),
        job_serializer=serialize_job,
        job_deserializer=deserialize_job,
    )
