"""POST /api/v1/events: a batch of up to 500 events, answered event by event."""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

import msgspec
from litestar import Controller, Request, post
from litestar.di import NamedDependency, Provide

from api.accounts import Principal
from api.deps import DrainKick
from api.events.batch import parse_batch
from api.events.deps import provide_ingest
from api.events.ingest import EventResult, Ingest

log = logging.getLogger(__name__)


class BatchAnswer(msgspec.Struct, frozen=True):
    accepted: int
    duplicate: int
    rejected: int
    results: list[EventResult]

    @classmethod
    def of(cls, results: list[EventResult]) -> BatchAnswer:
        counts = {s: sum(1 for r in results if r.status == s) for s in ("accepted", "duplicate", "rejected")}
        return cls(results=results, **counts)


async def accept_batch(ingest: Ingest, principal: Principal, kick: DrainKick, items: list[bytes]) -> BatchAnswer:
    """Ingest a parsed batch for the caller, wake the workers when something was accepted, and answer per event.

    The one path of a batch into the system: REST ``POST /api/v1/events`` and GraphQL ``postEvents`` both call it.
    """
    if ingest.limits is not None:
        await ingest.limits.count_batch(principal.user_id)
    results = await ingest.ingest(principal, items)
    answer = BatchAnswer.of(results)
    if answer.accepted:
        await kick.kick()
    if answer.rejected:
        # The client's bug or an old app version: say which rules, not the events' contents.
        rules = Counter(r.rule or "?" for r in results if r.status == "rejected")
        log.info(
            "batch of %d events: %d accepted, %d duplicate, %d rejected (%s)",
            len(results),
            answer.accepted,
            answer.duplicate,
            answer.rejected,
            ", ".join(f"{rule} x{n}" for rule, n in sorted(rules.items())),
        )
    return answer


class EventController(Controller):
    path = "/api/v1/events"
    tags = ["events"]
    dependencies = {"ingest": Provide(provide_ingest, sync_to_thread=False)}

    @post("/", status_code=200, summary="Post a batch of events")
    async def post_events(
        self,
        request: Request[Any, Any, Any],
        ingest: NamedDependency[Ingest],
        principal: NamedDependency[Principal],
        kick: NamedDependency[DrainKick],
    ) -> BatchAnswer:
        """Each event is accepted, a duplicate, or rejected with its reason; a bad event rejects only itself."""
        return await accept_batch(ingest, principal, kick, parse_batch(await request.body()))
