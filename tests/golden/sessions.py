"""The golden session cases (``sessions.json``): event sequences and the state both folds must reach.

``shared.reducer`` (Python) and ``web/static/fold.js`` (the live screen, in Chromium) are each folded over every
case and projected the same way here; any difference from ``expect`` fails (tests/unit/test_golden_sessions.py,
tests/e2e/test_fold_conformance.py). A new case is written without ``expect``;
``python -m tests.golden.sessions`` fills in what the reducer says, to be read and checked before committing.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shared.events import decode_stored
from shared.reducer import LiveView, fold, live_view

GOLDEN = Path(__file__).parent / "sessions.json"


def cases() -> list[dict[str, Any]]:
    loaded: list[dict[str, Any]] = json.loads(GOLDEN.read_text())["cases"]
    return loaded


def _utc(value: datetime | int | None) -> str | None:
    """A time as UTC to the millisecond; JavaScript hands epoch milliseconds, Python aware datetimes."""
    if value is None:
        return None
    at = datetime.fromtimestamp(value / 1000, UTC) if isinstance(value, int) else value.astimezone(UTC)
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def project(view: dict[str, Any]) -> dict[str, Any]:
    """What the golden file pins, from a live view as builtins (Python's or fold.js's, times as either form)."""
    s = view["state"]
    return {
        "status": s["status"],
        "format": s["format"],
        "currency": s["currency"],
        "version": s["version"],
        "stack": s["stack"],
        "invested": s["invested"],
        "rebuys": s["rebuys"],
        "profit": s["profit"],
        "cash_out": s["cash_out"],
        "prize": s["prize"],
        "bounties": s["bounties"],
        "place": s["place"],
        "entrants": s["entrants"],
        "started_at": _utc(s["started_at"]),
        "ended_at": _utc(s["ended_at"]),
        "break_seconds": s["break_seconds"],
        "breaks": [[_utc(b[0]), _utc(b[1])] for b in s["breaks"]],
        "stack_points": [[_utc(p[0]), p[1], p[2]] for p in s["stack_points"]],
        "notes": [n["text"] for n in s["notes"]],
        "moods": [m["score"] for m in s["moods"]],
        "tilt_feedback": s["tilt_feedback"],
        "played_seconds": view["played_seconds"],
        "hourly": view["hourly"],
        "bb_per_hour": view["bb_per_hour"],
        "win_rate_profit": view["win_rate_profit"],
        "net_profit": view["net_profit"],
        "big_blinds": view["big_blinds"],
        "m": view["m"],
    }


def python_view(case: dict[str, Any]) -> dict[str, Any]:
    """The reducer's live view of a case, as builtins with datetimes kept (StackPoint/BreakSpan as pairs)."""
    events = [decode_stored(json.dumps(e).encode()) for e in case["events"]]
    view: LiveView = live_view(fold(case["session_id"], events), datetime.fromisoformat(case["now"]))
    s = view.state
    state = {f: getattr(s, f) for f in s.__struct_fields__}
    state["breaks"] = [[b.start, b.end] for b in s.breaks]
    state["stack_points"] = [[p.at, p.stack, p.invested] for p in s.stack_points]
    state["notes"] = [{"text": n.text} for n in s.notes]
    state["moods"] = [{"score": m.score} for m in s.moods]
    return {
        "state": state,
        "played_seconds": view.played_seconds,
        "hourly": view.hourly,
        "bb_per_hour": view.bb_per_hour,
        "win_rate_profit": view.win_rate_profit,
        "net_profit": view.net_profit,
        "big_blinds": view.big_blinds,
        "m": view.m,
    }


def fill() -> int:
    """Write the reducer's answer into every case that has no ``expect`` yet; returns how many were filled."""
    document = json.loads(GOLDEN.read_text())
    filled = 0
    for case in document["cases"]:
        if "expect" not in case:
            case["expect"] = project(python_view(case))
            filled += 1
    GOLDEN.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
    return filled


if __name__ == "__main__":
    print(f"filled {fill()} case(s) in {GOLDEN}: read each expect before committing", file=sys.stderr)
