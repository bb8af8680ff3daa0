"""Specification of the shipped tilt model, its scorer and the engine's replay, on players it never saw."""

from __future__ import annotations

import statistics
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest

from shared.errors import PermanentError
from shared.events import BreakStarted, SessionEnded, SessionStarted, Stakes, TiltFeedback, make_event
from shared.simulator import Simulation, simulate, to_jsonl
from shared.tilt_features import FEATURE_NAMES, PlayerFeatures, observe_player
from workers.tilt.engine import TiltEngine
from workers.tilt.scorer import CARD_NAME, DEFAULT_MODEL_PATH, ModelCard, ModelUnavailable, TiltScorer

START = datetime(2025, 6, 2, 12, tzinfo=UTC)
SEED = 2024  # not the training seed (7): these players are new to the model


@pytest.fixture(scope="module")
def scorer() -> TiltScorer:
    return TiltScorer()


@pytest.fixture(scope="module")
def sim() -> Simulation:
    return simulate(players=40, sessions_per_player=12, seed=SEED, start=START)


@pytest.fixture(scope="module")
def replayed(sim: Simulation, scorer: TiltScorer, tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, object]]:
    folder = tmp_path_factory.mktemp("replay")
    (folder / "events.jsonl").write_bytes(to_jsonl(sim)[0])
    return TiltEngine(scorer).replay(folder / "events.jsonl")


def _alerts_by_session(alerts: list[dict[str, object]]) -> dict[uuid.UUID, list[datetime]]:
    by: dict[uuid.UUID, list[datetime]] = defaultdict(list)
    for alert in alerts:
        by[uuid.UUID(str(alert["session_id"]))].append(datetime.fromisoformat(str(alert["at"])))
    return by


def test_missing_model_raises_model_unavailable_naming_the_path(tmp_path: Path) -> None:
    path = tmp_path / "tilt.onnx"
    (tmp_path / CARD_NAME).write_bytes(DEFAULT_MODEL_PATH.with_name(CARD_NAME).read_bytes())
    with pytest.raises(ModelUnavailable, match="not found") as caught:
        TiltScorer(path)
    assert caught.value.path == path and str(path) in str(caught.value)
    assert isinstance(caught.value, PermanentError)


def test_corrupt_model_raises_model_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "tilt.onnx"
    path.write_bytes(b"not an onnx model")
    (tmp_path / CARD_NAME).write_bytes(DEFAULT_MODEL_PATH.with_name(CARD_NAME).read_bytes())
    with pytest.raises(ModelUnavailable, match="onnxruntime cannot load it"):
        TiltScorer(path)


def test_card_for_other_features_is_refused(tmp_path: Path) -> None:
    card = msgspec.json.decode(DEFAULT_MODEL_PATH.with_name(CARD_NAME).read_bytes(), type=ModelCard)
    stale = msgspec.structs.replace(card, features=[*card.features[:-1], "something_else"])
    (tmp_path / CARD_NAME).write_bytes(msgspec.json.encode(stale))
    with pytest.raises(ModelUnavailable, match="retrain"):
        TiltScorer(DEFAULT_MODEL_PATH, tmp_path / CARD_NAME)


def test_shipped_card_describes_these_features_and_beats_the_stop_loss_rules_on_held_out_players(
    scorer: TiltScorer,
) -> None:
    card = scorer.card
    assert card.features == list(FEATURE_NAMES)
    assert card.metrics.roc_auc > card.baseline.roc_auc
    assert card.metrics.f1 > card.baseline.f1
    held_out = card.heldout
    assert held_out.model.caught > max(held_out.stop_loss_2.caught, held_out.stop_loss_3.caught)
    assert held_out.model.false_alarms_per_calm_session < 0.05
    assert card.latency_ms["onnx_run_p50"] < 1.0


def test_the_score_is_calibrated_on_held_out_players(scorer: TiltScorer) -> None:
    bins = [b for b in scorer.card.reliability if b.events >= 200]
    assert len(bins) >= 8
    assert all(abs(b.mean_score - b.tilted_share) <= 0.1 for b in bins)


