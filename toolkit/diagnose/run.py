"""A run as the rules read it: the curves of one training history, found by
name, with the few robust statistics every rule shares (the level at the end,
a smoothed minimum, the epoch-to-epoch noise)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from toolkit.validation import check_history, check_int, received

#: Accuracy-like metric names Keras writes, in order of preference.
ACCURACY_KEYS = ("accuracy", "acc", "sparse_categorical_accuracy", "categorical_accuracy", "binary_accuracy")
#: Prefixes of the keys the toolkit's monitors write (GradientMonitor, ActivationMonitor).
MONITOR_PREFIXES = ("grad_norm/", "dead_fraction/", "act_std/")


def _accuracy_key(keys) -> str | None:
    for name in ACCURACY_KEYS:
        if name in keys:
            return name
    for name in keys:
        if name.endswith("accuracy") and not name.startswith("val_") and "/" not in name:
            return name
    return None


def _monitor(series: dict, prefix: str) -> dict[str, np.ndarray]:
    return {k[len(prefix):]: v for k, v in series.items() if k.startswith(prefix)}


@dataclasses.dataclass
class Run:
    """The curves of one history, by role.

    ``loss``, ``val_loss``, ``acc`` and ``val_acc`` hold the epochs before the
    first NaN/inf of ``loss`` or ``val_loss`` (the trend rules read those);
    ``series`` holds every key at full length.
    """

    series: dict[str, np.ndarray]
    labels: np.ndarray  # 1-based epoch number of each entry, as the plots show it
    loss: np.ndarray
    val_loss: np.ndarray | None
    acc: np.ndarray | None
    val_acc: np.ndarray | None
    acc_name: str | None
    num_classes: int | None
    grad_norms: dict[str, np.ndarray]
    dead_fractions: dict[str, np.ndarray]
    act_stds: dict[str, np.ndarray]
    learning_rate: np.ndarray | None = None  # LearningRateLogger's key (or Keras's own "learning_rate"/"lr")

    @property
    def n(self) -> int:
        """The number of finite epochs the trend rules read."""
        return len(self.loss)

    @property
    def n_total(self) -> int:
        return len(self.series["loss"])

    @property
    def chance_loss(self) -> float | None:
        """Cross-entropy of a uniform guess over ``num_classes``: ln k."""
        return math.log(self.num_classes) if self.num_classes else None

    @property
    def chance_acc(self) -> float | None:
        return 1.0 / self.num_classes if self.num_classes else None

    def lr_note(self) -> str:
        """`` (learning rate 0.01)`` for the evidence, when the history logs the learning rate."""
        if self.learning_rate is None or not np.isfinite(self.learning_rate[: max(self.n, 1)]).any():
            return ""
        rates = self.learning_rate[: max(self.n, 1)]
        rates = rates[np.isfinite(rates)]
        if np.isclose(rates[0], rates[-1], rtol=1e-3):
            return f" (learning rate {num(rates[-1])})"
        return f" (learning rate {num(rates[0])} to {num(rates[-1])})"

    def epoch(self, index: int) -> int:
        """The 1-based epoch number of entry ``index`` (negative indices allowed)."""
        return int(self.labels[index])


def make_run(history, *, num_classes=None) -> Run:
    """Check a Keras ``History`` or dict of per-epoch lists and sort its curves by role."""
    series = check_history(history, "history")
    if num_classes is not None:
        num_classes = check_int("num_classes", num_classes, minimum=2)
    if "epoch" in series:
        labels = series.pop("epoch") + 1
    elif getattr(history, "epoch", None) is not None and len(history.epoch) == len(series["loss"]):
        labels = np.asarray(history.epoch, dtype=float) + 1
    else:
        labels = np.arange(1, len(series["loss"]) + 1, dtype=float)
    if not np.all(np.isfinite(labels)):
        raise ValueError(f"`history['epoch']` must hold epoch numbers. {received('epoch', labels)}")
    finite = np.isfinite(series["loss"])
    if "val_loss" in series:
        finite &= np.isfinite(series["val_loss"])
    n_ok = int(np.argmin(finite)) if not finite.all() else len(finite)
    acc_name = _accuracy_key(series)

    def head(key):
        return series[key][:n_ok] if key in series else None

    return Run(
        series=series,
        labels=labels.astype(int),
        loss=series["loss"][:n_ok],
        val_loss=head("val_loss"),
        acc=head(acc_name) if acc_name else None,
        val_acc=head(f"val_{acc_name}") if acc_name else None,
        acc_name=acc_name,
        num_classes=num_classes,
        grad_norms=_monitor(series, "grad_norm/"),
        dead_fractions=_monitor(series, "dead_fraction/"),
        act_stds=_monitor(series, "act_std/"),
        learning_rate=next((series[k] for k in ("learning_rate", "lr") if k in series), None),
    )


# Statistics shared by the rules ----------------------------------------------------


def window(n: int) -> int:
    """How many final epochs make "the end" of a run: a fifth of it, at least 2."""
    return max(2, n // 5)


def end_level(x: np.ndarray) -> float:
    """The mean of the last epochs: the level the run ended at, less noisy than the last value."""
    return float(np.mean(x[-window(len(x)):]))


def smooth(x: np.ndarray) -> np.ndarray:
    """A centred 3-epoch moving average (2 epochs at the ends)."""
    if len(x) < 3:
        return x.astype(float).copy()
    padded = np.concatenate([[x[0]], x, [x[-1]]])
    out = (padded[:-2] + padded[1:-1] + padded[2:]) / 3.0
    out[0] = (x[0] + x[1]) / 2.0
    out[-1] = (x[-2] + x[-1]) / 2.0
    return out


#: The noise is read where the curve has settled: within 50% of its smoothed minimum.
SETTLED = 0.5


def settled(x: np.ndarray) -> np.ndarray:
    """The settled part of a curve: from its first epoch within 50% of the smoothed minimum on.

    The whole curve when that part is shorter than 5 epochs.
    """
    s = smooth(x)
    start = int(np.flatnonzero(s <= s.min() + SETTLED * abs(s.min()))[0])
    return x[start:] if len(x) - start >= 5 else x


def noise(x: np.ndarray) -> float:
    """A robust estimate of the epoch-to-epoch noise of a curve (one standard deviation).

    Read from the second differences ``x[t+1] - 2 x[t] + x[t-1]`` of the
    :func:`settled` part, so that the steep bend of the first epochs is not
    taken for noise: a straight or gently bending trend leaves them near
    zero, and independent noise of spread s turns into values of spread
    sqrt(6) s. Their median absolute deviation is scaled to a standard deviation.
    """
    if len(x) < 4:
        return 0.0
    d2 = np.diff(settled(x), 2)
    return float(1.4826 * np.median(np.abs(d2 - np.median(d2))) / math.sqrt(6))


def last_measured(values: np.ndarray, k: int = 3) -> np.ndarray:
    """The last ``k`` finite values of a monitor series (monitors write NaN on skipped epochs)."""
    return values[np.isfinite(values)][-k:]


def rise_text(rise: float) -> str:
    """How far a value rose, for a sentence: '41% above' or, from 3x on, '27x'."""
    return f"{100 * rise:.0f}% above" if rise < 2 else f"to {1 + rise:.0f}x"


def times(ratio: float) -> str:
    """A ratio as a factor: '3.4x', '41x', '2.2e+04x'."""
    return f"{ratio:.1f}x" if ratio < 10 else f"{ratio:.0f}x" if ratio < 1e4 else f"{ratio:.1e}x"


def pct(x: float) -> str:
    """A ratio as a rounded percentage, e.g. 0.412 -> '41%'."""
    return f"{100 * x:.0f}%"


def num(x: float) -> str:
    """A number with 3 significant digits, e.g. 0.0123 or 2.3e+05."""
    return f"{x:.3g}"
