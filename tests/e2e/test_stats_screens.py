"""Stats, Bankroll and Breakdowns in phone-sized Chromium over a simulated history: every figure and every chart point
on screen equals the API's, axe-core finds nothing serious, and each screen is photographed at 360x640 and 1280x800."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from api.accounts import Accounts
from shared.events import MAX_BATCH, to_wire
from shared.simulator import simulate_until
from tests.conftest import eventually
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import SCREENSHOTS, LiveServer, shot
from tests.e2e.test_pwa import pair
from tests.factories import SessionScript
from web.widgets import chance, money

pytestmark = pytest.mark.e2e

CASH_SESSIONS = 40  # a grinder in USD (seed 1): above the 30 sessions and 100 hours the interval needs
DESKTOP = {"width": 1280, "height": 800}


class Api:
    """The API as a second device of the same player sees it."""

    def __init__(self, url: str, token: str) -> None:
        self.client = httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30)

    async def get(self, path: str, **params: Any) -> Any:
        response = await self.client.get(f"/api/v1/stats/{path}", params=params)
        assert response.status_code == 200, response.text
        return response.json()


def tournaments_and_money() -> list[dict[str, Any]]:
    """Three tournaments and a deposit, a withdrawal and an expense, in the last days."""
    events: list[dict[str, Any]] = []
    base = datetime.now(UTC) - timedelta(days=5)
    for day, (place, prize) in enumerate([(3, 40000), (60, 0), (12, 0)]):
        t = SessionScript(start=base + timedelta(days=day))
        events += [
            t.start(buy_in=10000, format="tournament", stakes=None, fee=1000),
            t.event("session.ended", {"place": place, "entrants": 80, "prize": prize}, 180),
        ]
    moves = SessionScript(start=base + timedelta(hours=1))  # one script: the device's seq runs on across them
    for kind, amount in [("deposit", 500000), ("withdrawal", 120000), ("expense", 9000)]:
        tx = moves.event("transaction.recorded", {"kind": kind, "amount": amount, "currency": "USD"}, 24 * 60)
        events.append({**tx, "session_id": None})
    return events


@pytest.fixture
async def player(browser_context: Any, server: LiveServer, accounts: Accounts) -> AsyncIterator[tuple[Any, Api]]:
    """A paired phone whose player has 40 simulated cash sessions, 3 tournaments and 3 money movements."""
    page, user = await pair(browser_context, server, accounts)
    api = Api(server.url, (await accounts.add_device(user.user_id, "seeder")).token)
    sim = simulate_until(1, CASH_SESSIONS, seed=1, now=datetime.now(UTC) - timedelta(days=6))
    # The simulation is the same for every test; each player gets its sessions and events under new ids.
    fresh: dict[str, str] = defaultdict(lambda: str(uuid.uuid4()))
    wire = [
        {**w, "id": fresh[w["id"]], "session_id": fresh[w["session_id"]]}
        for w in map(to_wire, (e for _, e in sim.events))
    ]
    wire += tournaments_and_money()
    for start in range(0, len(wire), MAX_BATCH):
        answer = await api.client.post("/api/v1/events", json={"events": wire[start : start + MAX_BATCH]})
        refused = [r for r in answer.json()["results"] if r["status"] == "rejected"]
        assert answer.status_code == 200 and not refused, refused
    ended = {str(e.session_id) for _, e in sim.events if e.type == "session.ended"}

    seen: dict[str, int] = {}

    async def all_there() -> bool:
        cash = await api.get("summary", currency="USD", format="cash")
        curve = (await api.get("bankroll", currency="USD")).get("USD", [])
        seen.update(cash=cash["sessions"], moves=sum(1 for p in curve if p["kind"] != "session"), points=len(curve))
        return seen == {"cash": len(ended), "moves": 3, "points": len(ended) + 6}

    try:
        await eventually(all_there, timeout=60)
    except AssertionError:
        raise AssertionError(
            f"the history did not reach the statistics: {seen}, {len(ended)} cash sessions sent"
        ) from None
    yield page, api
    await api.client.aclose()


async def text(page: Any, selector: str) -> str:
    return str(await page.inner_text(selector)).strip()


async def chart_scale(page: Any, selector: str) -> dict[str, float]:
    names = ("x0", "x1", "t0", "t1", "y0", "y1", "v0", "v1")
    return {n: float(await page.get_attribute(selector, f"data-{n}") or "nan") for n in names}


def invert(pixel: float, p0: float, p1: float, v0: float, v1: float) -> float:
    return v0 + (pixel - p0) / (p1 - p0) * (v1 - v0)


async def both_sizes(page: Any, name: str) -> None:
    """Axe at the phone size, then screenshots: the phone's first screen, the whole page, and a desktop's."""
    await assert_accessible(page, name)
    await shot(page, f"{name}-360x640")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}-360-full.png"), full_page=True)
    await page.set_viewport_size(DESKTOP)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}-1280x800.png"), full_page=True)
    await page.set_viewport_size({"width": 360, "height": 640})


async def test_stats_screen_shows_the_apis_figures_interval_and_downswing(
    player: tuple[Any, Api], server: LiveServer
) -> None:
    page, api = player
    await page.goto(f"{server.url}/app/stats")
    await page.wait_for_selector("[data-format=cash] [data-testid=figures-cash]", timeout=30000)
    cash = await api.get("summary", currency="USD", format="cash")
    block = "[data-format=cash]"
    assert await text(page, f"{block} [data-testid=profit]") == money(cash["profit"], "USD", signed=True)
    assert await text(page, f"{block} [data-testid=sessions]") == str(cash["sessions"])
    assert await text(page, f"{block} [data-testid=hours]") == f"{cash['hours']:,.1f} h"
    assert await text(page, f"{block} [data-testid=hourly]") == money(cash["hourly"], "USD", signed=True)
    assert await text(page, f"{block} [data-testid=sd-per-hour]") == money(cash["sd_per_hour"], "USD")
    assert await text(page, f"{block} [data-testid=bb-per-hour]") == f"{cash['bb_per_hour']:+.2f}"
    assert await text(page, f"{block} [data-testid=biggest-loss]") == money(cash["biggest_loss"], "USD", signed=True)
    assert cash["reliable"] is True
    # The interval is drawn: its band spans the API's bounds on the chart's own money scale.
    low, high = cash["win_rate_ci95"]
    band = f"{block} [data-testid=win-rate-interval] .band"
    assert (await page.get_attribute(band, "data-low"), await page.get_attribute(band, "data-high")) == (
        str(low),
        str(high),
    )
    scale = await chart_scale(page, f"{block} [data-testid=win-rate-interval]")
    x = float(await page.get_attribute(band, "x") or "nan")
    width = float(await page.get_attribute(band, "width") or "nan")
    pixel_value = (scale["t1"] - scale["t0"]) / (scale["x1"] - scale["x0"])
    assert invert(x, scale["x0"], scale["x1"], scale["t0"], scale["t1"]) == pytest.approx(low, abs=pixel_value)
    assert invert(x + width, scale["x0"], scale["x1"], scale["t0"], scale["t1"]) == pytest.approx(high, abs=pixel_value)
    assert await text(page, f"{block} [data-testid=prob-winning]") == chance(cash["prob_winning"])
    swing = await api.get("drawdown", currency="USD", format="cash")
    words = await text(page, f"{block} [data-testid=downswing-text]")
    if swing["current"]:
        assert money(swing["current"], "USD") in words and f"{swing['current_sessions']} sessions" in words
    else:
        assert money(swing["deepest"], "USD") in words
    # Tournaments apart, and three of them are not enough for an interval.
    games = await api.get("summary", currency="USD", format="tournament")
    assert await text(page, "[data-format=tournament] [data-testid=sessions]") == "3"
    assert await text(page, "[data-format=tournament] [data-testid=itm]") == f"{games['itm_pct'] * 100:.1f} %"
    finish = f"top {games['average_finish_percentile'] * 100:.0f} %"
    assert await text(page, "[data-format=tournament] [data-testid=average-finish]") == finish
    assert "not enough data yet" in (await text(page, "[data-format=tournament] [data-testid=not-enough]")).lower()
    await both_sizes(page, "stats")


async def test_bankroll_curve_points_and_guidance_are_the_apis(player: tuple[Any, Api], server: LiveServer) -> None:
    page, api = player
    await page.goto(f"{server.url}/app/bankroll")
    chart = "[data-testid=bankroll-chart-USD]"
    await page.wait_for_selector(chart, timeout=30000)
    curve = (await api.get("bankroll", currency="USD"))["USD"]
    assert await text(page, "[data-testid=bankroll-USD] [data-testid=balance]") == money(curve[-1]["balance"], "USD")
    # Every vertex of the line, read back through the chart's scale, is the API's balance at that time.
    scale = await chart_scale(page, chart)
    raw = str(await page.get_attribute(f"{chart} .line", "points"))
    vertices = [tuple(float(v) for v in pair.split(",")) for pair in raw.split()]
    assert len(vertices) == len(curve)
    cents_per_pixel = abs((scale["v1"] - scale["v0"]) / (scale["y1"] - scale["y0"]))
    seconds_per_pixel = (scale["t1"] - scale["t0"]) / (scale["x1"] - scale["x0"])
    for (x, y), point in zip(vertices, curve, strict=True):
        at = datetime.fromisoformat(point["at"]).timestamp()
        assert invert(x, scale["x0"], scale["x1"], scale["t0"], scale["t1"]) == pytest.approx(at, abs=seconds_per_pixel)
        assert invert(y, scale["y0"], scale["y1"], scale["v0"], scale["v1"]) == pytest.approx(
            point["balance"], abs=cents_per_pixel
        )
    marks = await page.eval_on_selector_all(
        f"{chart} .mark", "els => els.map(e => [e.dataset.kind, Number(e.dataset.value)])"
    )
    assert marks == [[p["kind"], p["balance"]] for p in curve if p["kind"] != "session"]
    # The guidance sentence names the API's buy-ins for the stake played now.
    advice_text = await text(page, "[data-testid=guidance-text]")
    rows = await page.eval_on_selector_all(
        "[data-testid=guidance] tr[data-stake]",
        "rows => rows.map(r => [r.dataset.stake, r.querySelector('[data-testid=buy-ins-held]').textContent])",
    )
    playing = str(await page.get_attribute("[data-testid=guidance] tr.now", "data-stake"))
    assert playing in advice_text
    guidance = await api.get("guidance", currency="USD", format="cash", current_stake=playing)
    assert rows == [[a["stake"], f"{a['buy_ins_held']:.1f}"] for a in guidance["stakes"]]
    assert money(guidance["balance"], "USD") in advice_text
    await both_sizes(page, "bankroll")


async def test_breakdown_bars_calendar_and_a_tapped_bar_are_the_apis(
    player: tuple[Any, Api], server: LiveServer
) -> None:
    page, api = player
    await page.goto(f"{server.url}/app/breakdowns?by=stakes")
    await page.wait_for_selector("[data-testid=breakdown-chart]", timeout=30000)
    groups = await api.get("breakdown", by="stakes", currency="USD")
    bars = await page.eval_on_selector_all(
        "[data-testid=breakdown-chart] .bar-row", "els => els.map(e => [e.dataset.label, Number(e.dataset.value)])"
    )
    assert bars == [[label, s["profit"]] for label, s in groups.items()]
    days = await api.get("calendar", currency="USD")
    cells = await page.eval_on_selector_all(
        "[data-testid=calendar-chart] .day", "els => els.map(e => [e.dataset.day, Number(e.dataset.profit)])"
    )
    last = datetime.fromisoformat(days[-1]["day"]).date()
    start = last - timedelta(days=last.weekday()) - timedelta(weeks=52)
    assert cells == [[d["day"], d["profit"]] for d in days if datetime.fromisoformat(d["day"]).date() >= start]
    await both_sizes(page, "breakdowns")
    # A tap on a bar opens the stats of that group, with the filter in the address.
    label = bars[0][0]
    await page.click(f"[data-testid=breakdown-chart] a:has([data-label='{label}'])")
    await page.wait_for_url(lambda url: "/app/stats?" in url, timeout=30000)
    assert parse_qs(urlsplit(page.url).query)["group"] == [f"stakes:{label}"]
    await page.wait_for_selector("[data-testid=sessions]", timeout=30000)
    one = await api.get("summary", currency="USD", group=f"stakes:{label}")
    assert await text(page, "[data-testid=sessions]") == str(one["sessions"]) == str(groups[label]["sessions"])
    assert "stakes" in await text(page, "[data-testid=active-filters]")
    await shot(page, "stats-filtered-360x640")


async def test_breakdown_filters_live_in_the_address_and_a_weekday_bar_narrows_the_stats(
    player: tuple[Any, Api], server: LiveServer
) -> None:
    page, api = player
    await page.goto(f"{server.url}/app/breakdowns?by=weekday")
    await page.wait_for_selector("[data-testid=breakdown-chart]", timeout=30000)
    await page.click("summary:has-text('Filters')")
    await page.select_option("[data-testid=filter-format]", "cash")
    since = (datetime.now(UTC) - timedelta(days=60)).date().isoformat()
    await page.fill("[data-testid=filter-from]", since)
    await page.click("button:has-text('Apply')")
    await page.wait_for_url(lambda url: "from=" in url, timeout=30000)
    asked = parse_qs(urlsplit(page.url).query)
    assert (asked["by"], asked["from"], asked["format"]) == (["weekday"], [since], ["cash"])
    await page.wait_for_selector("[data-testid=breakdown-chart] .bar-row", timeout=30000)
    groups = await api.get("breakdown", by="weekday", currency="USD", format="cash", **{"from": since})
    bars = await page.eval_on_selector_all(
        "[data-testid=breakdown-chart] .bar-row", "els => els.map(e => [e.dataset.label, Number(e.dataset.value)])"
    )
    assert bars == [[label, s["profit"]] for label, s in groups.items()]
    shared = page.url  # the same address opened again shows the same selection
    await page.goto(shared)
    await page.wait_for_selector("[data-testid=breakdown-chart] .bar-row", timeout=30000)
    assert await page.input_value("[data-testid=filter-from]") == since
    await assert_accessible(page, "breakdowns with filters")
    await shot(page, "breakdowns-filtered-360x640")
