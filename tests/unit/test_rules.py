"""The phone's rules file is generated from shared/, and the golden starts are judged by the server's intake."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from shared.errors import InvalidEvent
from shared.events import GAMES, MAX_BATCH, decode_event
from shared.money import MINOR_DIGITS
from web.rules import TARGET, rules, rules_js

GOLDEN: dict[str, Any] = json.loads((Path(__file__).parents[1] / "golden" / "starts.json").read_text("utf-8"))
STARTS: list[dict[str, Any]] = GOLDEN["starts"]
COUNTS: list[dict[str, Any]] = GOLDEN["counts"]


def test_the_committed_rules_script_is_the_generated_one() -> None:
    assert TARGET.read_text(encoding="utf-8") == rules_js(), "run `python -m web.rules` and commit web/static/rules.js"


def test_the_rules_carry_the_python_tables_and_field_bounds() -> None:
    table = rules()
    assert table["currency"]["digits"] == MINOR_DIGITS
    assert table["limits"]["max_batch"] == MAX_BATCH
    assert table["games"] == list(GAMES)
    started = table["events"]["session.started"]
    assert started["game"] == {"kind": "str", "min_length": 1, "max_length": 20, "required": True}
    assert started["stakes"]["fields"]["big_blind"]["kind"] == "int"
    assert table["events"]["mood.reported"]["score"] == {"kind": "int", "min": 1, "max": 5, "required": True}


def refused_at(data: dict[str, Any], type_: str = "session.started") -> str | None:
    """Where the server's intake refuses an event of this type with this data, or None when it accepts it."""
    wire = {"type": type_, "id": str(uuid.uuid4()), "session_id": str(uuid.uuid4()), "seq": 1,
            "at": "2026-11-23T20:00:00+00:00", "data": data}  # fmt: skip
    try:
        decode_event(json.dumps(wire).encode())
    except InvalidEvent as exc:
        found = re.search(r"`(\$\.[\w.\[\]]+)`", str(exc))
        assert found, str(exc)
        return found.group(1)
    return None


@pytest.mark.parametrize("case", STARTS, ids=lambda c: str(c["refused_at"]))
def test_the_server_judges_each_golden_start_as_written(case: dict[str, Any]) -> None:
    assert refused_at(case["data"]) == case["refused_at"]


@pytest.mark.parametrize("case", COUNTS, ids=lambda c: str(c["refused_at"]))
def test_the_server_judges_each_golden_stack_count_as_written(case: dict[str, Any]) -> None:
    assert refused_at(case["data"], "stack.counted") == case["refused_at"]
