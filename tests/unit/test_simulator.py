"""Specification of the simulator: deterministic, schema-valid, realistic money, ground truth kept apart."""

from __future__ import annotations

import itertools
import json
import statistics
from collections import defaultdict
from datetime import UTC, datetime

import pytest

from shared.events import Event, decode_event, encode_event
from shared.reducer import fold
from shared.simulator import Simulation, simulate, to_jsonl

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
