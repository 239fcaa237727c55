"""A run as the rules read it: the curves of one training history, found by
name, with the few robust statistics every rule shares (the level at the end,
a smoothed minimum, the epoch-to-epoch noise)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from toolkit.history import EpochHistory, read_history
from toolkit.validation import check_int

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
    """The curves of one history, by role, as the rules read them.

    Only *measured* values appear here (see :mod:`toolkit.history`): an epoch
    that was not validated (``validation_freq > 1``, CSVLogger's ``NA``, the
    ``0.0000e+00`` artefact) has no ``val_*`` entry at all, never a NaN.

    * ``series[key]``: the measured values of every key, in epoch order;
      ``series_epochs[key]``: their 1-based epoch numbers (equal to
      ``labels`` for a key measured every epoch). A NaN here is a real NaN.
    * ``loss``, ``acc``: the measured training values before the first
      NaN/inf of ``loss`` or ``val_loss`` (the trend rules read those);
      ``labels``: the 1-based epoch of each ``series["loss"]`` entry, and
      ``epoch(i)`` of entry ``i`` of ``loss``/``acc``.
    * ``val_loss``, ``val_acc``: the measured validation values before that
      cut, *only at the validated epochs*, so they can be shorter than
      ``loss``; ``val_labels``: their 1-based epochs; ``val_index``: the
      index in ``loss``/``acc`` of the same epoch, so ``run.acc[run.val_index]``
      pairs with ``run.val_acc`` (use :meth:`at_val` / :meth:`val_epoch`).
    * ``history``: the :class:`~toolkit.history.EpochHistory` it was built from.
    """

    series: dict[str, np.ndarray]
    labels: np.ndarray  # 1-based epoch number of each entry of series["loss"], as the plots show it
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
    classes_inferred: bool = False  # num_classes read off the chance level (loss ≈ ln k, accuracy ≈ 1/k)
    series_epochs: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    val_labels: np.ndarray | None = None
    val_index: np.ndarray | None = None
    history: EpochHistory | None = None

    def at_val(self, x: np.ndarray) -> np.ndarray:
        """A training curve (``loss``, ``acc``) at the validated epochs, paired with ``val_loss``/``val_acc``."""
        return x[self.val_index]

    def val_epoch(self, index: int) -> int:
        """The 1-based epoch number of entry ``index`` of ``val_loss``/``val_acc``."""
        return int(self.val_labels[index])

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
    """Read any history :func:`toolkit.history.read_history` reads, and sort its curves by role."""
    h = read_history(history, name="history", require_loss=True)
    if num_classes is not None:
        num_classes = check_int("num_classes", num_classes, minimum=2)
    measured = [k for k in h.keys if h.measured[k].any()]  # a column CSVLogger filled with NA is no curve
    series = {k: h.values[k][h.measured[k]] for k in measured}
    series_epochs = {k: h.epochs[h.measured[k]] for k in measured}
    # The trend rules read the epochs before the first measured NaN/inf of loss or val_loss.
    cut = h.epochs[-1] + 1
    for key in ("loss", "val_loss"):
        if key in series and not np.all(np.isfinite(series[key])):
            cut = min(cut, int(series_epochs[key][np.argmin(np.isfinite(series[key]))]))
    acc_name = _accuracy_key(series)
    labels = series_epochs["loss"]
    keep = labels < cut

    def train(key):  # the training curve at the epochs its loss was measured (nothing is invented for a gap)
        if key not in series:
            return None
        return h.values[key][h.epochs < cut][h.measured["loss"][h.epochs < cut]]

    val_keys = [k for k in ("val_loss", f"val_{acc_name}" if acc_name else None) if k and k in series]
    val_seen = np.zeros(len(h), dtype=bool)
    for k in val_keys:
        val_seen |= h.measured[k]
    val_seen &= h.measured["loss"] & (h.epochs < cut)

    def val(key):
        return h.values[key][val_seen] if key in val_keys else None

    val_labels = h.epochs[val_seen] if val_keys else None
    return Run(
        series=series,
        labels=labels.astype(int),
        loss=series["loss"][keep],
        val_loss=val("val_loss"),
        acc=train(acc_name) if acc_name else None,
        val_acc=val(f"val_{acc_name}") if acc_name else None,
        acc_name=acc_name,
        num_classes=num_classes,
        grad_norms=_monitor(series, "grad_norm/"),
        dead_fractions=_monitor(series, "dead_fraction/"),
        act_stds=_monitor(series, "act_std/"),
        learning_rate=next((series[k] for k in ("learning_rate", "lr") if k in series), None),
        series_epochs=series_epochs,
        val_labels=val_labels,
        val_index=np.searchsorted(labels, val_labels) if val_labels is not None else None,
        history=h,
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

    When that part is shorter than 5 epochs, the later half of the curve (at
    least its last 4 epochs): the steep fall of the first epochs is trend, and
    read as noise it would make every short, fast-learning run look noisy.
    """
    s = smooth(x)
    start = int(np.flatnonzero(s <= s.min() + SETTLED * abs(s.min()))[0])
    if len(x) - start >= 5:
        return x[start:]
    return x[min(len(x) // 2, max(len(x) - 4, 0)):]


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


def rising_share(x: np.ndarray) -> float:
    """The share of epoch-to-epoch steps of ``x`` that go up (0 for fewer than 2 values)."""
    return float(np.mean(np.diff(x) > 0)) if len(x) >= 2 else 0.0


#: Chance-level recognition: the accuracy within a quarter of 1/k, and the loss within 5% of ln k.
#: A loss alone is no evidence (some ln k is near any loss); an accuracy at 1/k says "k classes, guessing",
#: and a loss at ln k as well says the outputs are uniform.
CHANCE_ACC_TOLERANCE = 0.25
CHANCE_LOSS_TOLERANCE = 0.05


def chance_classes(loss_level: float, acc_level: float | None) -> int | None:
    """The number of classes k (2..1000) when a run sits at the chance level: loss ≈ ln k and accuracy ≈ 1/k.

    Example: a loss flat at 2.302 with accuracy 0.10 gives 10; a loss of 0.69 with accuracy 0.5 gives 2.
    """
    if acc_level is None or not (np.isfinite(loss_level) and np.isfinite(acc_level)) or not 0.0009 < acc_level <= 0.625:
        return None
    # k is read off the accuracy (1/acc) or off the loss (e^loss), whichever fits both: an accuracy of 0.086
    # (1/11.7) with a loss of 2.304 (ln 10.0) is guessing among 10 classes, within both tolerances.
    candidates = {int(round(1.0 / acc_level))}
    if loss_level < math.log(1000) * (1 + CHANCE_LOSS_TOLERANCE):
        candidates.add(int(round(math.exp(loss_level))))
    fits = [k for k in sorted(candidates) if 2 <= k <= 1000
            and abs(acc_level - 1.0 / k) <= CHANCE_ACC_TOLERANCE / k
            and abs(loss_level - math.log(k)) <= CHANCE_LOSS_TOLERANCE * math.log(k)]
    # When both fit, the one nearer on both counts (each error in units of its tolerance); ties go to 1/acc.
    return min(fits, key=lambda k: (abs(acc_level - 1.0 / k) * k / CHANCE_ACC_TOLERANCE
                                    + abs(loss_level - math.log(k)) / (CHANCE_LOSS_TOLERANCE * math.log(k)),
                                    k != round(1.0 / acc_level))) if fits else None


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
