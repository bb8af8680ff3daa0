"""The session store: the session keys in Redis, the stored live state, and the one atomic commit of a batch.

The live state is kept in small pieces: its numbers (the reducer's fold without its growing lists) in one small
key, and each growing list (notes, moods, stack points, tilt feedback) in a Redis list of its own. A batch folded in
order rewrites the numbers and appends its new items, and publishes only that (a ``LiveUpdate``); a batch that
needs the session folded again (an event out of order, a void or correction) replaces the lists whole.

The commit is a Lua script registered once per store and run by EVALSHA (redis-py reloads it after a Redis restart
flushed the script cache). Its arguments are named: the script opens by binding the fields of ``Commit`` and the
keys of ``SessionKeys`` to Lua locals, both generated from the Python definitions, so the two cannot drift apart.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

import msgspec
from redis.asyncio import Redis

from adapters import keys
from adapters.outbox import ENTRY_FIELD, OutboxEntry, encode_entry
from shared.reducer import Mood, Note, SessionState, StackPoint

# The growing lists of ``SessionState``, each stored apart (under the ``SessionKeys`` field of the same name).
LISTS: Final = ("notes", "moods", "stack_points", "tilt_feedback")
_ITEM: Final[dict[str, msgspec.json.Decoder[Any]]] = {
    "notes": msgspec.json.Decoder(Note),
    "moods": msgspec.json.Decoder(Mood),
    "stack_points": msgspec.json.Decoder(StackPoint),
    "tilt_feedback": msgspec.json.Decoder(str),
}


def lean(state: SessionState) -> SessionState:
    """The state without its growing lists: its numbers (what the outbox carries and the numbers key holds)."""
    return msgspec.structs.replace(state, **{name: [] for name in LISTS})


class StoredState(msgspec.Struct, gc=False):
    """The live state plus the order key of the last event folded into it (to tell in-order arrivals)."""

    state: SessionState
    last: tuple[datetime, str, int, str] | None = None


class EndMarker(msgspec.Struct, frozen=True, gc=False):
    """The accepted ``session.ended`` of a session: which event, and where it stands in the session's order."""

    event_id: str
    device: str
    seq: int
    at: datetime


class Snapshot(msgspec.Struct, gc=False):
    """What Redis holds about one session stream that bears on a batch, read in one round trip."""

    stream: str
    version: bytes
    owner: str | None
    known_slots: dict[str, str]  # event id -> its slot in this stream
    other_streams: dict[str, str]  # event id -> the stream that holds it
    stored: dict[str, bytes]  # slot -> the event stored there
    end: EndMarker | None
    started_by: str | None
    started_at: datetime | None  # the session's start as folded, for the corrected-end rule
    state: StoredState | None  # the numbers (lists empty; a state stored before lists were apart keeps its own)
    note_count: int = 0
    start_refused: bool = False  # a start of this session was refused and none accepted yet


class LiveUpdate(msgspec.Struct, frozen=True, gc=False):
    """What a commit publishes on the session's channel: small, whatever the size of the session.

    ``state`` is the new state whose lists hold only the items this batch added, folded onto a state of version
    ``after``. When ``replaced``, the lists were rebuilt (the session was folded again) and are left out: read them.
    """

    state: SessionState
    after: int
    replaced: bool = False


class Write(msgspec.Struct, frozen=True, gc=False):
    """One accepted event: its (device, seq) slot, its canonical JSON and its id."""

    slot: str
    event: bytes
    event_id: str


class Commit(msgspec.Struct, frozen=True, gc=False, kw_only=True):
    """Everything one commit writes; refused when the session's version moved since ``version`` was read."""

    version: bytes
    user_id: str
    stream: str
    end: EndMarker | None
    started_by: str | None
    state: StoredState | None  # the lists hold the items this batch adds (all of them when ``replace_lists``)
    replace_lists: bool = False  # the session was folded again: its lists are written whole
    folded_from: int = 0  # the state's version before this batch (subscribers check they missed nothing)
    first_at: datetime  # the session's start: its score in the user's session list
    entry: OutboxEntry
    writes: list[Write]


