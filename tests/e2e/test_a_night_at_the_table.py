"""A night at the table, end to end on a phone-size Chromium (issue #8's "done when").

A player plays a cash game online and a tournament with no signal at all, types amounts as people write them, takes
back a mistyped count with Undo and fixes a rebuy on the detail screen. The tournament then syncs over a slow uplink
that loses the server's answers (the batch arrived, the phone never heard so and sends it again). At the end every
figure the phone shows equals the API's, the export's and the statistics', ClickHouse holds each event once, and
axe-core finds nothing critical or serious on the screens the player used.
"""

from __future__ import annotations

import asyncio
import csv
import io
from typing import Any

import httpx
import pytest

from adapters.clickhouse import Warehouse
from api.accounts import Accounts
from shared.money import format_money
from tests.conftest import eventually
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import LiveServer, cut_signal, shot
from tests.e2e.test_amendments import entry
from tests.e2e.test_pwa import end, landed, pair, tap
from web.widgets import pct

pytestmark = pytest.mark.e2e

UPLINK_SECONDS = 1.5  # each upload's latency on the casino's signal
LOST_ANSWERS = 2  # uploads the server took whose answer never reached the phone


async def slow_uplink_losing_answers(context: Any, seconds: float, lose: int) -> list[int]:
    """Event uploads take ``seconds`` to go out; the first ``lose`` of them reach the server, but their answer is
    lost on the way back (the phone sees a dropped connection). Returns the statuses the server gave the lost ones."""
    lost: list[int] = []

    async def uplink(route: Any) -> None:
        if route.request.method != "POST":
            await route.continue_()
            return
        await asyncio.sleep(seconds)  # the uplink's latency, not a wait for the test's sake
        if len(lost) < lose:
            answer = await route.fetch()
            lost.append(answer.status)
            await route.abort("connectionreset")
            return
        await route.continue_()

    await context.route("**/api/v1/events", uplink)
    return lost


async def shown(page: Any, selector: str) -> str:
    return str(await page.inner_text(selector)).strip()


