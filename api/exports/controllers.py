"""Export, import and replay routes: a player's data out in open formats, back in through the intake, and a
session folded again from its raw events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, QueryParameter
from litestar.response import Stream

from adapters.clickhouse import Warehouse
from api.accounts import Principal
from api.deps import DrainKick
from api.events.batch import parse_batch
from api.events.controllers import BatchAnswer
from api.exports.deps import provide_exports, provide_importer
from api.exports.importer import Importer, ImportReport
from api.exports.service import ExportService, replay_session
from shared.imports import ImportOptions, parse_mapping
from shared.reducer import SessionState

PARQUET = "application/vnd.apache.parquet"
JSONL = "application/x-ndjson"
# Litestar adds "; charset=utf-8" to every text/* type itself; naming it here too would say it twice.
CSV = "text/csv"


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}


class ExportController(Controller):
    path = "/api/v1/export"
    tags = ["export"]
    dependencies = {"exports": Provide(provide_exports, sync_to_thread=False)}

    @get("/sessions.csv", summary="Every session as CSV, money in major units")
    async def sessions_csv(self, exports: NamedDependency[ExportService]) -> Response[bytes]:
        body = await exports.sessions_csv()
        return Response(body, media_type=CSV, headers=_attachment("sessions.csv"))

    @get("/transactions.csv", summary="Every deposit, withdrawal and expense as CSV")
    async def transactions_csv(self, exports: NamedDependency[ExportService]) -> Response[bytes]:
        body = await exports.transactions_csv()
        return Response(body, media_type=CSV, headers=_attachment("transactions.csv"))

    @get("/events.jsonl", summary="Every raw event in wire form, one per line")
    async def events_jsonl(self, exports: NamedDependency[ExportService]) -> Stream:
        lines = exports.events_jsonl()
        return Stream(lines, media_type=JSONL, headers=_attachment("events.jsonl"))

    @get("/events.parquet", summary="Every raw event as a Parquet table")
    async def events_parquet(self, exports: NamedDependency[ExportService]) -> Response[bytes]:
        body = await exports.events_parquet()
        return Response(body, media_type=PARQUET, headers=_attachment("events.parquet"))

    @get("/backup", summary="A full backup: every raw event (state = fold(events)); restore with `bankroll import`")
    async def backup(self, exports: NamedDependency[ExportService]) -> Stream:
        lines = exports.events_jsonl()
        name = f"bankroll-backup-{datetime.now(UTC):%Y%m%d}.jsonl"
        return Stream(lines, media_type=JSONL, headers=_attachment(name))


class ImportController(Controller):
    path = "/api/v1/import"
    tags = ["import"]
    dependencies = {"importer": Provide(provide_importer, sync_to_thread=False)}

    @post("/csv", status_code=200, summary="Import sessions from a CSV body; dry_run=true previews")
    async def csv(
        self,
        request: Request[Any, Any, Any],
        importer: NamedDependency[Importer],
        principal: NamedDependency[Principal],
        kick: NamedDependency[DrainKick],
        mapping: Annotated[str, QueryParameter(description="CSV column=field pairs, comma-separated")],
        currency: Annotated[str | None, QueryParameter(description="Currency of rows without one")] = None,
        tz: Annotated[str, QueryParameter(description="Zone of the times: UTC, +01:00, Europe/Berlin")] = "UTC",
        date_format: Annotated[str, QueryParameter(description="strptime format of the date column")] = "%Y-%m-%d",
        game: Annotated[str, QueryParameter(description="Game of rows without one")] = "NLH",
        encoding: Annotated[str | None, QueryParameter(description="Text encoding; default UTF-8/16 by BOM")] = None,
        dry_run: Annotated[bool, QueryParameter(description="Check and preview; create nothing")] = False,
    ) -> Response[ImportReport]:
        """Every row is checked first; with any error nothing is created and the answer is 400 with the list."""
        options = ImportOptions(currency=currency, tz=tz, date_format=date_format, game=game, encoding=encoding)
        report = await importer.csv(principal, await request.body(), parse_mapping(mapping), options, dry_run=dry_run)
        if report.new:
            await kick.kick()
        return Response(report, status_code=400 if report.errors else 200)

    @post("/events", status_code=200, summary="Restore a batch of backup events, each keeping its device")
    async def events(
        self,
        request: Request[Any, Any, Any],
        importer: NamedDependency[Importer],
        principal: NamedDependency[Principal],
        kick: NamedDependency[DrainKick],
    ) -> BatchAnswer:
        results = await importer.restore(principal, parse_batch(await request.body()))
        answer = BatchAnswer.of(results)
        if answer.accepted:
            await kick.kick()
        return answer


class ReplayController(Controller):
    path = "/api/v1/sessions"
    tags = ["sessions"]

    @get("/{session_id:str}/replay", summary="The session folded again from its raw events in ClickHouse")
    async def replay(
        self, warehouse: NamedDependency[Warehouse], principal: NamedDependency[Principal], session_id: FromPath[str]
    ) -> SessionState:
        replayed = await replay_session(warehouse, session_id, principal.user_id)
        if replayed is None:
            raise NotFoundException(detail=f"session {session_id!r} has no events in the warehouse for this user")
        return replayed
