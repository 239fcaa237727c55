"""Reading the loss curves, as the lecture does.

* NaN or inf in a curve is ``nan``.
* A rising or exploding training loss is ``diverging``.
* A validation loss that climbs away from a falling training loss, or a
  training accuracy far above the validation accuracy, is ``overfitting``.
* Large back-and-forth swings from one epoch to the next, or a spike that
  undoes the progress and falls back, are ``noisy``.

Every rule is scale-aware: a rise or a jump is measured against a floor (a
tenth of the first value; a quarter of the ground gained for a jump), so that
jitter of a loss near zero fires nothing, and trends are judged over the
epochs since a minimum (most steps up), not from one epoch.

Severity says what the evidence is worth. Weak or small evidence (a climb
that gives back less than a quarter of what val_loss had gained, a single
spike, a steady climb of 5-10%) is a low-severity "possible ..." finding;
medium and high need the problem to cost clearly (see :func:`overfitting`).

How far a run got (``underfitting``, ``lr_too_low``, ``train_val_mismatch``)
is read in :mod:`toolkit.diagnose.fitting`. Each threshold is a named
constant with the reason for its value. Epochs are counted from 1 in the
evidence, as the plots count them.
"""

from __future__ import annotations

import math

import numpy as np

from toolkit.diagnose.findings import Finding
from toolkit.diagnose.remedies import finding
from toolkit.diagnose.run import Run, end_level, noise, num, pct, rise_text, rising_share, settled, smooth, times, window

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
#: A val_loss climb below OVERFIT_RISE is still a "possible overfitting" (low) when it is steady (most
#: steps up) for at least 6 validations, clears the noise test, and reaches 5%: 6 steps of which most go up
#: happen by chance about once in ten plateaus, and the 3-sigma test removes most of those.
POSSIBLE_RISE = 0.05
POSSIBLE_STEPS = 6
#: A training accuracy this far (15 points) above validation accuracy is a generalization gap, not noise.
OVERFIT_ACC_GAP = 0.15
#: ... and 10 points (the accuracy that dropout or augmentation alone cannot explain, as MISMATCH_GAP)
#: confirm a val_loss climb: two independent signs agree, and the gap is accuracy lost clearly (medium).
OVERFIT_CONFIRM_GAP = 0.10
#: Without ``num_classes``, a classifier (a run that logs an accuracy) is judged against the largest number
#: of classes a course model meets, 1000 (ImageNet): 3 x ln 1000 = 20.7 is confidently wrong for any k.
MAX_CLASSES = 1000
SEVERITY_ORDER = ("low", "medium", "high")
#: A zig-zag needs this many epochs (three interior turning points to look at).
MIN_NOISE_EPOCHS = 5
#: Epoch-to-epoch noise of 10% of the loss's level (one standard deviation) blurs any trend of a few %
#: per epoch; the epoch means of a healthy run wobble by 1-5%.
NOISY_LEVEL = 0.10
#: ... and the curve turns at 40% or more of its epochs (at least twice); pure noise turns at about 2/3.
NOISY_TURNS = 0.4
#: A one-epoch jump by half of the loss's level (healthy epochs move it by 1-5%) can be a spike (see _spikes).
SPIKE_JUMP = 0.5
#: Below a tenth of its first value a loss has converged: its rises and swings are measured against
#: that tenth, so that 0.02 -> 0.03 is not read as a 50% climb.
FLOOR = 0.1
#: A training loss diverges only when it gives back at least a quarter of the ground it had gained
#: (from its highest value before the minimum down to the minimum): a jump from 0.0009 to 0.009 after
#: a fall from 0.65 is jitter around convergence, not lost learning, however large the ratio.
REGAIN = 0.25
#: A rise is a trend, not noise, when at least 3 in 4 of the steps since the minimum go up (and there
#: are at least 3 of them): noise goes up about half the time.
RISING_MOST = 0.75
MIN_RISING_STEPS = 3


def _climb(x: np.ndarray):
    """``(rise, index of the smoothed minimum, its value, end level)`` when ``x`` ends clearly above its minimum.

    The rise is relative to the minimum, or to a tenth of the first value when the minimum is lower (FLOOR).
    "Clearly" is judged over the epochs since the minimum, not one epoch: the end level clears
    ``NOISE_SIGMAS`` noise deviations, or most of the steps since the minimum go up (RISING_MOST).
    """
    if len(x) < MIN_TREND_EPOCHS:
        return None
    s = smooth(x)
    m = int(np.argmin(s))
    if m > len(x) - 3:  # the minimum is at the end: nothing has climbed yet
        return None
    end = end_level(x)
    if end <= s[m]:
        return None
    since = x[int(np.argmin(x[max(m - 1, 0):m + 2])) + max(m - 1, 0):]  # from the raw minimum near m
    sustained = len(since) > MIN_RISING_STEPS and rising_share(since) >= RISING_MOST
    if end - s[m] < NOISE_SIGMAS * noise(x) and not sustained:
        return None
    base = max(s[m], FLOOR * abs(x[0]), 1e-12)
    return (end - s[m]) / base, m, float(s[m]), end


