"""Event intake dependencies: the intake over the app's session store."""

from __future__ import annotations

from litestar.di import NamedDependency

from adapters.sessions import SessionStore
from api.events.ingest import Ingest


def provide_ingest(sessions: NamedDependency[SessionStore]) -> Ingest:
    return Ingest(sessions)
