"""Mutations: events go through the one ingest path of ``POST /api/v1/events``; the rest call the REST services.

``voidEvent`` and ``correctEvent`` build an ``event.voided`` / ``event.corrected`` event and post it like any other:
the rules of voids and corrections live in ``shared/amendments.py`` only.
"""

from __future__ import annotations

from typing import Any

import msgspec
import strawberry

from api.devices.service import DeviceService, DeviceView
from api.events.batch import parse_batch
from api.events.controllers import BatchAnswer, accept_batch
from api.events.ingest import EventResult
from api.graphql.context import principal
from api.graphql.query import Ctx
from api.graphql.types import JSON, Long, object_type
from shared.push import PushSubscription, SubscriptionKeys

_ENC = msgspec.json.Encoder()


def _envelope(id_: str, session_id: str | None, seq: int, type_: str, at: str, data: dict[str, Any]) -> dict[str, Any]:
    """One event in the wire format ``POST /api/v1/events`` takes, for the intake to decode and check."""
    return {"id": id_, "session_id": session_id, "seq": seq, "type": type_, "at": at, "data": data}


@strawberry.input(description="A deposit, withdrawal or expense, as a `transaction.recorded` event")
class TransactionInput:
    id: str = strawberry.field(description="A new UUID for this event; sending it again is answered `duplicate`")
    seq: int = strawberry.field(description="This device's next sequence number in the stream, from 1")
    at: str = strawberry.field(description="When, RFC 3339 with the device's offset")
    kind: str = strawberry.field(description="deposit, withdrawal or expense")
    amount: Long = strawberry.field(description="Minor units of the currency, > 0")
    currency: str = strawberry.field(description="ISO 4217 code")
    note: str = ""
    session_id: str | None = strawberry.field(default=None, description="The session it belongs to, if any")

    def wire(self) -> dict[str, Any]:
        data = {"kind": self.kind, "amount": self.amount, "currency": self.currency, "note": self.note}
        return _envelope(self.id, self.session_id, self.seq, "transaction.recorded", self.at, data)


@strawberry.input(description="The envelope of a void or correction: a new event of the stream it amends")
class AmendmentInput:
    id: str = strawberry.field(description="A new UUID for this event; sending it again is answered `duplicate`")
    seq: int = strawberry.field(description="This device's next sequence number in the stream, from 1")
    at: str = strawberry.field(description="When, RFC 3339 with the device's offset (the latest correction wins)")
    event_id: str = strawberry.field(description="The event to void or correct, of the same session")
    session_id: str | None = strawberry.field(
        default=None, description="The session of the named event; null for a transaction"
    )

    def wire(self, type_: str, data: dict[str, Any]) -> dict[str, Any]:
        return _envelope(self.id, self.session_id, self.seq, type_, self.at, data)


@strawberry.input(description="A browser's PushSubscription.toJSON() keys")
class PushKeysInput:
    p256dh: str
    auth: str


@strawberry.input(description="A browser's PushSubscription.toJSON()")
class PushSubscriptionInput:
    endpoint: str
    keys: PushKeysInput


async def _post_one(info: Ctx, event: dict[str, Any]) -> EventResult:
    """One event through the intake every batch takes, answered with its result."""
    caller = await principal(info)
    items = parse_batch(_ENC.encode({"events": [event]}))
    answer = await accept_batch(info.context.ingest, caller, info.context.kick, items)
    return answer.results[0]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        graphql_type=object_type(BatchAnswer),
        description="A batch of 1–500 events in wire form, answered event by event exactly as POST /api/v1/events",
    )
    async def post_events(self, info: Ctx, events: list[JSON]) -> BatchAnswer:
        caller = await principal(info)
        items = parse_batch(_ENC.encode({"events": events}))
        return await accept_batch(info.context.ingest, caller, info.context.kick, items)

    @strawberry.mutation(
        graphql_type=object_type(EventResult), description="Record a transaction; answered like one posted event"
    )
    async def record_transaction(self, info: Ctx, transaction: TransactionInput) -> EventResult:
        return await _post_one(info, transaction.wire())

    @strawberry.mutation(
        graphql_type=object_type(EventResult),
        description="Void an event of one of the caller's sessions (`event.voided`); answered like one posted event",
    )
    async def void_event(self, info: Ctx, void: AmendmentInput) -> EventResult:
        return await _post_one(info, void.wire("event.voided", {"event_id": void.event_id}))

    @strawberry.mutation(
        graphql_type=object_type(EventResult),
        description="Correct an event (`event.corrected`): `data` is its whole corrected payload, checked with the "
        "rules of its type; answered like one posted event",
    )
    async def correct_event(self, info: Ctx, correction: AmendmentInput, data: JSON) -> EventResult:
        return await _post_one(
            info, correction.wire("event.corrected", {"event_id": correction.event_id, "data": data})
        )

    @strawberry.mutation(
        graphql_type=object_type(DeviceView), description="Revoke one of the caller's devices; its token stops at once"
    )
    async def revoke_device(self, info: Ctx, device_id: str) -> DeviceView:
        caller = await principal(info)
        return await DeviceService(info.context.redis).revoke(caller, device_id)

    @strawberry.mutation(description="Register a browser's push subscription for the caller; returns its endpoint")
    async def add_push_subscription(self, info: Ctx, subscription: PushSubscriptionInput) -> str:
        caller = await principal(info)
        keys = SubscriptionKeys(p256dh=subscription.keys.p256dh, auth=subscription.keys.auth)
        sub = PushSubscription(endpoint=subscription.endpoint, keys=keys)
        added = await info.context.push_book.add(caller.user_id, sub)
        return added.endpoint

    @strawberry.mutation(description="Forget one of the caller's push subscriptions; whether it was there")
    async def remove_push_subscription(self, info: Ctx, endpoint: str) -> bool:
        caller = await principal(info)
        return await info.context.push_book.remove(caller.user_id, endpoint)
