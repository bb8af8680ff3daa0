"""``/metrics`` in the Prometheus text format: the HTTP figures of Litestar's Prometheus middleware, the events the
intake answered, and the fan-out and worker figures read from Redis at scrape time (true whichever process runs
the worker, and however many do).

Off unless ``BANKROLL_METRICS_TOKEN`` is set (404 then); with it, a scrape needs ``Authorization: Bearer <token>``.

    bankroll_events_total{outcome, type, reason}   counter  events answered: accepted, duplicate, rejected (reason:
                                                            the rule broken, ``EventResult.rule``)
    bankroll_batch_events                          histogram  events per batch the intake answered
    bankroll_outbox_length                         gauge    entries in the outbox stream
    bankroll_outbox_backlog{sink}                  gauge    entries the sink has yet to take
    bankroll_outbox_lag_seconds{sink}              gauge    how long the oldest of them has waited (0: caught up)
    bankroll_dead_letters{sink}                    gauge    entries the sink gave up on (``bankroll deadletters``)
    bankroll_stream_clients                        gauge    open SSE streams and subscriptions in this process
    bankroll_ready{check}                          gauge    1 when the dependency answers (redis, clickhouse, ...)
    bankroll_sink_*, bankroll_tilt_*, bankroll_pushes_total  the workers' figures (``adapters/metrics.py``)
    bankroll_http_*                                         requests, durations, errors (Litestar's middleware)
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterator, Mapping
from typing import Final

from litestar import Request, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.plugins.prometheus import PrometheusConfig
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from redis.asyncio import Redis
from redis.exceptions import RedisError

from adapters import metrics as worker_metrics
from adapters.outbox import FanoutFigures
from api.deps import FanoutReader, ReadinessCheck
from api.events.ingest import EventTally, Status
from api.health import run_checks
from api.streams import StreamLimit
from shared.events import EVENT_TYPES
from shared.settings import Settings

log = logging.getLogger(__name__)
PATH: Final = "/metrics"
_KNOWN_TYPES: Final = frozenset(str(c.__struct_config__.tag) for c in EVENT_TYPES)
BATCH_BUCKETS: Final = (1, 2, 5, 10, 20, 50, 100, 200, 500)  # up to MAX_BATCH
READY_TIMEOUT_S: Final = 2.0  # each dependency's answer, within a scrape's usual 10 s timeout


def http_metrics() -> PrometheusConfig:
    """Litestar's Prometheus middleware: requests by method, route template and status (not raw paths)."""
    return PrometheusConfig(
        app_name="bankroll",
        prefix="bankroll_http",
        group_path=True,
        exclude=[PATH],
        scopes={"http"},  # type: ignore[arg-type]
    )


