"""Statistics endpoints over a known history (tests/integration/stats/history.py), against figures worked by hand."""

from __future__ import annotations

import math
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from adapters.clickhouse import Warehouse
from tests.conftest import Player, eventually
from tests.factories import played_session
from tests.integration.stats.history import post_history

# USD cash games: X = +10000 (2 h), +12000 (2 h), −6000 (4 h); H = 8 h.
W = 16000 / 8  # 2000 per hour
SIGMA = math.sqrt(((10000 - W * 2) ** 2 / 2 + (12000 - W * 2) ** 2 / 2 + (-6000 - W * 4) ** 2 / 4) / 3)  # √33e6
BALANCE = 100000 + 10000 + 12000 - 6000 + 29000  # deposit plus every USD session's net profit


@pytest.fixture
async def history(client: AsyncTestClient[Any], warehouse: Warehouse, alice: Player) -> None:
    await post_history(client, warehouse, alice)


async def get(client: AsyncTestClient[Any], player: Player, path: str) -> Any:
    response = await client.get(f"/api/v1/stats/{path}", headers=player.headers)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.usefixtures("history")
async def test_cash_summary_matches_the_hand_computed_figures(client: AsyncTestClient[Any], alice: Player) -> None:
    summary = await get(client, alice, "summary?currency=USD&format=cash")
    assert summary["sessions"] == 3  # the running session does not count
    assert summary["hours"] == 8.0
    assert summary["profit"] == 16000
    assert summary["hourly"] == 2000
    assert summary["bb_per_hour"] == 5.5  # (10000/200 + 12000/500 − 6000/200) bb / 8 h = 44 / 8
    assert summary["sd_per_hour"] == round(SIGMA) == 5745  # √(33,000,000) = 5744.56
    assert summary["win_rate_ci95"] == [-6739, 10739]  # 2000 ∓ t(0.975, 2)·5744.56/√8 = 2000 ∓ 4.3027·2031.01
    assert summary["reliable"] is False and "3 sessions and 8.0 hours" in summary["reason"]
    assert summary["prob_winning"] == pytest.approx(0.83762, abs=1e-5)  # Φ(2000·√8/5744.56) = Φ(0.98473)
    assert summary["hours_for_significance"] == pytest.approx(31.693, abs=1e-3)  # (1.96·5744.56/2000)²
    assert (summary["biggest_win"], summary["biggest_loss"]) == (12000, -6000)
    assert (summary["longest_winning_streak"], summary["longest_losing_streak"]) == (2, 1)
    assert summary["downswings"]["deepest"] == 6000
    assert (summary["downswings"]["current"], summary["downswings"]["current_hours"]) == (6000, 4.0)


@pytest.mark.usefixtures("history")
async def test_tournament_figures_come_from_buy_in_fee_prize_and_place(
    client: AsyncTestClient[Any], alice: Player
) -> None:
    summary = await get(client, alice, "summary?currency=USD&format=tournament")
    assert (summary["entries"], summary["profit"]) == (1, 29000)
    assert summary["roi"] == pytest.approx((40000 - 11000) / 11000)
    assert (summary["itm_pct"], summary["average_finish"]) == (1.0, 2.0)


@pytest.mark.usefixtures("history")
async def test_date_range_and_tags_filter_the_sessions(client: AsyncTestClient[Any], alice: Player) -> None:
    one_day = await get(client, alice, "summary?currency=USD&from=2025-03-04&to=2025-03-05")
    tagged = await get(client, alice, "summary?currency=USD&tags=deep")
    assert (one_day["sessions"], one_day["profit"]) == (2, 6000)
    assert (tagged["sessions"], tagged["profit"]) == (1, 12000)


@pytest.mark.usefixtures("history")
async def test_breakdown_groups_add_up_to_the_summary(client: AsyncTestClient[Any], alice: Player) -> None:
    total = await get(client, alice, "summary?currency=USD&mix_formats=true")
    for by in ("stakes", "weekday", "length", "format", "month", "hour"):
        groups = await get(client, alice, f"breakdown?by={by}&currency=USD&mix_formats=true")
        assert sum(g["sessions"] for g in groups.values()) == total["sessions"] == 4
        assert sum(g["profit"] for g in groups.values()) == total["profit"] == 45000
        assert sum(g["hours"] for g in groups.values()) == pytest.approx(total["hours"])


@pytest.mark.usefixtures("history")
async def test_breakdown_by_stakes_labels_cash_blinds_and_tournament_buy_ins(
    client: AsyncTestClient[Any], alice: Player
) -> None:
    groups = await get(client, alice, "breakdown?by=stakes&currency=USD")
    assert [(k, g["sessions"], g["profit"]) for k, g in groups.items()] == [
        ("NLH 1/2", 2, 4000),
        ("NLH 2/5", 1, 12000),
        ("NLH 100+10", 1, 29000),
    ]


