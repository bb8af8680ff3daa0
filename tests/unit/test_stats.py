"""Specification of the bankroll statistics: hand-computed figures for small histories, properties, bad input."""

from __future__ import annotations

import math
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.errors import InvalidInput
from shared.events import Event, Payload, SessionEnded, SessionStarted, Stakes, make_event
from shared.reducer import fold
from shared.stats import (
    BREAKDOWNS,
    MIN_RELIABLE_HOURS,
    MIN_RELIABLE_SESSIONS,
    SessionRow,
    TransactionRow,
    bankroll_curve,
    bankroll_for_risk,
    bankroll_guidance,
    breakdown,
    calendar,
    downswings,
    drawdown_probability,
    risk_of_ruin,
    session_row,
    summary,
    t95,
)

T0 = datetime(2026, 1, 5, 18, 0, tzinfo=UTC)  # a Monday
HOUR = 3600


def cash(
    sid: str,
    start: datetime,
    hours: float,
    wr: int,
    *,
    profit: int | None = None,
    net: int | None = None,
    blinds: tuple[int, int] = (100, 200),
    currency: str = "USD",
    offset: int = 0,
    location: str = "Casino",
    game: str = "NLH",
) -> SessionRow:
    """A cash session; profit defaults to the win-rate profit and net profit to the profit."""
    seconds = round(hours * HOUR)
    gross = wr if profit is None else profit
    return SessionRow(
        session_id=sid,
        format="cash",
        game=game,
        currency=currency,
        small_blind=blinds[0],
        big_blind=blinds[1],
        location=location,
        started_at=start,
        ended_at=start + timedelta(seconds=seconds),
        utc_offset_minutes=offset,
        played_seconds=seconds,
        invested=20000,
        profit=gross,
        win_rate_profit=wr,
        net_profit=gross if net is None else net,
        buy_in=20000,
        fee=0,
    )


def tournament(
    sid: str, start: datetime, *, invested: int, prize: int, bounties: int = 0, place: int | None = None
) -> SessionRow:
    """A 1000+100 tournament lasting 3 hours."""
    profit = prize + bounties - invested
    return SessionRow(
        session_id=sid,
        format="tournament",
        game="NLH",
        currency="USD",
        small_blind=0,
        big_blind=0,
        location="Online",
        started_at=start,
        ended_at=start + timedelta(hours=3),
        utc_offset_minutes=0,
        played_seconds=3 * HOUR,
        invested=invested,
        profit=profit,
        win_rate_profit=profit,
        net_profit=profit,
        buy_in=1000,
        fee=100,
        place=place,
        entrants=100,
        prize=prize,
        bounties=bounties,
    )


def day(n: int) -> datetime:
    return T0 + timedelta(days=n)


# The fixed history, in minor units (cents) and hours:
#   s1  Mon  1h  X=+300  at 1/2 (bb 200), tips 20 → net +280
#   s2  Tue  1h  X=−100  at 2/5 (bb 500)
#   s3  Wed  4h  X=0     at 1/2
#   s4  Thu  4h  X=+800  at 2/5, plus a 100 jackpot → profit +900
# ΣX = 1000, ΣT = 10 h, so w = 100 per hour.
HISTORY = [
    cash("s1", day(0), 1, 300, net=280),
    cash("s2", day(1), 1, -100, blinds=(200, 500)),
    cash("s3", day(2), 4, 0),
    cash("s4", day(3), 4, 800, profit=900, blinds=(200, 500)),
]


# --- summary: hand-computed figures ------------------------------------------------------------------------------


def test_totals_keep_gross_win_rate_and_net_profit_apart() -> None:
    result = summary(HISTORY)
    assert (result.sessions, result.hours) == (4, 10.0)
    assert result.profit == 300 - 100 + 0 + 900  # 1100: jackpot included
    assert result.win_rate_profit == 1000  # jackpot left out
    assert result.net_profit == 280 - 100 + 0 + 900  # 1080: tips left out
    assert result.currency == "USD"


def test_hourly_is_win_rate_profit_over_all_hours() -> None:
    assert summary(HISTORY).hourly == 100  # 1000 / 10 h