# The script's named arguments, in ARGV order; ``_argv`` builds them and the script's first lines bind them.
# After them come each list's new items (as many as its ``n_<list>`` says), then the events, three values each.
_ARGS = (
    "version", "user", "ttl", "stream", "end_json", "started_by", "state_json", "score", "entry", "id_prefix",
    "channel", "entry_field", "update_json", "replace_lists", *(f"n_{name}" for name in LISTS),
)  # fmt: skip
_KEYS = (*keys.SessionKeys._fields, "user_sessions", "outbox")

_BODY = """
if (redis.call('GET', k_version) or '0') ~= version then return 0 end
local pos = n_args + 1
for j, list in ipairs(lists) do
  if replace_lists == '1' then redis.call('DEL', list) end
  local n = tonumber(counts[j])
  local done = 0
  while done < n do  -- in chunks: unpack of thousands of values would overflow Lua's stack
    local m = math.min(1000, n - done)
    redis.call('RPUSH', list, unpack(ARGV, pos + done, pos + done + m - 1))
    done = done + m
  end
  pos = pos + n
end
for i = pos, #ARGV, 3 do
  local slot, event, event_id = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  redis.call('HSET', k_events, slot, event)
  redis.call('HSET', k_ids, event_id, slot)
  redis.call('SET', id_prefix .. event_id, stream, 'EX', tonumber(ttl))
end
local is_new = redis.call('SETNX', k_owner, user)
if end_json ~= '' then redis.call('SET', k_ended, end_json) end
if started_by ~= '' then redis.call('SET', k_started, started_by) end
if state_json ~= '' then
  redis.call('SET', k_state, state_json)
  if is_new == 1 then redis.call('ZADD', k_user_sessions, score, stream) end
  redis.call('PUBLISH', channel, update_json)
end
redis.call('XADD', k_outbox, '*', entry_field, entry)
redis.call('INCR', k_version)
return 1
"""
# One atomic commit: refuses (returns 0) if the session changed since it was read, else writes everything.
COMMIT_SCRIPT = (
    f"local n_args = {len(_ARGS)}\n"
    f"local {', '.join(_ARGS)} = unpack(ARGV, 1, {len(_ARGS)})\n"
    f"local {', '.join('k_' + k for k in _KEYS)} = unpack(KEYS, 1, {len(_KEYS)})\n"
    f"local lists = {{{', '.join('k_' + name for name in LISTS)}}}\n"
    f"local counts = {{{', '.join('n_' + name for name in LISTS)}}}\n" + _BODY
)

_STATE = msgspec.json.Decoder(StoredState)
_END = msgspec.json.Decoder(EndMarker)
_ENC = msgspec.json.Encoder()


async def stored_events(redis: Redis, user_id: str, stream: str) -> list[bytes]:
    """Every event stored in the user's stream, as stored (JSON), in no particular order (for readers such as the
    tilt sink that hold a Redis client but no store)."""
    raws: list[bytes] = await redis.hvals(keys.session(user_id, stream).events)
    return raws


