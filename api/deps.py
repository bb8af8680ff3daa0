"""Dependencies every area shares: the adapters (Redis, the session store, the warehouse), the caller, the kick.

``create_app`` puts the adapters on ``app.state`` once, at start-up, and provides them to handlers by name; handlers
and the areas' own ``deps.py`` providers take them as parameters and never read ``app.state`` themselves.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotAuthorizedException
from redis.asyncio import Redis

from adapters.clickhouse import Warehouse
from adapters.outbox import FanoutFigures
from adapters.push import VapidKeys
from adapters.sessions import SessionStore
from api.accounts import Accounts, Principal
from api.events.ingest import EventTally
from api.stats.cache import FigureCache, figure_cache
from api.streams import StreamLimit
from shared.errors import NotAllowed
from shared.settings import Settings

ReadinessCheck = Callable[[], Awaitable[None]]
FanoutReader = Callable[[Redis], Awaitable[FanoutFigures]]  # the fan-out's lag, backlog and dead-letter figures


class DrainKick:
    """Wakes the workers after accepted events; throttled, because a queued drain already covers later batches."""

    def __init__(self, enqueue: Callable[[], Awaitable[Any]], min_interval_s: float = 0.02) -> None:
        self._enqueue = enqueue
        self._min_interval_s = min_interval_s
        self._last = 0.0

    async def kick(self) -> None:
        now = time.monotonic()
        if now - self._last < self._min_interval_s:
            return
        self._last = now
        await self._enqueue()


def provide_redis(state: State) -> Redis:
    redis: Redis = state.redis
    return redis


def provide_sessions(state: State) -> SessionStore:
    sessions: SessionStore = state.sessions
    return sessions


def provide_warehouse(state: State) -> Warehouse:
    warehouse: Warehouse = state.warehouse
    return warehouse


def provide_streams(state: State) -> StreamLimit:
    streams: StreamLimit = state.streams
    return streams


def provide_settings(state: State) -> Settings:
    settings: Settings = state.settings
    return settings


def provide_kick(state: State) -> DrainKick:
    kick: DrainKick = state.kick
    return kick


def provide_readiness(state: State) -> dict[str, ReadinessCheck]:
    """The checks /readyz runs, by name (Redis always; ClickHouse, Kafka, the tilt model as configured)."""
    checks: dict[str, ReadinessCheck] = state.readiness
    return checks


def provide_fanout_figures(state: State) -> FanoutReader | None:
    """How to read the fan-out's figures; None when this process runs no sinks to report on."""
    reader: FanoutReader | None = state.get("fanout_figures")
    return reader


def provide_vapid(state: State) -> VapidKeys:
    vapid: VapidKeys = state.vapid
    return vapid


def provide_insecure_push(state: State) -> bool:
    """Tests set ``push_allow_insecure_endpoints`` to register http://127.0.0.1 push endpoints (default False)."""
    return bool(state.get("push_allow_insecure_endpoints", False))


def provide_figure_cache(state: State) -> FigureCache:
    return figure_cache(state)


def provide_event_tally(state: State) -> EventTally:
    """Where the intake counts events by outcome (the /metrics board)."""
    tally: EventTally = state.metrics
    return tally


# A route opt: this route also takes ``?token=`` (EventSource sets no headers).
QUERY_TOKEN_OPT = "token_in_query"  # noqa: S105 — the name of a route option, not a secret


def bearer_token(request: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The token from ``Authorization: Bearer …``; ``?token=`` only on routes that opt in (the SSE stream).

    Anywhere else a token in the URL would land in proxy logs, browser history and Referer headers. Any connection:
    an HTTP request or a WebSocket handshake (GraphQL subscriptions).
    """
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if request.route_handler.opt.get(QUERY_TOKEN_OPT):
        token = request.query_params.get("token")
        if token:
            return str(token)
    raise NotAuthorizedException(detail="missing bearer token: send `Authorization: Bearer <token>`")


async def provide_principal(request: Request[Any, Any, Any], redis: NamedDependency[Redis]) -> Principal:
    token = bearer_token(request)
    try:
        return await Accounts(redis).authenticate(token)
    except NotAllowed as exc:
        raise NotAuthorizedException(detail=str(exc)) from None


def shared_dependencies() -> dict[str, Provide]:
    """The providers every route can ask for by parameter name."""
    return {
        "principal": Provide(provide_principal),
        "redis": Provide(provide_redis, sync_to_thread=False),
        "settings": Provide(provide_settings, sync_to_thread=False),
        "sessions": Provide(provide_sessions, sync_to_thread=False),
        "warehouse": Provide(provide_warehouse, sync_to_thread=False),
        "streams": Provide(provide_streams, sync_to_thread=False),
        "kick": Provide(provide_kick, sync_to_thread=False),
        "readiness": Provide(provide_readiness, sync_to_thread=False),
        "fanout_figures": Provide(provide_fanout_figures, sync_to_thread=False),
        "vapid": Provide(provide_vapid, sync_to_thread=False),
        "insecure_push": Provide(provide_insecure_push, sync_to_thread=False),
        "figure_cache": Provide(provide_figure_cache, sync_to_thread=False),
        "event_tally": Provide(provide_event_tally, sync_to_thread=False),
    }
