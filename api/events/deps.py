"""Event intake dependencies: the intake over the app's session store."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency

from adapters.sessions import SessionStore
from api.events.ingest import Ingest
from api.limits import Limits


def provide_ingest(sessions: NamedDependency[SessionStore], state: State) -> Ingest:
    """The intake for a client's batch: with the per-user rate limit and new-session quota of the settings."""
    settings = state.settings
    limits = Limits(
        state.redis, batches_per_second=settings.batches_per_second, sessions_per_day=settings.sessions_per_day
    )
    return Ingest(sessions, limits, state.metrics)