def test_bb_per_hour_divides_each_session_by_its_own_big_blind() -> None:
    # 300/200 + (−100)/500 + 0/200 + 800/500 = 1.5 − 0.2 + 0 + 1.6 = 2.9 bb over 10 h
    assert summary(HISTORY).bb_per_hour == pytest.approx(0.29)


def test_sd_per_hour_weights_sessions_by_their_length() -> None:
    # Residuals Xᵢ − w·Tᵢ: 300−100=200, −100−100=−200, 0−400=−400, 800−400=400
    # Squared over Tᵢ: 40000/1, 40000/1, 160000/4, 160000/4 → each 40000
    # σ² = (1/4)·160000 = 40000, σ = 200 (the plain SD of hourly rates 300, −100, 0, 200 would be ≈ 158)
    assert summary(HISTORY).sd_per_hour == 200


def test_win_rate_ci95_is_w_plus_minus_student_t_sigma_over_root_hours() -> None:
    # 4 timed sessions: t(0.975, 3) = 3.1824; 3.1824 · 200 / √10 = 201.27 → [100 − 201.27, 100 + 201.27]
    assert summary(HISTORY).win_rate_ci95 == (-101, 301)


def test_t95_is_the_table_up_to_30_and_tends_to_1_96() -> None:
    assert (t95(1), t95(3), t95(30)) == (12.7062, 3.1824, 2.0423)
    assert t95(40) == pytest.approx(2.0211, abs=1e-4)  # A&S table 26.10
    assert t95(120) == pytest.approx(1.9799, abs=1e-4)
    assert t95(100_000) == pytest.approx(1.96, abs=1e-4)


def test_t95_refuses_zero_degrees_of_freedom() -> None:
    with pytest.raises(InvalidInput, match="`df` 0"):
        t95(0)


def test_a_small_sample_is_marked_unreliable_with_its_reason() -> None:
    result = summary(HISTORY)
    assert result.reliable is False
    assert result.reason is not None and "4 sessions and 10.0 hours" in result.reason
    assert f"{MIN_RELIABLE_SESSIONS} sessions and {MIN_RELIABLE_HOURS} hours" in result.reason


def test_thirty_sessions_and_a_hundred_hours_are_reliable() -> None:
    rows = [cash(f"s{i}", day(i), 4 if i < 25 else 0, 100 * (i % 3 - 1)) for i in range(30)]
    assert summary(rows).reliable is False  # 25 timed sessions only
    rows = [cash(f"s{i}", day(i), 4, 100 * (i % 3 - 1)) for i in range(30)]  # 30 sessions, 120 hours
    assert (summary(rows).reliable, summary(rows).reason) == (True, None)


def test_prob_winning_is_phi_of_w_root_hours_over_sigma() -> None:
    # Φ(100 · √10 / 200) = Φ(1.5811) ≈ 0.94308
    assert summary(HISTORY).prob_winning == pytest.approx(0.94308, abs=1e-5)


def test_hours_for_significance_is_squared_ratio_of_margin_to_win_rate() -> None:
    # (1.96 · 200 / 100)² = 3.92² = 15.3664 hours
    assert summary(HISTORY).hours_for_significance == pytest.approx(15.3664)


def test_biggest_win_and_loss_use_gross_profit() -> None:
    result = summary(HISTORY)
    assert (result.biggest_win, result.biggest_loss) == (900, -100)


def test_break_even_session_ends_both_streaks() -> None:
    # +, +, −, −, −, 0, + : two wins in a row, then three losses, then the 0 breaks the run
    results = [100, 50, -10, -20, -30, 0, 40]
    rows = [cash(f"s{i}", day(i), 1, x) for i, x in enumerate(results)]
    result = summary(rows)
    assert (result.longest_winning_streak, result.longest_losing_streak) == (2, 3)


def test_no_sessions_give_zeros_and_no_rates() -> None:
    result = summary([])
    assert (result.sessions, result.hours, result.profit, result.currency) == (0, 0.0, 0, None)
    assert result.hourly is None and result.sd_per_hour is None and result.win_rate_ci95 is None
    assert result.prob_winning is None and result.hours_for_significance is None and result.roi is None
    assert (result.biggest_win, result.biggest_loss, result.downswings.deepest) == (None, None, 0)


def test_one_session_has_a_win_rate_but_no_standard_deviation() -> None:
    result = summary([cash("s1", T0, 2, 500)])
    assert result.hourly == 250
    assert result.sd_per_hour is None and result.win_rate_ci95 is None and result.prob_winning is None