async def test_a_cash_game_online_and_a_tournament_offline_agree_everywhere(
    browser_context: Any, server: LiveServer, accounts: Accounts, warehouse: Warehouse
) -> None:
    page, user = await pair(browser_context, server, accounts)

    # ---- the cash game, online: $1,000 in, a $500 rebuy, a typo taken back, counted, cashed out at 2k ----
    await page.click("[data-testid=start-session]")
    await page.fill("dialog[open] [name=buy_in]", "1,000")
    await page.click("dialog[open] [data-testid=dialog-ok]")
    await page.wait_for_url("**/app/live/*")
    cash_id = page.url.rsplit("/", 1)[1]
    await tap(page, "live-rebuy", amount="500")
    await tap(page, "live-stack", amount="12500")  # meant 1,250.50: one thumb, dim light
    await page.wait_for_selector("[data-testid=stack]:has-text('$12,500.00')")
    await page.click("#pad-toast.show [data-testid=toast-undo]")
    await page.wait_for_selector("[data-testid=stack]:has-text('$1,500.00')")
    await tap(page, "live-stack", amount="1.250,50")
    await page.wait_for_selector("[data-testid=stack]:has-text('$1,250.50')")
    await page.wait_for_selector("[data-testid=profit]:has-text('-$249.50')")
    await shot(page, "night-cash-live")
    await assert_accessible(page, "live cash session")
    await end(page, "live-end", cash_out="2k")
    await page.wait_for_selector("[data-testid=status]:has-text('ended')")
    await page.wait_for_selector("[data-testid=sync][data-state=synced]", timeout=30000)

    # ---- the tournament, with no signal at all from start to end ----
    await cut_signal(browser_context, server)
    await page.goto(f"{server.url}/capture")
    await page.click("[data-testid=capture-start]")
    await page.select_option("dialog[open] [data-testid=start-format]", "tournament")
    await page.select_option("dialog[open] [data-testid=start-currency]", "EUR")
    await page.fill("dialog[open] [name=buy_in]", "100")
    await page.fill("dialog[open] [name=fee]", "10")
    await page.fill("dialog[open] [name=starting_stack]", "20,000")
    await page.click("dialog[open] [data-testid=dialog-ok]")
    await page.wait_for_selector("[data-testid=capture-session]")
    tournament_id = str(await page.get_attribute("[data-testid=capture-session]", "data-live-session"))
    await tap(page, "capture-stack", amount="35k")
    await page.wait_for_selector("[data-testid=figure-stack]:has-text('35,000 chips')")
    await tap(page, "capture-stack", amount="0")  # busted
    await tap(page, "capture-rebuy", amount="110")  # re-entry at the same price
    await page.wait_for_selector("[data-testid=figure-invested]:has-text('€220.00')")
    await tap(page, "capture-stack", amount="1.5k")
    await page.wait_for_selector("[data-testid=sync][data-state=offline]")
    await shot(page, "night-tournament-offline")
    await assert_accessible(page, "live tournament, offline")
    await page.click("[data-testid=capture-end]")
    for name, value in {"place": "3", "entrants": "120", "prize": "450"}.items():
        await page.fill(f"dialog[open] [name={name}]", value)
    await page.click("dialog[open] [data-testid=dialog-ok]")
    confirm = page.locator("dialog[open] [data-testid=end-confirm]")
    await confirm.wait_for()
    assert await confirm.inner_text() == "Place 3, won €450.00 → +€230.00"
    await page.click("dialog[open] [data-testid=dialog-ok]")
    await page.wait_for_selector("dialog[open]", state="detached")
    await page.wait_for_selector("[data-testid=sync][data-state=offline][data-pending='6']")  # every tap kept

    # ---- the signal comes back, slow, and loses the first answers: the phone resends, nothing counts twice ----
    await browser_context.unroute_all(behavior="ignoreErrors")
    lost = await slow_uplink_losing_answers(browser_context, UPLINK_SECONDS, LOST_ANSWERS)
    await browser_context.set_offline(False)
    await page.evaluate("() => Pad.syncNow()")
    # A lost answer is retried after 2 s, then 4 s: the backoff built up while offline does not hold the phone back.
    await page.wait_for_selector("[data-testid=sync][data-state=synced]", timeout=30000)
    assert lost == [200] * LOST_ANSWERS, "the lost uploads did reach the server"
    await eventually(lambda: landed(warehouse, tournament_id, 6), timeout=30)  # start, 3 counts, re-entry, end

    # ---- a typo fixed on the detail screen: the rebuy was $400, not $500 ----
    await browser_context.unroute_all(behavior="ignoreErrors")
    await page.goto(f"{server.url}/app/sessions/{cash_id}")
    rebuy = await entry(page, "chips.added")
    await rebuy.locator("[data-testid=amend-edit]").click()
    await page.fill("dialog[open] [name=amount]", "400")
    await page.click("dialog[open] [data-testid=dialog-ok]")
    await entry(page, "chips.added", "edited")
    await page.wait_for_selector("[data-testid=sync][data-state=synced]", timeout=30000)
    # start, rebuy, the typo, its undo, the count, the end, the fix: each once
    await eventually(lambda: landed(warehouse, cash_id, 7), timeout=30)

    # ---- every number the same: API, phone, export, statistics ----
    headers = {"Authorization": f"Bearer {user.token}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as api:
        cash = (await api.get(f"/api/v1/sessions/{cash_id}")).json()["state"]
        tournament = (await api.get(f"/api/v1/sessions/{tournament_id}")).json()["state"]
        assert (cash["invested"], cash["cash_out"], cash["profit"], cash["rebuys"]) == (140000, 200000, 60000, 1)
        assert 125050 in [p["stack"] for p in cash["stack_points"]]
        assert 1250000 not in [p["stack"] for p in cash["stack_points"]]  # the undone typo
        assert (tournament["invested"], tournament["prize"], tournament["profit"]) == (22000, 45000, 23000)
        assert (tournament["place"], tournament["entrants"], tournament["stack"]) == (3, 120, 1500)

        async def stats_caught_up() -> tuple[dict[str, Any], dict[str, Any]] | None:
            usd = (await api.get("/api/v1/stats/summary", params={"currency": "USD", "format": "cash"})).json()
            eur = (await api.get("/api/v1/stats/summary", params={"currency": "EUR", "format": "tournament"})).json()
            return (usd, eur) if (usd.get("profit"), eur.get("profit")) == (60000, 23000) else None

        usd, eur = await eventually(stats_caught_up, timeout=30)
        assert (usd["sessions"], eur["entries"]) == (1, 1) and eur["roi"] == pytest.approx(23000 / 22000)
        rows = {
            r["session_id"]: r for r in csv.DictReader(io.StringIO((await api.get("/api/v1/export/sessions.csv")).text))
        }
    assert (rows[cash_id]["profit"], rows[cash_id]["invested"], rows[cash_id]["cash_out"]) == (
        "600.00",
        "1400.00",
        "2000.00",
    )
    assert (rows[tournament_id]["profit"], rows[tournament_id]["invested"]) == ("230.00", "220.00")

    usd_profit = format_money(60000, "USD", signed=True)
    eur_profit = format_money(23000, "EUR", signed=True)
    await page.wait_for_selector(f"[data-testid=detail] [data-testid=profit]:has-text('{usd_profit}')")
    assert await shown(page, "[data-testid=detail] [data-testid=invested]") == format_money(140000, "USD")
    await shot(page, "night-cash-detail")
    await assert_accessible(page, "cash session detail after the fix")
    await page.goto(f"{server.url}/app/live/{cash_id}")
    await page.wait_for_selector(f"[data-testid=live][data-server=ok] [data-testid=profit]:has-text('{usd_profit}')")
    await page.goto(f"{server.url}/app/live/{tournament_id}")
    await page.wait_for_selector(f"[data-testid=live][data-server=ok] [data-testid=profit]:has-text('{eur_profit}')")
    assert await shown(page, "[data-testid=invested]") == format_money(22000, "EUR")
    await page.goto(f"{server.url}/app/")
    await page.wait_for_selector(f"[data-testid=summary-USD] [data-testid=total-profit]:has-text('{usd_profit}')")
    assert await shown(page, "[data-testid=summary-EUR] [data-testid=total-profit]") == eur_profit
    await shot(page, "night-home")
    await assert_accessible(page, "home after the night")
    await page.goto(f"{server.url}/app/stats?currency=USD")
    await page.wait_for_selector("[data-format=cash] [data-testid=figures-cash]", timeout=30000)
    assert await shown(page, "[data-format=cash] [data-testid=profit]") == usd_profit
    await page.goto(f"{server.url}/app/stats?currency=EUR")
    await page.wait_for_selector("[data-testid=tournaments] [data-testid=roi]", timeout=30000)
    assert await shown(page, "[data-testid=tournaments] [data-testid=roi]") == pct(eur["roi"], 1)
    await shot(page, "night-stats-tournaments")
    await assert_accessible(page, "tournament statistics")
