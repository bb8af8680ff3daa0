"""Ingest: check each event of a batch, store the accepted ones atomically in Redis, fold the live state.

One commit per session (``SessionStore.commit``, a Lua script) writes, all or nothing: the events by (device, seq)
slot, their ids for dedupe, the session's new state, and one outbox stream entry that the workers fan out. It
refuses when another writer moved the session since the read, and the batch is decided again on fresh data.
An event is acknowledged only after that commit returned, so it is in Redis's AOF (see docs/operations.md
for the fsync window).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Literal

import msgspec
import stamina
from redis import exceptions as redis_errors

from adapters.outbox import OutboxEntry
from adapters.sessions import LISTS, Commit, EndMarker, SessionStore, Snapshot, StoredState, Write, lean
from api.accounts import Principal
from api.limits import Limits
from shared.amendments import Amended, amended, check_amendment, corrected_payload, is_amendment, target_of
from shared.errors import InvalidEvent, RetryableError
from shared.events import (
    MAX_EVENTS_PER_SESSION,
    MAX_NOTES_PER_SESSION,
    Event,
    EventCorrected,
    NoteAdded,
    SessionEnded,
    SessionStarted,
    TransactionRecorded,
    decode_event,
    decode_stored,
    encode_event,
)
from shared.reducer import SessionState, check_corrected_end, fold, fold_more, unique_events

Status = Literal["accepted", "duplicate", "rejected"]


# The rule a rejected event broke, as a short stable code (``EventResult.rule``; the metrics' ``reason`` label).
Rule = Literal[
    "invalid",  # the event itself: shape, types, bounds, times, unknown fields (the reason says which)
    "id_reused",  # its id names another event of the user
    "seq_taken",  # its (device, seq) slot holds another event
    "amendment",  # a void or correction that cannot apply to the event it names
    "after_end",  # after the session's end
    "session_full",  # the session holds as many events (or notes) as it may
    "already_ended",
    "already_started",
    "end_before_start",  # a corrected end before the session's start
    "not_started",  # its session's start was refused, and no start accepted since
]


class EventTally:
    """Counts answered events (the API's metrics board is one; a base class, not a Protocol, so the dependency
    injection can check what it is handed)."""

    def count(self, answers: list[tuple[Status, str | None, str | None]]) -> None:
        """Count each (outcome, event type if readable, rule broken if rejected)."""
        raise NotImplementedError


class EventResult(msgspec.Struct, frozen=True, gc=False, omit_defaults=True):
    index: int
    status: Status
    id: str | None = None
    reason: str | None = None
    rule: Rule | None = None


class _Readable(msgspec.Struct, frozen=True, gc=False):
    id: str | None = None
    type: str | None = None
    session_id: str | None = None


_READABLE = msgspec.json.Decoder(_Readable)


def _guess(raw: bytes) -> _Readable:
    """The id, type and session of an event that was rejected, as far as they are readable (the client matches
    answers by the id; a refused start marks its session)."""
    try:
        return _READABLE.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError, msgspec.ValidationError):
        return _Readable()


CONTENDED_ATTEMPTS = 50  # decisions on fresh data while other devices keep committing to the same session first
REDIS_LOST_ATTEMPTS = 6  # runs of one commit while the connection to Redis is lost (0.1 s doubling between them)


class _Contended(Exception):
    """Another device committed to this session between our read and our commit: decide again on fresh data."""


class Ingest:
    """Accepts batches of events for one principal."""

    def __init__(self, store: SessionStore, limits: Limits | None = None, tally: EventTally | None = None) -> None:
        """``limits``: the per-user rate limit and session quota (None for imports, which bring history, not play);
        ``tally``: counts every answer by outcome, type and rule (the metrics)."""
        self.store = store
        self.limits = limits
        self.tally = tally

    async def ingest(self, principal: Principal, items: list[bytes]) -> list[EventResult]:
        """Answer every event of the batch: accepted, duplicate or rejected with a reason."""
        results: list[EventResult | None] = [None] * len(items)
        now = datetime.now(UTC)
        streams: dict[str, list[tuple[int, Event]]] = defaultdict(list)
        types: list[str | None] = [None] * len(items)
        refused_starts: set[str] = set()
        for index, raw in enumerate(items):
            try:
                event = decode_event(raw, device=principal.device_id, now=now)
            except InvalidEvent as exc:
                guess = _guess(raw)
                types[index] = guess.type
                results[index] = EventResult(
                    index=index, status="rejected", id=guess.id, reason=str(exc), rule="invalid"
                )
                if guess.type == "session.started" and guess.session_id:
                    refused_starts.add(guess.session_id)
                continue
            types[index] = event.type
            stream = str(event.session_id) if event.session_id else f"bankroll-{principal.user_id}"
            streams[stream].append((index, event))
        for stream in refused_starts:
            await self.store.refuse_start(principal.user_id, stream)
        for stream, indexed in streams.items():
            for result in await self._ingest_stream(principal, stream, indexed):
                results[result.index] = result
        answered = [r for r in results if r is not None]
        if self.tally is not None:
            self.tally.count([(r.status, types[r.index], r.rule) for r in answered])
        return answered

    async def _ingest_stream(
        self, principal: Principal, stream: str, indexed: list[tuple[int, Event]]
    ) -> list[EventResult]:
        """Decide and commit one session's events, again on fresh data while another device's write keeps winning
        the race between our read and our commit (optimistic: the commit script refuses a stale version)."""
        try:
            async for attempt in stamina.retry_context(
                on=_Contended, attempts=CONTENDED_ATTEMPTS, timeout=None, wait_initial=0.0, wait_max=0.05
            ):
                with attempt:
                    return await self._commit_once(principal, stream, indexed)
        except _Contended:
            raise RetryableError(f"session {stream} is written too often at once; try again") from None
        raise AssertionError("stamina's retry_context ends with a result or an exception")

    async def _commit_once(
        self, principal: Principal, stream: str, indexed: list[tuple[int, Event]]
    ) -> list[EventResult]:
        # Nothing was committed when the connection drops (the commit is one script): after a Redis restart, simply
        # run it again, a few times with a growing wait.
        async for attempt in stamina.retry_context(
            on=redis_errors.ConnectionError, attempts=REDIS_LOST_ATTEMPTS, timeout=None, wait_initial=0.1
        ):
            with attempt:
                results = await self._try_stream(principal, stream, indexed)
                if results is None:
                    raise _Contended(stream)
                return results
        raise AssertionError("stamina's retry_context ends with a result or an exception")

    async def _try_stream(
        self, principal: Principal, stream: str, indexed: list[tuple[int, Event]]
    ) -> list[EventResult] | None:
        ids, slots = [str(e.id) for _, e in indexed], [e.slot for _, e in indexed]
        # Read under the caller's own namespace: another user's session or event of the same id is not seen at all.
        snapshot = await self.store.snapshot(principal.user_id, stream, ids, slots)
        # decide() records a session.started or session.ended of this batch in the snapshot, for the commit.
        seen = snapshot
        targets = await self._targets(principal.user_id, stream, indexed)
        results, accepted, canon = decide(
            seen, indexed, is_session=not stream.startswith("bankroll-"), targets=targets, now=datetime.now(UTC)
        )
        if not accepted:
            return results

        state: SessionState | None = None
        newest = max(e.order_key for e in accepted)
        refolded, folded_from = False, 0
        if not stream.startswith("bankroll-"):
            stored_state = snapshot.state
            last = stored_state.last if stored_state is not None else None
            in_order = last is not None and all(e.order_key > last for e in accepted)
            # A state stored whole by an older release is folded again once, which moves its lists apart.
            apart = stored_state is not None and not any(getattr(stored_state.state, name) for name in LISTS)
            # A void or correction changes what came before it: the session is folded again from all its events.
            if stored_state is not None and apart and in_order and not any(is_amendment(e) for e in accepted):
                # The numbers are stored without their lists: folded on, the lists hold just this batch's items.
                folded_from = stored_state.state.version
                state = fold_more(stored_state.state, accepted)
            else:
                refolded = True
                folded_from = stored_state.state.version if stored_state is not None else 0
                everything = await self.store.stored_events(principal.user_id, stream)
                state = fold(stream, [decode_stored(raw) for raw in everything] + accepted)
                newest = max(newest, last) if last is not None else newest

        amended = await self._amended_transactions(principal.user_id, stream, accepted)
        starts_session = snapshot.owner is None and not stream.startswith("bankroll-")
        if starts_session and self.limits is not None:
            await self.limits.check_new_session(principal.user_id)
        committed = await self.store.commit(
            Commit(
                version=snapshot.version,
                user_id=principal.user_id,
                stream=stream,
                end=seen.end,
                started_by=seen.started_by,
                state=StoredState(state=state, last=newest) if state is not None else None,
                replace_lists=refolded,
                folded_from=folded_from,
                first_at=(state.started_at if state is not None else None) or min(e.at for e in accepted),
                entry=OutboxEntry(
                    user_id=principal.user_id, events=accepted, states=[lean(state)] if state else [], amended=amended
                ),
                writes=[Write(slot=e.slot, event=canon[e.slot], event_id=str(e.id)) for e in accepted],
            )
        )
        if committed and starts_session and self.limits is not None:
            await self.limits.spend_new_session(principal.user_id)
        return results if committed else None

    async def _amended_transactions(self, user_id: str, stream: str, accepted: list[Event]) -> list[Amended]:
        """The transactions this batch voids or corrects, as they count with every amendment of the bankroll."""
        named = {t for e in accepted if (t := target_of(e)) is not None}
        if not named or not stream.startswith("bankroll-"):
            return []
        everything = [decode_stored(raw) for raw in await self.store.stored_events(user_id, stream)]
        found = amended(unique_events(everything + accepted), named)
        return [a for a in found if isinstance(a.event.data, TransactionRecorded)]

    async def _targets(self, user_id: str, stream: str, indexed: list[tuple[int, Event]]) -> dict[str, Event]:
        """The stored events that the batch's voids and corrections name, by id (those of this stream only)."""
        wanted = sorted({str(t) for _, e in indexed if (t := target_of(e)) is not None})
        found = await self.store.events_by_id(user_id, stream, wanted)
        return {i: decode_stored(raw) for i, raw in found.items()}


