"""Generates ``web/static/rules.js``: every rule the phone checks, read from ``shared/`` so it has no copy of its own.

What the phone gets: the currencies (ISO 4217 codes, decimals, symbols, the largest amount), the sentences of a
refused amount, the limits of a batch and of a session, each event's field bounds (lengths, ranges, choices,
read from the msgspec schema itself), the games the start form offers and the start's cross-field rules.
``web/static/money.js`` and ``pad.js`` read ``RULES``; ``tests/unit/test_rules.py`` fails until the committed file
matches ``python -m web.rules``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import msgspec

from shared import events, money

TARGET = Path(__file__).parent / "static" / "rules.js"


def _constraints(tp: Any) -> dict[str, Any]:
    """A field's bounds as plain JSON: ``min``/``max`` for numbers, lengths and patterns for text, ``choices``."""
    info = tp.type if isinstance(tp, msgspec.inspect.Metadata) else tp
    if isinstance(info, msgspec.inspect.UnionType):
        inner = [t for t in info.types if not isinstance(t, msgspec.inspect.NoneType)]
        return {**_constraints(inner[0]), "nullable": True} if len(inner) == 1 else {}
    if isinstance(info, msgspec.inspect.IntType):
        return {"kind": "int", "min": info.ge, "max": info.le}
    if isinstance(info, msgspec.inspect.StrType):
        found = {"min_length": info.min_length, "max_length": info.max_length, "pattern": info.pattern}
        return {"kind": "str", **{k: v for k, v in found.items() if v is not None}}
    if isinstance(info, msgspec.inspect.LiteralType):
        return {"kind": "choice", "choices": list(info.values)}
    if isinstance(info, msgspec.inspect.ListType):
        return {"kind": "list", "max_length": info.max_length, "item": _constraints(info.item_type)}
    if isinstance(info, msgspec.inspect.StructType):
        return {"kind": "object", "fields": _fields(info)}
    return {}


def _fields(info: msgspec.inspect.StructType) -> dict[str, Any]:
    return {f.name: {**_constraints(f.type), "required": f.required} for f in info.fields}


def rules() -> dict[str, Any]:
    """Every rule the browser needs, as JSON-ready data."""
    payloads = {
        str(cls.__struct_config__.tag): _fields(msgspec.inspect.type_info(payload))  # type: ignore[arg-type]
        for cls, payload in events.payload_types().items()
    }
    return {
        "currency": {
            "iso": sorted(money.ISO_4217),
            "digits": dict(sorted(money.MINOR_DIGITS.items())),
            "default_digits": money.DEFAULT_MINOR_DIGITS,
            "symbols": money.SYMBOLS,
            "max_amount": money.MAX_AMOUNT,
            "chips": money.CHIPS,
        },
        "amount_errors": money.AMOUNT_ERRORS,
        "limits": {
            "max_batch": events.MAX_BATCH,
            "max_events_per_session": events.MAX_EVENTS_PER_SESSION,
            "max_notes_per_session": events.MAX_NOTES_PER_SESSION,
            "max_future_seconds": int(events.MAX_FUTURE.total_seconds()),
        },
        "games": list(events.GAMES),
        "start": {"big_blind_required_for": list(events.BIG_BLIND_REQUIRED_FOR)},
        "events": payloads,
    }


def rules_js() -> str:
    """The script text: ``var RULES = {...}``."""
    table = json.dumps(rules(), ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return (
        "/* Generated from shared/ by `python -m web.rules`; do not edit (tests/unit/test_rules.py checks it). */\n"
        '"use strict";\n\n'
        f"var RULES = {table};\n"
    )


def main() -> None:
    TARGET.write_text(rules_js(), encoding="utf-8")
    sys.stdout.write(f"wrote {TARGET}\n")


if __name__ == "__main__":
    main()
