"""Train the tilt model on simulated players and ship it as ONNX with its model card (``bankroll tilt train``).

Features go through ``shared.tilt_features.observe_player`` — the path the worker serves with — and players,
not events, are split into train, validation (threshold choice) and test (every metric in the card), so no
player's habits leak from training into the numbers.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import msgspec
import numpy as np
import numpy.typing as npt

from shared.events import Event
from shared.simulator import Simulation, simulate
from shared.tilt_features import FEATURE_INDEX, FEATURE_NAMES, N_FEATURES, FeatureVector, PlayerFeatures, observe_player
from shared.tilt_policy import PolicyConfig
from workers.tilt.engine import TiltEngine, read_replay
from workers.tilt.evaluate import (
    AlertAt,
    EpisodeMetrics,
    EpisodeResult,
    SessionLabel,
    Truth,
    episode_results,
    judge,
    read_labels,
    stop_loss_alerts,
    truth,
)
from workers.tilt.scorer import (
    CARD_NAME,
    DEFAULT_MODEL_DIR,
    INPUT_NAME,
    DataInfo,
    Detectors,
    Metrics,
    ModelCard,
    ReliabilityBin,
    TiltScorer,
    load_session,
    predict,
)

SIM_START: Final = datetime(2025, 1, 6, 12, tzinfo=UTC)
SCRIPTED_DIR: Final = Path(__file__).resolve().parents[2] / "tests" / "tilt_scenarios"
BASELINE_BUYINS: Final = 3.0
BASELINE_RULE: Final = "stop-loss: alert when the session is down ≥ N buy-ins (once per crossing), N = 2 or 3"
THRESHOLDS: Final = tuple(round(0.4 + 0.05 * i, 2) for i in range(11))  # 0.40 … 0.90
MAX_FALSE_ALARMS: Final = 0.01  # per calm session on validation players: half the product's 1-in-50 target
_NO = EpisodeMetrics(
    episodes=0,
    caught=0,
    recall=0.0,
    calm_sessions=0,
    false_alarms=0,
    false_alarms_per_calm_session=0.0,
    median_delay_minutes=None,
    p90_delay_minutes=None,
)
_NO_DETECTORS: Final = Detectors(model=_NO, stop_loss_2=_NO, stop_loss_3=_NO)
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
    "Cash games only: tournament sessions are not scored (their length and money follow the structure, not the "
    "player), so tilt in tournaments — re-entries after a bust, for instance — is not detected.",
    "During play, tilt is seen only once the logged events show it (a mood report, a quick rebuy, a big loss in "
    "the last hour): with sparse taps the first alert comes a stretch or two after the onset a person would name, "
    "and a marathon's tilt may only be caught by the check at its end (see the scripted episodes above).",
    "The scripted scenario set is small (7 episodes, about 76 calm sessions) and was written by the same team that "
    "built the features; it checks behaviour the simulator does not produce, but it is not an independent study.",
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
    fit, test = part == "train", part == "test"

    model = GradientBoostingClassifier(random_state=seed, **PARAMS)
    model.fit(x[fit], y[fit])
    out_dir.mkdir(parents=True, exist_ok=True)
    model_path = out_dir / "tilt.onnx"
    model_path.write_bytes(_to_onnx(model))

    session = load_session(model_path)  # every number below is measured on the shipped ONNX model
    risk = predict(session, x)
    calm = x[fit & ~y]
    reference = {name: float(np.median(calm[:, i])) for i, name in enumerate(FEATURE_NAMES)}
    test_idx = np.flatnonzero(test)
    loss = -x[:, FEATURE_INDEX["net_buyins"]]
    card = ModelCard(
        model="sklearn GradientBoostingClassifier",
        params=PARAMS,
        library=_versions(),
        features=list(FEATURE_NAMES),
        threshold=0.5,
        calm_reference=reference,
        data=_data_info(sim, rows, split, seed, players, sessions),
        metrics=_metrics(risk[test_idx], y[test_idx], 0.5),
        baseline_rule=BASELINE_RULE,
        baseline=_metrics(loss[test_idx], y[test_idx], BASELINE_BUYINS),
        reliability=_reliability(risk[test_idx], y[test_idx]),
        heldout=_NO_DETECTORS,
        scripted=_NO_DETECTORS,
        scripted_episodes=[],
        policy=msgspec.to_builtins(PolicyConfig()),
        latency_ms={},
        training_seconds=0.0,
        limits=LIMITS,
        sources=SOURCES,
    )
    card_path = out_dir / CARD_NAME
    card_path.write_bytes(msgspec.json.format(msgspec.json.encode(card)))
    scorer = TiltScorer(model_path)
    validation = EvaluationSet.of(sim, {p for p, part in split.items() if part == "validation"})
    policy = _best_thresholds(scorer, validation)
    threshold = policy.threshold
    held_out = EvaluationSet.of(sim, {p for p, part in split.items() if part == "test"})
    scripted = EvaluationSet.scripted()
    card = msgspec.structs.replace(
        card,
        threshold=round(threshold, 4),
        metrics=_metrics(risk[test_idx], y[test_idx], threshold),
        heldout=detectors(scorer, policy, held_out),
        scripted=detectors(scorer, policy, scripted),
        scripted_episodes=episode_results(scripted.truth, model_alerts(scorer, policy, scripted.events)),
        policy=msgspec.to_builtins(policy),
    )
    card_path.write_bytes(msgspec.json.format(msgspec.json.encode(card)))
    latency = _latency(model_path, x[test_idx][:500])
    card = msgspec.structs.replace(card, latency_ms=latency, training_seconds=round(time.perf_counter() - began, 1))
    card_path.write_bytes(msgspec.json.format(msgspec.json.encode(card)) + b"\n")
    (out_dir / "model_card.md").write_text(render_card(card), encoding="utf-8")
    return card


@dataclass(slots=True)
class EvaluationSet:
    """Players to judge detectors on: their events in phone order and the episodes in them."""

    events: list[tuple[str, Event]]
    truth: Truth

    @classmethod
    def of(cls, sim: Simulation, names: set[str]) -> EvaluationSet:
        events = [(name, event) for name, event in sim.events if name in names]
        owners = {str(e.session_id): name for name, e in events if e.session_id is not None}
        labels = [
            SessionLabel(kind="session", session_id=key, user=owners[key], tilt_started_at=start)
            for sid, start in sim.episodes.items()
            if (key := str(sid)) in owners
        ]
        return cls(events, truth(labels, events))

    @classmethod
    def scripted(cls, folder: Path = SCRIPTED_DIR) -> EvaluationSet:
        events = read_replay(folder / "events.jsonl")
        return cls(events, truth(read_labels(folder / "labels.jsonl"), events))


def model_alerts(scorer: TiltScorer, config: PolicyConfig, events: list[tuple[str, Event]]) -> list[AlertAt]:
    """Every alert the serving engine sends for these events (no feedback, no reality checks)."""
    engine = TiltEngine(scorer, config)
    return [
        AlertAt(user, alert.session_id, alert.at, alert.kind, alert.reasons)
        for user, event in events
        if (alert := engine.observe(user, event)) is not None and alert.kind != "reality_check"
    ]


def detectors(scorer: TiltScorer, config: PolicyConfig, players: EvaluationSet) -> Detectors:
    return Detectors(
        model=judge(players.truth, model_alerts(scorer, config, players.events)),
        stop_loss_2=judge(players.truth, stop_loss_alerts(players.events, 2.0)),
        stop_loss_3=judge(players.truth, stop_loss_alerts(players.events, 3.0)),
    )


def _best_thresholds(scorer: TiltScorer, players: EvaluationSet) -> PolicyConfig:
    """The thresholds that catch the most validation episodes while keeping false alarms at or under
    MAX_FALSE_ALARMS per calm session: one for play, one for the single scores at a session's start and end, each
    allowed half of the false alarms (ties: the higher threshold; none under the cap: the fewest false alarms)."""
    play: list[tuple[float, EpisodeMetrics]] = []
    between: list[tuple[float, EpisodeMetrics]] = []
    for threshold in THRESHOLDS:
        alerts = model_alerts(scorer, PolicyConfig(threshold=threshold), players.events)
        play.append((threshold, judge(players.truth, [a for a in alerts if a.kind == "break_suggestion"])))
        between.append((threshold, judge(players.truth, [a for a in alerts if a.kind != "break_suggestion"])))
    return PolicyConfig(threshold=_under_cap(play), between_threshold=_under_cap(between))


def _under_cap(judged: list[tuple[float, EpisodeMetrics]]) -> float:
    allowed = [(t, m) for t, m in judged if m.false_alarms_per_calm_session <= MAX_FALSE_ALARMS / 2]
    if not allowed:
        return min(judged, key=lambda pair: (pair[1].false_alarms, -pair[0]))[0]
    return max(allowed, key=lambda pair: (pair[1].caught, pair[0]))[0]


def _reliability(risk: npt.NDArray[np.float32], y: npt.NDArray[np.bool_]) -> list[ReliabilityBin]:
    """Mean score against the share really tilted, in ten bins of the score."""
    bins = []
    for low in np.arange(0.0, 1.0, 0.1):
        high = low + 0.1
        inside = (risk >= low) & ((risk < high) if high < 0.999 else (risk <= 1.0))
        if inside.any():
            bins.append(
                ReliabilityBin(
                    round(float(low), 1),
                    round(float(high), 1),
                    int(inside.sum()),
                    round(float(risk[inside].mean()), 3),
                    round(float(y[inside].mean()), 3),
                )
            )
    return bins


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
        name="tilt",  # else skl2onnx names the graph with a random uuid: the same seed would not give the same file
        initial_types=[(INPUT_NAME, FloatTensorType([None, N_FEATURES]))],
        options={id(model): {"zipmap": False}},
        target_opset={"": 17, "ai.onnx.ml": 3},
    )
    data: bytes = onx.SerializeToString()
    return data


def _precision_recall(flag: npt.NDArray[np.bool_], y: npt.NDArray[np.bool_]) -> tuple[float, float]:
    hits = int(np.sum(flag & y))
    return hits / max(1, int(flag.sum())), hits / max(1, int(y.sum()))


def _metrics(risk: npt.NDArray[np.float32], y: npt.NDArray[np.bool_], threshold: float) -> Metrics:
    from sklearn.metrics import roc_auc_score

    precision, recall = _precision_recall(risk >= threshold, y)
    return Metrics(
        roc_auc=round(float(roc_auc_score(y, risk)), 4),
        precision=round(precision, 4),
        recall=round(recall, 4),
        f1=round(2 * precision * recall / (precision + recall) if precision + recall else 0.0, 4),
    )


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


_EPISODE_ROWS: Final[tuple[tuple[str, Callable[[EpisodeMetrics], object]], ...]] = (
    ("episodes caught", lambda m: f"{m.caught} of {m.episodes} ({m.recall:.0%})"),
    ("false alarms (alerts outside every episode, before onsets included)", lambda m: m.false_alarms),
    ("calm sessions", lambda m: m.calm_sessions),
    ("false alarms per calm session", lambda m: m.false_alarms_per_calm_session),
    ("median minutes from onset to alert", lambda m: m.median_delay_minutes),
    ("90th percentile minutes from onset to alert", lambda m: m.p90_delay_minutes),
)


def _episode_rows(d: Detectors) -> list[str]:
    def cell(value: object) -> str:
        return "–" if value is None else str(value)

    return [
        f"| {name} | {cell(f(d.model))} | {cell(f(d.stop_loss_2))} | {cell(f(d.stop_loss_3))} |"
        for name, f in _EPISODE_ROWS
    ]


def _episode_line(e: EpisodeResult) -> str:
    delay = "–" if e.delay_minutes is None else f"{e.delay_minutes:g}"
    reasons = "; ".join(e.reasons) or "–"
    onset = f"{e.onset:%Y-%m-%d %H:%M}"
    return f"| {e.archetype} | {e.user} | {onset} | {e.kind or 'missed'} | {delay} | {reasons} |"


_DETECTOR_HEADER: Final = ("| | model | stop-loss 2 buy-ins | stop-loss 3 buy-ins |", "|---|---|---|---|")


def render_card(card: ModelCard) -> str:
    """The human-readable model card."""
    m, b = card.metrics, card.baseline
    policy = card.policy
    lines = [
        "# Tilt model card",
        "",
        f"`tilt.onnx` — {card.model}, exported with skl2onnx ({card.library}).",
        f"Input `features`: float32 `[N, {len(card.features)}]` in the order below; output `probabilities` "
        "`[N, 2]`, column 1 is the risk of tilt.",
        "Alert threshold (most validation episodes caught with at most "
        f"{MAX_FALSE_ALARMS:g} false alarms per calm session): **{card.threshold}** during play, "
        f"**{policy['between_threshold']}** for the single score at a session's start and end; during play a score "
        f"at or above {policy['instant_score']} alerts without waiting for a second one. Parameters: "
        f"`{card.params}`.",
        "",
        "## Data",
        "",
        f"Simulated by `shared/simulator.py` with seed {card.data.seed}: {card.data.players} players × "
        f"{card.data.sessions_per_player} planned sessions (plus same-day restarts) → {card.data.sessions} sessions, "
        f"{card.data.events} events; {card.data.tilted_event_share:.1%} of events are tilted, "
        f"{card.data.sessions_with_tilt_share:.1%} of sessions have a tilt episode. "
        "Personas: grinder, recreational, tilt_prone, chaser; between-sessions patterns: revenge after a bust, "
        "moving up, late-night restart, losing-day restart.",
        f"Split by player: {card.data.train_players} train, {card.data.validation_players} validation (threshold), "
        f"{card.data.test_players} held out.",
        "",
        "## Episodes: the hand-scripted scenarios",
        "",
        "`tests/tilt_scenarios/` — eleven players written by hand (`scenarios.txt`, compiled to `events.jsonl` and "
        "a separate `labels.jsonl`), not by the simulator: loss chasing with rebuys (twice), steaming swings, moving "
        "up in stakes, a marathon without breaks, a revenge session after a bust, a late-night restart, and the calm "
        "look-alikes — a deep tournament run, a high-stakes regular's normal swings, a disciplined loser who quits, "
        "a cooler with one rebuy — each after a history of ordinary sessions. An episode runs from the onset a "
        "person would name to the end of its session; an alert of that player inside it catches it, any other "
        "alert (an alert before the onset included) is a false alarm. The model's alerts are the serving engine's "
        f"(`workers/tilt/engine.py`: features, model, policy with k={policy['k']} of n={policy['n']} or "
        f"{policy['sustained_minutes']:g} min sustained, {policy['cooldown_minutes']:g} min cooldown, one score "
        "at a session's start, the between-sessions check at its end).",
        "",
        *_DETECTOR_HEADER,
        *_episode_rows(card.scripted),
        "",
        "Each scripted episode and the model's first alert in it (onset on the player's clock):",
        "",
        "| archetype | player | onset | first alert | minutes after onset | reasons given |",
        "|---|---|---|---|---|---|",
        *(_episode_line(e) for e in card.scripted_episodes),
        "",
        "## Episodes: held-out simulated players",
        "",
        "Same counting on the held-out players of the simulator that trained the model (onset: the simulator's "
        "hidden tilt start; a between-sessions episode starts with its session).",
        "",
        *_DETECTOR_HEADER,
        *_episode_rows(card.heldout),
        "",
        "## Per event, held-out simulated players",
        "",
        f"| metric | model | {card.baseline_rule.split(':')[0]} (score: session loss, N = {BASELINE_BUYINS:g}) |",
        "|---|---|---|",
        f"| ROC AUC | {m.roc_auc} | {b.roc_auc} |",
        f"| precision at threshold | {m.precision} | {b.precision} |",
        f"| recall at threshold | {m.recall} | {b.recall} |",
        f"| F1 | {m.f1} | {b.f1} |",
        "",
        "## Calibration",
        "",
        "The score is the model's probability that the player is tilted at that event. Reliability on held-out "
        "simulated events (a calibrated score has the tilted share close to the mean score in every bin):",
        "",
        "| score | events | mean score | tilted share |",
        "|---|---|---|---|",
        *(f"| {r.low:.1f}–{r.high:.1f} | {r.events} | {r.mean_score} | {r.tilted_share} |" for r in card.reliability),
        "",
        "Personal thresholds: each \"I'm fine\" raises the player's threshold by "
        f'{policy["fine_step"]:g} (at most +{policy["max_raise"]:g}); "taking a break" sets it {policy["fine_step"]:g} '
        f"below the model's (at most −{policy['max_lower']:g}); always within 0.05–0.95.",
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