class SessionStore:
    """Sessions in Redis: read what a batch needs, commit it atomically, read the live state back."""

    def __init__(self, redis: Redis, id_ttl_days: int) -> None:
        self.redis = redis
        self.id_ttl_s = id_ttl_days * 86400
        self._commit = redis.register_script(COMMIT_SCRIPT)

    async def snapshot(self, user_id: str, stream: str, event_ids: list[str], slots: list[str]) -> Snapshot:
        """The user's session: its version, owner, the batch's ids and slots as stored, its end, start and state."""
        k = keys.session(user_id, stream)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.get(k.version)
            pipe.get(k.owner)
            pipe.hmget(k.ids, event_ids)
            pipe.mget([keys.event_id(user_id, i) for i in event_ids])
            pipe.hmget(k.events, slots)
            pipe.get(k.ended)
            pipe.get(k.started)
            pipe.get(k.state)
            pipe.exists(keys.refused_start(user_id, stream))
            pipe.llen(k.notes)
            version, owner, known, other, values, end, started, state, refused, notes = await pipe.execute()
        stored = _STATE.decode(state) if state else None
        return Snapshot(
            stream=stream,
            version=version or b"0",
            owner=owner.decode() if owner is not None else None,
            known_slots={i: s.decode() for i, s in zip(event_ids, known, strict=True) if s is not None},
            other_streams={i: o.decode() for i, o in zip(event_ids, other, strict=True) if o is not None},
            stored={s: v for s, v in zip(slots, values, strict=True) if v is not None},
            end=_END.decode(end) if end else None,
            started_by=started.decode() if started else None,
            started_at=stored.state.started_at if stored is not None else None,
            state=stored,
            start_refused=bool(refused),
            note_count=int(notes) + (len(stored.state.notes) if stored is not None else 0),
        )

    async def refuse_start(self, user_id: str, stream: str) -> None:
        """Remember that the start of the user's session was refused (kept as long as event ids are)."""
        await self.redis.set(keys.refused_start(user_id, stream), b"1", ex=self.id_ttl_s)

    async def stored_events(self, user_id: str, stream: str) -> list[bytes]:
        """Every event stored in the user's stream, as stored (JSON), in no particular order."""
        return await stored_events(self.redis, user_id, stream)

    async def events_by_id(self, user_id: str, stream: str, event_ids: list[str]) -> dict[str, bytes]:
        """The stored events of the user's stream among these ids (as stored, JSON); ids of other streams are absent."""
        if not event_ids:
            return {}
        k = keys.session(user_id, stream)
        slots = await self.redis.hmget(k.ids, event_ids)
        found = {i: s for i, s in zip(event_ids, slots, strict=True) if s is not None}
        if not found:
            return {}
        raws = await self.redis.hmget(k.events, list(found.values()))
        return {i: raw for i, raw in zip(found, raws, strict=True) if raw is not None}

    async def commit(self, commit: Commit) -> bool:
        """Write the batch, the new state and the outbox entry at once; False if the session moved meanwhile."""
        done = await self._commit(keys=self._keys(commit), args=self._argv(commit))
        return bool(done)

    def _keys(self, commit: Commit) -> list[str]:
        return [*keys.session(commit.user_id, commit.stream), keys.user_sessions(commit.user_id), keys.OUTBOX]

    def _argv(self, commit: Commit) -> list[bytes | str | int | float]:
        stored, update = b"", b""
        items: dict[str, list[bytes]] = {name: [] for name in LISTS}
        if commit.state is not None:
            folded = commit.state.state
            stored = _ENC.encode(msgspec.structs.replace(commit.state, state=lean(folded)))
            items = {name: [_ENC.encode(item) for item in getattr(folded, name)] for name in LISTS}
            news = lean(folded) if commit.replace_lists else folded
            update = _ENC.encode(LiveUpdate(state=news, after=commit.folded_from, replaced=commit.replace_lists))
        named: dict[str, bytes | str | int | float] = {
            "version": commit.version,
            "user": commit.user_id,
            "ttl": self.id_ttl_s,
            "stream": commit.stream,
            "end_json": _ENC.encode(commit.end) if commit.end is not None else b"",
            "started_by": commit.started_by or "",
            "state_json": stored,
            "score": commit.first_at.timestamp(),
            "entry": encode_entry(commit.entry),
            "id_prefix": keys.event_id(commit.user_id, ""),
            "channel": keys.live_channel(commit.user_id, commit.stream),
            "entry_field": ENTRY_FIELD,
            "update_json": update,
            "replace_lists": "1" if commit.replace_lists else "0",
            **{f"n_{name}": len(items[name]) for name in LISTS},
        }
        listed = [item for name in LISTS for item in items[name]]
        return (
            [named[name] for name in _ARGS] + listed + [x for w in commit.writes for x in (w.slot, w.event, w.event_id)]
        )

    async def exists(self, user_id: str, session_id: str) -> bool:
        """Whether the user has this session (another user's session of the same id is not theirs, nor known)."""
        return bool(await self.redis.exists(keys.session(user_id, session_id).owner))

    async def state(self, user_id: str, session_id: str) -> StoredState | None:
        """The whole live state: its numbers joined with its lists, read in one round trip."""
        k = keys.session(user_id, session_id)
        async with self.redis.pipeline(transaction=True) as pipe:  # MULTI: numbers and lists of one commit
            pipe.get(k.state)
            for name in LISTS:
                pipe.lrange(getattr(k, name), 0, -1)
            raw, *lists = await pipe.execute()
        if raw is None:
            return None
        stored = _STATE.decode(raw)
        for name, items in zip(LISTS, lists, strict=True):
            # A state stored before lists were kept apart still holds its own; the next batch moves them out.
            getattr(stored.state, name).extend(_ITEM[name].decode(item) for item in items)
        return stored

    async def recent_states(self, user_id: str, offset: int, limit: int) -> list[StoredState]:
        """The states of the user's sessions, newest start first."""
        ids = await self.redis.zrevrange(keys.user_sessions(user_id), offset, offset + limit - 1)
        if not ids:
            return []
        raws = await self.redis.mget([keys.session(user_id, i.decode()).state for i in ids])
        return [_STATE.decode(raw) for raw in raws if raw is not None]

    async def owned_states(self, user_id: str, session_ids: list[str]) -> list[StoredState]:
        """The states of those of these sessions that the user has, in the given order."""
        if not session_ids:
            return []
        raws = await self.redis.mget([keys.session(user_id, i).state for i in session_ids])
        return [_STATE.decode(raw) for raw in raws if raw is not None]

    async def started(self, user_id: str, session_ids: list[str]) -> set[str]:
        """The user's sessions among these that a ``session.started`` was accepted for."""
        if not session_ids:
            return set()
        async with self.redis.pipeline(transaction=False) as pipe:
            for sid in session_ids:
                pipe.exists(keys.session(user_id, sid).started)
            found = await pipe.execute()
        return {sid for sid, hit in zip(session_ids, found, strict=True) if hit}


