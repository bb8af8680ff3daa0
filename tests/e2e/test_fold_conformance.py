"""One rule, two runtimes: the live screen's fold.js, in Chromium, reaches the golden states the reducer reaches."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import LiveServer
from tests.golden.sessions import cases, project

pytestmark = pytest.mark.e2e


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