def _steady_rise(x: np.ndarray):
    """``(rise, index of the raw minimum, its value, last value)`` when most steps since the raw minimum go up.

    A rise in (nearly) every epoch since the minimum needs no smoothing to be told from noise, and smoothing
    would blunt a short one (three epochs up by 17% read as +8% between 3-epoch means).
    """
    if len(x) < MIN_TREND_EPOCHS:
        return None
    m = int(np.argmin(x))
    since = x[m:]
    if len(since) <= MIN_RISING_STEPS or rising_share(since) < RISING_MOST:
        return None
    base = max(float(x[m]), FLOOR * abs(x[0]), 1e-12)
    return (float(x[-1]) - float(x[m])) / base, m, float(x[m]), float(x[-1])


def _raw_min(x: np.ndarray, m: int) -> int:
    """The index of the lowest raw value next to the smoothed minimum ``m`` (the number a log shows)."""
    lo = max(m - 1, 0)
    return lo + int(np.argmin(x[lo:m + 2]))


def _regained(x: np.ndarray, m: int, value: float) -> float:
    """How much of the ground gained before index ``m`` a loss of ``value`` gives back (0 to 1 and beyond)."""
    peak, low = float(np.max(x[: m + 1])), float(np.min(x[: m + 1]))
    return (value - low) / (peak - low) if peak > low else np.inf


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
        epochs = run.series_epochs.get(key)
        at = (lambda j: int(epochs[j])) if epochs is not None and len(epochs) == len(values) else run.epoch
        text = f"{key} became {what} at epoch {at(i)}"
        if i > 0:
            text += f" (it was {num(values[i - 1])} at epoch {at(i - 1)})"
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
        regained = np.array([_regained(x, j, x[j + 1]) for j in range(len(x) - 1)])
        ratio = np.where(regained >= REGAIN, ratio, 0.0)  # a jump that undoes nothing is jitter
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
        r = _raw_min(x, m)
        evidence.append(
            f"loss rose {rise_text(rise)} its minimum ({num(x[r])} at epoch {run.epoch(r)}; 3-epoch mean "
            f"{num(best)}), to {num(end)} over the last {window(len(x))} epochs ({num(x[-1])} at epoch {run.epoch(-1)})"
        )
        severity = "high" if rise >= 1.0 else severity
    if run.chance_loss and len(x) and x[-1] >= CHANCE_DIVERGE * run.chance_loss:
        evidence.append(
            f"the last loss {num(x[-1])} is {times(x[-1] / run.chance_loss)} the loss of guessing "
            f"among {run.num_classes} classes (ln {run.num_classes} = {num(run.chance_loss)})"
        )
        severity = "high"
    elif len(x) >= 2 and (run.chance_loss or run.acc is not None):
        k = run.num_classes or MAX_CLASSES
        chance = math.log(k)
        j = int(np.argmax(x))
        if x[j] >= CHANCE_DIVERGE * chance and x[-1] < x[j]:
            among = f"among {k} classes" if run.num_classes else f"among as many as {MAX_CLASSES} classes"
            evidence.append(
                f"the loss was {num(x[j])} at epoch {run.epoch(j)}, {times(x[j] / chance)} the loss of guessing "
                f"{among} (ln {k} = {num(chance)}): outputs confidently wrong, as when the inputs are on a large "
                f"scale or the learning rate is far too high; it came back to {num(x[-1])} by epoch {run.epoch(-1)}"
            )
            severity = max(severity, "low", key=SEVERITY_ORDER.index) if len(evidence) > 1 else "low"
    if not evidence:
        return None
    return finding("diverging", severity, "; ".join(evidence) + run.lr_note() + ".")


def _val_epoch(run: Run, index: int) -> int:
    return run.val_epoch(index) if run.val_labels is not None else run.epoch(index)


