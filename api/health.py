"""Liveness and readiness: /healthz says the process runs, /readyz that its dependencies answer."""

from __future__ import annotations

import asyncio

import msgspec
from litestar import Response, get
from litestar.datastructures import State


class Health(msgspec.Struct, frozen=True):
    status: str
    checks: dict[str, str] = {}
    # Fan-out figures for operators: ``dead_letters`` and ``backlog_<sink>`` (entries each sink has yet to take).
    fanout: dict[str, int] = {}


@get("/healthz", tags=["health"], summary="The process is up")
async def healthz() -> Health:
    return Health(status="ok")


@get("/readyz", tags=["health"], summary="Redis, ClickHouse, Kafka (when configured) and the tilt model answer")
async def readyz(state: State) -> Response[Health]:
    checks: dict[str, str] = {}
    for name, check in state.readiness.items():
        try:
            await asyncio.wait_for(check(), timeout=5)
            checks[name] = "ok"
        except Exception as exc:
            checks[name] = f"failing: {type(exc).__name__}: {exc}"[:300]
    ok = all(v == "ok" for v in checks.values())
    fanout: dict[str, int] = {}
    figures = state.get("fanout_figures")
    if figures is not None:
        try:
            fanout = await asyncio.wait_for(figures(state.redis), timeout=5)
        except Exception as exc:
            checks["fanout"] = f"failing: {type(exc).__name__}: {exc}"[:300]
    body = Health(status="ok" if ok else "unavailable", checks=checks, fanout=fanout)
    return Response(body, status_code=200 if ok else 503)
