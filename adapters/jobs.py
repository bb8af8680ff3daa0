"""The job queue's names and wire format: msgpack via msgspec (arq's pickle default would run code on load)."""

from __future__ import annotations

from typing import Any

import msgspec
from arq.connections import ArqRedis

DRAIN_JOB = "drain"  # empties the outbox into every sink
DRAIN_JOB_ID = "drain"  # one fixed arq job id: at most one drain is queued at a time
PUSH_JOB = "push_alert"  # sends one tilt alert to a user's push subscriptions


def serialize_job(value: dict[str, Any]) -> bytes:
    return msgspec.msgpack.encode(value)


def deserialize_job(raw: bytes) -> dict[str, Any]:
    result: dict[str, Any] = msgspec.msgpack.decode(raw)
    return result


async def enqueue_drain(queue: ArqRedis) -> None:
    """Queue a drain unless one is already queued (the fixed job id coalesces them)."""
    await queue.enqueue_job(DRAIN_JOB, _job_id=DRAIN_JOB_ID)
