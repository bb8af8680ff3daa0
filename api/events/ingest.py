"""Ingest: check each event of a batch, store the accepted ones atomically in Redis, fold the live state.

One Redis transaction per session (WATCH/MULTI) writes, all or nothing: the events by (device, seq) slot,
their ids for dedupe, the session's new state, and one outbox stream entry that the workers fan out.
An event is acknowledged only after that transaction returned, so it is in Redis's AOF (see docs/operations.md
for the fsync window).
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from datetime import UTC, datetime
from typing import Literal

import msgspec
from redis import exceptions as redis_errors
from redis.asyncio import Redis
from redis.exceptions import WatchError

from api.accounts import Principal
from shared import keys
from shared.errors import InvalidEvent, RetryableError
from shared.events import Event, SessionEnded, SessionStarted, check_not_in_future, decode_event, encode_event
from shared.outbox import OutboxEntry, encode_entry
from shared.reducer import SessionState, fold, fold_more

Status = Literal["accepted", "duplicate", "rejected"]


class EventResult(msgspec.Struct, frozen=True, gc=False, omit_defaults=True):
    index: int
    status: Status
    id: str | None = None
    reason: str | None = None


class StoredState(msgspec.Struct, gc=False):
    """The live state plus the order key of the last event folded into it (to tell in-order arrivals)."""

    state: SessionState
    last: tuple[datetime, str, int, str] | None = None


class EndMarker(msgspec.Struct, frozen=True, gc=False):
    event_id: str
    device: str
    seq: int
    at: datetime


_STATE = msgspec.json.Decoder(StoredState)
_END = msgspec.json.Decoder(EndMarker)
_ENC = msgspec.json.Encoder()
_LENIENT = msgspec.json.Decoder(dict[str, object])


def _guess_id(raw: bytes) -> str | None:
    try:
        value = _LENIENT.decode(raw).get("id")
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    return value if isinstance(value, str) else None


def _lean(state: SessionState) -> SessionState:
    """The state without its lists, small enough to ride in every outbox entry."""
    return msgspec.structs.replace(state, notes=[], moods=[], stack_points=[], tilt_feedback=[])


class Ingest:
    """Accepts batches of events for one principal."""

    def __init__(self, redis: Redis, id_ttl_days: int) -> None:
        self.redis = redis
        self.id_ttl_s = id_ttl_days * 86400

    async def ingest(self, principal: Principal, items: list[msgspec.Raw]) -> list[EventResult]:
        """Answer every event of the batch: accepted, duplicate or rejected with a reason."""
        results: list[EventResult | None] = [None] * len(items)
        now = datetime.now(UTC)
        streams: dict[str, list[tuple[int, Event]]] = defaultdict(list)
        for index, raw in enumerate(items):
            try:
                event = decode_event(bytes(raw), device=principal.device_id)
                check_not_in_future(event, now)
            except InvalidEvent as exc:
                results[index] = EventResult(index=index, status="rejected", id=_guess_id(bytes(raw)), reason=str(exc))
                continue
            stream = str(event.session_id) if event.session_id else f"bankroll-{principal.user_id}"
            streams[stream].append((index, event))
        for stream, indexed in streams.items():
            for result in await self._ingest_stream(principal, stream, indexed):
                results[result.index] = result
        return [r for r in results if r is not None]

    async def _ingest_stream(
        self, principal: Principal, stream: str, indexed: list[tuple[int, Event]]
    ) -> list[EventResult]:
        for attempt in range(50):
            try:
                return await self._try_stream(principal, stream, indexed)
            except WatchError:
                continue  # another device wrote this session meanwhile: decide again on fresh data
            except redis_errors.ConnectionError:
                # A watched connection is not retried by the client; the transaction did not run, so run it again.
                if attempt >= 5:
                    raise
                await asyncio.sleep(0.1 * 2**attempt)
        raise RetryableError(f"session {stream} is written too often at once; try again")

    async def _try_stream(  # noqa: C901 — the rule list reads best in one place
        self, principal: Principal, stream: str, indexed: list[tuple[int, Event]]
    ) -> list[EventResult]:
        k_owner, k_ev, k_ids = keys.session(stream, "owner"), keys.session(stream, "ev"), keys.session(stream, "ids")
        k_end, k_start, k_state = (
            keys.session(stream, "ended"),
            keys.session(stream, "started"),
            keys.session(stream, "state"),
        )
        is_session = not stream.startswith("bankroll-")
        async with self.redis.pipeline(transaction=True) as pipe:
            await pipe.watch(k_ev)
            owner = await pipe.get(k_owner)
            if owner is not None and owner.decode() != principal.user_id:
                reason = f"session {stream} belongs to another user"
                return [EventResult(index=i, status="rejected", id=str(e.id), reason=reason) for i, e in indexed]
            ids = [str(e.id) for _, e in indexed]
            known_slots = await pipe.hmget(k_ids, ids)
            other_streams = await pipe.mget([keys.event_id(i) for i in ids])
            slots = [e.slot for _, e in indexed] + [s.decode() for s in known_slots if s is not None]
            stored = dict(zip(slots, await pipe.hmget(k_ev, slots), strict=True))
            end_raw, start_raw = await pipe.get(k_end), await pipe.get(k_start)
            end = _END.decode(end_raw) if end_raw else None
            started_by = start_raw.decode() if start_raw else None

            results: list[EventResult] = []
            accepted: list[Event] = []
            batch_slots: dict[str, bytes] = {}
            for (index, event), known_slot, other in zip(indexed, known_slots, other_streams, strict=True):
                canon = encode_event(event)
                eid = str(event.id)

                def reject(reason: str, index: int = index, eid: str = eid) -> None:
                    results.append(EventResult(index=index, status="rejected", id=eid, reason=reason))

                if known_slot is not None or eid in {str(a.id) for a in accepted}:
                    slot = known_slot.decode() if known_slot is not None else event.slot
                    previous = stored.get(slot) or batch_slots.get(slot)
                    if previous == canon:
                        results.append(EventResult(index=index, status="duplicate", id=eid))
                    else:
                        reject(f"event id {eid} was already used for a different event; an id names one event")
                    continue
                if other is not None and other.decode() != stream:
                    reject(f"event id {eid} was already used in another session; make a new id per event")
                    continue
                taken = stored.get(event.slot) or batch_slots.get(event.slot)
                if taken is not None:
                    reject(f"`$.seq` {event.seq} is already taken in this session by another event from this device")
                    continue
                if is_session and end is not None and _after_end(event, end):
                    reject(f"session {stream} ended (event {end.event_id}); events after session.ended are refused")
                    continue
                if isinstance(event.data, SessionEnded):
                    if end is not None:
                        reject(f"session {stream} already ended with event {end.event_id}")
                        continue
                    end = EndMarker(event_id=eid, device=event.device, seq=event.seq, at=event.at)
                if isinstance(event.data, SessionStarted):
                    if started_by is not None:
                        reject(f"session {stream} was already started by event {started_by}")
                        continue
                    started_by = eid
                accepted.append(event)
                batch_slots[event.slot] = canon
                results.append(EventResult(index=index, status="accepted", id=eid))
            # An end accepted in this batch also refuses later events of the same batch.
            if end is not None and accepted:
                late = [e for e in accepted if not isinstance(e.data, SessionEnded) and _after_end(e, end)]
                for event in late:
                    accepted.remove(event)
                    batch_slots.pop(event.slot, None)
                    results = [
                        r
                        if r.id != str(event.id)
                        else msgspec.structs.replace(
                            r,
                            status="rejected",
                            reason=f"session {stream} ended (event {end.event_id}); "
                            "events after session.ended are refused",
                        )
                        for r in results
                    ]
            if not accepted:
                await pipe.reset()
                return results

            state: SessionState | None = None
            if is_session:
                state_raw = await pipe.get(k_state)
                stored_state = _STATE.decode(state_raw) if state_raw else None
                newest = max(e.order_key for e in accepted)
                if (
                    stored_state is not None
                    and stored_state.last is not None
                    and all(e.order_key > stored_state.last for e in accepted)
                ):
                    state = fold_more(stored_state.state, accepted)
                else:
                    everything = await pipe.hvals(k_ev)
                    state = fold(stream, [decode_event(raw) for raw in everything] + accepted)
                    newest = max([newest] + ([stored_state.last] if stored_state and stored_state.last else []))

            pipe.multi()
            pipe.hset(k_ev, mapping=batch_slots)
            pipe.hset(k_ids, mapping={str(e.id): e.slot for e in accepted})
            for event in accepted:
                pipe.set(keys.event_id(str(event.id)), stream, ex=self.id_ttl_s)
            if owner is None:
                pipe.set(k_owner, principal.user_id)
            if end is not None:
                pipe.set(k_end, _ENC.encode(end))
            if started_by is not None:
                pipe.set(k_start, started_by)
            states: list[SessionState] = []
            if state is not None:
                state_json = _ENC.encode(StoredState(state=state, last=newest))
                pipe.set(k_state, state_json)
                first = state.started_at or min(e.at for e in accepted)
                pipe.zadd(keys.user_sessions(principal.user_id), {stream: first.timestamp()}, nx=owner is None)
                pipe.publish(keys.live_channel(stream), state_json)
                states.append(_lean(state))
            entry = OutboxEntry(user_id=principal.user_id, events=accepted, states=states)
            pipe.xadd(keys.OUTBOX, {"b": encode_entry(entry), "t": str(time.time())})
            await pipe.execute()
            return results


def _after_end(event: Event, end: EndMarker) -> bool:
    """Same device: a higher seq; another device: a later device time."""
    if event.device == end.device:
        return event.seq > end.seq
    return event.at > end.at