@pytest.mark.usefixtures("history")
async def test_figures_over_cash_games_and_tournaments_together_are_given_only_when_asked(
    client: AsyncTestClient[Any], alice: Player
) -> None:
    for path in ("summary?currency=USD", "drawdown?currency=USD", "breakdown?by=weekday&currency=USD"):
        response = await client.get(f"/api/v1/stats/{path}", headers=alice.headers)
        assert response.status_code == 400, path
        assert "`format`" in response.json()["detail"] and "`mix_formats=true`" in response.json()["detail"]
    mixed = await get(client, alice, "summary?currency=USD&mix_formats=true")
    assert (mixed["format"], mixed["sessions"], mixed["profit"]) == ("mixed", 4, 45000)
    assert (await get(client, alice, "summary?currency=USD&format=cash"))["format"] == "cash"


@pytest.mark.usefixtures("history")
@pytest.mark.parametrize(
    ("filters", "sessions", "profit"),
    [
        ("format=cash&location=Aria", 1, 12000),  # the 2/5 session at the Aria
        ("format=tournament&game=NLH", 1, 29000),
        ("format=cash&group=stakes:NLH 1/2", 2, 4000),  # +100 and −60: the bar a player taps
        ("format=cash&group=weekday:Tuesday", 1, 12000),
        ("format=cash&group=length:<2h", 0, 0),
    ],
)
async def test_game_location_and_a_breakdown_group_narrow_every_figure(
    client: AsyncTestClient[Any], alice: Player, filters: str, sessions: int, profit: int
) -> None:
    summary = await get(client, alice, f"summary?currency=USD&{filters}")
    assert (summary["sessions"], summary["profit"]) == (sessions, profit)


@pytest.mark.usefixtures("history")
async def test_guidance_keeps_to_the_format_of_the_current_stake(client: AsyncTestClient[Any], alice: Player) -> None:
    advice = await get(client, alice, "guidance?currency=USD&current_stake=1/2")
    assert [s["stake"] for s in advice["stakes"]] == ["NLH 1/2", "NLH 2/5"]  # no 100+10 tournament on the ladder
    assert (advice["current_stake"], advice["recommended_stake"], advice["action"]) == ("NLH 1/2", "NLH 1/2", "stay")
    assert advice["risk_of_ruin"] == pytest.approx(math.exp(-2 * 2000 * BALANCE / 5745**2))  # cash w and σ
    tournaments = await get(client, alice, "guidance?currency=USD&current_stake=NLH 100%2B10")
    assert [s["stake"] for s in tournaments["stakes"]] == ["NLH 100+10"]
    unsure = await client.get("/api/v1/stats/guidance?currency=USD", headers=alice.headers)
    assert unsure.status_code == 400 and "`format`" in unsure.json()["detail"]


@pytest.mark.usefixtures("history")
async def test_guidance_honours_the_players_day_start(client: AsyncTestClient[Any], alice: Player) -> None:
    # Tue 19:00 and Wed 19:00 local: with the day starting at 20:00 each belongs to the day before.
    query = "guidance?currency=USD&format=cash&from=2025-03-04&to=2025-03-04"
    assert [s["stake"] for s in (await get(client, alice, query))["stakes"]] == ["NLH 2/5"]
    assert [s["stake"] for s in (await get(client, alice, f"{query}&day_starts_at=20"))["stakes"]] == ["NLH 1/2"]


@pytest.mark.usefixtures("history")
async def test_the_bankroll_curve_honours_dates_and_format(client: AsyncTestClient[Any], alice: Player) -> None:
    week = await get(client, alice, "bankroll?currency=USD&from=2025-03-04&to=2025-03-05")
    assert [p["balance"] for p in week["USD"]] == [122000, 116000]  # the balance carried in counts
    tournaments = await get(client, alice, "bankroll?currency=USD&format=tournament")
    assert [(p["kind"], p["balance"]) for p in tournaments["USD"]] == [("deposit", 100000), ("session", 129000)]


@pytest.mark.usefixtures("history")
async def test_calendar_has_one_entry_per_local_playing_day(client: AsyncTestClient[Any], alice: Player) -> None:
    days = await get(client, alice, "calendar?currency=USD&format=cash")
    assert [(d["day"], d["profit"], d["hours"]) for d in days] == [
        ("2025-03-03", 10000, 2.0),
        ("2025-03-04", 12000, 2.0),
        ("2025-03-05", -6000, 4.0),
    ]


@pytest.mark.usefixtures("history")
async def test_bankroll_curve_adds_deposits_and_net_profits_per_currency(
    client: AsyncTestClient[Any], alice: Player
) -> None:
    curves = await get(client, alice, "bankroll")
    assert [p["balance"] for p in curves["USD"]] == [100000, 110000, 122000, 116000, BALANCE]
    assert [p["kind"] for p in curves["USD"]][:2] == ["deposit", "session"]
    assert [p["balance"] for p in curves["EUR"]] == [5000]


