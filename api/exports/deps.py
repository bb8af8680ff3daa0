"""Export and import dependencies: the caller's export service over the warehouse, the importer over the intake."""

from __future__ import annotations

from litestar.di import NamedDependency

from adapters.clickhouse import Warehouse
from adapters.sessions import SessionStore
from api.accounts import Principal
from api.events.ingest import EventTally
from api.exports.importer import Importer
from api.exports.service import ExportService


def provide_importer(sessions: NamedDependency[SessionStore], event_tally: NamedDependency[EventTally]) -> Importer:
    return Importer(sessions, event_tally)


def provide_exports(warehouse: NamedDependency[Warehouse], principal: NamedDependency[Principal]) -> ExportService:
    return ExportService(warehouse, principal.user_id)
