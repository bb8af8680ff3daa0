"""Specification of the tilt alert policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec

from shared.tilt_policy import (
    Alert,
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
    assert feed([(0, 0.1), (10, 0.9), (20, 0.2), (30, 0.1)]) == []


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
    alerts = feed([(0, 0.9), (5, 0.9), (10, 0.9), (30, 0.9), (49, 0.9), (51, 0.9)])
    assert [a.at for a in alerts] == [T0 + timedelta(minutes=5), T0 + timedelta(minutes=51)]


def test_a_break_silences_the_policy_and_resets_the_streak() -> None:
    player, session = PlayerPolicy(), SessionPolicy("s1")
    assert decide(CONFIG, player, session, tick(0, 0.9)) is None
    assert decide(CONFIG, player, session, tick(5, 0.95, on_break=True)) is None
    assert decide(CONFIG, player, session, tick(25, 0.9)) is None  # the streak starts again after the break
    assert decide(CONFIG, player, session, tick(30, 0.9)) is not None


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
    decide(CONFIG, player, session, tick(0, 0.9))
    session2 = msgspec.json.decode(msgspec.json.encode(session), type=SessionPolicy)
    player2 = msgspec.json.decode(msgspec.json.encode(player), type=PlayerPolicy)
    assert decide(CONFIG, player2, session2, tick(5, 0.9)) == decide(CONFIG, player, session, tick(5, 0.9))
    assert decide(CONFIG, player, SessionPolicy("s1"), tick(5, 0.9)) is None
