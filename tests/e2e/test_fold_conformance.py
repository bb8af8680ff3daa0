"""One rule, two runtimes: the live screen's fold.js, in Chromium, reaches the golden states the reducer reaches."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import LiveServer
from tests.golden.sessions import cases, project

pytestmark = pytest.mark.e2e
AMENDMENTS = Path(__file__).parents[1] / "golden" / "amendments.json"


async def test_fold_js_reaches_every_golden_state_of_the_reducer(browser_context: Any, server: LiveServer) -> None:
    page = await browser_context.new_page()
    await page.goto(f"{server.url}/capture")
    await page.wait_for_function("typeof Fold !== 'undefined'")
    differences = []
    for case in cases():
        view = await page.evaluate("(c) => Fold.liveView(Fold.fold(c.session_id, c.events), Date.parse(c.now))", case)
        got = project(view)
        if got != case["expect"]:
            wrong = {k: (got[k], v) for k, v in case["expect"].items() if got.get(k) != v}
            differences.append(f"{case['name']}: (fold.js, golden) {wrong}")
    assert not differences, "\n".join(differences)


async def test_fold_js_applies_voids_and_corrections_as_the_reducer_in_every_order(
    browser_context: Any, server: LiveServer
) -> None:
    """The golden amendment cases (tests/golden/amendments.json), folded as given, reversed and twice over."""
    page = await browser_context.new_page()
    await page.goto(f"{server.url}/capture")
    await page.wait_for_function("typeof Fold !== 'undefined'")
    differences = []
    for case in json.loads(AMENDMENTS.read_text())["cases"]:
        events = case["events"]
        for order in (events, events[::-1], events + events[::-1]):
            state = await page.evaluate("(c) => Fold.fold(c.id, c.events)", {"id": "s", "events": order})
            state["notes"] = [n["text"] for n in state["notes"]]
            state["moods"] = [m["score"] for m in state["moods"]]
            got = {k: state[k] for k in case["expected"]}
            if got != case["expected"]:
                differences.append(f"{case['name']}: fold.js {got}, golden {case['expected']}")
    assert not differences, "\n".join(differences)