def test_sessions_without_played_time_give_no_hourly_rate() -> None:
    result = summary([cash("s1", T0, 0, 500), cash("s2", day(1), 0, -100)])
    assert (result.profit, result.hourly, result.sd_per_hour, result.bb_per_hour) == (400, None, None, None)


def test_equal_hourly_rates_give_zero_sd_and_a_certain_sign() -> None:
    result = summary([cash("s1", T0, 1, 100), cash("s2", day(1), 2, 200)])
    assert (result.sd_per_hour, result.win_rate_ci95, result.prob_winning) == (0, (100, 100), 1.0)


def test_tournament_roi_counts_every_dollar_invested_and_won() -> None:
    rows = [
        tournament("t1", day(0), invested=1100, prize=0, bounties=200, place=40),  # −900
        tournament("t2", day(1), invested=2100, prize=5000, place=3),  # re-entry: +2900
        tournament("t3", day(2), invested=1100, prize=0),  # −1100, place not recorded
    ]
    result = summary(rows)
    assert result.entries == 3
    assert result.roi == pytest.approx(900 / 4300)  # (−900 + 2900 − 1100) / (1100 + 2100 + 1100)
    assert result.itm_pct == pytest.approx(1 / 3)  # a bounty alone is not in the money
    assert result.average_finish == pytest.approx(21.5)  # (40 + 3) / 2
    assert result.average_finish_percentile == pytest.approx(0.215)  # (40/100 + 3/100) / 2: top 21.5 % of the field
    assert result.total_bounties == 200
    assert result.bb_per_hour is None  # tournaments have no big blind of their own


def test_cash_only_history_has_no_tournament_figures() -> None:
    result = summary(HISTORY)
    assert (result.entries, result.roi, result.itm_pct, result.average_finish) == (0, None, None, None)


def test_summary_refuses_mixed_currencies_and_names_them() -> None:
    rows = [cash("s1", T0, 1, 100), cash("s2", day(1), 1, 100, currency="EUR")]
    with pytest.raises(InvalidInput, match="EUR, USD"):
        summary(rows)


MIXED = [cash("c1", day(0), 2, 1000), tournament("t1", day(1), invested=1100, prize=11000)]


def test_summary_does_not_mix_cash_games_and_tournaments_unless_asked() -> None:
    with pytest.raises(InvalidInput, match=r"`format`.*`mix_formats=true`"):
        summary(MIXED)
    mixed = summary(MIXED, mix_formats=True)
    assert (mixed.format, mixed.sessions, mixed.hourly) == ("mixed", 2, 2180)  # (1000 + 9900) / 5 h
    assert (summary(MIXED[:1]).format, summary(MIXED[1:]).format, summary([]).format) == ("cash", "tournament", None)


def test_downswings_do_not_mix_cash_games_and_tournaments_unless_asked() -> None:
    with pytest.raises(InvalidInput, match="`format`"):
        downswings(MIXED)
    assert downswings(MIXED, mix_formats=True).deepest == 0


def test_a_breakdown_within_one_format_needs_no_permission_to_mix() -> None:
    assert list(breakdown(MIXED, "format")) == ["cash", "tournament"]
    assert list(breakdown(MIXED, "stakes")) == ["NLH 1/2", "NLH 10+1"]
    with pytest.raises(InvalidInput, match="`format`"):
        breakdown(MIXED, "weekday")
    assert list(breakdown(MIXED, "weekday", mix_formats=True)) == ["Monday", "Tuesday"]


def test_summary_refuses_a_start_time_without_time_zone() -> None:
    with pytest.raises(InvalidInput, match="started_at"):
        summary([cash("s1", datetime(2026, 1, 5, 18, 0), 1, 100)])


# --- downswings ----------------------------------------------------------------------------------------------------


