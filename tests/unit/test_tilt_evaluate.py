"""Specification of the episode count that judges tilt detectors (workers/tilt/evaluate.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from workers.tilt.evaluate import AlertAt, Episode, Truth, episode_results, judge

T0 = datetime(2025, 3, 20, 20, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def ground() -> Truth:
    return Truth(
        episodes=[
            Episode("ann", "s1", onset=at(60), until=at(180), archetype="loss_chasing_with_rebuys"),
            Episode("ben", "s2", onset=at(0), until=at(90), archetype="revenge_after_bust"),
        ],
        calm_sessions={"c1", "c2", "c3", "c4"},
    )


def test_an_alert_inside_the_window_catches_the_episode_with_its_delay_from_the_onset() -> None:
    metrics = judge(
        ground(), [AlertAt("ann", "s1", at(75)), AlertAt("ann", "s1", at(120)), AlertAt("ben", "s2", at(5))]
    )
    assert (metrics.caught, metrics.false_alarms) == (2, 0)
    assert metrics.median_delay_minutes == 10.0  # 15 and 5: only the first alert of an episode counts
    assert metrics.p90_delay_minutes == 14.0


def test_an_alert_before_the_onset_is_a_false_alarm_even_in_the_tilted_session() -> None:
    metrics = judge(ground(), [AlertAt("ann", "s1", at(30))])
    assert (metrics.caught, metrics.false_alarms, metrics.false_alarms_per_calm_session) == (0, 1, 0.25)


def test_an_alert_in_the_previous_session_after_the_onset_catches_an_episode_that_began_between_sessions() -> None:
    truth = Truth([Episode("eli", "s3", onset=at(0), until=at(120))], calm_sessions={"s-before"})
    assert judge(truth, [AlertAt("eli", "s-before", at(2), "pause_suggestion")]).caught == 1


def test_another_players_alert_catches_nothing() -> None:
    metrics = judge(ground(), [AlertAt("cal", "s9", at(70))])
    assert (metrics.caught, metrics.false_alarms, metrics.median_delay_minutes) == (0, 1, None)


def test_each_episode_is_listed_with_its_first_alert_or_as_missed() -> None:
    results = episode_results(ground(), [AlertAt("ann", "s1", at(80), "break_suggestion", ["3 rebuys in 40 min"])])
    assert [(r.user, r.kind, r.delay_minutes, r.reasons) for r in results] == [
        ("ben", None, None, []),
        ("ann", "break_suggestion", 20.0, ["3 rebuys in 40 min"]),
    ]
