"""How far a run got: ``underfitting``, ``lr_too_low`` and ``train_val_mismatch``.

* A loss that stays high, flat near the loss of guessing, with accuracy near
  chance, is ``underfitting``: the model cannot fit its own training data.
* A steady but slow fall that is nowhere near fitting the training data yet
  is ``lr_too_low`` (the lecture's inefficient learning).
* A training accuracy well *below* the validation accuracy in most of the
  later epochs is ``train_val_mismatch``: the two sets do not look alike.
* A high training accuracy with a loss that cannot fall (probabilities fed
  to a loss that expects logits) is ``underfitting`` of the loss, with its
  own remedies (:func:`loss_floor`).

Chance levels need the number of classes k: accuracy 1/k, and for a
cross-entropy loss ln k, the loss of guessing uniformly. Without
``num_classes``, :func:`~toolkit.diagnose.run.chance_classes` reads k off a
run that sits at both (loss ≈ ln k and accuracy ≈ 1/k).
"""

from __future__ import annotations

import math

import numpy as np

from toolkit.diagnose.curves import MIN_TREND_EPOCHS, NOISE_SIGMAS
from toolkit.diagnose.findings import Finding
from toolkit.diagnose.remedies import REMEDIES, finding
from toolkit.diagnose.run import Run, end_level, num, pct, window

#: Accuracy less than halfway from chance (1/k) to 100% on the training data itself: the model does not fit it.
FIT_SKILL = 0.5
#: Without accuracy: a loss still at half the loss of guessing (ln k) has learned less than half the way.
FIT_CHANCE_FRACTION = 0.5
#: Without the number of classes: a loss still at 70% of its first epoch's value has hardly moved.
FIT_FIRST_RATIO = 0.7
#: Accuracy within a fifth of the way from chance (loss at 80% of ln k, or 90% of the first epoch's)
#: is "near chance": severity high.
NEAR_CHANCE_SKILL = 0.2
NEAR_CHANCE_FRACTION = 0.8
NEAR_FIRST_RATIO = 0.9
#: At least 3 of 4 epochs lower the loss: a steady fall, not noise around a plateau.
STEADY_FRACTION = 0.75
#: ... or, when noise hides the direction of single steps, a least-squares slope NOISE_SIGMAS standard errors
#: below zero over at least 10 epochs (fewer points give no standard error worth the name).
SLOPE_EPOCHS = 10
#: The second half of the run lowers the loss at least half as much as the first: it is not converging yet.
NOT_SLOWING = 0.5
#: A loss that moved less than 1% of its first value over the whole run is flat, whatever the sign of its
#: tiny steps (2.3030 -> 2.3029 is a plateau at chance, not a slow descent).
MIN_FALL = 0.01
#: Validation accuracy 10 points above training accuracy: dropout and augmentation alone cost a few points.
MISMATCH_GAP = 0.10
#: ... judged over the later half of the run (at least 4 validations), where "most" (3 in 4) of the
#: validated epochs must show it: one noisy epoch of a small training batch must not hide a steady gap.
MISMATCH_MOST = 0.75
#: A classifier whose training accuracy is at least 0.9 gives the true class a probability of about 0.9
#: on average; exp(-loss), the geometric mean of that probability, below a third of the accuracy means
#: outputs that cannot become confident: probabilities fed to a loss that expects logits
#: (softmax/sigmoid output with from_logits=True), whose cross-entropy cannot fall below ln(k-1+e)-1.
FLOOR_ACC = 0.9
FLOOR_CONFIDENCE = 1 / 3


def fit_state(run: Run):
    """How far the run is from fitting its own training data: ``(far, near_chance, sentence)``."""
    end = end_level(run.loss)
    if run.acc is not None and run.num_classes:
        acc, chance = end_level(run.acc), run.chance_acc
        skill = (acc - chance) / (1 - chance)
        text = f"training {run.acc_name} is {num(acc)} (chance {num(chance)})"
        if run.classes_inferred:
            text += (f", with the loss {num(end)} at ln {run.num_classes} = {num(run.chance_loss)}: "
                     f"the outputs are a uniform guess among {run.num_classes} classes")
        return skill < FIT_SKILL, skill < NEAR_CHANCE_SKILL, text
    if run.num_classes:
        frac = end / run.chance_loss
        text = f"loss {num(end)} is {pct(frac)} of the loss of guessing (ln {run.num_classes} = {num(run.chance_loss)})"
        return frac >= FIT_CHANCE_FRACTION, frac >= NEAR_CHANCE_FRACTION, text
    if run.n < MIN_TREND_EPOCHS:  # the first epoch is no yardstick for a run of one or two epochs
        return False, False, f"loss is {num(end)}"
    ratio = end / run.loss[0] if run.loss[0] > 0 else 0.0
    text = f"loss {num(end)} is still {pct(ratio)} of its first-epoch value {num(run.loss[0])}"
    return ratio >= FIT_FIRST_RATIO, ratio >= NEAR_FIRST_RATIO, text


def _slope(x: np.ndarray) -> tuple[float, float]:
    """The least-squares slope of ``x`` per epoch and its standard error."""
    t = np.arange(len(x), dtype=float)
    slope, intercept = np.polyfit(t, x, 1)
    resid = x - (slope * t + intercept)
    se = math.sqrt(float(np.sum(resid**2)) / max(len(x) - 2, 1) / float(np.sum((t - t.mean()) ** 2)))
    return float(slope), se


def _significant_fall(x: np.ndarray) -> bool:
    """A least-squares slope below zero by NOISE_SIGMAS standard errors: a fall the noise cannot explain."""
    slope, se = _slope(x)
    return slope < 0 and -slope >= NOISE_SIGMAS * se