def test_downswing_runs_from_peak_until_recovered_and_current_one_is_reported() -> None:
    # X: +500, −200, −400, +300, +400, −100 (1 h each) → curve 500, 300, −100, 200, 600, 500
    # Peak 500 after s0; trough −100 after s2 (depth 600); s4 recovers → 4 sessions, 4 h under water.
    # New peak 600; s5 at 500 is a current drawdown of 100 lasting 1 session.
    rows = [cash(f"s{i}", day(i), 1, x) for i, x in enumerate([500, -200, -400, 300, 400, -100])]
    result = downswings(rows)
    assert (result.deepest, result.deepest_peak_at, result.deepest_trough_at) == (
        600,
        rows[0].ended_at,
        rows[2].ended_at,
    )
    assert (result.longest_sessions, result.longest_hours) == (4, 4.0)
    assert (result.current, result.current_sessions, result.current_hours) == (100, 1, 1.0)


def test_losing_first_session_is_a_downswing_from_zero() -> None:
    rows = [cash("s0", day(0), 2, -300), cash("s1", day(1), 3, 100)]
    result = downswings(rows)
    assert (result.deepest, result.deepest_peak_at, result.current, result.current_sessions) == (300, None, 200, 2)
    assert result.current_hours == 5.0


def test_downswings_use_win_rate_profit_not_jackpots() -> None:
    # The jackpot would have lifted the curve back above the peak; the win-rate curve stays 100 under.
    rows = [cash("s0", day(0), 1, 200), cash("s1", day(1), 1, -100, profit=400)]
    assert downswings(rows).current == 100


def test_summary_reports_the_histories_downswing() -> None:
    # Curve 300, 200, 200, 1000: s2 and s3 under the 300 peak, s4 recovers (1 + 4 + 4 = 9 h).
    result = summary(HISTORY).downswings
    assert (result.deepest, result.longest_sessions, result.longest_hours, result.current) == (100, 3, 9.0, 0)


# --- risk ----------------------------------------------------------------------------------------------------------


def test_drawdown_probability_is_exponential_in_depth() -> None:
    # exp(−2 · 1000 · 50000 / 10000²) = exp(−1)
    assert drawdown_probability(50000, 1000, 10000) == pytest.approx(math.exp(-1))
    assert drawdown_probability(100000, 1000, 10000) == pytest.approx(math.exp(-2))


def test_losing_or_break_even_player_will_see_every_drawdown() -> None:
    assert drawdown_probability(10**9, 0, 10000) == 1.0
    assert drawdown_probability(10**9, -5, 10000) == 1.0


def test_risk_of_ruin_matches_chen_and_ankenman() -> None:
    assert risk_of_ruin(50000, 1000, 10000) == pytest.approx(0.36788, abs=1e-5)  # exp(−1)
    assert risk_of_ruin(50000, -1, 10000) == 1.0


def test_bankroll_for_risk_inverts_risk_of_ruin() -> None:
    # −10000² · ln(0.05) / (2 · 1000) = 1e8 · 2.995732 / 2000 = 149786.6 → rounded up to 149787
    needed = bankroll_for_risk(0.05, 1000, 10000)
    assert needed == 149787
    assert risk_of_ruin(needed, 1000, 10000) <= 0.05


def test_no_bankroll_is_enough_for_a_losing_player() -> None:
    assert bankroll_for_risk(0.05, 0, 10000) is None


@pytest.mark.parametrize("risk", [0.0, 1.0, -0.1, 1.5])
def test_bankroll_for_risk_refuses_a_risk_outside_zero_and_one(risk: float) -> None:
    with pytest.raises(InvalidInput, match="risk"):
        bankroll_for_risk(risk, 1000, 10000)


def test_negative_sigma_is_refused() -> None:
    with pytest.raises(InvalidInput, match="sigma"):
        risk_of_ruin(1000, 10, -1)


# --- breakdown -----------------------------------------------------------------------------------------------------


def test_stakes_are_labelled_in_major_units() -> None:
    rows = [
        cash("a", day(0), 1, 10),
        cash("b", day(1), 1, 20, blinds=(50, 100)),
        cash("c", day(2), 1, 30, blinds=(250, 500)),
    ]
    assert list(breakdown(rows, "stakes")) == ["NLH 0.50/1", "NLH 1/2", "NLH 2.50/5"]


def test_stakes_of_a_currency_without_minor_units_are_whole() -> None:
    assert list(breakdown([cash("a", T0, 1, 10, blinds=(100, 200), currency="JPY")], "stakes")) == ["NLH 100/200"]


