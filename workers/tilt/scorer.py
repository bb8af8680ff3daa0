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
from shared.tilt_features import FEATURE_INDEX, FEATURE_NAMES, N_FEATURES, FeatureVector

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
    """How a detector did on held-out simulated players."""

    roc_auc: float
    precision: float  # per event, at the threshold
    recall: float
    f1: float
    alerts_per_calm_session: float  # through the alert policy (the baseline: once per crossing)
    calm_sessions_alerted: float  # share of calm sessions with at least one alert
    tilt_sessions_caught: float  # share of sessions with a tilt episode alerted at or after its start
    median_minutes_to_alert: float | None  # from the episode's start to the first alert after it


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


def _time_played(f: FeatureVector) -> str:
    ratio = f["length_vs_median"]
    text = f"playing for {_hours(f['hours_played'])}"
    return f"{text}, {ratio:.1f}× your usual session" if ratio >= 1.2 else text


def _session_loss(f: FeatureVector) -> str:
    net = f["net_buyins"]
    text = f"down {-net:.1f} buy-ins this session" if net < 0 else f"up {net:.1f} buy-ins this session"
    z = f["session_z"]
    return f"{text} ({-z:.1f} SD below your usual)" if z <= -1.5 else text


def _fast_rebuys(f: FeatureVector) -> str:
    count, since = f["rebuys_60m"], f["minutes_since_rebuy"]
    if count >= 2:
        return f"{_plural(count, 'rebuy')} in the last hour, the last {since:.0f} min ago"
    return f"rebought {since:.0f} min ago" if since < 240 else "no rebuy lately"


def _late(f: FeatureVector) -> str:
    hour = (math.degrees(math.atan2(f["hour_sin"], f["hour_cos"])) / 15) % 24
    minutes = round(hour * 60) % (24 * 60)
    return f"playing at {minutes // 60:02d}:{minutes % 60:02d} local time"


def _mood(f: FeatureVector) -> str:
    drop = f["mood_drop"]
    text = f"mood at {f['mood_last']:.0f}/5"
    return f"{text}, {drop:.0f} below this session's best" if drop >= 1 else text


def _chasing(f: FeatureVector) -> str:
    gap, last = f["minutes_since_last_session"], f["last_session_buyins"]
    lost = f", which lost {-last:.1f} buy-ins" if last <= -0.5 else ""
    if gap < 180:
        return f"started {gap:.0f} min after the last session ended{lost}"
    return f"last session lost {-last:.1f} buy-ins" if last < 0 else f"last session won {last:.1f} buy-ins"


# Groups of features that are switched off together, and how each group is said in words.
REASON_GROUPS: Final[tuple[tuple[tuple[str, ...], Callable[[FeatureVector], str]], ...]] = (
    (("hours_played", "length_vs_median"), _time_played),
    (("hours_since_break",), lambda f: f"{_hours(f['hours_since_break'])} without a break"),
    (("net_buyins", "session_z"), _session_loss),
    (("drawdown_buyins",), lambda f: f"{f['drawdown_buyins']:.1f} buy-ins below this session's high"),
    (
        ("loss_30m_sd", "loss_60m_sd", "loss_60m_buyins"),
        lambda f: f"down {f['loss_60m_buyins']:.1f} buy-ins in the last hour",
    ),
    (("rebuys_60m", "minutes_since_rebuy"), _fast_rebuys),
    (
        ("rebuys", "rebuys_vs_typical"),
        lambda f: f"{_plural(f['rebuys'], 'rebuy')} this session, {f['rebuys_vs_typical']:.1f}× your usual",
    ),
    (("stakes_vs_usual",), lambda f: f"playing {f['stakes_vs_usual']:.1f}× your usual stakes"),
    (("hour_sin", "hour_cos", "late_night"), _late),
    (("mood_last", "mood_drop"), _mood),
    (("bad_beats_60m",), lambda f: f"{_plural(f['bad_beats_60m'], 'bad beat')} noted in the last hour"),
    (("minutes_since_last_session", "last_session_buyins"), _chasing),
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
        self._reference = reference

    @property
    def threshold(self) -> float:
        return self.card.threshold

    def risk(self, features: FeatureVector) -> float:
        """Risk of tilt in [0, 1] alone: one model row (blocking: call from a thread)."""
        row = np.asarray(features.values, dtype=np.float32).reshape(1, -1)
        return round(float(predict(self._session, row)[0]), 4)

    def score(self, features: FeatureVector) -> Score:
        """Risk of tilt in [0, 1] with up to three reasons, strongest first (blocking: call from a thread)."""
        row = np.asarray(features.values, dtype=np.float32)
        groups = len(self._groups)
        batch = np.empty((2 + 2 * groups, row.size), dtype=np.float32)
        batch[0], batch[1] = row, self._reference
        batch[2 : 2 + groups] = row
        batch[2 + groups :] = self._reference
        for i, (columns, _) in enumerate(self._groups):
            batch[2 + i, columns] = self._reference[columns]
            batch[2 + groups + i, columns] = row[columns]
        risks = predict(self._session, batch)
        risk, calm = float(risks[0]), float(risks[1])
        contributions = ((risk - risks[2 : 2 + groups]) + (risks[2 + groups :] - calm)) / 2
        order = np.argsort(-contributions, kind="stable")
        reasons = [
            self._groups[int(i)][1](features) for i in order[:MAX_REASONS] if contributions[i] >= MIN_CONTRIBUTION
        ]
        return Score(round(risk, 4), reasons)

    def probabilities(self, matrix: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Risks for many rows at once, without reasons (training metrics, replays in bulk)."""
        return predict(self._session, matrix)
