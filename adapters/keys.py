"""Redis key names, in one place so the API, the workers and the CLI agree on them."""

from __future__ import annotations

PREFIX = "pbt"
OUTBOX = f"{PREFIX}:outbox"  # stream of accepted batches, one consumer group per sink
USERS = f"{PREFIX}:users"  # hash: user name -> user id
DEAD_LETTERS = f"{PREFIX}:deadletters"  # stream of outbox entries a sink could not take, with the reason


def token(token_hash: str) -> str:
    return f"{PREFIX}:tok:{token_hash}"


def devices(user_id: str) -> str:
    return f"{PREFIX}:u:{user_id}:devices"


def user_sessions(user_id: str) -> str:
    return f"{PREFIX}:u:{user_id}:sessions"


def session(stream_key: str, part: str) -> str:
    """``part`` is one of owner, ev (slot -> event), ids (event id -> slot), ended, state."""
    return f"{PREFIX}:s:{stream_key}:{part}"


def event_id(event_id: str) -> str:
    return f"{PREFIX}:ev:{event_id}"


def live_channel(session_id: str) -> str:
    return f"{PREFIX}:live:{session_id}"


def pairing(code_hash: str) -> str:
    """A pending pairing, under the SHA-256 of its one-time code (never the code itself)."""
    return f"{PREFIX}:pair:{code_hash}"


def revoked_channel(device_id: str) -> str:
    """Pub/sub channel told when the device is revoked: its open streams and web socket close."""
    return f"{PREFIX}:revoked:{device_id}"


def push_subscriptions(user_id: str) -> str:
    return f"{PREFIX}:u:{user_id}:push"


def tilt_state(key: str) -> str:
    return f"{PREFIX}:tilt:{key}"


def tilt_seen(user_id: str) -> str:
    """Sorted set: ids of the events the player's tilt state has taken, scored by event time (ms)."""
    return f"{PREFIX}:tilt:seen:{user_id}"


def alerts(user_id: str) -> str:
    """List of the user's latest tilt alerts, newest first (JSON)."""
    return f"{PREFIX}:u:{user_id}:alerts"


def lag_samples(sink: str) -> str:
    """Recent acceptance-to-sink lags in ms for one sink, newest first (an operations metric)."""
    return f"{PREFIX}:metrics:lag:{sink}"


def outbox_tries(sink: str) -> str:
    """Hash: outbox entry id -> failed writes of that entry to this sink (bounded before dead-lettering)."""
    return f"{PREFIX}:outbox:tries:{sink}"


def consumer_alive(consumer: str) -> str:
    """Heartbeat of a live outbox consumer (short TTL): a consumer without it is dead; its entries are claimed."""
    return f"{PREFIX}:outbox:alive:{consumer}"