def test_tournament_stakes_are_buy_in_plus_fee() -> None:
    assert list(breakdown([tournament("t", T0, invested=1100, prize=0)], "stakes")) == ["NLH 10+1"]


def test_the_same_blinds_in_two_games_are_two_stakes() -> None:
    rows = [cash("a", day(0), 1, 10), cash("b", day(1), 1, 20, game="PLO")]
    assert {k: g.win_rate_profit for k, g in breakdown(rows, "stakes").items()} == {"NLH 1/2": 10, "PLO 1/2": 20}


def test_stakes_sort_by_amount_not_as_text() -> None:
    rows = [
        cash("a", day(0), 1, 10, blinds=(1000, 2000)),
        cash("b", day(1), 1, 10, blinds=(200, 500)),
        cash("c", day(2), 1, 10, blinds=(100, 200)),
        cash("d", day(3), 1, 10, blinds=(2500, 5000)),
    ]
    assert list(breakdown(rows, "stakes")) == ["NLH 1/2", "NLH 2/5", "NLH 10/20", "NLH 25/50"]


def test_weekday_and_month_follow_the_players_day_not_midnight() -> None:
    # 23:30 UTC Fri 30 Jan at UTC+2 is 01:30 local on Saturday 31 Jan; with the day starting at 06:00 it is Friday.
    row = cash("late", datetime(2026, 1, 30, 23, 30, tzinfo=UTC), 3, 100, offset=120)
    assert list(breakdown([row], "weekday")) == ["Saturday"]
    assert list(breakdown([row], "weekday", day_starts_at_hour=6)) == ["Friday"]
    assert list(breakdown([row], "hour", day_starts_at_hour=6)) == ["01"]
    # Sunday 1 Feb 02:00 local belongs to January when the day starts at 06:00.
    feb = cash("feb", datetime(2026, 2, 1, 0, 0, tzinfo=UTC), 1, 100, offset=120)
    assert list(breakdown([feb], "month")) == ["2026-02"]
    assert list(breakdown([feb], "month", day_starts_at_hour=6)) == ["2026-01"]


def test_hours_come_in_the_players_day_order() -> None:
    rows = [cash("a", T0.replace(hour=2), 1, 10), cash("b", T0.replace(hour=20), 1, 10)]
    assert list(breakdown(rows, "hour")) == ["02", "20"]
    assert list(breakdown(rows, "hour", day_starts_at_hour=6)) == ["20", "02"]


def test_length_buckets_include_their_lower_edge() -> None:
    rows = [cash("a", day(0), 1.99, 1), cash("b", day(1), 2, 1), cash("c", day(2), 4, 1), cash("d", day(3), 6, 1)]
    assert {k: v.sessions for k, v in breakdown(rows, "length").items()} == {"<2h": 1, "2-4h": 1, "4-6h": 1, "6h+": 1}


def test_breakdown_by_stakes_summarises_each_group() -> None:
    groups = breakdown(HISTORY, "stakes")
    low, high = groups["NLH 1/2"], groups["NLH 2/5"]
    assert (low.sessions, low.win_rate_profit, low.hours) == (2, 300, 5.0)
    assert (high.sessions, high.profit, high.hourly) == (2, 800, 140)  # 700 / 5 h


def test_unknown_breakdown_names_the_value_and_the_allowed_ones() -> None:
    with pytest.raises(InvalidInput, match=r"'table'.*stakes, game, format, location, weekday, hour, length, month"):
        breakdown(HISTORY, "table")


def test_breakdown_refuses_mixed_currencies() -> None:
    with pytest.raises(InvalidInput, match="EUR, USD"):
        breakdown([*HISTORY, cash("e", day(9), 1, 1, currency="EUR")], "game")


@pytest.mark.parametrize("hour", [-1, 24])
def test_day_start_must_be_an_hour_of_the_day(hour: int) -> None:
    with pytest.raises(InvalidInput, match="day_starts_at_hour"):
        breakdown(HISTORY, "weekday", day_starts_at_hour=hour)


# --- calendar ------------------------------------------------------------------------------------------------------