def decide(  # noqa: C901 — the rules of acceptance read best as one list
    seen: Snapshot,
    indexed: list[tuple[int, Event]],
    *,
    is_session: bool,
    targets: dict[str, Event] | None = None,
    now: datetime | None = None,
) -> tuple[list[EventResult], list[Event], dict[str, bytes]]:
    """Answer each event: duplicate, rejected (with the rule it broke) or accepted. Updates ``seen`` in place.

    ``targets``: the stored events that the batch's voids and corrections name (an event of the batch itself may be
    named too, when it comes earlier in the batch).
    """
    stream = seen.stream
    results: list[EventResult] = []
    accepted: list[Event] = []
    canon_by_slot: dict[str, bytes] = {}
    accepted_ids: dict[str, str] = {}
    in_batch: dict[str, Event] = {}
    for index, event in indexed:
        problem: str | None = None
        if is_amendment(event):
            named = str(target_of(event))
            try:
                event = _amendment(seen, event, (targets or {}).get(named) or in_batch.get(named), now or event.at)
            except InvalidEvent as exc:
                problem = str(exc)
        canon = encode_event(event)
        eid = str(event.id)

        def reject(reason: str, rule: Rule, index: int = index, eid: str = eid) -> None:
            results.append(EventResult(index=index, status="rejected", id=eid, reason=reason, rule=rule))

        known = seen.known_slots.get(eid) or accepted_ids.get(eid)
        if known is not None:
            previous = seen.stored.get(known) or canon_by_slot.get(known)
            if known == event.slot and previous is not None and _same(previous, canon):
                results.append(EventResult(index=index, status="duplicate", id=eid))
            else:
                reject(f"event id {eid} was already used for a different event; an id names one event", "id_reused")
            continue
        other = seen.other_streams.get(eid)
        if other is not None and other != stream:
            # An id names one event of the user: reused in another of their sessions it is refused like here.
            reject(f"event id {eid} was already used for a different event; an id names one event", "id_reused")
            continue
        if event.slot in seen.stored or event.slot in canon_by_slot:
            reject(
                f"`$.seq` {event.seq} is already taken in this session by another event from this device", "seq_taken"
            )
            continue
        if problem is not None:
            reject(problem, "amendment")
            continue
        # A void or correction may come after the end: editing a finished session is what they are for.
        if is_session and seen.end is not None and not is_amendment(event) and _after_end(event, seen.end):
            reject(
                f"session {stream} ended (event {seen.end.event_id}); events after session.ended are refused",
                "after_end",
            )
            continue
        full = _over_cap(seen, event, accepted) if is_session else None
        if full is not None:
            reject(full, "session_full")
            continue
        if isinstance(event.data, SessionEnded):
            if seen.end is not None:
                reject(f"session {stream} already ended with event {seen.end.event_id}", "already_ended")
                continue
            try:
                check_corrected_end(seen.started_at, event.data)
            except InvalidEvent as exc:
                reject(str(exc), "end_before_start")
                continue
            seen.end = EndMarker(event_id=eid, device=event.device, seq=event.seq, at=event.at)
        if isinstance(event.data, SessionStarted):
            if seen.started_by is not None:
                reject(f"session {stream} was already started by event {seen.started_by}", "already_started")
                continue
            seen.started_by, seen.started_at = eid, event.at
        accepted.append(event)
        in_batch[eid] = event
        canon_by_slot[event.slot] = canon
        accepted_ids[eid] = event.slot
        results.append(EventResult(index=index, status="accepted", id=eid))
    if is_session and seen.started_by is None and seen.start_refused and accepted:
        # Nothing lands in a session whose start was refused: it would have no currency, game or date and break
        # every figure made from it. (Events that merely arrive before their start are kept: arrival order never
        # matters.) The phone fixes the start and resends the whole session.
        reason = f"session {stream} not started: its session.started was refused; fix the start and send it again"
        refused = {str(e.id) for e in accepted}
        accepted, canon_by_slot = [], {}
        results = [
            msgspec.structs.replace(r, status="rejected", reason=reason, rule="not_started") if r.id in refused else r
            for r in results
        ]
        return results, accepted, canon_by_slot
    # An end accepted in this batch also refuses the later events of the same batch.
    end = seen.end
    if end is not None:
        late = {
            str(e.id)
            for e in accepted
            if not isinstance(e.data, SessionEnded) and not is_amendment(e) and _after_end(e, end)
        }
        if late:
            accepted = [e for e in accepted if str(e.id) not in late]
            for slot in [s for s, c in canon_by_slot.items() if s not in {e.slot for e in accepted}]:
                canon_by_slot.pop(slot)
            reason = f"session {stream} ended (event {end.event_id}); events after session.ended are refused"
            results = [
                msgspec.structs.replace(r, status="rejected", reason=reason, rule="after_end") if r.id in late else r
                for r in results
            ]
    return results, accepted, canon_by_slot


