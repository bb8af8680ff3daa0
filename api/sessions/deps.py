"""Session read dependencies: the reader over the app's session store."""

from __future__ import annotations

from litestar.di import NamedDependency

from adapters.sessions import SessionStore
from api.sessions.live import SessionReader


def provide_reader(sessions: NamedDependency[SessionStore]) -> SessionReader:
    return SessionReader(sessions)