def lr_too_low(run: Run) -> Finding | None:
    """A steady fall that is not slowing down, while the run is still far from fitting.

    "Steady" is most steps down, or a least-squares slope that the epoch-to-epoch noise cannot explain (a
    creep of 0.05% per epoch under noise of twice that still falls); "not slowing" compares the slopes of the
    two halves, which one noisy first or last epoch does not sway.
    """
    x = run.loss
    if len(x) < MIN_TREND_EPOCHS or x[0] <= 0:
        return None
    far, near, text = fit_state(run)
    mid = (len(x) - 1) // 2
    # Most steps down; or, where noise hides the direction of single steps, a significant least-squares fall.
    steady = np.mean(np.diff(x) < 0) >= STEADY_FRACTION or (len(x) >= SLOPE_EPOCHS and _significant_fall(x))
    # How fast each half falls: least-squares slopes, which one noisy first or last epoch does not sway.
    first, second = -_slope(x[: mid + 1])[0], -_slope(x[mid:])[0]
    if not (far and steady and first > 0 and second >= NOT_SLOWING * first and x[0] - x[-1] >= MIN_FALL * x[0]):
        return None
    total = 1 - x[-1] / x[0]
    return finding(
        "lr_too_low",
        "high" if near else "medium",
        f"loss fell steadily but slowly, {pct(total)} in {len(x)} epochs (about {pct(total / (len(x) - 1))} "
        f"per epoch) without slowing down{run.lr_note()}, and {text}: it is far from converged.",
    )


def underfitting(run: Run) -> Finding | None:
    """The training loss stays high: flat near chance, or far from fitting (the run is not learning it)."""
    if run.n == 0:
        return None
    far, near, text = fit_state(run)
    if not far:
        return None
    x = run.loss
    if len(x) < MIN_TREND_EPOCHS:
        more_epochs = REMEDIES["underfitting"][1]
        remedies = (more_epochs,) + tuple(r for r in REMEDIES["underfitting"] if r != more_epochs)
        return finding(
            "underfitting", "low",
            f"after only {len(x)} epoch{'s' if len(x) > 1 else ''}, {text}: train longer before judging the model.",
            remedies,
        )
    w = window(len(x))
    before = float(np.mean(x[-2 * w:-w])) if len(x) >= 2 * w else float(x[0])
    change = 1 - end_level(x) / before if before > 0 else 0.0
    if change < 0.05:
        trend = f"the loss has stopped falling: it changed by {pct(abs(change))} over the last {w} epochs"
    else:
        trend = f"the loss is still falling ({pct(change)} over the last {w} epochs) but slowing down"
    return finding("underfitting", "high" if near else "medium", f"after {len(x)} epochs {text}, and {trend}.")


def train_val_mismatch(run: Run) -> Finding | None:
    """Training accuracy below validation accuracy in most of the later half of the run, by 10 points or more."""
    if run.acc is None or run.val_acc is None or run.n < MIN_TREND_EPOCHS:
        return None
    acc = run.at_val(run.acc) if run.val_index is not None else run.acc[: len(run.val_acc)]
    if len(run.val_acc) < MIN_TREND_EPOCHS:
        return None
    w = max(MIN_TREND_EPOCHS, len(run.val_acc) // 2)
    gaps = run.val_acc[-w:] - acc[-w:]
    below = int(np.sum(gaps > 0))
    gap = float(np.median(gaps))
    if below < MISMATCH_MOST * w or gap < MISMATCH_GAP:
        return None
    text = (f"training {run.acc_name} is a median {100 * gap:.0f} points below validation {run.acc_name} over the "
            f"last {w} validated epochs, and below it in {below} of them ({num(float(np.mean(acc[-w:])))} against "
            f"{num(float(np.mean(run.val_acc[-w:])))} on average; {num(acc[-1])} against {num(run.val_acc[-1])} at "
            f"epoch {run.val_epoch(len(run.val_acc) - 1) if run.val_labels is not None else run.epoch(-1)})")
    if run.val_loss is not None and len(run.val_loss) == len(run.val_acc):
        loss = run.at_val(run.loss) if run.val_index is not None else run.loss[: len(run.val_loss)]
        above = int(np.sum(loss[-w:] > run.val_loss[-w:]))
        text += f"; loss is above val_loss in {above} of them"
    return finding(
        "train_val_mismatch",
        "high" if gap >= 0.3 else "medium" if gap >= 0.2 else "low",
        text + ": the two sets do not look alike, or something (dropout, augmentation) acts on training only.",
    )


def loss_floor(run: Run) -> Finding | None:
    """A high training accuracy with a loss that stays far above what that accuracy implies."""
    if run.acc is None or run.n < MIN_TREND_EPOCHS or run.num_classes == 2 or run.acc_name == "binary_accuracy":
        return None
    acc, end = end_level(run.acc), end_level(run.loss)
    if acc < FLOOR_ACC or not 0 < end or math.exp(-end) >= FLOOR_CONFIDENCE * acc:
        return None
    text = (f"training {run.acc_name} is {num(acc)} but the loss stays at {num(end)}: the true class gets a "
            f"probability of about {num(math.exp(-end))} on average (exp(-loss)), far below what that accuracy needs")
    if run.num_classes:
        floor = math.log(run.num_classes - 1 + math.e) - 1
        text += (f"; {num(floor)} = ln({run.num_classes - 1} + e) - 1 is the lowest loss of probabilities read "
                 f"as logits among {run.num_classes} classes")
    return finding("underfitting", "medium", text + ".", (
        "check the loss: a softmax (or sigmoid) output with `from_logits=True` squashes twice; use "
        "`from_logits=False`, or drop the output activation and keep `from_logits=True`",
        "check for label smoothing or a loss weight that keeps the loss high",
    ))
