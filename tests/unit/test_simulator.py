"""Specification of the simulator: deterministic, schema-valid, realistic money, ground truth kept apart."""

from __future__ import annotations

import itertools
import json
import statistics
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from shared.events import Event, decode_event, encode_event
from shared.reducer import fold
from shared.simulator import Simulation, simulate, simulate_until, to_jsonl
from shared.tilt_features import player_day

START = datetime(2025, 3, 3, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def sim() -> Simulation:
    return simulate(players=24, sessions_per_player=12, seed=11, start=START)


def test_same_seed_gives_identical_events_and_labels(sim: Simulation) -> None:
    again = simulate(players=24, sessions_per_player=12, seed=11, start=START)
    assert [encode_event(e) for _, e in again.events] == [encode_event(e) for _, e in sim.events]
    assert again.labels == sim.labels
    assert again.episodes == sim.episodes


def test_different_seeds_give_different_players(sim: Simulation) -> None:
    other = simulate(players=24, sessions_per_player=12, seed=12, start=START)
    assert {e.id for _, e in other.events}.isdisjoint({e.id for _, e in sim.events})


def test_every_event_survives_the_wire_schema(sim: Simulation) -> None:
    for _, event in sim.events:
        assert decode_event(encode_event(event)) == event


def test_events_carry_no_ground_truth(sim: Simulation) -> None:
    for _, event in sim.events:
        assert b"tilt" not in encode_event(event).lower()
    assert set(sim.labels) == {e.id for _, e in sim.events}


def test_each_session_counts_seq_from_one_in_time_order_with_the_players_offset(sim: Simulation) -> None:
    sessions: dict[object, list[Event]] = defaultdict(list)
    for _, event in sim.events:
        sessions[event.session_id].append(event)
    for events in sessions.values():
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert all(a.at < b.at for a, b in itertools.pairwise(events))
        assert events[0].type == "session.started" and events[-1].type == "session.ended"
        assert all(e.at.utcoffset() is not None and e.device == "sim" for e in events)


def test_whole_file_is_in_sending_order(sim: Simulation) -> None:
    times = [e.at for _, e in sim.events]
    assert times == sorted(times)


def test_written_files_hold_wire_events_and_labels_apart(sim: Simulation) -> None:
    events_jsonl, labels_jsonl = to_jsonl(sim)
    lines = events_jsonl.splitlines()
    assert len(lines) == len(sim.events)
    first = json.loads(lines[0])
    assert set(first) == {"user", "event"}
    assert decode_event(json.dumps(first["event"]).encode()) == sim.events[0][1]
    labels = [json.loads(line) for line in labels_jsonl.splitlines()]
    tilted = {row["event_id"]: row["tilted"] for row in labels if row["kind"] == "event"}
    assert len(tilted) == len(sim.events)
    assert sum(1 for row in labels if row["kind"] == "session") == len(sim.episodes)


def test_money_matches_published_live_figures() -> None:
    big = simulate(players=80, sessions_per_player=20, seed=3, start=START)
    sessions: dict[tuple[str, object], list[Event]] = defaultdict(list)
    for name, event in big.events:
        sessions[(name.rsplit("-", 1)[0], event.session_id)].append(event)
    per_persona: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for (persona, sid), events in sessions.items():
        state = fold(str(sid), events)
        per_persona[persona].append((state.profit / state.big_blind, state.played_seconds / 3600))
    grinders = per_persona["grinder"]
    rate = sum(bb for bb, _ in grinders) / sum(h for _, h in grinders)
    sd = statistics.pstdev([(bb - rate * h) / h**0.5 for bb, h in grinders])
    assert 0 < rate < 20  # good live players: 5–15 bb/hour
    assert 55 < sd < 130  # live NLH: about 60–100 bb/hour
    median_hours = statistics.median(h for _, h in grinders)
    assert 3 < median_hours < 9


def test_tilt_prone_players_tilt_far_more_than_grinders(sim: Simulation) -> None:
    share: dict[str, list[bool]] = defaultdict(list)
    for name, event in sim.events:
        share[name.rsplit("-", 1)[0]].append(sim.labels[event.id])
    grinder = sum(share["grinder"]) / len(share["grinder"])
    prone = sum(share["tilt_prone"] + share["chaser"]) / len(share["tilt_prone"] + share["chaser"])
    assert prone > 3 * grinder


def test_a_history_up_to_now_has_no_event_after_now_even_with_the_cli_defaults() -> None:
    # 8 players × 20 sessions from 60 days back used to run ~2 weeks past now: 168 events the server refused.
    now = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)
    history = simulate_until(players=8, sessions_per_player=20, seed=1, now=now)
    assert max(e.at for _, e in history.events) <= now
    assert min(e.at for _, e in history.events) >= now - timedelta(days=90)


def test_moving_a_history_back_keeps_its_local_hours_and_its_ground_truth() -> None:
    now = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)
    nominal = simulate(players=8, sessions_per_player=20, seed=1, start=now - timedelta(days=60))
    moved = simulate_until(players=8, sessions_per_player=20, seed=1, now=now)
    shift = {n.at - m.at for (_, n), (_, m) in zip(nominal.events, moved.events, strict=True)}
    assert len(shift) == 1 and next(iter(shift)) % timedelta(days=1) == timedelta(0)  # whole days only
    assert list(moved.labels.values()) == list(nominal.labels.values())


def test_between_session_tilt_starts_at_a_same_day_restart_and_is_labelled_with_its_pattern() -> None:
    big = simulate(players=80, sessions_per_player=12, seed=5, start=START)
    starts = {e.session_id: e for _, e in big.events if e.type == "session.started"}
    assert set(big.patterns.values()) == {"revenge_after_bust", "late_night_restart", "moving_up", "losing_day_restart"}
    for session_id in big.patterns:
        start = starts[session_id]
        began = big.episodes[session_id]
        assert began is not None and began <= start.at  # tilted from the start
        assert big.labels[start.id]
    rows = [json.loads(line) for line in to_jsonl(big)[1].splitlines()]
    patterns = {row["session_id"]: row["pattern"] for row in rows if row["kind"] == "session"}
    assert {patterns[str(sid)] for sid in big.patterns} == set(big.patterns.values())
    assert all(patterns[str(sid)] == "within" for sid, at in big.episodes.items() if at and sid not in big.patterns)


def test_calm_players_also_play_a_second_session_the_same_day() -> None:
    big = simulate(players=80, sessions_per_player=12, seed=5, start=START)
    days: dict[tuple[str, object], list[uuid.UUID]] = defaultdict(list)
    for name, event in big.events:
        if event.type == "session.started" and event.session_id is not None:
            days[(name, player_day(event.at))].append(event.session_id)
    calm_seconds = [ids[1] for ids in days.values() if len(ids) > 1 and big.episodes[ids[1]] is None]
    assert len(calm_seconds) >= 10
