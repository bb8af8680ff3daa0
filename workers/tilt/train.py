"""Train the tilt model on simulated players and ship it as ONNX with its model card (``bankroll tilt train``).

Features go through ``shared.tilt_features.observe_player`` — the path the worker serves with — and players,
not events, are split into train, validation (threshold choice) and test (every metric in the card), so no
player's habits leak from training into the numbers.
"""

from __future__ import annotations

import random
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import msgspec
import numpy as np
import numpy.typing as npt

from shared.simulator import Simulation, simulate
from shared.tilt_features import FEATURE_INDEX, FEATURE_NAMES, N_FEATURES, FeatureVector, PlayerFeatures, observe_player
from shared.tilt_policy import PlayerPolicy, PolicyConfig, SessionPolicy, Tick, decide
from workers.tilt.scorer import (
    CARD_NAME,
    DEFAULT_MODEL_DIR,
    INPUT_NAME,
    DataInfo,
    Metrics,
    ModelCard,
    TiltScorer,
    load_session,
    predict,
)

SIM_START: Final = datetime(2025, 1, 6, 12, tzinfo=UTC)
BASELINE_BUYINS: Final = 3.0
BASELINE_RULE: Final = f"stop-loss: alert when the session is down ≥ {BASELINE_BUYINS:g} buy-ins (once per crossing)"
PARAMS: Final[dict[str, Any]] = {
    "n_estimators": 120,
    "learning_rate": 0.1,
    "max_depth": 3,
    "subsample": 0.7,
    "min_samples_leaf": 50,
}
SOURCES: Final = [
    "pokerdope.com variance calculator — NLH SD 60–80 bb/100 full ring, 75–120 bb/100 6-max: "
    "http://pokerdope.com/poker-variance-calculator/",
    "shadepoker.com glossary, standard deviation — 6-max 80–100 bb/100, full ring 60–75 bb/100: "
    "https://shadepoker.com/en/glossary/standard-deviation",
    "Live figures (about 30 hands/hour; SD about 60–100 bb/hour; good players win 5–15 bb/hour) are the values "
    "commonly quoted by live players, not taken from one measured study.",
]
LIMITS: Final = [
    "Trained and measured only on simulated players (shared/simulator.py); real players will differ, so the "
    "metrics are a check of the pipeline and the features, not a promise about people.",
    "Cash games only: tournament sessions get money features of zero.",
    "The ground truth is the simulator's hidden tilt state; tilt that leaves no trace in the logged events "
    "(stack counts, rebuys, breaks, moods, notes) cannot be seen.",
    "A player's first sessions use priors (80 bb/hour SD, 4 h sessions) until the history fills.",
    "Reasons are occlusion contributions against calm medians: they explain the model, not the player.",
]


@dataclass(slots=True)
class _Rows:
    """Feature rows in event order with what the metrics need about each."""

    x: list[tuple[float, ...]] = field(default_factory=list)
    y: list[bool] = field(default_factory=list)
    player: list[str] = field(default_factory=list)
    session: list[str] = field(default_factory=list)
    at: list[datetime] = field(default_factory=list)
    ends: list[bool] = field(default_factory=list)


def feature_rows(sim: Simulation) -> _Rows:
    """Run every simulated event through the serving feature path."""
    rows = _Rows()
    players: dict[str, PlayerFeatures] = defaultdict(PlayerFeatures)
    for name, event in sim.events:
        vector = observe_player(players[name], event)
        if vector is None:
            continue
        rows.x.append(vector.values)
        rows.y.append(sim.labels[event.id])
        rows.player.append(name)
        rows.session.append(str(event.session_id))
        rows.at.append(event.at)
        rows.ends.append(event.type == "session.ended")
    return rows