def _given_back(x: np.ndarray, m: int, value: float) -> tuple[float, float]:
    """``(share, ground)``: the share of the ground ``x`` gained before index ``m`` (its highest value before
    ``m`` down to ``x[m]``, smoothed) that a value of ``value`` gives back; ``inf`` when nothing was gained."""
    s = smooth(x)
    ground = float(np.max(s[: m + 1])) - float(s[m])
    return ((value - float(s[m])) / ground if ground > 0 else np.inf), ground


def _overfit_severity(rise: float, given: float, gap: float) -> str:
    """High when val_loss doubled; medium from +25% when it also gave back a quarter of its gains, or when a
    training accuracy OVERFIT_CONFIRM_GAP above validation accuracy confirms the climb; else low."""
    if rise >= 1.0:
        return "high"
    return "medium" if (rise >= 0.25 and given >= REGAIN) or gap >= OVERFIT_CONFIRM_GAP else "low"


def _given_text(given: float, ground: float) -> str:
    if not np.isfinite(given):
        return "; val_loss was never below its first validations, so the model never generalized better"
    return (f"; that gives back {pct(given)} of the {num(ground)} val_loss had gained before its minimum"
            + (" (less than a quarter)" if given < REGAIN else ""))


def overfitting(run: Run) -> Finding | None:
    """val_loss climbing while loss does not, or training accuracy far above validation accuracy.

    How much it costs decides the severity: a climb that doubles val_loss is high; one of 25% or more is
    medium when it gives back at least a quarter (REGAIN) of the ground val_loss had gained, since a smaller
    one is early overfitting that stopping at the best epoch avoids, or when a training accuracy 10 points
    above validation accuracy (OVERFIT_CONFIRM_GAP) confirms it; the rest, and a steady climb of 5-10%
    (POSSIBLE_RISE) that clears the noise, is a low "possible overfitting". An accuracy gap alone is low
    from 15 points, medium from 25, high from 40.
    """
    evidence, severity = [], "low"
    v = run.val_loss
    has_gap = run.acc is not None and run.val_acc is not None and run.n >= 2
    gap = end_level(run.acc) - end_level(run.val_acc) if has_gap else -np.inf
    if v is not None:
        loss = run.at_val(run.loss) if run.val_index is not None else run.loss  # paired with val_loss
        climb = _climb(v)
        if climb and climb[0] >= OVERFIT_RISE:
            rise, m, best, end = climb
            train_then, train_end = float(smooth(loss)[m]), end_level(loss)
            if train_end <= train_then:
                change = f"fell {pct(1 - train_end / train_then)}" if train_then > 0 else "kept falling"
                given, ground = _given_back(v, m, end)
                r = _raw_min(v, m)
                evidence.append(
                    f"val_loss rose {rise_text(rise)} its minimum ({num(v[r])} at epoch {_val_epoch(run, r)}; 3-epoch "
                    f"mean {num(best)}), to {num(end)} over the last {window(len(v))} validations ({num(v[-1])} at "
                    f"epoch {_val_epoch(run, len(v) - 1)}), while loss {change} ({num(train_then)} to {num(train_end)})"
                    + _given_text(given, ground)
                )
                severity = _overfit_severity(rise, given, gap)
        steady = _steady_rise(v) if not evidence else None
        small = steady and steady[0] < OVERFIT_RISE
        if small:  # a small climb is a trend only when it is long, steady and above the noise
            since = len(v) - 1 - steady[1]
            small = since >= POSSIBLE_STEPS and steady[0] >= POSSIBLE_RISE and \
                steady[3] - steady[2] >= NOISE_SIGMAS * noise(v)
        if steady and (steady[0] >= OVERFIT_RISE or small):
            rise, m, best, last = steady
            if loss[-1] < loss[m]:
                rises = int(np.sum(np.diff(v[m:]) > 0))
                given, ground = _given_back(v, m, last)
                evidence.append(
                    f"val_loss rose in {rises} of the {len(v) - 1 - m} validations since its minimum "
                    f"{num(best)} at epoch {_val_epoch(run, m)}, to {num(last)} ({pct(rise)} above), while loss fell "
                    f"{pct(1 - loss[-1] / loss[m])} ({num(loss[m])} to {num(loss[-1])})" + _given_text(given, ground)
                )
                severity = "low" if small else _overfit_severity(rise, given, gap)
    climbed = bool(evidence)
    if has_gap:
        if gap >= OVERFIT_ACC_GAP or (evidence and gap >= OVERFIT_CONFIRM_GAP):
            train_at, val_at = run.epoch(-1), _val_epoch(run, len(run.val_acc) - 1)
            last = (f"{num(run.acc[-1])} and {num(run.val_acc[-1])} at epoch {train_at}" if train_at == val_at else
                    f"{num(run.acc[-1])} at epoch {train_at} and {num(run.val_acc[-1])} at epoch {val_at}")
            evidence.append(
                f"training {run.acc_name} {num(end_level(run.acc))} is {100 * gap:.0f} points above "
                f"validation {run.acc_name} {num(end_level(run.val_acc))} (means of the last epochs; {last})"
            )
            gap_severity = "high" if gap >= 0.4 else "medium" if gap >= 0.25 else "low"
            severity = max(severity, gap_severity, key=("low", "medium", "high").index)
    if not evidence:
        return None
    early = ": early overfitting, which stopping at the best epoch avoids" if severity == "low" and climbed else ""
    return finding("overfitting", severity, "; ".join(evidence) + early + ".")


