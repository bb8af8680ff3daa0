"""Redis key names, in one place so the API, the workers and the CLI agree on them.

Every key starts with ``pbt:``::

    pbt:users                   hash  user name -> user id
    pbt:admins                  set   ids of the users who see the owner's overview
    pbt:layout                  string  the key layout this store is in (2: sessions and event ids under their user)
    pbt:tok:<token hash>        string  the principal (user, device) a token stands for
    pbt:u:<user>:devices        hash  device id -> device JSON
    pbt:u:<user>:sessions       zset  the user's sessions by start time
    pbt:u:<user>:push           hash  push endpoint -> subscription JSON
    pbt:u:<user>:alerts         list  the latest tilt alerts, newest first
    pbt:s:<user>:<stream>:<part>  one session of the user (or the user's bankroll stream ``bankroll-<user>``), in
                                parts; under the user, so another user's session id is simply unknown:
        ver      string  commit counter: a commit refuses if it changed since the read
        owner    string  the user id
        ev       hash    (device, seq) slot -> event JSON
        ids      hash    event id -> slot
        ended    string  the accepted session.ended (EndMarker JSON)
        started  string  the id of the accepted session.started
        state    string  the live state's numbers: the reducer's fold without its growing lists (StoredState JSON)
        notes, moods, points, feedback  lists  the state's growing lists, one JSON item each, appended per batch
    pbt:ev:<user>:<event id>    string  the user's stream that holds the event (dedupe across sessions), with a TTL
    pbt:outbox                  stream  accepted batches, one consumer group per sink
    pbt:live:<user>:<session>   channel the new live state after each commit
    pbt:revoked:<device>        channel told when the device is revoked
    pbt:pair:<code hash>        string  a pending pairing
    pbt:tilt:<user>             string  the user's tilt engine state, with a TTL
    pbt:metrics:lag:<sink>      list    recent acceptance-to-sink lags in ms
    pbt:metrics:worker          hash    the workers' counters and histograms (``adapters/metrics.py``)
    pbt:rate:<user>:<what>:<window>  string  a rate or quota counter (batches per second, sessions per day), TTL
"""

from __future__ import annotations

from typing import NamedTuple

PREFIX = "pbt"
OUTBOX = f"{PREFIX}:outbox"  # stream of accepted batches, one consumer group per sink
USERS = f"{PREFIX}:users"  # hash: user name -> user id
ADMINS = f"{PREFIX}:admins"  # set: ids of the users who see the owner's overview (existing users are not)
LAYOUT = f"{PREFIX}:layout"  # string: the key layout version this store is in
DEAD_LETTERS = f"{PREFIX}:deadletters"  # stream of outbox entries a sink could not take, with the reason
WORKER_METRICS = f"{PREFIX}:metrics:worker"  # hash: the workers' counters and histograms, one field per sample


def token(token_hash: str) -> str:
    return f"{PREFIX}:tok:{token_hash}"


def rate(user_id: str, what: str, window: object) -> str:
    """A per-user counter of ``what`` in one time window (a second, a UTC day); it expires after its window."""
    return f"{PREFIX}:rate:{user_id}:{what}:{window}"


def devices(user_id: str) -> str:
    return f"{PREFIX}:u:{user_id}:devices"


def user_sessions(user_id: str) -> str:
    return f"{PREFIX}:u:{user_id}:sessions"


class SessionKeys(NamedTuple):
    """The keys of one session stream, in the order the commit script receives them."""

    version: str
    owner: str
    events: str
    ids: str
    ended: str
    started: str
    state: str
    notes: str
    moods: str
    stack_points: str
    tilt_feedback: str


def session(user_id: str, stream_key: str) -> SessionKeys:
    """The keys of one session of the user (or of the user's bankroll stream); the parts are listed in the module
    docstring. Every user has a namespace of their own: the same id under two users names two sessions."""
    return _session_at(f"{PREFIX}:s:{user_id}:{stream_key}")


def legacy_session(stream_key: str) -> SessionKeys:
    """The keys of one session as releases before per-user namespaces laid them out (``pbt:s:<stream>:…``)."""
    return _session_at(f"{PREFIX}:s:{stream_key}")


def _session_at(base: str) -> SessionKeys:
    return SessionKeys(
        version=f"{base}:ver",
        owner=f"{base}:owner",
        events=f"{base}:ev",
        ids=f"{base}:ids",
        ended=f"{base}:ended",
        started=f"{base}:started",
        state=f"{base}:state",
        notes=f"{base}:notes",
        moods=f"{base}:moods",
        stack_points=f"{base}:points",
        tilt_feedback=f"{base}:feedback",
    )


def refused_start(user_id: str, stream_key: str) -> str:
    """Set when the intake refused the start of a session that has none: its later events are refused too."""
    return f"{PREFIX}:s:{user_id}:{stream_key}:refused"


def event_id(user_id: str, event_id: str) -> str:
    """Which of the user's streams holds this event id: ids are unique per user, never checked across users."""
    return f"{PREFIX}:ev:{user_id}:{event_id}"


def legacy_event_id(event_id: str) -> str:
    """An event id's key as releases before per-user namespaces laid it out."""
    return f"{PREFIX}:ev:{event_id}"


def live_channel(user_id: str, session_id: str) -> str:
    return f"{PREFIX}:live:{user_id}:{session_id}"


def pairing(code_hash: str) -> str:
    """A pending pairing, under the SHA-256 of its one-time code (never the code itself)."""
    return f"{PREFIX}:pair:{code_hash}"


def revoked_channel(device_id: str) -> str:
    """Pub/sub channel told when the device is revoked: its open streams and web socket close."""
    return f"{PREFIX}:revoked:{device_id}"


def push_subscriptions(user_id: str) -> str:
    return f"{PREFIX}:u:{user_id}:push"


def push_settled(job_id: str) -> str:
    """Set of the endpoints one push job already settled (delivered, gone, failed): its retries skip them."""
    return f"{PREFIX}:push:settled:{job_id}"


def tilt_state(key: str) -> str:
    return f"{PREFIX}:tilt:{key}"


def tilt_seen(user_id: str) -> str:
    """Sorted set: ids of the events the player's tilt state has taken, scored by event time (ms)."""
    return f"{PREFIX}:tilt:seen:{user_id}"


def alerts(user_id: str) -> str:
    """List of the user's latest tilt alerts, newest first (JSON)."""
    return f"{PREFIX}:u:{user_id}:alerts"


def alert_channel(user_id: str) -> str:
    """Pub/sub channel on which each new tilt alert of the user is published (JSON), for live subscribers."""
    return f"{PREFIX}:live-alerts:{user_id}"


def lag_samples(sink: str) -> str:
    """Recent acceptance-to-sink lags in ms for one sink, newest first (an operations metric)."""
    return f"{PREFIX}:metrics:lag:{sink}"


def outbox_tries(sink: str) -> str:
    """Hash: outbox entry id -> failed writes of that entry to this sink (bounded before dead-lettering)."""
    return f"{PREFIX}:outbox:tries:{sink}"


def consumer_alive(consumer: str) -> str:
    """Heartbeat of a live outbox consumer (short TTL): a consumer without it is dead; its entries are claimed."""
    return f"{PREFIX}:outbox:alive:{consumer}"