def _amendment(seen: Snapshot, event: Event, target: Event | None, now: datetime) -> Event:
    """A void or correction checked against the event it names; a corrected end also against the session's start."""
    event = check_amendment(event, target, now)
    if target is not None and isinstance(target.data, SessionEnded) and isinstance(event.data, EventCorrected):
        corrected = corrected_payload(target, event.data.data)
        if isinstance(corrected, SessionEnded):
            try:
                check_corrected_end(seen.started_at, corrected)
            except InvalidEvent as exc:
                raise InvalidEvent(str(exc).replace("`$.data.", "`$.data.data.")) from None
    return event


def _over_cap(seen: Snapshot, event: Event, accepted: list[Event]) -> str | None:
    """The session cap this event would break, if any (caps keep the live state and every total bounded)."""
    state = seen.state.state if seen.state is not None else None  # the numbers: the lists are stored apart
    if (state.version if state else 0) + len(accepted) >= MAX_EVENTS_PER_SESSION:
        return (
            f"session {seen.stream} already holds {MAX_EVENTS_PER_SESSION} events, the most one session may hold; "
            "end it and start a new session"
        )
    if isinstance(event.data, NoteAdded):
        notes = seen.note_count + sum(isinstance(e.data, NoteAdded) for e in accepted)
        if notes >= MAX_NOTES_PER_SESSION:
            return f"session {seen.stream} already has {MAX_NOTES_PER_SESSION} notes, the most one session may hold"
    return None


def _same(stored: bytes, canon: bytes) -> bool:
    """The stored event is this one (an event stored by an older release may order its keys differently)."""
    return stored == canon or encode_event(decode_stored(stored)) == canon


def _after_end(event: Event, end: EndMarker) -> bool:
    """Same device: a higher seq; another device: a later device time."""
    if event.device == end.device:
        return event.seq > end.seq
    return event.at > end.at
