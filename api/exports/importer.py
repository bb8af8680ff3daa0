"""Bringing history in through the normal intake: CSV sessions and backup restores both go through ``Ingest``,
so every rule, the dedupe by event id and the fan-out to ClickHouse apply as for events from a phone."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import groupby

import msgspec

from adapters.sessions import SessionStore
from api.accounts import Principal
from api.events.ingest import EventResult, EventTally, Ingest
from shared.events import MAX_BATCH
from shared.imports import ImportOptions, PlannedSession, RowError, column_name, event_field, plan_csv


class ImportReport(msgspec.Struct, frozen=True, gc=False):
    """What a CSV import did (or, in a dry run, would do); with errors nothing was posted."""

    dry_run: bool
    rows: int
    sessions: int
    new: int
    existing: int
    errors: list[RowError]
    preview: list[PlannedSession]


class _Device(msgspec.Struct, frozen=True, gc=False):
    device: str = ""


_DEVICE = msgspec.json.Decoder(_Device)
# The device CSV imports are posted as, whichever phone or CLI sent the file: the (device, seq) slots of an
# imported session are then the same from every device, and a re-import is a duplicate, not a conflict.
IMPORT_DEVICE = "csv-import"
_ENC = msgspec.json.Encoder()


def _device(raw: bytes) -> str:
    try:
        return _DEVICE.decode(raw).device
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return ""  # Ingest rejects the event itself, with the reason


class Importer:
    """Imports for one principal."""

    def __init__(self, store: SessionStore, tally: EventTally | None = None) -> None:
        self.store = store
        self.ingest = Ingest(store, tally=tally)

    async def restore(self, principal: Principal, items: list[bytes]) -> list[EventResult]:
        """Post backup events keeping each event's own device (the caller's when it has none).

        The device is part of an event's (device, seq) slot and of the reducer's order, so a session written by
        two phones folds to the same state only if each event keeps its device. Consecutive runs of one device
        are ingested in file order, which is the order the server first accepted them in.
        """
        results: list[EventResult] = []
        start = 0
        for device, run in groupby(items, key=_device):
            batch = list(run)
            caller = msgspec.structs.replace(principal, device_id=device or principal.device_id)
            for result in await self.ingest.ingest(caller, batch):
                results.append(msgspec.structs.replace(result, index=result.index + start))
            start += len(batch)
        return results

    async def csv(
        self, principal: Principal, raw: bytes, mapping: dict[str, str], options: ImportOptions, *, dry_run: bool
    ) -> ImportReport:
        """Check every row; unless it is a dry run and only when every row is valid, post the new sessions.

        The dry run and the real run count "existing" the same way (sessions already started here, by any device of
        the user), and the real run posts only the others, so both give the same answer. A session's id and its
        events' ids and (device, seq) slots depend on the rows and the user only, never on the device that imports:
        the events are posted as the device ``IMPORT_DEVICE``.
        """
        plan = plan_csv(raw, mapping, user_id=principal.user_id, options=options, now=datetime.now(UTC))
        existing = await self.store.started(
            principal.user_id, [s.session_id for s in plan.sessions]
        )  # an earlier import of these rows
        if dry_run or not plan.valid:
            return ImportReport(
                dry_run=dry_run,
                rows=plan.rows,
                sessions=len(plan.sessions),
                new=0 if not plan.valid else len(plan.sessions) - len(existing),
                existing=len(existing),
                errors=plan.errors,
                preview=plan.sessions,
            )
        errors: list[RowError] = []
        created, duplicates = 0, len(existing)
        importer = msgspec.structs.replace(principal, device_id=IMPORT_DEVICE)
        new = [s for s in plan.sessions if s.session_id not in existing]
        per_batch = MAX_BATCH // 2  # a session's two events always travel together
        for first in range(0, len(new), per_batch):
            chunk = new[first : first + per_batch]
            raws = [_ENC.encode(event) for s in chunk for event in s.events]
            for result in await self.ingest.ingest(importer, raws):
                session = chunk[result.index // 2]
                if result.status == "rejected":
                    # Only a race can get here (the plan checked every rule): say which row and column it hit.
                    event = session.events[result.index % 2]
                    column = column_name(event_field(result.reason or "", event["type"], mapping), mapping)
                    errors.append(RowError(row=session.row, column=column, value="", message=result.reason or ""))
                elif result.index % 2 == 0:
                    created += result.status == "accepted"
                    duplicates += result.status == "duplicate"
        return ImportReport(
            dry_run=False,
            rows=plan.rows,
            sessions=len(plan.sessions),
            new=created,
            existing=duplicates,
            errors=errors,
            preview=plan.sessions,
        )