def test_calendar_puts_a_late_session_on_the_day_it_started() -> None:
    # Monday 22:00 and Tuesday 02:00 local are one night when the day starts at 06:00.
    rows = [cash("a", T0.replace(hour=22), 2, 300), cash("b", day(1).replace(hour=2), 1, -100, profit=-50)]
    (night,) = calendar(rows, day_starts_at_hour=6)
    assert (night.day.isoformat(), night.sessions, night.profit, night.win_rate_profit, night.hours) == (
        "2026-01-05",
        2,
        250,
        200,
        3.0,
    )
    assert [d.day.isoformat() for d in calendar(rows)] == ["2026-01-05", "2026-01-06"]


# --- bankroll ------------------------------------------------------------------------------------------------------


def test_bankroll_curve_adds_net_profit_and_keeps_currencies_apart() -> None:
    deposits = [
        TransactionRow(at=T0 - timedelta(days=1), kind="deposit", amount=100000, currency="USD"),
        TransactionRow(at=T0 - timedelta(days=1), kind="deposit", amount=5000, currency="EUR"),
        TransactionRow(at=day(5), kind="withdrawal", amount=20000, currency="USD"),
        TransactionRow(at=day(6), kind="expense", amount=1500, currency="USD"),
    ]
    curves = bankroll_curve([*HISTORY, cash("e", day(2), 1, -700, currency="EUR")], deposits)
    # USD: 100000, +280, −100, +0, +900 (net profits), −20000, −1500
    assert [p.balance for p in curves["USD"]] == [100000, 100280, 100180, 100180, 101080, 81080, 79580]
    assert [p.kind for p in curves["USD"]][-2:] == ["withdrawal", "expense"]
    assert [p.balance for p in curves["EUR"]] == [5000, 4300]
    assert curves["EUR"][-1].session_id == "e"


def test_transaction_comes_before_a_session_ending_at_the_same_time() -> None:
    row = cash("s", T0, 1, -100)
    curve = bankroll_curve([row], [TransactionRow(at=row.ended_at, kind="deposit", amount=500, currency="USD")])
    assert [p.kind for p in curve["USD"]] == ["deposit", "session"]


def test_negative_transaction_amount_is_refused() -> None:
    with pytest.raises(InvalidInput, match="amount"):
        bankroll_curve([], [TransactionRow(at=T0, kind="deposit", amount=-1, currency="USD")])


# Buy-ins: 1/2 = 200.00, 2/5 = 500.00, 5/10 = 1000.00; rule 30 with h = 0.2 → move up at ≥ 36, down below 24.
STAKES = {"1/2": 20000, "2/5": 50000, "5/10": 100000}


def test_guidance_stays_between_the_two_lines() -> None:
    # 1,700,000 holds 34 buy-ins of 2/5: below 36, so a 1/2 player stays, and above 24, so a 2/5 player stays.
    assert bankroll_guidance(1_700_000, STAKES, current_stake="1/2").action == "stay"
    assert bankroll_guidance(1_700_000, STAKES, current_stake="2/5").action == "stay"


def test_guidance_moves_up_at_rule_times_one_plus_h() -> None:
    result = bankroll_guidance(1_800_000, STAKES, current_stake="1/2")  # 36 buy-ins of 2/5
    assert (result.action, result.recommended_stake) == ("move_up", "2/5")
    assert [(a.stake, a.buy_ins_held, a.status) for a in result.stakes] == [
        ("1/2", 90.0, "comfortable"),
        ("2/5", 36.0, "comfortable"),
        ("5/10", 18.0, "short"),
    ]


def test_guidance_moves_down_below_rule_times_one_minus_h() -> None:
    result = bankroll_guidance(1_150_000, STAKES, current_stake="2/5")  # 23 buy-ins of 2/5
    assert (result.action, result.recommended_stake) == ("move_down", "1/2")
    assert bankroll_guidance(1_250_000, STAKES, current_stake="2/5").action == "stay"  # 25 buy-ins


def test_guidance_moves_down_to_the_highest_stake_still_within_the_rule() -> None:
    # 1,150,000 at 5/10 holds 11.5 buy-ins; 2/5 would hold 23 (short again), 1/2 holds 57.5.
    result = bankroll_guidance(1_150_000, STAKES, current_stake="5/10")
    assert (result.action, result.recommended_stake) == ("move_down", "1/2")


def test_guidance_without_a_current_stake_picks_the_highest_rolled_stake() -> None:
    result = bankroll_guidance(1_500_000, STAKES)  # exactly 30 buy-ins of 2/5
    assert (result.recommended_stake, result.action) == ("2/5", None)


