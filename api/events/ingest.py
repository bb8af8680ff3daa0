"""Ingest: check each event of a batch, store the accepted ones atomically in Redis, fold the live state.

One Redis transaction per session (WATCH/MULTI) writes, all or nothing: the events by (device, seq) slot,
their ids for dedupe, the session's new state, and one outbox stream entry that the workers fan out.
An event is acknowledged only after that transaction returned, so it is in Redis's AOF (see docs/operations.md
for the fsync window).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any, Literal

import msgspec
from redis import exceptions as redis_errors
from redis.asyncio import Redis

from adapters import keys
from adapters.outbox import OutboxEntry, encode_entry
from api.accounts import Principal
from shared.errors import InvalidEvent, RetryableError
from shared.events import Event, SessionEnded, SessionStarted, decode_event, decode_stored, encode_event
from shared.reducer import SessionState, check_corrected_end, fold, fold_more

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
                event = decode_event(bytes(raw), device=principal.device_id, now=now)
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
                results = await self._try_stream(principal, stream, indexed)
            except redis_errors.ConnectionError:
                # Nothing was committed (the commit is one script): after a Redis restart, simply run it again.
                if attempt >= 5:
                    raise
                await asyncio.sleep(0.1 * 2**attempt)
                continue
            if results is not None:
                return results
            # Another device wrote this session between our read and our commit: decide again on fresh data.
        raise RetryableError(f"session {stream} is written too often at once; try again")

    async def _try_stream(
        self, principal: Principal, stream: str, indexed: list[tuple[int, Event]]
    ) -> list[EventResult] | None:
        k = _SessionKeys(stream)
        ids = [str(e.id) for _, e in indexed]
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.get(k.version)
            pipe.get(k.owner)
            pipe.hmget(k.ids, ids)
            pipe.mget([keys.event_id(i) for i in ids])
            pipe.hmget(k.events, [e.slot for _, e in indexed])
            pipe.get(k.ended)
            pipe.get(k.started)
            pipe.get(k.state)
            (
                version,
                owner,
                known_slots,
                other_streams,
                slot_values,
                end_raw,
                start_raw,
                state_raw,
            ) = await pipe.execute()
        if owner is not None and owner.decode() != principal.user_id:
            reason = f"session {stream} belongs to another user"
            return [EventResult(index=i, status="rejected", id=str(e.id), reason=reason) for i, e in indexed]
        stored_state = _STATE.decode(state_raw) if state_raw else None
        seen = _Seen(
            stream=stream,
            known_slots={i: s.decode() for i, s in zip(ids, known_slots, strict=True) if s is not None},
            other_streams={i: o.decode() for i, o in zip(ids, other_streams, strict=True) if o is not None},
            stored={e.slot: v for (_, e), v in zip(indexed, slot_values, strict=True) if v is not None},
            end=_END.decode(end_raw) if end_raw else None,
            started_by=start_raw.decode() if start_raw else None,
            started_at=stored_state.state.started_at if stored_state is not None else None,
        )
        results, accepted, canon = decide(seen, indexed, is_session=not stream.startswith("bankroll-"))
        if not accepted:
            return results

        state: SessionState | None = None
        newest = max(e.order_key for e in accepted)
        if not stream.startswith("bankroll-"):
            last = stored_state.last if stored_state is not None else None
            if stored_state is not None and last is not None and all(e.order_key > last for e in accepted):
                state = fold_more(stored_state.state, accepted)
            else:
                everything = await self.redis.hvals(k.events)
                state = fold(stream, [decode_stored(raw) for raw in everything] + accepted)
                newest = max(newest, last) if last is not None else newest

        state_json = _ENC.encode(StoredState(state=state, last=newest)) if state is not None else b""
        first = (state.started_at if state is not None else None) or min(e.at for e in accepted)
        entry = OutboxEntry(user_id=principal.user_id, events=accepted, states=[_lean(state)] if state else [])
        fixed: list[Any] = [
            version or b"0",
            principal.user_id,
            self.id_ttl_s,
            stream,
            _ENC.encode(seen.end) if seen.end is not None else b"",
            seen.started_by or "",
            state_json,
            first.timestamp(),
            encode_entry(entry),
            keys.event_id(""),
            keys.live_channel(stream),
        ]
        triples = [x for e in accepted for x in (e.slot, canon[e.slot], str(e.id))]
        session_keys = [k.version, k.owner, k.events, k.ids, k.ended, k.started, k.state]
        committed = await self.redis.eval(
            _COMMIT, 9, *session_keys, keys.user_sessions(principal.user_id), keys.OUTBOX, *fixed, *triples
        )
        if not committed:
            return None
        return results


class _SessionKeys:
    def __init__(self, stream: str) -> None:
        self.version = keys.session(stream, "ver")
        self.owner = keys.session(stream, "owner")
        self.events = keys.session(stream, "ev")
        self.ids = keys.session(stream, "ids")
        self.ended = keys.session(stream, "ended")
        self.started = keys.session(stream, "started")
        self.state = keys.session(stream, "state")


class _Seen(msgspec.Struct, gc=False):
    """What Redis already holds that bears on this batch."""

    stream: str
    known_slots: dict[str, str]
    other_streams: dict[str, str]
    stored: dict[str, bytes]
    end: EndMarker | None
    started_by: str | None
    started_at: datetime | None = None


def decide(  # noqa: C901 — the rules of acceptance read best as one list
    seen: _Seen, indexed: list[tuple[int, Event]], *, is_session: bool
) -> tuple[list[EventResult], list[Event], dict[str, bytes]]:
    """Answer each event: duplicate, rejected (with the rule it broke) or accepted. Updates ``seen`` in place."""
    stream = seen.stream
    results: list[EventResult] = []
    accepted: list[Event] = []
    canon_by_slot: dict[str, bytes] = {}
    accepted_ids: dict[str, str] = {}
    for index, event in indexed:
        canon = encode_event(event)
        eid = str(event.id)

        def reject(reason: str, index: int = index, eid: str = eid) -> None:
            results.append(EventResult(index=index, status="rejected", id=eid, reason=reason))

        known = seen.known_slots.get(eid) or accepted_ids.get(eid)
        if known is not None:
            previous = seen.stored.get(known) or canon_by_slot.get(known)
            if known == event.slot and previous is not None and _same(previous, canon):
                results.append(EventResult(index=index, status="duplicate", id=eid))
            else:
                reject(f"event id {eid} was already used for a different event; an id names one event")
            continue
        other = seen.other_streams.get(eid)
        if other is not None and other != stream:
            reject(f"event id {eid} was already used in another session; make a new id per event")
            continue
        if event.slot in seen.stored or event.slot in canon_by_slot:
            reject(f"`$.seq` {event.seq} is already taken in this session by another event from this device")
            continue
        if is_session and seen.end is not None and _after_end(event, seen.end):
            reject(f"session {stream} ended (event {seen.end.event_id}); events after session.ended are refused")
            continue
        if isinstance(event.data, SessionEnded):
            if seen.end is not None:
                reject(f"session {stream} already ended with event {seen.end.event_id}")
                continue
            try:
                check_corrected_end(seen.started_at, event.data)
            except InvalidEvent as exc:
                reject(str(exc))
                continue
            seen.end = EndMarker(event_id=eid, device=event.device, seq=event.seq, at=event.at)
        if isinstance(event.data, SessionStarted):
            if seen.started_by is not None:
                reject(f"session {stream} was already started by event {seen.started_by}")
                continue
            seen.started_by, seen.started_at = eid, event.at
        accepted.append(event)
        canon_by_slot[event.slot] = canon
        accepted_ids[eid] = event.slot
        results.append(EventResult(index=index, status="accepted", id=eid))
    # An end accepted in this batch also refuses the later events of the same batch.
    end = seen.end
    if end is not None:
        late = {str(e.id) for e in accepted if not isinstance(e.data, SessionEnded) and _after_end(e, end)}
        if late:
            accepted = [e for e in accepted if str(e.id) not in late]
            for slot in [s for s, c in canon_by_slot.items() if s not in {e.slot for e in accepted}]:
                canon_by_slot.pop(slot)
            reason = f"session {stream} ended (event {end.event_id}); events after session.ended are refused"
            results = [
                msgspec.structs.replace(r, status="rejected", reason=reason) if r.id in late else r for r in results
            ]
    return results, accepted, canon_by_slot


# One atomic commit: refuses (returns 0) if the session changed since it was read, else writes everything.
_COMMIT = """
local ver = redis.call('GET', KEYS[1]) or '0'
if ver ~= ARGV[1] then return 0 end
local user, ttl, stream = ARGV[2], tonumber(ARGV[3]), ARGV[4]
local end_json, started_by, state_json, score = ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local entry, id_prefix, channel = ARGV[9], ARGV[10], ARGV[11]
for i = 12, #ARGV, 3 do
  redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1])
  redis.call('HSET', KEYS[4], ARGV[i + 2], ARGV[i])
  redis.call('SET', id_prefix .. ARGV[i + 2], stream, 'EX', ttl)
end
local is_new = redis.call('SETNX', KEYS[2], user)
if end_json ~= '' then redis.call('SET', KEYS[5], end_json) end
if started_by ~= '' then redis.call('SET', KEYS[6], started_by) end
if state_json ~= '' then
  redis.call('SET', KEYS[7], state_json)
  if is_new == 1 then redis.call('ZADD', KEYS[8], score, stream) end
  redis.call('PUBLISH', channel, state_json)
end
redis.call('XADD', KEYS[9], '*', 'b', entry)
redis.call('INCR', KEYS[1])
return 1
"""


def _same(stored: bytes, canon: bytes) -> bool:
    """The stored event is this one (an event stored by an older release may order its keys differently)."""
    return stored == canon or encode_event(decode_stored(stored)) == canon


def _after_end(event: Event, end: EndMarker) -> bool:
    """Same device: a higher seq; another device: a later device time."""
    if event.device == end.device:
        return event.seq > end.seq
    return event.at > end.at