class Metrics(EventTally):
    """The app's own figures, in a registry of this app (the HTTP figures are in the process-wide one)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.events = Counter(
            "bankroll_events", "Events answered by the intake", ["outcome", "type", "reason"], registry=self.registry
        )
        self.outbox_length = Gauge("bankroll_outbox_length", "Entries in the outbox stream", registry=self.registry)
        self.backlog = Gauge(
            "bankroll_outbox_backlog", "Outbox entries the sink has yet to take", ["sink"], registry=self.registry
        )
        self.lag = Gauge(
            "bankroll_outbox_lag_seconds",
            "Age of the oldest outbox entry the sink has yet to take (0 when caught up)",
            ["sink"],
            registry=self.registry,
        )
        self.dead_letters = Gauge(
            "bankroll_dead_letters", "Outbox entries the sink gave up on", ["sink"], registry=self.registry
        )
        self.stream_clients = Gauge(
            "bankroll_stream_clients", "Open SSE streams and GraphQL subscriptions here", registry=self.registry
        )
        self.batch_events = Histogram(
            "bankroll_batch_events",
            "Events per batch the intake answered",
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )
        self.ready = Gauge(
            "bankroll_ready",
            "1 when the dependency answers its readiness check, else 0",
            ["check"],
            registry=self.registry,
        )
        self.workers = _WorkerFigures()
        self.registry.register(self.workers)

    def count(self, answers: list[tuple[Status, str | None, str | None]]) -> None:
        """``EventTally``: one count per answered event (an unreadable or unknown type counts as ``unknown``), and
        the batch's size."""
        for outcome, kind, rule in answers:
            label = kind if kind in _KNOWN_TYPES else "unknown"
            self.events.labels(outcome=outcome, type=label, reason=rule or "").inc()
        if answers:
            self.batch_events.observe(len(answers))

    def record_readiness(self, checks: Mapping[str, str]) -> None:
        """Set ``bankroll_ready`` from the checks' answers (``ok`` or why not)."""
        for name, answer in checks.items():
            self.ready.labels(check=name).set(1 if answer == "ok" else 0)

    def record(self, figures: FanoutFigures, streams: StreamLimit) -> None:
        """Set the gauges from figures read now."""
        self.outbox_length.set(figures.outbox_length)
        for sink, n in figures.backlog.items():
            self.backlog.labels(sink=sink).set(n)
        for sink, seconds in figures.lag_s.items():
            self.lag.labels(sink=sink).set(seconds)
        for sink, n in figures.dead_letters.items():
            self.dead_letters.labels(sink=sink).set(n)
        self.stream_clients.set(streams.total())

    def exposition(self) -> bytes:
        """Both registries in the Prometheus text format."""
        return generate_latest(REGISTRY) + generate_latest(self.registry)


class _WorkerFigures(Collector):
    """The workers' counters and histograms as last read from Redis (``adapters.metrics``), every family shown even
    before its first count, so a query finds the series."""

    def __init__(self) -> None:
        self.read: dict[worker_metrics.Family, list[worker_metrics.Series]] = {}

    def collect(self) -> Iterator[Metric]:
        for family in worker_metrics.FAMILIES:
            series = self.read.get(family, [])
            if family.kind == "counter":
                counter = CounterMetricFamily(family.name, family.help, labels=family.labels)
                for s in series:
                    counter.add_metric(s.labels, s.value)
                yield counter
            else:
                histogram = HistogramMetricFamily(family.name, family.help, labels=family.labels)
                for s in series:
                    histogram.add_metric(s.labels, list(s.buckets), s.sum)
                yield histogram


def _check_token(request: Request[object, object, State], expected: str) -> None:
    if not expected:
        raise NotFoundException(detail=f"no route {PATH}: set BANKROLL_METRICS_TOKEN to serve metrics")
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), expected.encode()):
        raise NotAuthorizedException(detail="metrics need `Authorization: Bearer <BANKROLL_METRICS_TOKEN>`")


def provide_board(state: State) -> Metrics:
    board: Metrics = state.metrics
    return board


@get(PATH, include_in_schema=False, dependencies={"board": Provide(provide_board, sync_to_thread=False)})
async def metrics(
    request: Request[object, object, State],
    board: NamedDependency[Metrics],
    settings: NamedDependency[Settings],
    readiness: NamedDependency[dict[str, ReadinessCheck]],
    fanout_figures: NamedDependency[FanoutReader | None],
    redis: NamedDependency[Redis],
    streams: NamedDependency[StreamLimit],
) -> Response[bytes]:
    """The scrape: figures read from Redis now, then every metric in the text format."""
    _check_token(request, settings.metrics_token)
    board.record_readiness(await run_checks(readiness, READY_TIMEOUT_S))
    try:
        if fanout_figures is not None:
            board.record(await fanout_figures(redis), streams)
        board.workers.read = await worker_metrics.read(redis)
    except (RedisError, OSError) as exc:
        # The scrape still answers: bankroll_ready{check="redis"} is 0, the figures read from Redis stay as last read.
        log.warning("metrics: figures kept in Redis not read (%s: %s)", type(exc).__name__, exc)
    return Response(board.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST})  # as is: charset included


__all__ = ["PATH", "Metrics", "http_metrics", "metrics"]
