"""Money entry that cannot lose money, and starts the server will accept: the dialogs in phone-size Chromium."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from api.accounts import Accounts
from tests.e2e.conftest import LiveServer, shot
from tests.e2e.test_pwa import pair

pytestmark = pytest.mark.e2e
KEYBOARD_OPEN = {"width": 360, "height": 380}


async def submit(page: Any, **fields: str) -> None:
    for name, value in fields.items():
        await page.fill(f"dialog[open] [name={name}]", value)
    await page.click("dialog[open] [data-testid=dialog-ok]")


async def outbox_amounts(page: Any, kind: str) -> list[Any]:
    return list(
        await page.evaluate(
            "async (t) => (await Outbox.entries()).filter((e) => e.event.type === t).map((e) => e.event.data)", kind
        )
    )


async def test_amounts_are_read_as_people_write_them_or_refused_inline(
    browser_context: Any, server: LiveServer, accounts: Accounts
) -> None:
    page, user = await pair(browser_context, server, accounts)
    await page.goto(f"{server.url}/capture")
    await page.click("[data-testid=capture-start]")
    await page.wait_for_selector("dialog[open] [data-testid=start-currency]")
    await shot(page, "start-cash")
    # A cash game without a big blind, and a small blind above the big one: said under the fields, nothing saved.
    await submit(page, bb="", sb="5")
    await page.wait_for_selector("dialog[open] [data-testid=field-error]:has-text('big blind')")
    await submit(page, bb="2", sb="5")
    await page.wait_for_selector("dialog[open] [data-testid=field-error]:has-text('larger than the big blind')")
    await shot(page, "start-refused-inline")
    await submit(page, sb="1", bb="2", buy_in="$400")
    await page.wait_for_selector("[data-testid=capture-session]")
    session_id = str(await page.get_attribute("[data-testid=capture-session]", "data-live-session"))

    await page.click("[data-testid=capture-stack]")
    await submit(page, amount="1,2,3")
    error = page.locator("dialog[open] [data-testid=field-error]")
    await error.wait_for()
    assert "grouped oddly" in await error.inner_text()
    await shot(page, "stack-refused-inline")
    await page.set_viewport_size(KEYBOARD_OPEN)
    await page.focus("dialog[open] [name=amount]")
    assert await page.locator("dialog[open] [data-testid=dialog-ok]").is_visible()
    await shot(page, "stack-refused-inline-keyboard")
    await page.set_viewport_size({"width": 360, "height": 640})
    await submit(page, amount="1,250.50")
    await page.wait_for_selector("dialog[open]", state="detached")
    await page.click("[data-testid=capture-rebuy]")
    await submit(page, amount="2k")
    await page.wait_for_selector("dialog[open]", state="detached")

    await page.click("[data-testid=capture-end]")
    await submit(page, cash_out="3,000")
    confirm = page.locator("dialog[open] [data-testid=end-confirm]")
    await confirm.wait_for()
    assert await confirm.inner_text() == "Cash-out $3,000.00 → +$600.00"
    await shot(page, "cash-out-confirm")
    await page.set_viewport_size(KEYBOARD_OPEN)
    assert await page.locator("dialog[open] [data-testid=dialog-ok]").is_visible()
    await page.set_viewport_size({"width": 360, "height": 640})
    await page.click("dialog[open] [data-testid=dialog-ok]")
    await page.wait_for_selector("[data-testid=sync][data-pending='0']", timeout=30000)

    assert [d["amount"] for d in await outbox_amounts(page, "stack.counted")] == []  # all sent
    async with httpx.AsyncClient(base_url=server.url, headers={"Authorization": f"Bearer {user.token}"}) as api:
        live = (await api.get(f"/api/v1/sessions/{session_id}")).json()
        events = (await api.get(f"/api/v1/sessions/{session_id}/events")).json()
    amounts = {e["type"]: e["data"] for e in events}
    assert amounts["session.started"]["buy_in"] == 40000
    assert amounts["stack.counted"]["amount"] == 125050
    assert amounts["chips.added"]["amount"] == 200000
    assert amounts["session.ended"]["cash_out"] == 300000
    assert live["state"]["profit"] == 60000


async def test_a_tournament_counts_chips_and_ends_with_place_entrants_prize_and_bounties(
    browser_context: Any, server: LiveServer, accounts: Accounts
) -> None:
    page, user = await pair(browser_context, server, accounts)
    await page.goto(f"{server.url}/capture")
    await page.click("[data-testid=capture-start]")
    await page.select_option("dialog[open] [data-testid=start-format]", "tournament")
    await page.select_option("dialog[open] [data-testid=start-currency]", "EUR")
    await page.fill("dialog[open] [name=buy_in]", "100")
    await page.fill("dialog[open] [name=fee]", "10")
    await page.fill("dialog[open] [name=bounty]", "25")
    await page.fill("dialog[open] [name=starting_stack]", "20,000")
    await page.fill("dialog[open] [name=sb]", "100")  # the first level's blinds, in chips
    await page.fill("dialog[open] [name=bb]", "200")
    await shot(page, "start-tournament")
    await submit(page)
    await page.wait_for_selector("[data-testid=capture-session]")
    session_id = str(await page.get_attribute("[data-testid=capture-session]", "data-live-session"))
    await page.click("[data-testid=capture-stack]")
    label = await page.locator("dialog[open] .field span").first.inner_text()
    assert "EUR" not in label and "Chips" in label
    await shot(page, "stack-chips")
    assert [await page.input_value(f"dialog[open] [name={n}]") for n in ("sb", "bb", "ante")] == ["100", "200", ""]
    await submit(page, amount="35k")
    await page.wait_for_selector("#pad-toast:has-text('35,000 chips')")
    await page.wait_for_selector("[data-testid=figure-stack]:has-text('35,000 chips')")
    # At the first level's 100/200: 175 big blinds, M = 35,000 / 300 = 116.6 (rounded down).
    await page.wait_for_selector("[data-testid=stack-depth]:has-text('175 BB · M 116.6')")
    # The blinds go up; a typo (small above big) is an inline error, fixed before anything is saved.
    await page.click("[data-testid=capture-stack]")
    await submit(page, amount="33,000", sb="800", bb="400", ante="400")
    await page.wait_for_selector("dialog[open] .field-error:has-text('small blind is larger')")
    await shot(page, "stack-count-blinds-typo")
    await submit(page, sb="200")
    await page.wait_for_selector("dialog[open]", state="detached")
    await page.wait_for_selector("[data-testid=stack-depth]:has-text('82 BB · M 33.0')")
    await page.wait_for_selector("[data-testid=capture-rebuy]:has-text('Re-entry')")
    await shot(page, "capture-tournament")
    await page.click("[data-testid=capture-end]")
    await shot(page, "end-tournament")
    await submit(page, place="3", entrants="120", prize="450", bounties="50")
    confirm = page.locator("dialog[open] [data-testid=end-confirm]")
    await confirm.wait_for()
    assert await confirm.inner_text() == "Place 3, won €500.00 → +€390.00"
    await page.click("dialog[open] [data-testid=dialog-ok]")
    await page.wait_for_selector("[data-testid=sync][data-pending='0']", timeout=30000)
    async with httpx.AsyncClient(base_url=server.url, headers={"Authorization": f"Bearer {user.token}"}) as api:
        live = (await api.get(f"/api/v1/sessions/{session_id}")).json()
    state = live["state"]
    assert (state["stack"], state["starting_stack"], state["place"], state["entrants"]) == (33000, 20000, 3, 120)
    assert (state["prize"], state["bounties"], state["invested"], state["profit"]) == (45000, 5000, 11000, 39000)
    assert (state["small_blind"], state["big_blind"], state["ante"]) == (200, 400, 400)  # chips, the last level
    assert (live["big_blinds"], live["m"]) == (82, 33.0)  # what the phone showed


async def test_a_refused_start_offline_is_fixed_and_the_whole_session_resent(
    browser_context: Any, server: LiveServer, accounts: Accounts
) -> None:
    page, user = await pair(browser_context, server, accounts)
    await page.goto(f"{server.url}/capture")
    await page.wait_for_selector("[data-testid=capture-start]")
    await page.wait_for_load_state("networkidle")
    await browser_context.set_offline(True)
    before = len(server.hits.paths)
    await page.click("[data-testid=capture-start]")
    await submit(page)
    await page.wait_for_selector("[data-testid=capture-session]")
    session_id = str(await page.get_attribute("[data-testid=capture-session]", "data-live-session"))
    # The start as an older build of the app wrote it: a currency the server refuses.
    await page.evaluate(
        """async () => {
            const entry = (await Outbox.entries()).find((e) => e.event.type === "session.started");
            entry.event.data.currency = "ABC";
            await Outbox.put("outbox", entry);
        }"""
    )
    await page.click("[data-testid=capture-stack]")
    await submit(page, amount="300")
    await page.wait_for_selector("dialog[open]", state="detached")
    await page.click("[data-testid=capture-rebuy]")
    await submit(page, amount="200")
    await page.wait_for_selector("dialog[open]", state="detached")
    assert [p for p in server.hits.paths[before:] if p.startswith("/api/")] == [], "nothing reached the server offline"

    await browser_context.set_offline(False)
    await page.evaluate("() => Pad.syncNow()")
    block = page.locator("[data-testid=refused-start]")
    await block.wait_for(timeout=30000)
    await page.wait_for_function(
        "() => (document.querySelector('[data-testid=refused-start]') || {}).innerText?.includes('2 taps wait')"
    )
    text = await block.inner_text()
    assert "could not start" in text and "ISO 4217" in text and "session.started" not in text.split("said:")[0]
    await shot(page, "refused-start")
    # The live card says the same, in place of figures it cannot have: never "waiting" nor "not on the server".
    card = page.locator("[data-testid=live-refused-start]")
    await card.wait_for()
    said = await card.inner_text()
    assert "could not start" in said and "ISO 4217" in said and "2 taps are kept on this phone" in said
    assert "waiting" not in said.lower() and "not on the server" not in said.lower()
    await page.evaluate("window.scrollTo(0, 0)")
    await shot(page, "refused-start-live-card")
    await page.click("[data-testid=live-fix-and-resend]")
    await page.wait_for_selector("dialog[open] h2:has-text('Fix the start')")
    await page.select_option("dialog[open] [data-testid=start-currency]", "USD")
    await shot(page, "fix-the-start")
    await submit(page)
    await page.wait_for_selector("dialog[open]", state="detached")
    await page.wait_for_selector("[data-testid=sync][data-pending='0']", timeout=30000)
    await page.wait_for_selector("[data-testid=refused-start]", state="detached")
    await page.wait_for_selector("[data-testid=live-refused-start]", state="detached")

    async with httpx.AsyncClient(base_url=server.url, headers={"Authorization": f"Bearer {user.token}"}) as api:
        live = (await api.get(f"/api/v1/sessions/{session_id}")).json()
    state = live["state"]
    assert (state["currency"], state["game"], state["invested"], state["stack"]) == ("USD", "NLH", 40000, 50000)
    await page.wait_for_selector("[data-testid=figure-invested]:has-text('$400.00')")
    shown = await page.evaluate(
        "(s) => [Money.format(s.invested, s.currency), Money.format(s.stack, s.currency)]", state
    )
    assert shown == [
        await page.inner_text("[data-testid=figure-invested]"),
        await page.inner_text("[data-testid=figure-stack]"),
    ]
    # The next start's defaults come from the fixed start, never from the refused one.
    assert await page.evaluate("async () => (await Outbox.get('kv', 'lastStart')).data.currency") == "USD"


async def test_start_defaults_from_a_broken_session_are_not_used(
    browser_context: Any, server: LiveServer, accounts: Accounts
) -> None:
    page, _ = await pair(browser_context, server, accounts)
    await page.goto(f"{server.url}/capture")
    await page.wait_for_selector("[data-testid=capture-start]")
    # The defaults a nameless session (its start refused before the server refused its taps too) would give.
    await page.evaluate(
        """() => document.body.append(Pad.el("button", { "data-capture": "start", "data-testid": "broken-defaults",
            "data-defaults": JSON.stringify({ format: "cash", game: "", currency: "", buy_in: 30000 }) }, "x"))"""
    )
    await page.click("[data-testid=broken-defaults]")
    await page.wait_for_selector("dialog[open] [data-testid=start-currency]")
    assert await page.input_value("dialog[open] [data-testid=start-currency]") == "USD"
    assert await page.input_value("dialog[open] [data-testid=start-game]") == "NLH"
    assert await page.input_value("dialog[open] [name=buy_in]") == "300.00"