# Moves one session from the layout before per-user namespaces to its user's namespace, atomically: KEYS are the
# old parts then the new ones; ARGV the old and new event-id key prefixes, the stream, and where ``ids`` is in KEYS.
_MOVE_SCRIPT = """
local n = #KEYS / 2
for i = 1, n do
  if redis.call('EXISTS', KEYS[i]) == 1 then redis.call('RENAME', KEYS[i], KEYS[n + i]) end
end
for _, id in ipairs(redis.call('HKEYS', KEYS[n + tonumber(ARGV[4])])) do
  local old = ARGV[1] .. id
  if redis.call('GET', old) == ARGV[3] then redis.call('RENAME', old, ARGV[2] .. id) end
end
return 1
"""


USER_NAMESPACES_LAYOUT = 2  # the key layout with sessions and event ids under their user


async def move_to_user_namespaces(redis: Redis) -> int:
    """Move sessions stored before per-user namespaces into their user's namespace; how many were moved.

    Run at start-up; idempotent (a moved session is found no more), and each session moves in one script, so a
    crash half-way leaves every session whole in one layout or the other. Event-id keys keep their TTL. Once all
    are moved the store records its layout, so later start-ups do not scan the keyspace again.
    """
    if int(await redis.get(keys.LAYOUT) or 0) >= USER_NAMESPACES_LAYOUT:
        return 0
    moved = 0
    move = redis.register_script(_MOVE_SCRIPT)
    pattern = keys.legacy_session("*").owner
    head, tail = pattern.split("*", 1)
    async for raw in redis.scan_iter(match=pattern, count=1000):
        stream = raw.decode()[len(head) : -len(tail)]
        if ":" in stream:
            continue  # already under a user: pbt:s:<user>:<stream>:owner
        owner = await redis.get(raw)
        if owner is None:
            continue
        user_id = owner.decode()
        old, new = keys.legacy_session(stream), keys.session(user_id, stream)
        argv = [keys.legacy_event_id(""), keys.event_id(user_id, ""), stream, keys.SessionKeys._fields.index("ids") + 1]
        await move(keys=[*old, *new], args=argv)
        moved += 1
    await redis.set(keys.LAYOUT, USER_NAMESPACES_LAYOUT)
    return moved


_UPDATE = msgspec.json.Decoder(LiveUpdate)


def decode_update(raw: bytes) -> LiveUpdate:
    """An update as published on the session's live channel."""
    return _UPDATE.decode(raw)


def joined(current: SessionState, update: LiveUpdate) -> SessionState | None:
    """``current`` brought up to ``update``: its numbers, and each list with the new items appended.

    None when that cannot be done from the update alone (the lists were rebuilt, or an update in between was not
    seen): read the state again.
    """
    if update.replaced or update.after != current.version:
        return None
    lists = {name: [*getattr(current, name), *getattr(update.state, name)] for name in LISTS}
    return msgspec.structs.replace(update.state, **lists)


__all__ = [
    "COMMIT_SCRIPT",
    "LISTS",
    "Commit",
    "EndMarker",
    "LiveUpdate",
    "SessionStore",
    "Snapshot",
    "StoredState",
    "Write",
    "decode_update",
    "joined",
    "lean",
    "move_to_user_namespaces",
]
