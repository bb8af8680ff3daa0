"""Undo and edit on a phone-size Chromium: the toast's Undo and the detail screen's Edit / Delete are new events
through the outbox, and the server's state, the statistics and the exports all change the same way."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import httpx
import pytest

from adapters.clickhouse import Warehouse
from api.accounts import Accounts
from tests.conftest import eventually
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import LiveServer, shot
from tests.e2e.test_pwa import end, pair, tap

pytestmark = pytest.mark.e2e


async def entry(page: Any, event_type: str, state: str = "recorded") -> Any:
    """The timeline entry of the session detail for an event of this type, in this state."""
    selector = f"[data-testid=timeline-entry][data-event-type='{event_type}'][data-state={state}]"
    await page.wait_for_selector(selector, timeout=30000)
    return page.locator(selector)


async def test_undo_from_the_toast_and_edits_on_the_detail_change_server_stats_and_exports_alike(
    browser_context: Any, server: LiveServer, accounts: Accounts, warehouse: Warehouse
) -> None:
    page, user = await pair(browser_context, server, accounts)
    await page.click("[data-testid=start-session]")
    await page.fill("dialog[open] [name=buy_in]", "300")
    await page.click("dialog[open] [data-testid=dialog-ok]")
    await page.wait_for_url("**/app/live/*")
    session_id = page.url.rsplit("/", 1)[1]
    await tap(page, "live-rebuy", amount="100")
    await page.wait_for_selector("[data-testid=invested]:has-text('$400.00')")
    await page.wait_for_selector("#pad-toast.show [data-testid=toast-undo]")
    await page.focus("[data-testid=toast-undo]")  # the Undo stays while it has the focus
    await shot(page, "undo-toast")
    await assert_accessible(page, "undo toast", "#pad-toast")
    await page.click("[data-testid=toast-undo]")
    # The phone's own fold takes the rebuy out at once, before any server answer.
    await page.wait_for_selector("[data-testid=invested]:has-text('$300.00')")
    await tap(page, "live-stack", amount="280")
    await tap(page, "live-note", text="typo note")
    await end(page, "live-end", cash_out="280")
    await page.wait_for_selector("[data-testid=status]:has-text('ended')")

    headers = {"Authorization": f"Bearer {user.token}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as api:

        async def state() -> dict[str, Any]:
            body: dict[str, Any] = (await api.get(f"/api/v1/sessions/{session_id}")).json()
            return body.get("state", {})

        async def undone() -> bool:
            s = await state()
            return (s.get("invested"), s.get("rebuys"), s.get("profit")) == (30000, 0, -2000)

        await eventually(undone, timeout=30)

        await page.goto(f"{server.url}/app/sessions/{session_id}")
        count = await entry(page, "stack.counted")
        await count.scroll_into_view_if_needed()
        await shot(page, "detail-timeline-with-edit")
        await assert_accessible(page, "detail with edit and delete")
        await count.locator("[data-testid=amend-edit]").click()
        await page.wait_for_selector("dialog[open] [name=amount]")
        assert await page.input_value("dialog[open] [name=amount]") == "280.00"
        await page.fill("dialog[open] [name=amount]", "1,320.50")
        await shot(page, "edit-stack-dialog")
        await assert_accessible(page, "edit stack dialog", "dialog[open]")
        await page.click("dialog[open] [data-testid=dialog-ok]")
        await entry(page, "stack.counted", "edited")

        ended = await entry(page, "session.ended")
        await ended.locator("[data-testid=amend-edit]").click()
        await page.fill("dialog[open] [name=cash_out]", "330")
        await shot(page, "edit-cash-out-dialog")
        await page.click("dialog[open] [data-testid=dialog-ok]")
        await entry(page, "session.ended", "edited")

        started = await entry(page, "session.started")
        await started.locator("[data-testid=amend-edit]").click()
        await page.wait_for_selector("dialog[open] [name=location]")
        await page.fill("dialog[open] [name=sb]", "2")
        await page.fill("dialog[open] [name=bb]", "5")
        await page.fill("dialog[open] [name=location]", "Aria")
        await shot(page, "edit-start-dialog")
        await page.click("dialog[open] [data-testid=dialog-ok]")
        await entry(page, "session.started", "edited")

        note = await entry(page, "note.added")
        await note.locator("[data-testid=amend-delete]").click()
        await page.wait_for_selector("dialog[open] .confirm")
        await shot(page, "delete-dialog")
        await assert_accessible(page, "delete dialog", "dialog[open]")
        await page.click("dialog[open] [data-testid=dialog-ok]")
        await entry(page, "note.added", "deleted")
        await page.wait_for_selector("[data-testid=profit]:has-text('+$30.00')")
        await (await entry(page, "note.added", "deleted")).scroll_into_view_if_needed()
        await shot(page, "detail-after-edits")

        s = await state()
        assert (s["cash_out"], s["profit"], s["invested"], s["rebuys"], s["notes"]) == (33000, 3000, 30000, 0, [])
        assert 132050 in [p["stack"] for p in s["stack_points"]]
        assert (s["small_blind"], s["big_blind"], s["location"], s["buy_in"]) == (200, 500, "Aria", 30000)

        async def stats_agree() -> bool:
            summary = (await api.get("/api/v1/stats/summary?currency=USD")).json()
            return (summary.get("sessions"), summary.get("profit")) == (1, 3000)

        await eventually(stats_agree, timeout=30)
        row = next(csv.DictReader(io.StringIO((await api.get("/api/v1/export/sessions.csv")).text)))
        assert (row["cash_out"], row["profit"], row["invested"], row["rebuys"]) == ("330.00", "30.00", "300.00", "0")
        lines = [json.loads(x) for x in (await api.get("/api/v1/export/events.jsonl")).text.splitlines()]
        kinds = [e["type"] for e in lines]
        assert (kinds.count("event.voided"), kinds.count("event.corrected")) == (2, 3)
        assert kinds.count("chips.added") == 1  # the undone rebuy stays in the history
