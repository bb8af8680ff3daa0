"""Event intake dependencies: the intake over the app's session store."""

from __future__ import annotations

from litestar.di import NamedDependency
from redis.asyncio import Redis

from adapters.sessions import SessionStore
from api.events.ingest import EventTally, Ingest
from api.limits import Limits
from shared.settings import Settings


def provide_ingest(
    sessions: NamedDependency[SessionStore],
    redis: NamedDependency[Redis],
    settings: NamedDependency[Settings],
    event_tally: NamedDependency[EventTally],
) -> Ingest:
    """The intake for a client's batch: with the per-user rate limit and new-session quota of the settings."""
    limits = Limits(redis, batches_per_second=settings.batches_per_second, sessions_per_day=settings.sessions_per_day)
    return Ingest(sessions, limits, event_tally)