@pytest.mark.usefixtures("history")
async def test_guidance_counts_buy_ins_of_100_big_blinds_and_measures_risk(
    client: AsyncTestClient[Any], alice: Player
) -> None:
    advice = await get(client, alice, "guidance?currency=USD&format=cash&rule=30&current_stake=1/2&target_risk=0.05")
    assert advice["balance"] == BALANCE
    assert [(s["stake"], s["buy_in"], s["buy_ins_held"]) for s in advice["stakes"]] == [
        ("NLH 1/2", 20000, 7.25),
        ("NLH 2/5", 50000, 2.9),
    ]
    assert (advice["recommended_stake"], advice["action"]) == ("NLH 1/2", "stay")  # short, but nothing lower
    assert advice["risk_of_ruin"] == pytest.approx(math.exp(-2 * 2000 * BALANCE / 5745**2))
    assert advice["bankroll_for_target_risk"] == math.ceil(-(5745**2) * math.log(0.05) / (2 * 2000))


@pytest.mark.usefixtures("history")
async def test_drawdown_is_judged_against_the_players_own_win_rate_and_sd(
    client: AsyncTestClient[Any], alice: Player
) -> None:
    report = await get(client, alice, "drawdown?currency=USD&format=cash")
    assert (report["current"], report["hourly"], report["sd_per_hour"]) == (6000, 2000, 5745)
    assert report["probability"] == pytest.approx(math.exp(-2 * 2000 * 6000 / 5745**2))  # ≈ 0.483
    assert report["verdict"] == "normal"
    assert report["balance"] == BALANCE
    assert report["reliable"] is False and "3 sessions" in report["reason"]  # the verdict rests on 3 sessions


@pytest.mark.usefixtures("history")
@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("breakdown?by=colour&currency=USD", ["`by`", "'colour'", "stakes"]),
        ("summary?currency=USD&format=omaha", ["`format`", "'omaha'", "cash, tournament"]),
        ("summary?currency=USD&from=2025-03-06&to=2025-03-01", ["`from`", "2025-03-06", "after `to`"]),
        ("summary?currency=USD&from=2025-13-01", ["`from`", "'2025-13-01'", "YYYY-MM-DD"]),
        ("summary", ["`currency`", "EUR, USD"]),
        ("summary?currency=usd", ["`currency`", "'usd'", "ISO 4217"]),
        ("summary?currency=USD&day_starts_at=24", ["`day_starts_at`", "24", "0 to 23"]),
        ("summary?currency=USD&group=colour:red", ["`group`", "'colour:red'", "weekday:Monday"]),
        ("guidance?currency=USD&current_stake=25/50", ["`current_stake`", "'25/50'"]),
        ("guidance?currency=USD&format=cash&target_risk=2", ["`risk`", "between 0 and 1"]),
        ("guidance?currency=USD&format=cash&rule=nan", ["`rule`", "nan", "> 0"]),
        ("guidance?currency=USD&format=cash&current_stake=3/6", ["`current_stake`", "'3/6'"]),
        ("bankroll?from=2025-03-06&to=2025-03-01", ["`from`", "2025-03-06", "after `to`"]),
        ("bankroll?format=omaha", ["`format`", "'omaha'", "cash, tournament"]),
        ("bankroll?currency=usd", ["`currency`", "'usd'", "ISO 4217"]),
    ],
)
async def test_bad_input_is_a_400_naming_the_parameter_the_value_and_the_rule(
    client: AsyncTestClient[Any], alice: Player, path: str, words: list[str]
) -> None:
    response = await client.get(f"/api/v1/stats/{path}", headers=alice.headers)
    assert response.status_code == 400
    for word in words:
        assert word in response.json()["detail"]


@pytest.mark.usefixtures("history")
async def test_players_never_see_each_others_statistics(client: AsyncTestClient[Any], bob: Player) -> None:
    summary = await get(client, bob, "summary?currency=USD")
    assert (summary["sessions"], summary["profit"]) == (0, 0)
    assert await get(client, bob, "bankroll") == {}
    assert await get(client, bob, "breakdown?by=stakes&currency=USD") == {}


async def test_a_new_session_refreshes_cached_figures(
    client: AsyncTestClient[Any], warehouse: Warehouse, alice: Player
) -> None:
    before = await get(client, alice, "summary?currency=USD&format=cash")
    again = await get(client, alice, "summary?currency=USD&format=cash")
    assert again == before  # served from the cache: same stamp, same figures
    _, events = played_session(buy_in=20000, cash_out=41000)
    await client.post("/api/v1/events", json={"events": events}, headers=alice.headers)

    async def refreshed() -> bool:
        after = await get(client, alice, "summary?currency=USD&format=cash")
        return bool(after["sessions"] == before["sessions"] + 1)

    assert await eventually(refreshed, timeout=20)