def _spikes(x: np.ndarray) -> list[tuple[int, int, float]]:
    """``[(j, k, given back)]``: jumps from entry ``j`` to ``j + 1`` that are spikes, ``k`` where the curve fell back.

    A spike rises by SPIKE_JUMP of its level (the value before, or a tenth of the first value when that is
    lower: FLOOR) in one epoch, by NOISE_SIGMAS noise deviations, gives back REGAIN of the ground gained before
    it, and is followed by a fall back at least halfway to where it started (otherwise it is a climb).
    """
    spikes, sigma = [], noise(x)
    for j in range(len(x) - 2):
        up = float(x[j + 1] - x[j])
        if up <= 0 or up < SPIKE_JUMP * max(float(x[j]), FLOOR * abs(float(x[0])), 1e-12) or up < NOISE_SIGMAS * sigma:
            continue
        given = _regained(x, j, float(x[j + 1]))
        back = np.flatnonzero(x[j + 2:] <= x[j] + 0.5 * up)
        if given >= REGAIN and back.size:
            spikes.append((j, j + 2 + int(back[0]), given))
    return spikes


def noisy(run: Run) -> Finding | None:
    """Large back-and-forth swings of loss or val_loss from one epoch to the next, or spikes that fall back.

    Swings are measured against the loss's settled level (NOISY_LEVEL) and must turn often (NOISY_TURNS);
    a spike (:func:`_spikes`: a one-epoch jump by half the level that undoes a quarter of the progress and
    then falls back) is the optimizer overshooting, e.g. a batch too small for the learning rate: one
    spike alone is a low "possible noisy", whatever the swings say.
    """
    evidence, worst = [], 0.0
    for key, x in (("loss", run.loss), ("val_loss", run.val_loss)):
        if x is None or len(x) < MIN_NOISE_EPOCHS:
            continue
        at = (lambda i: _val_epoch(run, i)) if key == "val_loss" else run.epoch
        d = np.diff(x)
        turns = int(np.sum(d[:-1] * d[1:] < 0))  # interior epochs where the direction changes
        if turns >= 2 and turns >= NOISY_TURNS * (len(x) - 2):
            level = max(float(np.median(np.abs(settled(x)))), FLOOR * abs(x[0]), 1e-12)
            size = noise(x) / level
            if size >= NOISY_LEVEL:
                t = int(np.argmax(np.where(d[:-1] * d[1:] < 0, np.abs(d[:-1]) + np.abs(d[1:]), -1.0)))
                evidence.append(
                    f"{key} jumps up and down by about {pct(size)} of its level ({num(level)}) from one epoch to "
                    f"the next, changing direction at {turns} of {len(x) - 2} epochs (e.g. {num(x[t])}, "
                    f"{num(x[t + 1])}, {num(x[t + 2])} at epochs {at(t)}-{at(t + 2)})"
                )
                worst = max(worst, size)
        spikes = _spikes(x)
        if spikes:
            j, k, given = max(spikes, key=lambda t: x[t[0] + 1] / max(x[t[0]], 1e-12))
            many = f"{key} spiked {len(spikes)} times; the largest: it" if len(spikes) > 1 else key
            gave = f"undoing {pct(given)} of the progress before it" if np.isfinite(given) else "above everything before it"
            evidence.append(
                f"{many} jumped from {num(x[j])} at epoch {at(j)} to {num(x[j + 1])} at epoch {at(j + 1)} "
                f"({times(x[j + 1] / max(x[j], 1e-12))}), {gave}, and fell back to {num(x[k])} by epoch {at(k)}"
            )
    if not evidence:
        return None
    severity = "high" if worst >= 0.5 else "medium" if worst >= 0.25 else "low"
    return finding("noisy", severity, "; ".join(evidence) + run.lr_note() + ".")
