"""Specification of the tilt alert policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec

from shared.tilt_policy import (
    Alert,
    Moment,
    PlayerPolicy,
    PolicyConfig,
    SessionPolicy,
    Tick,
    apply_feedback,
    decide,
    threshold_for,
)

T0 = datetime(2025, 3, 7, 21, tzinfo=UTC)
CONFIG = PolicyConfig(threshold=0.5, k=2, n=3, sustained_minutes=20, cooldown_minutes=45)


def tick(minutes: float, score: float, *, on_break: bool = False, played: float | None = None) -> Tick:
    return Tick(
        session_id="s1",
        at=T0 + timedelta(minutes=minutes),
        score=score,
        reasons=["3 rebuys in the last hour"],
        on_break=on_break,
        played_minutes=minutes if played is None else played,
        net=-80_000,
        currency="USD",
        hourly=-20_000,
        baseline_hourly=3_000,
    )


def feed(scores: list[tuple[float, float]], config: PolicyConfig = CONFIG) -> list[Alert]:
    player, session = PlayerPolicy(), SessionPolicy("s1")
    alerts = [decide(config, player, session, tick(m, s)) for m, s in scores]
    return [a for a in alerts if a is not None]


def test_one_high_score_among_calm_ones_does_not_alert() -> None:
    assert feed([(0, 0.1), (10, 0.8), (20, 0.2), (30, 0.1)]) == []


def test_one_score_at_the_instant_level_alerts_without_waiting_for_a_second() -> None:
    assert [a.at for a in feed([(0, 0.1), (10, 0.9)])] == [T0 + timedelta(minutes=10)]
    assert feed([(0, 0.1), (10, 0.9)], msgspec.structs.replace(CONFIG, instant_score=None)) == []


def test_fine_feedback_raises_the_instant_level_with_the_threshold() -> None:
    player, session = PlayerPolicy(), SessionPolicy("s1")
    apply_feedback(CONFIG, player, session, "fine", T0)
    apply_feedback(CONFIG, player, session, "fine", T0)  # threshold 0.6, instant level 0.95
    later = T0 + timedelta(hours=2)
    assert decide(CONFIG, player, session, msgspec.structs.replace(tick(0, 0.9), at=later)) is None


def test_k_of_the_last_n_high_scores_alert_with_the_reasons() -> None:
    alerts = feed([(0, 0.1), (10, 0.7), (12, 0.8)])
    assert len(alerts) == 1
    alert = alerts[0]
    assert (alert.kind, alert.score, alert.reasons) == ("break_suggestion", 0.8, ["3 rebuys in the last hour"])
    assert alert.at == T0 + timedelta(minutes=12)


def test_risk_sustained_for_long_enough_alerts_even_with_sparse_events() -> None:
    config = msgspec.structs.replace(CONFIG, k=5, n=5)
    assert [a.at for a in feed([(0, 0.6), (19, 0.6), (21, 0.6)], config)] == [T0 + timedelta(minutes=21)]


def test_cooldown_silences_a_second_alert_until_it_ends() -> None:
    alerts = feed([(0, 0.8), (5, 0.8), (10, 0.8), (30, 0.8), (49, 0.8), (51, 0.8)])
    assert [a.at for a in alerts] == [T0 + timedelta(minutes=5), T0 + timedelta(minutes=51)]


def test_a_break_silences_the_policy_and_resets_the_streak() -> None:
    player, session = PlayerPolicy(), SessionPolicy("s1")
    assert decide(CONFIG, player, session, tick(0, 0.8)) is None
    assert decide(CONFIG, player, session, tick(5, 0.95, on_break=True)) is None
    assert decide(CONFIG, player, session, tick(25, 0.8)) is None  # the streak starts again after the break
    assert decide(CONFIG, player, session, tick(30, 0.8)) is not None


def test_fine_feedback_raises_the_players_threshold_up_to_a_cap() -> None:
    player, session = PlayerPolicy(), SessionPolicy("s1")
    apply_feedback(CONFIG, player, session, "fine", T0)
    assert threshold_for(CONFIG, player) == 0.55
    for _ in range(20):
        apply_feedback(CONFIG, player, session, "fine", T0)
    assert threshold_for(CONFIG, player) == CONFIG.threshold + CONFIG.max_raise


def test_raised_threshold_lets_moderate_scores_pass() -> None:
    player, session = PlayerPolicy(threshold_offset=0.2), SessionPolicy("s1")
    assert [decide(CONFIG, player, session, tick(m, 0.6)) for m in (0, 5, 10)] == [None, None, None]


def test_break_feedback_resets_a_raised_threshold_below_the_models() -> None:
    player, session = PlayerPolicy(threshold_offset=0.2), SessionPolicy("s1")
    apply_feedback(CONFIG, player, session, "break", T0)
    assert threshold_for(CONFIG, player) < CONFIG.threshold
    for _ in range(10):
        apply_feedback(CONFIG, player, session, "break", T0)
    assert threshold_for(CONFIG, player) == CONFIG.threshold - CONFIG.max_lower


def test_feedback_starts_a_quiet_period() -> None:
    player, session = PlayerPolicy(), SessionPolicy("s1")
    apply_feedback(CONFIG, player, session, "fine", T0)
    assert [decide(CONFIG, player, session, tick(m, 0.99)) for m in (1, 2, 3)] == [None, None, None]


def test_reality_checks_come_every_n_minutes_when_calm() -> None:
    config = msgspec.structs.replace(CONFIG, reality_check_minutes=60)
    alerts = feed([(m, 0.05) for m in range(0, 181, 20)], config)
    assert [a.at for a in alerts] == [
        T0 + timedelta(minutes=60),
        T0 + timedelta(minutes=120),
        T0 + timedelta(minutes=180),
    ]
    reality = alerts[0].reality
    assert alerts[0].kind == "reality_check" and reality is not None
    assert (reality.played_minutes, reality.net, reality.hourly, reality.level) == (60, -80_000, -20_000, "info")


def test_reality_checks_come_sooner_and_more_insistently_as_risk_rises() -> None:
    config = msgspec.structs.replace(CONFIG, reality_check_minutes=60)
    alerts = feed([(m, 0.3) for m in range(0, 121, 10)], config)
    assert alerts[0].at == T0 + timedelta(minutes=40)
    assert alerts[0].reality is not None and alerts[0].reality.level == "nudge"


def test_states_survive_a_round_trip_through_json() -> None:
    player, session = PlayerPolicy(), SessionPolicy("s1")
    decide(CONFIG, player, session, tick(0, 0.8))
    session2 = msgspec.json.decode(msgspec.json.encode(session), type=SessionPolicy)
    player2 = msgspec.json.decode(msgspec.json.encode(player), type=PlayerPolicy)
    assert decide(CONFIG, player2, session2, tick(5, 0.8)) == decide(CONFIG, player, session, tick(5, 0.8))
    assert decide(CONFIG, player, SessionPolicy("s1"), tick(5, 0.8)) is None


def moment(minutes: float, score: float, kind: Moment, signals: int = 0) -> Tick:
    return Tick(session_id="s1", at=T0 + timedelta(minutes=minutes), score=score, moment=kind, strong_signals=signals)


def test_one_high_score_at_a_sessions_start_alerts_at_once_and_counts() -> None:
    player = PlayerPolicy()
    alert = decide(CONFIG, player, SessionPolicy("s1"), moment(0, 0.8, "start"))
    assert alert is not None and alert.kind == "start_check" and player.alerts == 1
    assert decide(CONFIG, player, SessionPolicy("s2"), moment(0, 0.3, "start")) is None


def test_an_alert_at_the_start_starts_the_sessions_cooldown() -> None:
    player, session = PlayerPolicy(), SessionPolicy("s1")
    decide(CONFIG, player, session, moment(0, 0.8, "start"))
    assert [decide(CONFIG, player, session, tick(m, 0.9)) for m in (5, 10, 20)] == [None, None, None]


def test_a_risky_end_with_a_strong_signal_suggests_one_pause_before_the_next_session() -> None:
    player = PlayerPolicy()
    assert decide(CONFIG, player, SessionPolicy("s1"), moment(0, 0.9, "end", signals=0)) is None
    pause = decide(CONFIG, player, SessionPolicy("s1"), moment(0, 0.9, "end", signals=2))
    assert pause is not None and pause.kind == "pause_suggestion" and player.alerts == 1
    assert decide(CONFIG, player, SessionPolicy("s2"), moment(30, 0.9, "end", signals=2)) is None  # one push
    assert decide(CONFIG, player, SessionPolicy("s3"), moment(50, 0.9, "end", signals=2)) is not None


def test_feedback_to_a_pause_suggestion_moves_the_threshold_like_any_alert() -> None:
    player = PlayerPolicy()
    apply_feedback(CONFIG, player, SessionPolicy("s1"), "fine", T0)
    assert threshold_for(CONFIG, player) == CONFIG.threshold + CONFIG.fine_step
    assert decide(CONFIG, player, SessionPolicy("s2"), moment(60, 0.52, "start")) is None
    assert decide(CONFIG, player, SessionPolicy("s2"), moment(10, 0.99, "end", signals=1)) is None  # quiet after it


def test_starts_and_ends_use_their_own_threshold_moved_by_the_same_feedback() -> None:
    config = msgspec.structs.replace(CONFIG, between_threshold=0.7)
    player = PlayerPolicy()
    assert decide(config, player, SessionPolicy("s1"), moment(0, 0.65, "start")) is None
    assert decide(config, player, SessionPolicy("s2"), moment(0, 0.75, "start")) is not None
    apply_feedback(config, player, SessionPolicy("s2"), "fine", T0)
    assert threshold_for(config, player, "start") == threshold_for(config, player, "end") == 0.75
    assert threshold_for(config, player) == 0.55