def test_guidance_gives_risk_of_ruin_from_the_measured_win_rate() -> None:
    result = bankroll_guidance(50000, STAKES, win_rate=1000, sigma=10000, target_risk=0.05)
    assert result.risk_of_ruin == pytest.approx(math.exp(-1))
    assert result.bankroll_for_target_risk == 149787


def test_guidance_refuses_an_unknown_current_stake() -> None:
    with pytest.raises(InvalidInput, match="'10/20'"):
        bankroll_guidance(1000, STAKES, current_stake="10/20")


@pytest.mark.parametrize("rule", [math.nan, math.inf, 0, -3])
def test_guidance_refuses_a_rule_that_is_not_a_positive_number(rule: float) -> None:
    with pytest.raises(InvalidInput, match="`rule`"):
        bankroll_guidance(1000, STAKES, rule_buy_ins=rule)


def test_guidance_takes_the_blinds_alone_when_one_game_is_played_at_them() -> None:
    ladder = {"NLH 1/2": 20000, "NLH 2/5": 50000, "PLO 2/5": 50000}
    assert bankroll_guidance(1_700_000, ladder, current_stake="1/2").current_stake == "NLH 1/2"
    with pytest.raises(InvalidInput, match="'2/5' is played in several games: NLH 2/5, PLO 2/5"):
        bankroll_guidance(1_700_000, ladder, current_stake="2/5")


@pytest.mark.parametrize("hysteresis", [-0.1, 1.0, math.nan])
def test_guidance_refuses_a_hysteresis_outside_zero_and_one(hysteresis: float) -> None:
    with pytest.raises(InvalidInput, match="hysteresis"):
        bankroll_guidance(1000, STAKES, hysteresis=hysteresis)


# --- from the reducer ----------------------------------------------------------------------------------------------


def test_session_row_takes_money_from_the_reducer() -> None:
    sid = uuid.uuid4()
    start = datetime(2026, 1, 5, 20, 0, tzinfo=UTC).astimezone(ZoneInfo("Europe/Paris"))

    def event(seq: int, kind: str, at: datetime, data: Payload) -> Event:
        return make_event(data, id=uuid.uuid4(), session_id=sid, seq=seq, at=at)

    state = fold(
        str(sid),
        [
            event(
                1,
                "session.started",
                start,
                SessionStarted(
                    format="cash",
                    game="NLH",
                    currency="USD",
                    buy_in=20000,
                    stakes=Stakes(small_blind=100, big_blind=200),
                ),
            ),
            event(2, "session.ended", start + timedelta(hours=2), SessionEnded(cash_out=30000, tips=500, jackpot=1000)),
        ],
    )
    row = session_row(state)
    assert (row.profit, row.win_rate_profit, row.net_profit) == (10000, 9000, 9500)
    assert (row.played_seconds, row.utc_offset_minutes, row.started_at.tzinfo) == (7200, 60, UTC)


def test_session_row_refuses_a_running_session() -> None:
    with pytest.raises(InvalidInput, match="ended"):
        session_row(fold("x", []))


# --- properties ----------------------------------------------------------------------------------------------------

Format = Literal["cash", "tournament"]


@st.composite
def histories(draw: st.DrawFn) -> list[SessionRow]:
    """Up to 12 USD sessions with random times, lengths, stakes and results."""
    count = draw(st.integers(min_value=0, max_value=12))
    rows = []
    for i in range(count):
        fmt: Format = draw(st.sampled_from(["cash", "tournament"]))
        start = draw(
            st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC))
        )
        seconds = draw(st.integers(min_value=0, max_value=12 * HOUR))
        wr = draw(st.integers(min_value=-(10**6), max_value=10**6))
        jackpot = draw(st.sampled_from([0, 0, 5000]))
        bb = draw(st.sampled_from([100, 200, 500, 1000]))
        rows.append(
            SessionRow(
                session_id=f"s{i}",
                format=fmt,
                game=draw(st.sampled_from(["NLH", "PLO"])),
                currency="USD",
                small_blind=bb // 2 if fmt == "cash" else 0,
                big_blind=bb if fmt == "cash" else 0,
                location=draw(st.sampled_from(["", "Casino", "Home"])),
                started_at=start,
                ended_at=start + timedelta(seconds=seconds),
                utc_offset_minutes=draw(st.integers(min_value=-720, max_value=840)),
                played_seconds=seconds,
                invested=draw(st.integers(min_value=1, max_value=10**5)),
                profit=wr + jackpot,
                win_rate_profit=wr,
                net_profit=wr + jackpot - draw(st.integers(min_value=0, max_value=1000)),
                buy_in=bb * 100,
                fee=draw(st.sampled_from([0, 100])),
                place=draw(st.none() | st.integers(min_value=1, max_value=100)) if fmt == "tournament" else None,
                prize=draw(st.sampled_from([0, 0, 10000])) if fmt == "tournament" else 0,
            )
        )
    return rows


