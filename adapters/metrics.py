"""The worker's figures kept in Redis: counters and histograms any process adds to and ``/metrics`` reads.

The worker may run in the server (the default) or as ``bankroll worker`` elsewhere, and several may run at once:
each adds its counts to one Redis hash (``keys.WORKER_METRICS``) in the same transaction as the work they count
where it can, and the API reads the hash at every scrape, as it reads the outbox's backlog. The counts live as
long as Redis does (AOF), so they do not restart with a worker.

Every field of the hash is one sample: the JSON ``[family, part, [label values]]``, where ``part`` is ``""`` for
a counter, ``"sum"`` or a bucket's upper bound (``"0.5"``, ``"+Inf"``) for a histogram; a histogram's count is
its ``+Inf`` bucket (buckets are stored one by one here and made cumulative when read).
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Final, Literal

import msgspec
from redis.asyncio import Redis

from adapters import keys

Kind = Literal["counter", "histogram"]
INF: Final = "+Inf"


@dataclass(frozen=True)
class Family:
    """One metric: its Prometheus name (a counter's without ``_total``), help, labels and histogram buckets."""

    name: str
    help: str
    kind: Kind
    labels: tuple[str, ...] = ()
    buckets: tuple[float, ...] = ()

    def bucket(self, value: float) -> str:
        """The bound of the bucket ``value`` falls in (the first bound at or above it)."""
        index = bisect.bisect_left(self.buckets, value)
        return INF if index == len(self.buckets) else bound(self.buckets[index])


def bound(value: float) -> str:
    """A bucket bound as Prometheus writes it (``0.5``, ``1.0``, ``+Inf``)."""
    return INF if math.isinf(value) else repr(float(value))


SINK_BATCH_SECONDS: Final = Family(
    "bankroll_sink_batch_seconds",
    "Time a sink took to write one batch read from the outbox",
    "histogram",
    ("sink",),
    (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
SINK_EVENTS: Final = Family("bankroll_sink_events", "Events a sink wrote", "counter", ("sink",))
SINK_FAILURES: Final = Family(
    "bankroll_sink_failures",
    "Failed sink writes: kind unavailable (the sink was down, the batch waits) or refused (one entry, retried "
    "and then dead-lettered)",
    "counter",
    ("sink", "kind"),
)
TILT_SCORE: Final = Family(
    "bankroll_tilt_score",
    "Tilt risk the model gave each scored event (0 calm, 1 tilted)",
    "histogram",
    (),
    (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0),
)
TILT_ALERTS: Final = Family("bankroll_tilt_alerts", "Tilt alerts raised, by kind", "counter", ("kind",))
PUSHES: Final = Family(
    "bankroll_pushes",
    "Web Push sends by outcome: sent, gone (subscription deleted), retried (sent again later), failed",
    "counter",
    ("outcome",),
)
FAMILIES: Final = (SINK_BATCH_SECONDS, SINK_EVENTS, SINK_FAILURES, TILT_SCORE, TILT_ALERTS, PUSHES)
_BY_NAME: Final = {f.name: f for f in FAMILIES}

_FIELD = msgspec.json.Encoder()
_FIELD_DECODER = msgspec.json.Decoder(tuple[str, str, tuple[str, ...]])


def _field(family: Family, part: str, values: tuple[str, ...]) -> bytes:
    if len(values) != len(family.labels):
        raise ValueError(f"{family.name} takes labels {family.labels}, got values {values}")
    return _FIELD.encode((family.name, part, values))


class Tally:
    """What one step of a worker did, gathered in memory and added to Redis with the step's own writes."""

    def __init__(self) -> None:
        self._counts: dict[bytes, int] = defaultdict(int)
        self._sums: dict[bytes, float] = defaultdict(float)

    def __bool__(self) -> bool:
        return bool(self._counts)

    def count(self, family: Family, *values: str, n: int = 1) -> None:
        """Add ``n`` to a counter (label values in the family's order)."""
        if n:
            self._counts[_field(family, "", values)] += n

    def observe(self, family: Family, value: float, *values: str) -> None:
        """Put one observation in a histogram."""
        self._counts[_field(family, family.bucket(value), values)] += 1
        self._sums[_field(family, "sum", values)] += value

    def queue(self, pipe: Any) -> None:
        """Add the increments to a Redis pipeline the caller executes (with its own writes, in one transaction)."""
        for field, n in self._counts.items():
            pipe.hincrby(keys.WORKER_METRICS, field, n)
        for field, total in self._sums.items():
            pipe.hincrbyfloat(keys.WORKER_METRICS, field, total)

    async def save(self, redis: Redis) -> None:
        """Add the increments to Redis in one transaction."""
        if not self:
            return
        async with redis.pipeline(transaction=True) as pipe:
            self.queue(pipe)
            await pipe.execute()


class Series(msgspec.Struct, frozen=True):
    """One labelled series of a family as read: a counter's value, or a histogram's cumulative buckets and sum."""

    labels: tuple[str, ...]
    value: float = 0.0
    buckets: tuple[tuple[str, float], ...] = ()  # (upper bound, observations at or below it), +Inf last
    sum: float = 0.0


async def read(redis: Redis) -> dict[Family, list[Series]]:
    """Every family's series as Redis holds them now (fields of unknown families, from another release, skipped)."""
    raw: dict[bytes, bytes] = await redis.hgetall(keys.WORKER_METRICS)
    parts: dict[Family, dict[tuple[str, ...], dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    for field, value in raw.items():
        try:
            name, part, values = _FIELD_DECODER.decode(field)
        except msgspec.DecodeError:
            continue
        family = _BY_NAME.get(name)
        if family is not None and len(values) == len(family.labels):
            parts[family][values][part] = float(value)
    return {
        family: [_series(family, values, got) for values, got in sorted(by.items())] for family, by in parts.items()
    }


def _series(family: Family, values: tuple[str, ...], got: dict[str, float]) -> Series:
    if family.kind == "counter":
        return Series(values, value=got.get("", 0.0))
    running = 0.0
    buckets: list[tuple[str, float]] = []
    for upper in (*map(bound, family.buckets), INF):
        running += got.get(upper, 0.0)
        buckets.append((upper, running))
    return Series(values, buckets=tuple(buckets), sum=got.get("sum", 0.0))


__all__ = [
    "FAMILIES",
    "PUSHES",
    "SINK_BATCH_SECONDS",
    "SINK_EVENTS",
    "SINK_FAILURES",
    "TILT_ALERTS",
    "TILT_SCORE",
    "Family",
    "Series",
    "Tally",
    "read",
]
