"""How jobs are serialized on the queue: msgpack via msgspec (arq's pickle default would run code on load)."""

from __future__ import annotations

from typing import Any

import msgspec


def serialize_job(value: dict[str, Any]) -> bytes:
    return msgspec.msgpack.encode(value)


def deserialize_job(raw: bytes) -> dict[str, Any]:
    result: dict[str, Any] = msgspec.msgpack.decode(raw)
    return result