@given(histories(), st.randoms(use_true_random=False))
def test_order_of_rows_does_not_change_the_summary(rows: list[SessionRow], rnd: random.Random) -> None:
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    assert summary(shuffled, mix_formats=True) == summary(rows, mix_formats=True)


@given(histories())
def test_profit_totals_are_the_sums_of_the_rows(rows: list[SessionRow]) -> None:
    result = summary(rows, mix_formats=True)
    assert result.profit == sum(r.profit for r in rows)
    assert result.win_rate_profit == sum(r.win_rate_profit for r in rows)
    assert result.net_profit == sum(r.net_profit for r in rows)
    assert result.sessions == len(rows)


@given(histories())
def test_ci95_contains_the_win_rate(rows: list[SessionRow]) -> None:
    result = summary(rows, mix_formats=True)
    if result.win_rate_ci95 is not None:
        low, high = result.win_rate_ci95
        assert result.hourly is not None and low <= result.hourly <= high


@given(histories())
def test_current_drawdown_never_exceeds_the_deepest(rows: list[SessionRow]) -> None:
    result = downswings(rows, mix_formats=True)
    assert 0 <= result.current <= result.deepest
    lowest = min([0, *_cumulative(rows)])
    assert result.deepest >= -lowest  # falling below the start is a downswing from 0


def _cumulative(rows: list[SessionRow]) -> list[int]:
    total, curve = 0, []
    for row in sorted(rows, key=lambda r: (r.started_at, r.session_id)):
        total += row.win_rate_profit
        curve.append(total)
    return curve


@given(histories(), st.sampled_from(BREAKDOWNS), st.integers(min_value=0, max_value=23))
def test_breakdown_partitions_the_sessions(rows: list[SessionRow], by: str, day_start: int) -> None:
    groups = breakdown(rows, by, day_starts_at_hour=day_start, mix_formats=True)
    assert sum(g.sessions for g in groups.values()) == len(rows)
    assert sum(g.profit for g in groups.values()) == sum(r.profit for r in rows)
    assert math.isclose(sum(g.hours for g in groups.values()), sum(r.played_seconds for r in rows) / HOUR)


@given(histories(), st.integers(min_value=0, max_value=23))
def test_calendar_days_add_up_to_the_history(rows: list[SessionRow], day_start: int) -> None:
    days = calendar(rows, day_start)
    assert sum(d.sessions for d in days) == len(rows)
    assert sum(d.profit for d in days) == sum(r.profit for r in rows)
    assert [d.day for d in days] == sorted({d.day for d in days})


@given(
    st.floats(min_value=1, max_value=10**6),
    st.floats(min_value=0.01, max_value=10**4),
    st.floats(min_value=1, max_value=10**5),
)
def test_risk_of_ruin_falls_as_the_bankroll_grows(bankroll: float, w: float, sigma: float) -> None:
    assert risk_of_ruin(bankroll * 2, w, sigma) <= risk_of_ruin(bankroll, w, sigma) <= 1.0


@given(st.integers(min_value=0, max_value=10**8), st.floats(min_value=0, max_value=0.9), st.sampled_from(list(STAKES)))
def test_guidance_never_flip_flops(balance: int, hysteresis: float, stake: str) -> None:
    # Following the advice once, then asking again with the same balance, must give "stay".
    first = bankroll_guidance(balance, STAKES, current_stake=stake, hysteresis=hysteresis)
    again = bankroll_guidance(balance, STAKES, current_stake=first.recommended_stake, hysteresis=hysteresis)
    assert again.action == "stay"