def train(
    out_dir: Path = DEFAULT_MODEL_DIR, seed: int = 7, players: int = 240, sessions: int = 30
) -> ModelCard:  # the steps read top to bottom; splitting them would only pass the arrays around
    """Simulate, build features, fit, export ``tilt.onnx`` and write ``model_card.json`` and ``model_card.md``.

    Args:
        out_dir: where the model and its card go (created if needed).
        seed: seeds the simulation, the player split and the model.
        players: simulated players (a quarter are held out for the metrics).
        sessions: planned sessions per player.

    Returns:
        The card that was written.
    """
    from sklearn.ensemble import GradientBoostingClassifier

    began = time.perf_counter()
    sim = simulate(players, sessions, seed, SIM_START)
    rows = feature_rows(sim)
    x = np.asarray(rows.x, dtype=np.float32)
    y = np.asarray(rows.y, dtype=bool)
    split = _split_players(sorted(set(rows.player)), seed)
    part = np.array([split[p] for p in rows.player])
    fit, val, test = part == "train", part == "validation", part == "test"

    model = GradientBoostingClassifier(random_state=seed, **PARAMS)
    model.fit(x[fit], y[fit])
    out_dir.mkdir(parents=True, exist_ok=True)
    model_path = out_dir / "tilt.onnx"
    model_path.write_bytes(_to_onnx(model))

    session = load_session(model_path)  # every number below is measured on the shipped ONNX model
    risk = predict(session, x)
    threshold = _best_f1_threshold(risk[val], y[val])
    policy = PolicyConfig(threshold=threshold)
    calm = x[fit & ~y]
    reference = {name: float(np.median(calm[:, i])) for i, name in enumerate(FEATURE_NAMES)}
    test_idx = np.flatnonzero(test)
    metrics = _metrics(rows, test_idx, risk, y, threshold, sim, _policy_alerts(rows, test_idx, risk, policy))
    loss = -x[:, FEATURE_INDEX["net_buyins"]]
    baseline = _metrics(rows, test_idx, loss, y, BASELINE_BUYINS, sim, _stop_loss_alerts(rows, test_idx, loss))
    card = ModelCard(
        model="sklearn GradientBoostingClassifier",
        params=PARAMS,
        library=_versions(),
        features=list(FEATURE_NAMES),
        threshold=round(threshold, 4),
        calm_reference=reference,
        data=_data_info(sim, rows, split, seed, players, sessions),
        metrics=metrics,
        baseline_rule=BASELINE_RULE,
        baseline=baseline,
        policy=msgspec.to_builtins(policy),
        latency_ms={},
        training_seconds=0.0,
        limits=LIMITS,
        sources=SOURCES,
    )
    card_path = out_dir / CARD_NAME
    card_path.write_bytes(msgspec.json.format(msgspec.json.encode(card)))
    latency = _latency(model_path, x[test_idx][:500])
    card = msgspec.structs.replace(card, latency_ms=latency, training_seconds=round(time.perf_counter() - began, 1))
    card_path.write_bytes(msgspec.json.format(msgspec.json.encode(card)) + b"\n")
    (out_dir / "model_card.md").write_text(render_card(card), encoding="utf-8")
    return card


def _split_players(names: list[str], seed: int) -> dict[str, str]:
    order = names[:]
    random.Random(seed).shuffle(order)
    n_test, n_val = round(len(order) * 0.25), round(len(order) * 0.15)
    split = dict.fromkeys(order[:n_test], "test")
    split.update(dict.fromkeys(order[n_test : n_test + n_val], "validation"))
    split.update(dict.fromkeys(order[n_test + n_val :], "train"))
    return split


def _to_onnx(model: Any) -> bytes:
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    onx = convert_sklearn(
        model,
        initial_types=[(INPUT_NAME, FloatTensorType([None, N_FEATURES]))],
        options={id(model): {"zipmap": False}},
        target_opset={"": 17, "ai.onnx.ml": 3},
    )
    data: bytes = onx.SerializeToString()
    return data


def _best_f1_threshold(risk: npt.NDArray[np.float32], y: npt.NDArray[np.bool_]) -> float:
    best, best_f1 = 0.5, -1.0
    for threshold in np.arange(0.2, 0.9, 0.01):
        precision, recall = _precision_recall(risk >= threshold, y)
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        if f1 > best_f1:
            best, best_f1 = float(threshold), f1
    return best


def _precision_recall(flag: npt.NDArray[np.bool_], y: npt.NDArray[np.bool_]) -> tuple[float, float]:
    hits = int(np.sum(flag & y))
    return hits / max(1, int(flag.sum())), hits / max(1, int(y.sum()))


