"""Splitting a batch body ``{"events": [...]}`` into one raw item per event, so each is answered on its own.

msgspec splits a well-formed body in one pass. When it cannot — an item holds a lone surrogate escape, is nested
a thousand levels deep, or otherwise breaks JSON inside its own brackets — a second, iterative scan still finds
the item boundaries from the brackets, commas and strings alone; the broken item is then rejected by the event
decoder with its reason and the rest of the batch is kept. Only a body whose outer shape is wrong is a 400.
"""

from __future__ import annotations

import re
from typing import Final

import msgspec
from litestar.exceptions import ClientException

from shared.events import MAX_BATCH


class EventBatch(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    events: list[msgspec.Raw]


_BATCH: Final = msgspec.json.Decoder(EventBatch)
# A JSON string (any bytes but an unescaped quote; escapes taken whole) or one structural character.
_TOKEN: Final = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{},:]', re.DOTALL)


def parse_batch(body: bytes) -> list[bytes]:
    """The raw items of a batch body; a body whose outer shape is wrong is one 400 that names what is wrong."""
    try:
        items = [bytes(raw) for raw in _BATCH.decode(body).events]
    except msgspec.ValidationError as exc:
        raise ClientException(detail=f'body must be {{"events": [...]}}: {exc}') from None
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError) as exc:
        found = split_items(body)
        if found is None:
            raise ClientException(detail=f"body is not valid JSON: {_reason(exc)}") from None
        items = found
    if not items:
        raise ClientException(detail="`$.events` is empty; send 1 to 500 events")
    if len(items) > MAX_BATCH:
        raise ClientException(detail=f"`$.events` has {len(items)} events; at most {MAX_BATCH} per batch")
    return items


def _reason(exc: Exception) -> str:
    return "nested too deeply" if isinstance(exc, RecursionError) else str(exc)


def split_items(body: bytes) -> list[bytes] | None:  # noqa: C901 — one small state machine
    """Find the items of ``{"events": [...]}`` without parsing them; None when the outer shape is wrong."""
    depth = 0
    key: bytes | None = None
    expect_key = False
    in_events = done = False
    start = 0
    items: list[bytes] = []
    end = 0
    for match in _TOKEN.finditer(body):
        token, at = match.group(), match.start()
        if depth == 0 and (done or token != b"{" or body[end:at].strip()):
            return None
        if token[:1] == b'"':
            if depth == 1:
                if not expect_key or token != b'"events"':
                    return None
                key, expect_key = token, False
            continue
        if token in (b"[", b"{"):
            depth += 1
            if depth == 1:
                expect_key = True
            elif depth == 2:
                if token != b"[" or key != b'"events"' or in_events:
                    return None
                in_events, start = True, match.end()
        elif token in (b"]", b"}"):
            if depth == 2 and in_events:
                last = body[start:at].strip()
                if last or items:
                    items.append(last)
            elif depth == 1:
                done, end = True, match.end()
            depth -= 1
            if depth < 0:
                return None
        elif token == b"," and depth == 2:
            items.append(body[start:at].strip())
            start = match.end()
        elif token == b"," and depth == 1:
            return None  # a second top-level key: only "events" is allowed
    if not done or depth != 0 or body[end:].strip() or key is None:
        return None
    return items
