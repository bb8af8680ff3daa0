"""The per-session figures: one function each, shared by the reducer, the statistics, the tilt features, the screens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from shared import figures
from shared.reducer import BreakSpan

T0 = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)


def test_cash_profit_is_what_came_back_minus_everything_put_in() -> None:
    assert figures.profit("cash", invested=30_000, returned=45_500, ended=True) == 15_500


def test_a_cash_game_with_nothing_counted_yet_has_lost_what_was_put_in() -> None:
    assert figures.profit("cash", invested=20_000, returned=None, ended=False) == -20_000


def test_a_running_tournament_has_returned_nothing_even_with_a_prize_recorded() -> None:
    assert figures.profit("tournament", invested=11_000, returned=None, ended=False, prize=50_000) == -11_000


def test_a_finished_tournament_counts_prize_and_bounties() -> None:
    assert (
        figures.profit("tournament", invested=11_000, returned=None, ended=True, prize=30_000, bounties=5_000) == 24_000
    )


def test_played_time_leaves_out_finished_breaks_and_the_open_one() -> None:
    end = T0 + timedelta(hours=3)
    assert (
        figures.played_seconds(T0, end, break_seconds=600, on_break_since=end - timedelta(minutes=5)) == 3 * 3600 - 900
    )


def test_played_time_is_never_negative_and_zero_before_a_start() -> None:
    assert figures.played_seconds(T0, T0 - timedelta(minutes=1), break_seconds=0) == 0
    assert figures.played_seconds(None, T0, break_seconds=0) == 0


def test_played_time_across_a_daylight_saving_change_counts_real_seconds() -> None:
    paris = ZoneInfo("Europe/Paris")  # 2026-10-25 03:00 CEST -> 02:00 CET: the wall clock repeats an hour
    start = datetime(2026, 10, 25, 1, 0, tzinfo=paris)
    end = datetime(2026, 10, 25, 4, 0, tzinfo=paris)
    assert figures.played_seconds(start, end, break_seconds=0) == 4 * 3600


def test_a_sound_corrected_end_replaces_the_tap_time() -> None:
    assert figures.real_end(T0, T0 + timedelta(hours=5), T0 + timedelta(hours=2)) == T0 + timedelta(hours=2)


def test_a_corrected_end_before_the_start_is_ignored() -> None:
    assert figures.real_end(T0, T0 + timedelta(hours=5), T0 - timedelta(hours=1)) == T0 + timedelta(hours=5)


def test_only_the_part_of_breaks_after_the_real_end_is_given_back() -> None:
    end = T0 + timedelta(hours=2)
    breaks = [
        BreakSpan(start=T0 + timedelta(minutes=30), end=T0 + timedelta(minutes=40)),  # before: kept
        BreakSpan(start=end - timedelta(minutes=10), end=end + timedelta(minutes=20)),  # straddles: 20 min after
        BreakSpan(start=end + timedelta(hours=1), end=end + timedelta(hours=2)),  # after: all of it
    ]
    assert figures.break_seconds_after(breaks, end) == 20 * 60 + 3600


def test_hourly_needs_a_minute_of_play_and_rounds() -> None:
    assert figures.hourly_rate(1000, 59) is None
    assert figures.hourly_rate(1000, 7200) == 500
    assert figures.per_hour(1000, 0) is None


def test_bb_per_hour_is_for_cash_games_only() -> None:
    assert figures.bb_per_hour(500, 200, "cash") == 2.5
    assert figures.bb_per_hour(500, 200, "tournament") is None
