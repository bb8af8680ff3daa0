"""The app factory: create_app(settings, ...) builds the Litestar app; nothing is built at import time."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any, Final

from litestar import Litestar, Request, Response
from litestar.config.compression import CompressionConfig
from litestar.datastructures import State
from litestar.openapi.config import OpenAPIConfig
from litestar.types import ControllerRouterHandler
from redis import exceptions as redis_errors

from adapters.clickhouse import Warehouse
from adapters.connections import redis_client
from adapters.jobs import enqueue_drain
from adapters.push import VapidKeys
from adapters.sessions import SessionStore, move_to_user_namespaces
from api.admin import AdminController
from api.deps import DrainKick, ReadinessCheck, shared_dependencies
from api.devices import DeviceController
from api.edge import add_edge_headers, internal_error
from api.events.controllers import EventController
from api.exports import ExportController, ImportController, ReplayController
from api.graphql import graphql_controller
from api.health import healthz, readyz
from api.metrics import Metrics, http_metrics, metrics
from api.openapi import complete_openapi
from api.push import PushController
from api.sessions.controllers import SessionController
from api.stats import StatsController
from api.streams import StreamLimit
from api.trust import TrustController
from shared.errors import InvalidInput, NotAllowed, PermanentError, RetryableError
from shared.settings import Settings

Background = Callable[[Litestar], AbstractAsyncContextManager[None]]
RETRY_AFTER_S: Final = 2  # told with every 503: a private Redis is back within a second or two of dying
log = logging.getLogger("api")


def _error(status: int) -> Callable[[Request[Any, Any, Any], Exception], Response[dict[str, Any]]]:
    def handler(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
        headers = {"Retry-After": str(RETRY_AFTER_S)} if status == 503 else None
        return Response({"status_code": status, "detail": str(exc)}, status_code=status, headers=headers)

    return handler


def _store_down(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    """Redis is down (a private one is being restarted): nothing was stored, so the client may simply retry."""
    log.warning("%s %s: Redis unavailable (%s: %s)", request.method, request.url.path, type(exc).__name__, exc)
    detail = f"the event store is unavailable for now; nothing was stored, try again in {RETRY_AFTER_S} s"
    return Response(
        {"status_code": 503, "detail": detail}, status_code=503, headers={"Retry-After": str(RETRY_AFTER_S)}
    )


# gzip for every answer of 500 bytes or more (the web pages and scripts too: the web mount is a route of this app),
# except the server-sent event streams, whose events must leave as they happen rather than wait in a compressor.
COMPRESSION: Final = CompressionConfig(backend="gzip", gzip_compress_level=6, exclude=[r"/stream$"])


def create_app(
    settings: Settings,
    *,
    warehouse: Warehouse,
    vapid: VapidKeys,
    readiness: Mapping[str, ReadinessCheck] | None = None,
    background: Sequence[Background] = (),
    routes: Sequence[ControllerRouterHandler] = (),
    state: Mapping[str, Any] | None = None,
) -> Litestar:
    """Build the API.

    Args:
        settings: loaded settings; ``redis_url`` must be set (the composition root starts a private Redis).
        warehouse: the ClickHouse warehouse (statistics, exports, replay).
        vapid: the Web Push key pair (its public half is served to browsers).
        readiness: named async checks for /readyz beyond Redis.
        background: context managers entered after Redis is up (the embedded worker, say).
        routes: extra route handlers from outside the API (the web screens).
        state: extra objects for handlers, put on ``app.state``.
    """
    if not settings.redis_url:
        raise ValueError("settings.redis_url is unset; the composition root must provide a Redis")

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            # Short patience: rides over a restart of the private Redis (~0.2 s); a longer outage answers 503
            # with Retry-After within ~1.5 s instead of holding the phone's request for ~13 s.
            redis = redis_client(settings.redis_url or "", retries=4, backoff_cap_s=1.0)
            stack.push_async_callback(redis.connection_pool.disconnect)
            stack.push_async_callback(redis.aclose)

            async def redis_ready() -> None:
                await redis.ping()

            app.state.redis = redis
            await move_to_user_namespaces(redis)  # data of a release before per-user namespaces
            app.state.sessions = SessionStore(redis, settings.event_id_ttl_days)
            app.state.streams = StreamLimit(settings.max_streams_per_user)
            app.state.kick = DrainKick(functools.partial(enqueue_drain, redis))
            app.state.readiness = {"redis": redis_ready, **(readiness or {})}
            for item in background:
                await stack.enter_async_context(item(app))
            yield

    app = Litestar(
        route_handlers=[
            healthz,
            readyz,
            metrics,
            EventController,
            SessionController,
            DeviceController,
            StatsController,
            ExportController,
            ImportController,
            ReplayController,
            PushController,
            TrustController,
            AdminController,
            graphql_controller(),
            *routes,
        ],
        dependencies=shared_dependencies(),
        lifespan=[lifespan],
        middleware=[http_metrics().middleware],
        state=State(
            {"settings": settings, "warehouse": warehouse, "vapid": vapid, "metrics": Metrics(), **(state or {})}
        ),
        request_max_body_size=settings.max_body_bytes,
        compression_config=COMPRESSION,
        openapi_config=OpenAPIConfig(title="Poker Bankroll Tracker", version="1", path="/schema"),
        exception_handlers={
            InvalidInput: _error(400),
            NotAllowed: _error(403),
            PermanentError: _error(400),
            RetryableError: _error(503),
            redis_errors.ConnectionError: _store_down,  # includes BusyLoadingError: Redis is reading its AOF
            redis_errors.TimeoutError: _store_down,
            500: internal_error,
        },
        before_send=[add_edge_headers],
        logging_config=None,  # Litestar's default would take over the root logger: adapters.logs.configure owns it
        debug=False,
    )
    complete_openapi(app)
    return app


__all__ = ["create_app"]
