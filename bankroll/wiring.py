"""Wiring: build the app and the worker from settings. The only module that imports api, workers and web."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
from arq import func
from arq.worker import Worker
from litestar import Litestar

from adapters.clickhouse import Warehouse
from adapters.jobs import PUSH_JOB
from adapters.push import PushBook, load_or_create_vapid
from adapters.root_certificate import load_root_certificate
from api import create_app
from api.deps import ReadinessCheck
from bankroll.redis_server import PrivateRedis
from shared.settings import Settings
from web import web_routes
from workers.outbox import figures as outbox_figures
from workers.push import PUSH_DEDUPE_S, PUSH_ROUNDS, PushSender, install_push, push_alert_job
from workers.sinks import ClickHouseSink, KafkaSink, Sink
from workers.tilt.sink import TiltSink
from workers.worker import JOB_TIMEOUT_S, Supervisor, build_worker

log = logging.getLogger("bankroll")


@dataclass
class Runtime:
    """What one process runs: settings with a Redis URL, the warehouse, the sinks, and a private Redis if any."""

    settings: Settings
    warehouse: Warehouse
    sinks: list[Sink]
    private_redis: PrivateRedis | None = None
    readiness: dict[str, ReadinessCheck] = field(default_factory=dict)
    consumer: str = field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}")

    def close(self) -> None:
        """Close chDB, then stop the private Redis this process started (after the worker, which needs it)."""
        self.warehouse.close()
        log.info("ClickHouse closed")
        if self.private_redis is not None:
            pid = self.private_redis.pid
            self.private_redis.stop()
            log.info("private Redis (pid %s) stopped", pid)


def with_redis(settings: Settings) -> tuple[Settings, PrivateRedis | None]:
    """Use REDIS_URL, or start the private redis-server under the data directory.

    The caller owns the data directory (``bankroll.instance.claim``) and stops the returned server.
    """
    if settings.redis_url:
        return settings, None
    private = PrivateRedis(settings.data_dir, settings.redis_appendfsync)
    private.start()
    return msgspec.structs.replace(settings, redis_url=private.url), private


def build_runtime(settings: Settings) -> Runtime:
    """Start what one process runs; the caller owns the data directory and calls ``Runtime.close``."""
    settings, private = with_redis(settings)
    try:
        return _runtime(settings, private)
    except BaseException:
        if private is not None:
            private.stop()
        raise


def _runtime(settings: Settings, private: PrivateRedis | None) -> Runtime:
    warehouse = Warehouse(settings.clickhouse_dsn)
    sinks: list[Sink] = [ClickHouseSink(warehouse)]
    readiness: dict[str, ReadinessCheck] = {"clickhouse": warehouse.ping}
    if settings.kafka_bootstrap_servers:
        kafka = KafkaSink(settings.kafka_bootstrap_servers, settings.kafka_topic)
        sinks.append(kafka)
        readiness["kafka"] = kafka.ping
    tilt = TiltSink(Path(settings.tilt_model_path) if settings.tilt_model_path else None)
    sinks.append(tilt)
    readiness["tilt_model"] = tilt.ping
    return Runtime(settings=settings, warehouse=warehouse, sinks=sinks, private_redis=private, readiness=readiness)


def make_worker(runtime: Runtime, *, handle_signals: bool) -> Worker:
    async def startup(ctx: dict[str, Any]) -> None:
        await runtime.warehouse.migrate()
        for sink in runtime.sinks:
            if isinstance(sink, TiltSink):
                sink.bind(ctx["redis"])
        vapid = load_or_create_vapid(runtime.settings.data_dir)
        sender = PushSender.from_settings(vapid, runtime.settings)
        install_push(ctx, PushBook(ctx["redis"]), sender, figures=ctx["redis"])

    async def shutdown(ctx: dict[str, Any]) -> None:
        sender = ctx.get("push_sender")
        if sender is not None:
            await sender.aclose()

    return build_worker(
        runtime.settings.redis_url or "",
        runtime.sinks,
        on_startup=startup,
        on_shutdown=shutdown,
        handle_signals=handle_signals,
        consumer=runtime.consumer,
        extra_functions=[
            func(push_alert_job, name=PUSH_JOB, keep_result=PUSH_DEDUPE_S, timeout=JOB_TIMEOUT_S, max_tries=PUSH_ROUNDS)
        ],
    )


def make_app(runtime: Runtime) -> Litestar:
    """The API, with the worker embedded when the settings ask for it (the one-box default)."""

    @contextlib.asynccontextmanager
    async def migrated(app: Litestar) -> AsyncIterator[None]:
        await runtime.warehouse.migrate()
        yield

    @contextlib.asynccontextmanager
    async def embedded_worker(app: Litestar) -> AsyncIterator[None]:
        supervisor = Supervisor(lambda: make_worker(runtime, handle_signals=False))
        task = asyncio.create_task(supervisor.run())
        try:
            yield
        finally:
            await supervisor.stop(task)

    settings = runtime.settings
    background = [migrated] + ([embedded_worker] if settings.embedded_worker else [])
    return create_app(
        runtime.settings,
        readiness=runtime.readiness,
        background=background,
        warehouse=runtime.warehouse,
        vapid=load_or_create_vapid(runtime.settings.data_dir),
        routes=web_routes(),
        state={
            "fanout_figures": functools.partial(outbox_figures, sinks=runtime.sinks),
            "root_certificate": load_root_certificate(Path(settings.ca_cert)) if settings.ca_cert else None,
        },
    )