def _policy_alerts(
    rows: _Rows, idx: npt.NDArray[np.intp], risk: npt.NDArray[np.float32], config: PolicyConfig
) -> dict[str, list[datetime]]:
    """Alert times per session when the scores go through the real alert policy (no feedback, no checks)."""
    alerts: dict[str, list[datetime]] = defaultdict(list)
    players: dict[str, PlayerPolicy] = defaultdict(PlayerPolicy)
    sessions: dict[str, SessionPolicy] = {}
    on_break = FEATURE_INDEX["on_break"]
    for i in idx:
        sid = rows.session[i]
        if rows.ends[i]:
            sessions.pop(sid, None)
            continue
        state = sessions.setdefault(sid, SessionPolicy(sid))
        tick = Tick(session_id=sid, at=rows.at[i], score=float(risk[i]), on_break=rows.x[i][on_break] > 0)
        if decide(config, players[rows.player[i]], state, tick) is not None:
            alerts[sid].append(rows.at[i])
    return alerts


def _stop_loss_alerts(
    rows: _Rows, idx: npt.NDArray[np.intp], loss: npt.NDArray[np.float32]
) -> dict[str, list[datetime]]:
    alerts: dict[str, list[datetime]] = defaultdict(list)
    below: set[str] = set()
    for i in idx:
        sid = rows.session[i]
        if rows.ends[i]:
            continue
        if loss[i] >= BASELINE_BUYINS and sid not in below:
            alerts[sid].append(rows.at[i])
            below.add(sid)
        elif loss[i] < BASELINE_BUYINS:
            below.discard(sid)
    return alerts


def _metrics(
    rows: _Rows,
    idx: npt.NDArray[np.intp],
    risk: npt.NDArray[np.float32],
    y: npt.NDArray[np.bool_],
    threshold: float,
    sim: Simulation,
    alerts: dict[str, list[datetime]],
) -> Metrics:
    from sklearn.metrics import roc_auc_score

    precision, recall = _precision_recall(risk[idx] >= threshold, y[idx])
    sessions = {rows.session[i] for i in idx}
    starts = {sid: start for sid, start in ((s, _episode(sim, s)) for s in sessions)}
    calm = [sid for sid, start in starts.items() if start is None]
    tilted = [(sid, start) for sid, start in starts.items() if start is not None]
    delays = [
        (min(t for t in alerts.get(sid, []) if t >= start) - start).total_seconds() / 60
        for sid, start in tilted
        if any(t >= start for t in alerts.get(sid, []))
    ]
    return Metrics(
        roc_auc=round(float(roc_auc_score(y[idx], risk[idx])), 4),
        precision=round(precision, 4),
        recall=round(recall, 4),
        f1=round(2 * precision * recall / (precision + recall) if precision + recall else 0.0, 4),
        alerts_per_calm_session=round(sum(len(alerts.get(s, [])) for s in calm) / max(1, len(calm)), 4),
        calm_sessions_alerted=round(sum(1 for s in calm if alerts.get(s)) / max(1, len(calm)), 4),
        tilt_sessions_caught=round(len(delays) / max(1, len(tilted)), 4),
        median_minutes_to_alert=round(statistics.median(delays), 1) if delays else None,
    )


def _episode(sim: Simulation, session_id: str) -> datetime | None:
    import uuid

    return sim.episodes.get(uuid.UUID(session_id))


def _data_info(sim: Simulation, rows: _Rows, split: dict[str, str], seed: int, players: int, sessions: int) -> DataInfo:
    count = {part: sum(1 for p in split.values() if p == part) for part in ("train", "validation", "test")}
    return DataInfo(
        seed=seed,
        players=players,
        sessions_per_player=sessions,
        events=len(sim.events),
        sessions=len(sim.episodes),
        tilted_event_share=round(sum(rows.y) / max(1, len(rows.y)), 4),
        sessions_with_tilt_share=round(
            sum(1 for v in sim.episodes.values() if v is not None) / max(1, len(sim.episodes)), 4
        ),
        train_players=count["train"],
        validation_players=count["validation"],
        test_players=count["test"],
    )


