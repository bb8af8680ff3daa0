"""The shipped tilt model on the hand-scripted scenarios (tests/tilt_scenarios), which the simulator did not write."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from shared.tilt_policy import Alert
from tests.tilt_scenarios.script import EVENTS, LABELS, SCRIPT, compile_script
from workers.tilt.engine import TiltEngine, policy_from_card, read_replay
from workers.tilt.evaluate import EpisodeMetrics, read_labels, truth
from workers.tilt.scorer import TiltScorer
from workers.tilt.train import EvaluationSet, detectors

ARCHETYPES = {
    "loss_chasing_with_rebuys": 2,
    "steaming_swings": 1,
    "moving_up_in_stakes": 1,
    "marathon_without_breaks": 1,
    "revenge_after_bust": 1,
    "late_night_restart": 1,
}
LOOK_ALIKES = {"deep_tournament_run", "high_stakes_normal_swings", "disciplined_loser_quits", "cooler_with_one_rebuy"}
# What a person would expect the alert to talk about, per archetype: one of these words among its reasons.
EXPECTED_WORDS = {
    "loss_chasing_with_rebuys": ("rebuy", "buy-ins"),
    "steaming_swings": ("buy-ins", "bad beat", "mood"),
    "moving_up_in_stakes": ("stakes", "buy-in"),
    "marathon_without_breaks": ("without a break", "playing for"),
    "revenge_after_bust": ("last session", "bust"),
    "late_night_restart": ("started at", "session today", "stakes"),
}


@pytest.fixture(scope="module")
def scorer() -> TiltScorer:
    return TiltScorer()


@pytest.fixture(scope="module")
def scripted(scorer: TiltScorer) -> dict[str, EpisodeMetrics]:
    measured = detectors(scorer, policy_from_card(scorer), EvaluationSet.scripted())
    return {"model": measured.model, "stop_loss_2": measured.stop_loss_2, "stop_loss_3": measured.stop_loss_3}


@pytest.fixture(scope="module")
def first_alerts(scorer: TiltScorer) -> dict[str, tuple[str, Alert]]:
    """Each episode's first alert inside its window, with the event type that raised it, by archetype."""
    events = read_replay(EVENTS)
    labels = {label.session_id: label for label in read_labels(LABELS)}
    archetypes = {row["session_id"]: row["archetype"] for row in map(json.loads, LABELS.read_text().splitlines())}
    engine = TiltEngine(scorer)
    found: dict[str, tuple[str, Alert]] = {}
    episodes = truth(labels.values(), events).episodes
    for user, event in events:
        alert = engine.observe(user, event)
        if alert is None:
            continue
        for episode in episodes:
            key = f"{archetypes[episode.session_id]}/{user}"
            if episode.user == user and episode.onset <= alert.at <= episode.until and key not in found:
                found[key] = (event.type, alert)
    return found


def test_the_committed_event_and_label_files_are_what_the_script_says() -> None:
    events, labels = compile_script(SCRIPT.read_text(encoding="utf-8"))
    assert EVENTS.read_bytes() == events, "run: .venv/bin/python -m tests.tilt_scenarios.script"
    assert LABELS.read_bytes() == labels


def test_the_set_holds_seven_episodes_of_every_archetype_and_enough_calm_sessions() -> None:
    rows = [json.loads(line) for line in LABELS.read_text().splitlines()]
    episodes = Counter(row["archetype"] for row in rows if row["tilt_started_at"] is not None)
    assert episodes == ARCHETYPES
    look_alikes = {row["archetype"] for row in rows if row["tilt_started_at"] is None} - {"calm"}
    assert look_alikes == LOOK_ALIKES
    assert sum(1 for row in rows if row["tilt_started_at"] is None) >= 50
    assert all(row["reasons"] for row in rows if row["archetype"] != "calm")


def test_events_carry_no_labels_and_pass_the_wire_schema() -> None:
    lines = EVENTS.read_text().splitlines()
    assert all(set(json.loads(line)) == {"user", "event"} for line in lines)
    assert len(read_replay(EVENTS)) == len(lines)
    assert "tilt" not in EVENTS.read_text().replace("tilt.feedback", "")


def test_the_model_beats_both_stop_loss_rules_on_the_scripted_set(scripted: dict[str, EpisodeMetrics]) -> None:
    model = scripted["model"]
    for rule in ("stop_loss_2", "stop_loss_3"):
        assert model.caught > scripted[rule].caught, rule
        assert model.false_alarms <= scripted[rule].false_alarms, rule


def test_the_model_catches_six_of_seven_episodes_with_at_most_one_false_alarm_per_fifty_calm_sessions(
    scripted: dict[str, EpisodeMetrics],
) -> None:
    model = scripted["model"]
    assert model.caught >= 6 * model.episodes / 7
    assert model.false_alarms_per_calm_session <= 1 / 50


def test_the_median_delay_from_onset_stays_where_it_was_measured(scripted: dict[str, EpisodeMetrics]) -> None:
    # The target is 15 min; the shipped model measures 20 (see the model card): this guards against getting worse.
    delay = scripted["model"].median_delay_minutes
    assert delay is not None and delay <= 20


def test_the_card_reports_the_scripted_set_as_measured_now(
    scorer: TiltScorer, scripted: dict[str, EpisodeMetrics]
) -> None:
    card = scorer.card.scripted
    assert (card.model, card.stop_loss_2, card.stop_loss_3) == tuple(scripted.values())


def test_tilt_that_starts_between_sessions_alerts_at_the_start_of_the_session(
    first_alerts: dict[str, tuple[str, Alert]],
) -> None:
    for key in ("moving_up_in_stakes/cal", "late_night_restart/fay"):
        event_type, alert = first_alerts[key]
        assert (event_type, alert.kind) == ("session.started", "start_check"), key


def test_a_revenge_session_is_headed_off_by_a_pause_suggestion_when_the_bust_session_ends(
    first_alerts: dict[str, tuple[str, Alert]],
) -> None:
    event_type, alert = first_alerts["revenge_after_bust/eli"]
    assert (event_type, alert.kind) == ("session.ended", "pause_suggestion")


@pytest.mark.parametrize("archetype", sorted(ARCHETYPES))
def test_every_archetype_gets_one_to_three_plain_reasons_that_name_what_a_person_would(
    archetype: str, first_alerts: dict[str, tuple[str, Alert]]
) -> None:
    alerts = [alert for key, (_, alert) in first_alerts.items() if key.startswith(f"{archetype}/")]
    assert alerts, f"no alert for {archetype}"
    for alert in alerts:
        assert 1 <= len(alert.reasons) <= 3
        assert all(
            reason.strip() == reason and not reason[0].isupper() and "_" not in reason for reason in alert.reasons
        )
        text = "; ".join(alert.reasons)
        assert any(word in text for word in EXPECTED_WORDS[archetype]), text


def test_replay_reads_the_apps_own_export_like_the_replay_contract(scorer: TiltScorer, tmp_path: Path) -> None:
    lines = [json.loads(line) for line in EVENTS.read_text().splitlines()]
    fay = [line for line in lines if line["user"] == "fay"]
    contract = tmp_path / "fay.jsonl"
    contract.write_text("".join(json.dumps(line) + "\n" for line in fay))
    export = tmp_path / "events.jsonl"  # bare wire events, in the order the server received them (not phone order)
    received = sorted(fay, key=lambda line: (line["event"]["session_id"], -line["event"]["seq"]))
    export.write_text("".join(json.dumps(line["event"]) + "\n" for line in received))
    expected = TiltEngine(scorer).replay(contract)
    assert expected and TiltEngine(scorer).replay(export) == expected