def test_the_shipped_model_stays_small() -> None:
    assert DEFAULT_MODEL_PATH.stat().st_size < 300_000


def test_tilting_moments_score_higher_than_calm_ones(sim: Simulation, scorer: TiltScorer) -> None:
    players: dict[str, PlayerFeatures] = defaultdict(PlayerFeatures)
    tilted: list[float] = []
    calm: list[float] = []
    for name, event in sim.events[:4000]:
        vector = observe_player(players[name], event)
        if vector is not None:
            (tilted if sim.labels[event.id] else calm).append(scorer.score(vector).score)
    assert statistics.median(tilted) > 0.6
    assert statistics.median(calm) < 0.1


def test_replayed_tilt_sessions_get_alerts_with_reasons(sim: Simulation, replayed: list[dict[str, object]]) -> None:
    by = _alerts_by_session(replayed)
    episodes = {sid: start for sid, start in sim.episodes.items() if start is not None}
    caught = [sid for sid, start in episodes.items() if any(t >= start for t in by.get(sid, []))]
    assert len(caught) >= 0.6 * len(episodes)
    reasons = [alert["reasons"] for alert in replayed]
    assert all(isinstance(r, list) and r and all(isinstance(x, str) for x in r) for r in reasons)


def test_replayed_calm_sessions_stay_nearly_silent(sim: Simulation, replayed: list[dict[str, object]]) -> None:
    by = _alerts_by_session(replayed)
    calm = [sid for sid, start in sim.episodes.items() if start is None]
    alerted = [sid for sid in calm if by.get(sid)]
    assert len(alerted) <= 0.1 * len(calm)


def test_replay_gives_the_same_alerts_every_time(
    sim: Simulation, scorer: TiltScorer, replayed: list[dict[str, object]], tmp_path: Path
) -> None:
    again = simulate(players=40, sessions_per_player=12, seed=SEED, start=START)
    (tmp_path / "events.jsonl").write_bytes(to_jsonl(again)[0])
    assert TiltEngine(scorer).replay(tmp_path / "events.jsonl") == replayed


def test_engine_restored_from_a_snapshot_continues_like_the_original(sim: Simulation, scorer: TiltScorer) -> None:
    first, rest = sim.events[:3000], sim.events[3000:6000]
    engine = TiltEngine(scorer)
    for name, event in first:
        engine.observe(name, event)
    restored = TiltEngine(scorer)
    restored.restore(engine.snapshot())
    user = first[-1][0]
    single = TiltEngine(scorer)
    single.import_player(user, engine.export_player(user))
    assert [restored.observe(n, e) for n, e in rest] == [engine.observe(n, e) for n, e in rest]


def test_scoring_one_event_takes_well_under_a_millisecond(sim: Simulation, scorer: TiltScorer) -> None:
    player = PlayerFeatures()
    vectors = [v for _, e in sim.events[:300] if (v := observe_player(player, e)) is not None]
    started = time.perf_counter()
    for vector in vectors:
        scorer.score(vector)
    assert (time.perf_counter() - started) / len(vectors) < 1e-3


def test_an_answer_to_a_pause_suggestion_moves_the_threshold_and_keeps_no_state_for_the_ended_session(
    scorer: TiltScorer,
) -> None:
    sid, at = uuid.uuid4(), datetime(2025, 6, 2, 20, tzinfo=UTC)
    stakes = Stakes(small_blind=100, big_blind=200)
    steps = [
        (0, SessionStarted("cash", "NLH", "USD", 20_000, stakes)),
        (120, SessionEnded(cash_out=0)),
        (121, TiltFeedback("fine")),
        (121, BreakStarted()),
    ]
    events = [
        make_event(data, id=uuid.uuid4(), session_id=sid, seq=seq, at=at + timedelta(minutes=minutes))
        for seq, (minutes, data) in enumerate(steps, start=1)
    ]
    engine = TiltEngine(scorer)
    for event in events:
        engine.observe("p", event)
    player = engine.players["p"]
    assert player.policy.fine == 1 and player.policy.threshold_offset > 0
    assert player.sessions == {} and player.features.sessions == {}
