"""Tilt scorer: the ONNX model behind one call, ``TiltScorer.score(features) -> Score(score, reasons)``.

Reasons come from occlusion against a calm reference (the median of calm simulated moments, stored in
``model_card.json``). A group of related features contributes the mean of two marginal effects: the drop in risk
when the group alone is set back to calm, and the rise when the group alone is put into an otherwise calm
moment — the first and last orderings of a Shapley value, so redundant signals (mood *and* rebuys) still get
credit. All the variants are scored in one ONNX ``run``. The biggest contributions are then written as words from the
feature values ("3 rebuys in the last hour", "5 h 40 min without a break").
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import msgspec
import numpy as np
import numpy.typing as npt

from shared.errors import PermanentError
from shared.tilt_features import BEFORE_PLAY, FEATURE_INDEX, FEATURE_NAMES, N_FEATURES, FeatureVector, PlayerHistory
from workers.tilt.evaluate import EpisodeMetrics, EpisodeResult

DEFAULT_MODEL_DIR: Final = Path(__file__).resolve().parent.parent / "tilt_model"
DEFAULT_MODEL_PATH: Final = DEFAULT_MODEL_DIR / "tilt.onnx"
CARD_NAME: Final = "model_card.json"
INPUT_NAME: Final = "features"
OUTPUT_NAME: Final = "probabilities"
MAX_REASONS: Final = 3
MIN_CONTRIBUTION: Final = 0.02  # risk points a group must add to be named


class ModelUnavailable(PermanentError):
    """The tilt model or its card is missing, corrupt, or was trained on other features."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"tilt model {path}: {reason}")
        self.path = path
        self.reason = reason


class Metrics(msgspec.Struct, frozen=True, kw_only=True):
    """How a score separates tilted from calm moments, per event, on held-out simulated players."""

    roc_auc: float
    precision: float  # per event, at the threshold
    recall: float
    f1: float


class ReliabilityBin(msgspec.Struct, frozen=True):
    """Calibration: events whose score fell in [low, high), their mean score and how many were really tilted."""

    low: float
    high: float
    events: int
    mean_score: float
    tilted_share: float


class Detectors(msgspec.Struct, frozen=True, kw_only=True):
    """The model (through the alert policy) beside the stop-loss rules, counted by episodes on one set of players."""

    model: EpisodeMetrics
    stop_loss_2: EpisodeMetrics
    stop_loss_3: EpisodeMetrics


class DataInfo(msgspec.Struct, frozen=True, kw_only=True):
    seed: int
    players: int
    sessions_per_player: int
    events: int
    sessions: int
    tilted_event_share: float
    sessions_with_tilt_share: float
    train_players: int
    validation_players: int
    test_players: int


class ModelCard(msgspec.Struct, frozen=True, kw_only=True):
    """What ships next to ``tilt.onnx``: the features it expects, its threshold, and what it was measured at."""

    name: str = "tilt"
    model: str
    params: dict[str, Any]
    library: str
    features: list[str]
    threshold: float
    calm_reference: dict[str, float]
    data: DataInfo
    metrics: Metrics
    baseline_rule: str
    baseline: Metrics
    reliability: list[ReliabilityBin]
    heldout: Detectors  # held-out simulated players
    scripted: Detectors  # the hand-scripted scenarios in tests/tilt_scenarios, which the simulator did not write
    scripted_episodes: list[EpisodeResult] = []  # each scripted episode and the model's first alert in it
    policy: dict[str, Any]
    latency_ms: dict[str, float]
    training_seconds: float
    limits: list[str]
    sources: list[str]


class Score(msgspec.Struct, frozen=True):
    score: float
    reasons: list[str]


def _hours(hours: float) -> str:
    minutes = max(0, round(hours * 60))
    h, m = divmod(minutes, 60)
    return f"{h} h {m} min" if h else f"{m} min"


