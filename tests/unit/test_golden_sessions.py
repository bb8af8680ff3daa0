"""The reducer reaches every state the golden session file pins (fold.js is held to the same file in Chromium)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.golden.sessions import cases, project, python_view


@pytest.mark.parametrize("case", cases(), ids=lambda c: c["name"][:60])
def test_the_reducer_folds_each_golden_session_to_its_expected_state(case: dict[str, Any]) -> None:
    assert project(python_view(case)) == case["expect"]


def test_every_golden_case_has_its_expected_state_written_down() -> None:
    assert all("expect" in case for case in cases()), "run python -m tests.golden.sessions and review the result"