def _latency(model_path: Path, sample: npt.NDArray[np.float32]) -> dict[str, float]:
    """Milliseconds per call on one thread: the bare ONNX run of one row, and ``score`` with its reasons."""
    scorer = TiltScorer(model_path)
    session = load_session(model_path)
    bare: list[float] = []
    full: list[float] = []
    for row in sample:
        one = row[None, :]
        t0 = time.perf_counter()
        predict(session, one)
        t1 = time.perf_counter()
        scorer.score(FeatureVector(tuple(float(v) for v in row)))
        t2 = time.perf_counter()
        bare.append((t1 - t0) * 1000)
        full.append((t2 - t1) * 1000)
    return {
        "onnx_run_p50": round(float(np.percentile(bare, 50)), 4),
        "onnx_run_p99": round(float(np.percentile(bare, 99)), 4),
        "score_with_reasons_p50": round(float(np.percentile(full, 50)), 4),
        "score_with_reasons_p99": round(float(np.percentile(full, 99)), 4),
    }


def _versions() -> str:
    import onnxruntime
    import skl2onnx
    import sklearn

    return f"scikit-learn {sklearn.__version__}, skl2onnx {skl2onnx.__version__}, onnxruntime {onnxruntime.__version__}"


def render_card(card: ModelCard) -> str:
    """The human-readable model card."""
    m, b = card.metrics, card.baseline

    def row(name: str, model: object, base: object) -> str:
        return f"| {name} | {model} | {base} |"

    lines = [
        "# Tilt model card",
        "",
        f"`tilt.onnx` — {card.model}, exported with skl2onnx ({card.library}).",
        f"Input `features`: float32 `[N, {len(card.features)}]` in the order below; output `probabilities` "
        "`[N, 2]`, column 1 is the risk of tilt.",
        f"Alert threshold (best F1 on validation players): **{card.threshold}**. Parameters: `{card.params}`.",
        "",
        "## Data",
        "",
        f"Simulated by `shared/simulator.py` with seed {card.data.seed}: {card.data.players} players × "
        f"{card.data.sessions_per_player} planned sessions → {card.data.sessions} sessions, {card.data.events} events; "
        f"{card.data.tilted_event_share:.1%} of events are tilted, "
        f"{card.data.sessions_with_tilt_share:.1%} of sessions have a tilt episode. "
        "Personas: grinder, recreational, tilt_prone, chaser.",
        f"Split by player: {card.data.train_players} train, {card.data.validation_players} validation (threshold), "
        f"{card.data.test_players} held out for every number below.",
        "",
        "## Metrics on held-out simulated players",
        "",
        f"Baseline: {card.baseline_rule}. Session figures for the model go through the alert policy "
        f"(`shared/tilt_policy.py`, k={card.policy['k']} of n={card.policy['n']} or "
        f"{card.policy['sustained_minutes']:g} min sustained, {card.policy['cooldown_minutes']:g} min cooldown).",
        "",
        "| metric | model | stop-loss baseline |",
        "|---|---|---|",
        row("ROC AUC (per event; baseline scores by session loss)", m.roc_auc, b.roc_auc),
        row("precision per event at threshold", m.precision, b.precision),
        row("recall per event at threshold", m.recall, b.recall),
        row("F1 per event", m.f1, b.f1),
        row("alerts per calm session", m.alerts_per_calm_session, b.alerts_per_calm_session),
        row("calm sessions with any alert", m.calm_sessions_alerted, b.calm_sessions_alerted),
        row("tilt sessions alerted after the episode began", m.tilt_sessions_caught, b.tilt_sessions_caught),
        row("median minutes from episode start to alert", m.median_minutes_to_alert, b.median_minutes_to_alert),
        "",
        "Reading it: the stop-loss rule almost never fires in a calm session because it almost never fires at all; "
        "the model pays a few alerts in calm sessions for catching far more tilt episodes, far sooner.",
        "",
        f"Latency on one thread (ms): {card.latency_ms}. Training took {card.training_seconds} s.",
        "",
        "## Features",
        "",
        "| # | feature | calm median |",
        "|---|---|---|",
        *(f"| {i} | `{name}` | {card.calm_reference[name]:.3g} |" for i, name in enumerate(card.features)),
        "",
        "Computed one event at a time by `shared/tilt_features.py`, the same code in training and serving.",
        "",
        "## Limits",
        "",
        *(f"- {limit}" for limit in card.limits),
        "",
        "## Sources for the simulated money",
        "",
        *(f"- {source}" for source in card.sources),
        "",
    ]
    return "\n".join(lines)
