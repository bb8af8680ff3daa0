"""History never silently stops: 120 sessions are shown 50 to a page, newest first, with older and newer pages a tap
away, each row as the API lists it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from api.accounts import Accounts
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import LiveServer, shot
from tests.e2e.test_pwa import pair
from tests.factories import SessionScript
from web.screens.history import PAGE_SIZE
from web.widgets import money

pytestmark = pytest.mark.e2e

SESSIONS = 120


async def test_history_pages_through_every_session_newest_first(
    browser_context: Any, server: LiveServer, accounts: Accounts
) -> None:
    page, user = await pair(browser_context, server, accounts)
    events: list[dict[str, Any]] = []
    for n in range(SESSIONS):  # one session a day, the newest yesterday; results differ so rows can be told apart
        s = SessionScript(start=datetime.now(UTC) - timedelta(days=n + 1))
        events += [s.start(20000), s.end(20000 + 100 * n, 120)]
    headers = {"Authorization": f"Bearer {user.token}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=60) as api:  # 240 events at once
        answer = (await api.post("/api/v1/events", json={"events": events})).json()
        assert answer["accepted"] == 2 * SESSIONS, answer
        listed = [
            row
            for offset in range(0, SESSIONS, 50)
            for row in (await api.get("/api/v1/sessions", params={"limit": 50, "offset": offset})).json()
        ]
    assert len(listed) == SESSIONS

    await page.goto(f"{server.url}/app/history")
    seen: list[str] = []
    for number, expected_rows in enumerate((PAGE_SIZE, PAGE_SIZE, SESSIONS - 2 * PAGE_SIZE), start=1):
        first = (number - 1) * PAGE_SIZE
        title = f"History · sessions {first + 1:,}–{first + expected_rows:,}"
        await page.wait_for_selector(f"[data-testid=history-title]:has-text('{title}')", timeout=30000)
        rows = page.locator("[data-testid=history-row]")
        assert await rows.count() == expected_rows
        amounts = [t.split("\n")[-1] for t in await rows.all_inner_texts()]
        api_rows = listed[first : first + expected_rows]
        assert amounts == [money(r["profit"], r["currency"], signed=True) for r in api_rows]
        seen += [str(await rows.nth(i).get_attribute("href")) for i in range(expected_rows)]
        if number == 2:
            await page.locator("nav.pager").scroll_into_view_if_needed()
            await shot(page, "history-page-2")
            await assert_accessible(page, "history, an older page")
        if expected_rows == PAGE_SIZE:
            await page.click("[data-testid=older]")
    assert await page.locator("[data-testid=older]").count() == 0  # the oldest page says so by offering no more
    assert seen == [f"/app/sessions/{r['session_id']}" for r in listed]
    await page.click("[data-testid=newer]")
    await page.wait_for_selector(f"[data-testid=history-title]:has-text('sessions {PAGE_SIZE + 1}–{2 * PAGE_SIZE}')")
