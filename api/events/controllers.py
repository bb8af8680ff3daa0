"""POST /api/v1/events: a batch of up to 500 events, answered event by event."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.exceptions import ClientException

from api.accounts import Principal
from api.deps import DrainKick
from api.events.ingest import EventResult, Ingest
from shared.events import MAX_BATCH


class EventBatch(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    events: list[msgspec.Raw]


class BatchAnswer(msgspec.Struct, frozen=True):
    accepted: int
    duplicate: int
    rejected: int
    results: list[EventResult]

    @classmethod
    def of(cls, results: list[EventResult]) -> BatchAnswer:
        counts = {s: sum(1 for r in results if r.status == s) for s in ("accepted", "duplicate", "rejected")}
        return cls(results=results, **counts)


_BATCH = msgspec.json.Decoder(EventBatch)


def parse_batch(body: bytes) -> list[msgspec.Raw]:
    """Split the body into raw events; a malformed body is one 400 that names what is wrong."""
    try:
        batch = _BATCH.decode(body)
    except msgspec.ValidationError as exc:
        raise ClientException(detail=f'body must be {{"events": [...]}}: {exc}') from None
    except msgspec.DecodeError as exc:
        raise ClientException(detail=f"body is not valid JSON: {exc}") from None
    if not batch.events:
        raise ClientException(detail="`$.events` is empty; send 1 to 500 events")
    if len(batch.events) > MAX_BATCH:
        raise ClientException(detail=f"`$.events` has {len(batch.events)} events; at most {MAX_BATCH} per batch")
    return batch.events


class EventController(Controller):
    path = "/api/v1/events"
    tags = ["events"]

    @post("/", status_code=200, summary="Post a batch of events")
    async def post_events(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        kick: NamedDependency[DrainKick],
    ) -> BatchAnswer:
        """Each event is accepted, a duplicate, or rejected with its reason; a bad event rejects only itself."""
        results = await Ingest(state.sessions).ingest(principal, parse_batch(await request.body()))
        answer = BatchAnswer.of(results)
        if answer.accepted:
            await kick.kick()
        return answer