def _plural(count: float, word: str) -> str:
    n = round(count)
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _clock(hour: float) -> str:
    minutes = round(hour * 60) % (24 * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _times(ratio: float) -> str:
    return f"{ratio:.0f}×" if ratio >= 2.95 else f"{ratio:.1f}×"


_ORDINALS: Final = ("first", "second", "third", "fourth", "fifth", "sixth")


def _time_played(f: FeatureVector, h: PlayerHistory) -> str:
    ratio = f["length_vs_median"]
    text = f"playing for {_hours(f['hours_played'])}"
    return f"{text}; your sessions usually last {_hours(h.median_hours)}" if ratio >= 1.2 else text


def _session_loss(f: FeatureVector, h: PlayerHistory) -> str:
    net = f["net_buyins"]
    text = f"down {-net:.1f} buy-ins this session" if net < 0 else f"up {net:.1f} buy-ins this session"
    z = f["session_z"]
    return f"{text} ({-z:.1f} SD below your usual)" if z <= -1.5 else text


def _usual_rebuys(h: PlayerHistory) -> str:
    typical = h.typical_rebuys
    if typical < 0.25:
        return "you rarely rebuy"
    if typical < 1.5:
        return "you usually rebuy about once a session"
    return f"you usually rebuy {typical:.0f} times a session"


def _fast_rebuys(f: FeatureVector, h: PlayerHistory) -> str:
    count, since = f["rebuys_60m"], f["minutes_since_rebuy"]
    if count >= 2:
        return f"{_plural(count, 'rebuy')} in the last hour, the last {since:.0f} min ago — {_usual_rebuys(h)}"
    return f"rebought {since:.0f} min ago" if since < 240 else "no rebuy lately"


def _rebuys(f: FeatureVector, h: PlayerHistory) -> str:
    return f"{_plural(f['rebuys'], 'rebuy')} this session — {_usual_rebuys(h)}"


def _stakes(f: FeatureVector, h: PlayerHistory) -> str:
    stakes, buy_in = f["stakes_vs_usual"], f["buyin_vs_usual"]
    parts = []
    if stakes >= 1.2 or buy_in < 1.2:
        parts.append(f"stakes {_times(stakes)} your usual")
    if buy_in >= 1.2:
        parts.append(f"buy-in {_times(buy_in)} your usual")
    return "; ".join(parts)


def _hour(f: FeatureVector, h: PlayerHistory) -> str:
    now = (math.degrees(math.atan2(f["hour_sin"], f["hour_cos"])) / 15) % 24
    if f["hours_played"] < 0.1:  # at the start: when the session began, against when this player usually begins
        usual = f" (you usually start around {_clock(h.usual_start_hour)})" if h.usual_start_hour is not None else ""
        return f"started at {_clock(now)}{usual}"
    return f"playing at {_clock(now)} local time"


def _mood(f: FeatureVector, h: PlayerHistory) -> str:
    drop = f["mood_drop"]
    text = f"mood at {f['mood_last']:.0f}/5"
    return f"{text}, {drop:.0f} below this session's best" if drop >= 1 else text


def _last_session(f: FeatureVector, h: PlayerHistory) -> str:
    gap, last, mood = f["minutes_since_last_session"], f["last_session_buyins"], f["last_session_mood"]
    how = f"lost {-last:.1f} buy-ins" if last <= -0.5 else f"won {last:.1f} buy-ins" if last >= 0.5 else "broke even"
    mood_text = f", ending at mood {mood:.0f}/5" if mood <= 2 else ""
    if gap < 180:
        return f"started {gap:.0f} min after the last session, which {how}{mood_text}"
    return f"the last session {how}{mood_text}"


def _day(f: FeatureVector, h: PlayerHistory) -> str:
    count, net, busts = round(f["day_sessions"]), f["day_net_buyins"], round(f["day_busts"])
    nth = _ORDINALS[count - 1] if 0 < count <= len(_ORDINALS) else f"{count}th"
    parts = [f"{nth} session today"]
    if net <= -0.2:
        parts.append(f"down {-net:.1f} buy-ins today")
    elif net >= 0.2:
        parts.append(f"up {net:.1f} buy-ins today")
    if busts:
        parts.append(f"{_plural(busts, 'bust')} today")
    return ", ".join(parts)


Phrase = Callable[[FeatureVector, PlayerHistory], str]

# Groups of features that are switched off together, and how each group is said in words, with the player's own
# baselines (``PlayerHistory``) where there is one to compare with.
REASON_GROUPS: Final[tuple[tuple[tuple[str, ...], Phrase], ...]] = (
    (("hours_played", "length_vs_median"), _time_played),
    (("hours_since_break",), lambda f, h: f"{_hours(f['hours_since_break'])} without a break"),
    (("net_buyins", "session_z"), _session_loss),
    (("drawdown_buyins",), lambda f, h: f"{f['drawdown_buyins']:.1f} buy-ins below this session's high"),
    (
        ("loss_30m_sd", "loss_60m_sd", "loss_60m_buyins"),
        lambda f, h: f"down {f['loss_60m_buyins']:.1f} buy-ins in the last hour",
    ),
    (("rebuys_60m", "minutes_since_rebuy"), _fast_rebuys),
    (("rebuys", "rebuys_vs_typical"), _rebuys),
    (("minutes_bust_to_rebuy",), lambda f, h: f"rebought {f['minutes_bust_to_rebuy']:.0f} min after going broke"),
    (("stakes_vs_usual", "buyin_vs_usual"), _stakes),
    (("hour_sin", "hour_cos", "late_night", "start_hour_gap"), _hour),
    (("mood_last", "mood_drop"), _mood),
    (("bad_beats_60m",), lambda f, h: f"{_plural(f['bad_beats_60m'], 'bad beat')} noted in the last hour"),
    (("minutes_since_last_session", "last_session_buyins", "last_session_mood"), _last_session),
    (("day_sessions", "day_net_buyins", "day_busts"), _day),
)


def load_card(path: Path) -> ModelCard:
    """Read and check a model card.

    Raises:
        ModelUnavailable: missing, not a card, or made for other features than this code computes.
    """
    try:
        card = msgspec.json.decode(path.read_bytes(), type=ModelCard)
    except FileNotFoundError:
        raise ModelUnavailable(path, "model card not found; run `bankroll tilt train`") from None
    except (OSError, msgspec.DecodeError) as exc:
        raise ModelUnavailable(path, f"model card is unreadable: {exc}") from None
    if tuple(card.features) != FEATURE_NAMES:
        raise ModelUnavailable(
            path, f"model was trained on features {card.features}, this code computes {list(FEATURE_NAMES)}; retrain"
        )
    missing = set(FEATURE_NAMES) - set(card.calm_reference)
    if missing:
        raise ModelUnavailable(path, f"calm_reference lacks {sorted(missing)}")
    return card


def load_session(path: Path) -> Any:
    """Open an ONNX model with one intra-op thread (the worker runs many small calls, not one big one).

    Raises:
        ModelUnavailable: missing file, not a model onnxruntime can load, or the wrong input.
    """
    import onnxruntime as ort  # imported here so importing this module stays cheap

    if not path.is_file():
        raise ModelUnavailable(path, "model file not found; run `bankroll tilt train`")
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    try:
        session = ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own untyped errors for corrupt files
        raise ModelUnavailable(path, f"onnxruntime cannot load it: {exc}") from None
    inputs = session.get_inputs()
    if len(inputs) != 1 or inputs[0].name != INPUT_NAME or inputs[0].shape[-1] != N_FEATURES:
        found = [(i.name, i.shape) for i in inputs]
        raise ModelUnavailable(path, f"expected one input {INPUT_NAME!r} of width {N_FEATURES}, found {found}")
    if OUTPUT_NAME not in {o.name for o in session.get_outputs()}:
        raise ModelUnavailable(path, f"model has no output {OUTPUT_NAME!r}")
    return session


def predict(session: Any, matrix: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Tilt probability for each row of ``matrix`` (shape ``(rows, N_FEATURES)``)."""
    (probabilities,) = session.run([OUTPUT_NAME], {INPUT_NAME: matrix})
    column: npt.NDArray[np.float32] = np.asarray(probabilities, dtype=np.float32)[:, 1]
    return column


class TiltScorer:
    """Scores feature vectors with the shipped ONNX model and says why in words."""

    def __init__(self, model_path: Path | None = None, card_path: Path | None = None) -> None:
        """Load the model and its card.

        Args:
            model_path: the ``.onnx`` file; default ``workers/tilt_model/tilt.onnx``.
            card_path: the card; default ``model_card.json`` next to the model.

        Raises:
            ModelUnavailable: naming the path and what is wrong with it.
        """
        self.model_path = model_path or DEFAULT_MODEL_PATH
        self.card = load_card(card_path or self.model_path.with_name(CARD_NAME))
        self._session = load_session(self.model_path)
        reference = np.array([self.card.calm_reference[name] for name in FEATURE_NAMES], dtype=np.float32)
        self._groups = [(np.array([FEATURE_INDEX[name] for name in names]), phrase) for names, phrase in REASON_GROUPS]
        self._before_play = [set(names) <= set(BEFORE_PLAY) for names, _ in REASON_GROUPS]
        self._in_play = np.array([name not in BEFORE_PLAY for name in FEATURE_NAMES])
        self._reference = reference

    @property
    def threshold(self) -> float:
        return self.card.threshold

    def risk(self, features: FeatureVector) -> float:
        """Risk of tilt in [0, 1] alone: one model row (blocking: call from a thread)."""
        row = np.asarray(features.values, dtype=np.float32).reshape(1, -1)
        return round(float(predict(self._session, row)[0]), 4)

    def score(self, features: FeatureVector, history: PlayerHistory | None = None, *, at_start: bool = False) -> Score:
        """Risk of tilt in [0, 1] with one to three reasons, strongest first (blocking: call from a thread).

        Args:
            features: the moment to score.
            history: the player's baselines the reasons compare with ("you usually rebuy about once a session").
            at_start: the session's first event: only what is known before play (the day, the last session, stakes,
                buy-in, the hour) can be a reason; the in-session features keep their values instead of being
                compared with a calm moment hours into a session.
        """
        row = np.asarray(features.values, dtype=np.float32)
        reference = self._reference.copy()
        groups = self._groups
        if at_start:
            reference[self._in_play] = row[self._in_play]
            groups = [group for group, before_play in zip(self._groups, self._before_play, strict=True) if before_play]
        n = len(groups)
        batch = np.empty((2 + 2 * n, row.size), dtype=np.float32)
        batch[0], batch[1] = row, reference
        batch[2 : 2 + n] = row
        batch[2 + n :] = reference
        for i, (columns, _) in enumerate(groups):
            batch[2 + i, columns] = reference[columns]
            batch[2 + n + i, columns] = row[columns]
        risks = predict(self._session, batch)
        risk, calm = float(risks[0]), float(risks[1])
        contributions = ((risk - risks[2 : 2 + n]) + (risks[2 + n :] - calm)) / 2
        order = [int(i) for i in np.argsort(-contributions, kind="stable")]
        # The strongest group is always named (an alert without a reason helps nobody); the others when they count.
        named = [order[0], *(i for i in order[1:MAX_REASONS] if contributions[i] >= MIN_CONTRIBUTION)]
        baselines = history or PlayerHistory()
        return Score(round(risk, 4), [groups[i][1](features, baselines) for i in named])

    def probabilities(self, matrix: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Risks for many rows at once, without reasons (training metrics, replays in bulk)."""
        return predict(self._session, matrix)
