"""Reading the loss curves, as the lecture does.

* NaN or inf in a curve is ``nan``.
* A rising or exploding training loss is ``diverging``.
* A validation loss that climbs away from a falling training loss, or a
  training accuracy far above the validation accuracy, is ``overfitting``.
* Large back-and-forth swings from one epoch to the next are ``noisy``.

How far a run got (``underfitting``, ``lr_too_low``, ``train_val_mismatch``)
is read in :mod:`toolkit.diagnose.fitting`. Each threshold is a named
constant with the reason for its value. Epochs are counted from 1 in the
evidence, as the plots count them.
"""

from __future__ import annotations

import numpy as np

from toolkit.diagnose.findings import Finding
from toolkit.diagnose.remedies import finding
from toolkit.diagnose.run import Run, end_level, noise, num, pct, rise_text, settled, smooth, times, window

#: Trend rules need this many finite epochs: with fewer, a rise or a plateau cannot be told from noise.
MIN_TREND_EPOCHS = 4
#: A rise must also exceed this many noise standard deviations: about 3 sigma is rarely reached by chance.
NOISE_SIGMAS = 3.0
#: A loss this many times its best value so far is never noise: the updates overshoot.
EXPLODE_FACTOR = 10.0
#: A training loss that ends this far (25%) above its smoothed minimum is unlearning, not wobbling.
DIVERGE_RISE = 0.25
#: A cross-entropy this many times that of uniform guessing (ln k) means confidently wrong outputs.
CHANCE_DIVERGE = 3.0
#: val_loss ending this far (10%) above its minimum is a real climb once it also clears the noise test.
OVERFIT_RISE = 0.10
#: A training accuracy this far (15 points) above validation accuracy is a generalization gap, not noise.
OVERFIT_ACC_GAP = 0.15
#: A zig-zag needs this many epochs (three interior turning points to look at).
MIN_NOISE_EPOCHS = 5
#: Epoch-to-epoch noise of 10% of the loss's level (one standard deviation) blurs any trend of a few %
#: per epoch; the epoch means of a healthy run wobble by 1-5%.
NOISY_LEVEL = 0.10
#: ... and the curve turns at 40% or more of its epochs (at least twice); pure noise turns at about 2/3.
NOISY_TURNS = 0.4
#: Below a tenth of its first value a loss has converged: its rises and swings are measured against
#: that tenth, so that 0.02 -> 0.03 is not read as a 50% climb.
FLOOR = 0.1


def _climb(x: np.ndarray):
    """``(rise, index of the smoothed minimum, its value, end level)`` when ``x`` ends clearly above its minimum.

    The rise is relative to the minimum, or to a tenth of the first value when the minimum is lower (FLOOR).
    """
    if len(x) < MIN_TREND_EPOCHS:
        return None
    s = smooth(x)
    m = int(np.argmin(s))
    if m > len(x) - 3:  # the minimum is at the end: nothing has climbed yet
        return None
    end = end_level(x)
    if end - s[m] < NOISE_SIGMAS * noise(x):
        return None
    base = max(s[m], FLOOR * abs(x[0]), 1e-12)
    return (end - s[m]) / base, m, float(s[m]), end


def nan(run: Run) -> Finding | None:
    """NaN or inf in the loss or any metric curve (monitor keys excluded: they write NaN on skipped epochs)."""
    curves = ["loss", "val_loss"] + sorted(k for k in run.series if k not in ("loss", "val_loss"))
    for key in curves:
        if key not in run.series or "/" in key or key in ("learning_rate", "lr"):
            continue
        values = run.series[key]
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size == 0:
            continue
        i = int(bad[0])
        what = "NaN" if np.isnan(values[i]) else "inf"
        text = f"{key} became {what} at epoch {run.epoch(i)}"
        if i > 0:
            text += f" (it was {num(values[i - 1])} at epoch {run.epoch(i - 1)})"
        else:
            text += ", the first epoch"
        text += f"; {bad.size} of {len(values)} epochs are not finite, and no number after the first NaN can be trusted."
        return finding("nan", "high", text)
    return None


