"""Liveness and readiness: /healthz says the process and its Redis answer, /readyz that every dependency does."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import msgspec
from litestar import Response, get
from litestar.di import NamedDependency
from redis.asyncio import Redis

from api.deps import FanoutReader, ReadinessCheck

LIVENESS_TIMEOUT_S = 1.0
READINESS_TIMEOUT_S = 5.0


class Health(msgspec.Struct, frozen=True):
    status: str
    checks: dict[str, str] = {}
    # Fan-out figures for operators: ``dead_letters``, ``outbox_length``, ``backlog_<sink>`` (entries each sink has
    # yet to take) and ``lag_ms_<sink>`` (how long the oldest of them has waited).
    fanout: dict[str, int] = {}


async def run_checks(checks: Mapping[str, ReadinessCheck], timeout: float) -> dict[str, str]:  # noqa: ASYNC109
    """Each check's answer: ``ok``, or ``failing:`` and why (an exception, or no answer within ``timeout``)."""
    results: dict[str, str] = {}
    for name, check in checks.items():
        try:
            await asyncio.wait_for(check(), timeout=timeout)
            results[name] = "ok"
        except Exception as exc:
            results[name] = f"failing: {type(exc).__name__}: {exc}"[:300]
    return results


@get("/healthz", tags=["health"], summary="The process is up and its Redis answers (503 while Redis is down)")
async def healthz(readiness: NamedDependency[dict[str, ReadinessCheck]]) -> Response[Health]:
    # Without Redis this process can take no write: saying "ok" then would hide the outage from the operator.
    checks = await run_checks({"redis": readiness["redis"]}, LIVENESS_TIMEOUT_S)
    ok = checks["redis"] == "ok"
    return Response(Health(status="ok" if ok else "unavailable", checks=checks), status_code=200 if ok else 503)


@get("/readyz", tags=["health"], summary="Redis, ClickHouse, Kafka (when configured) and the tilt model answer")
async def readyz(
    readiness: NamedDependency[dict[str, ReadinessCheck]],
    fanout_figures: NamedDependency[FanoutReader | None],
    redis: NamedDependency[Redis],
) -> Response[Health]:
    checks = await run_checks(readiness, READINESS_TIMEOUT_S)
    ok = all(v == "ok" for v in checks.values())
    fanout: dict[str, int] = {}
    if fanout_figures is not None:
        try:
            fanout = (await asyncio.wait_for(fanout_figures(redis), timeout=READINESS_TIMEOUT_S)).flat()
        except Exception as exc:
            checks["fanout"] = f"failing: {type(exc).__name__}: {exc}"[:300]
    body = Health(status="ok" if ok else "unavailable", checks=checks, fanout=fanout)
    return Response(body, status_code=200 if ok else 503)