def diverging(run: Run) -> Finding | None:
    """A training loss that explodes, climbs clearly above its minimum, or ends far above chance."""
    x, evidence, severity = run.loss, [], "medium"
    if len(x) >= 2:
        best_before = np.minimum.accumulate(x)[:-1]
        ratio = x[1:] / np.maximum(best_before, 1e-12)
        j = int(np.argmax(ratio))
        if ratio[j] >= EXPLODE_FACTOR:
            evidence.append(
                f"loss jumped to {num(x[j + 1])} at epoch {run.epoch(j + 1)}, "
                f"{times(ratio[j])} its best value before ({num(best_before[j])})"
            )
            severity = "high"
    climb = _climb(x)
    if climb and climb[0] >= DIVERGE_RISE:
        rise, m, best, end = climb
        evidence.append(
            f"loss rose {rise_text(rise)} its minimum (3-epoch mean {num(best)} around epoch {run.epoch(m)}), "
            f"to {num(end)} over the last {window(len(x))} epochs"
        )
        severity = "high" if rise >= 1.0 else severity
    if run.chance_loss and len(x) and x[-1] >= CHANCE_DIVERGE * run.chance_loss:
        evidence.append(
            f"the last loss {num(x[-1])} is {times(x[-1] / run.chance_loss)} the loss of guessing "
            f"among {run.num_classes} classes (ln {run.num_classes} = {num(run.chance_loss)})"
        )
        severity = "high"
    if not evidence:
        return None
    return finding("diverging", severity, "; ".join(evidence) + run.lr_note() + ".")


def overfitting(run: Run) -> Finding | None:
    """val_loss climbing while loss does not, or training accuracy far above validation accuracy."""
    evidence, severity = [], "low"
    if run.val_loss is not None:
        climb = _climb(run.val_loss)
        if climb and climb[0] >= OVERFIT_RISE:
            rise, m, best, end = climb
            train_then, train_end = float(smooth(run.loss)[m]), end_level(run.loss)
            if train_end <= train_then:
                change = f"fell {pct(1 - train_end / train_then)}" if train_then > 0 else "kept falling"
                evidence.append(
                    f"val_loss rose {rise_text(rise)} its minimum (3-epoch mean {num(best)} around epoch "
                    f"{run.epoch(m)}), to {num(end)} over the last {window(len(run.val_loss))} epochs, "
                    f"while loss {change} ({num(train_then)} to {num(train_end)})"
                )
                severity = "high" if rise >= 1.0 else "medium" if rise >= 0.25 else "low"
    if run.acc is not None and run.val_acc is not None and run.n >= 2:
        gap = end_level(run.acc) - end_level(run.val_acc)
        if gap >= OVERFIT_ACC_GAP:
            evidence.append(
                f"training {run.acc_name} {num(end_level(run.acc))} is {100 * gap:.0f} points above "
                f"validation {run.acc_name} {num(end_level(run.val_acc))}"
            )
            gap_severity = "high" if gap >= 0.4 else "medium" if gap >= 0.25 else "low"
            severity = max(severity, gap_severity, key=("low", "medium", "high").index)
    if not evidence:
        return None
    return finding("overfitting", severity, "; ".join(evidence) + ".")


def noisy(run: Run) -> Finding | None:
    """Large back-and-forth swings of loss or val_loss from one epoch to the next."""
    evidence, worst = [], 0.0
    for key, x in (("loss", run.loss), ("val_loss", run.val_loss)):
        if x is None or len(x) < MIN_NOISE_EPOCHS:
            continue
        d = np.diff(x)
        turns = int(np.sum(d[:-1] * d[1:] < 0))  # interior epochs where the direction changes
        if turns < 2 or turns < NOISY_TURNS * (len(x) - 2):
            continue
        level = max(float(np.median(np.abs(settled(x)))), FLOOR * abs(x[0]), 1e-12)
        size = noise(x) / level
        if size >= NOISY_LEVEL:
            evidence.append(
                f"{key} jumps up and down by about {pct(size)} of its level ({num(level)}) from one epoch to the "
                f"next, changing direction at {turns} of {len(x) - 2} epochs"
            )
            worst = max(worst, size)
    if not evidence:
        return None
    severity = "high" if worst >= 0.5 else "medium" if worst >= 0.25 else "low"
    return finding("noisy", severity, "; ".join(evidence) + run.lr_note() + ".")
