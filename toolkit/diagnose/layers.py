"""Reading the layer monitors: vanishing and exploding gradients, dead units.

The keys come from the toolkit's monitors: ``grad_norm/<layer>``
(:class:`~toolkit.callbacks.GradientMonitor`, layers in model order, first
to last), ``dead_fraction/<layer>`` and ``act_std/<layer>``
(:class:`~toolkit.callbacks.ActivationMonitor`). Monitors write NaN on the
epochs they skip; only measured values are read. A CSV log (CSVLogger sorts
its columns by name) keeps the model order only when layer names sort that
way, as Keras's default names do (``dense``, ``dense_1``, ...).
"""

from __future__ import annotations

import re

import numpy as np

from toolkit.diagnose.findings import Finding
from toolkit.diagnose.remedies import finding
from toolkit.diagnose.run import Run, chance_classes, last_measured, num, pct

#: First-layer gradient norm at 1% of the last layer's or less: two orders of magnitude,
#: where a healthy network keeps its layers within about 10x of each other.
VANISHING_RATIO = 1e-2
#: ... at 0.01% or less (four orders of magnitude) the first layers have all but stopped learning: severity high.
VANISHING_SEVERE = 1e-4
#: A layer's gradient norm grown 100x since the first measured epoch: orders of magnitude, not a drift.
EXPLODING_GROWTH = 100.0
#: First-layer norm 100x the last layer's: gradients grow by orders of magnitude on the way back.
EXPLODING_RATIO = 100.0
#: More than half of a layer's units output 0 for every probe sample: "most units dead".
DEAD_FRACTION = 0.5
#: Nine in ten units dead: the layer is barely there: severity high.
DEAD_SEVERE = 0.9


def _order(names):
    """Model order as the monitors write it; natural order ('dense_2' < 'dense_10') for sorted CSV columns."""
    names = list(names)
    if names == sorted(names):
        return sorted(names, key=lambda s: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)])
    return names


def _recent(values: np.ndarray) -> float | None:
    """The median of the last three measured values (None when never measured)."""
    last = last_measured(values)
    return float(np.median(last)) if last.size else None


#: Vanishing gradients that lasted this many measured epochs and then recovered are still reported
#: (at low severity): the first layers lost those epochs, and the cause (init, activation) is still there.
#: A shorter stretch counts when the run sat at the chance level through it (loss ln k, accuracy 1/k):
#: then the loss shows the lost epochs too.
VANISHED_EPOCHS = 3


def _ratios(run: Run, names) -> np.ndarray:
    """First-layer over last-layer gradient norm at every epoch both were measured (NaN elsewhere)."""
    first, last = run.grad_norms[names[0]], run.grad_norms[names[-1]]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.isfinite(first) & np.isfinite(last) & (last > 0), first / last, np.nan)


def _vanished_early(run: Run, names) -> Finding | None:
    """The ratio stayed below VANISHING_RATIO for VANISHED_EPOCHS measured epochs or more, or for fewer while the
    run sat at the chance level (loss ln k, accuracy 1/k), then recovered."""
    ratios = _ratios(run, names)
    measured = np.flatnonzero(np.isfinite(ratios))
    low = ratios[measured] <= VANISHING_RATIO
    best, run_len, start, best_start = 0, 0, 0, 0
    for i, flag in enumerate(low):
        run_len = run_len + 1 if flag else 0
        start = i - run_len + 1 if flag else start
        if run_len > best:
            best, best_start = run_len, start
    if best == 0:
        return None
    a, b = measured[best_start], measured[best_start + best - 1]
    at_chance = run.acc is not None and b < min(len(run.loss), len(run.acc)) and all(
        chance_classes(float(run.loss[i]), float(run.acc[i])) for i in range(a, b + 1))
    if best < VANISHED_EPOCHS and not at_chance:
        return None
    stretch = ratios[measured[best_start:best_start + best]]
    lowest, highest = float(np.nanmin(stretch)), float(np.nanmax(stretch))
    span = f"from epoch {run.epoch(a)} to {run.epoch(b)}" if b > a else f"at epoch {run.epoch(a)}"
    text = (f"the gradient norm of the first layer {names[0]!r} was {lowest:.1e} to {highest:.1e} times that of the "
            f"last layer {names[-1]!r} {span} ({best} measured epoch{'s' if best > 1 else ''}) before it recovered")
    if at_chance:
        k = chance_classes(float(run.loss[b]), float(run.acc[b]))
        text += (f", while the loss sat at the loss of guessing ({num(run.loss[b])} at epoch {run.epoch(b)}, "
                 f"ln {k} = {num(np.log(k))}) with {run.acc_name} {num(run.acc[b])}")
    return finding("vanishing_gradients", "low", text + ": the first layers hardly learned in those epochs.")


def vanishing_gradients(run: Run) -> Finding | None:
    """The first layer's gradient norm orders of magnitude below the last layer's (now, or for several epochs)."""
    names = _order(run.grad_norms)
    if len(names) < 2:
        return None
    first, last = _recent(run.grad_norms[names[0]]), _recent(run.grad_norms[names[-1]])
    if first is None or last is None or not np.isfinite(last) or last <= 0:
        return None
    ratio = first / last
    if ratio > VANISHING_RATIO:
        return _vanished_early(run, names)
    text = (
        f"the gradient norm of the first layer {names[0]!r} ({num(first)}) is {ratio:.1e} times that of the "
        f"last layer {names[-1]!r} ({num(last)}), {-np.log10(max(ratio, 1e-300)):.1f} orders of magnitude smaller"
    )
    stds = [_recent(run.act_stds[n]) for n in _order(run.act_stds)]
    stds = [s for s in stds if s is not None]
    if len(stds) >= 2 and stds[0] > 0 and stds[-1] < 0.1 * stds[0]:
        text += f"; the activations' spread shrinks through depth too ({num(stds[0])} to {num(stds[-1])})"
    return finding(
        "vanishing_gradients", "high" if ratio <= VANISHING_SEVERE else "medium", text + "."
    )


def exploding_gradients(run: Run) -> Finding | None:
    """Gradient norms that grow by orders of magnitude over the epochs, or towards the input, or overflow."""
    names = _order(run.grad_norms)
    evidence, severity = [], "medium"
    for name in names:
        values = run.grad_norms[name]
        if np.any(np.isinf(values)):
            evidence.append(f"the gradient norm of {name!r} overflowed to inf at epoch {run.epoch(int(np.argmax(np.isinf(values))))}")
            severity = "high"
            break
    growth = []
    norms = np.array([run.grad_norms[name] for name in names]) if names else np.empty((0, 0))
    largest = np.fmax.reduce(np.where(np.isfinite(norms), norms, np.nan), axis=0) if len(names) else None
    for name in names:
        v = run.grad_norms[name]
        # Growth is counted from the first epoch where the layer's norm was not itself vanished (at least
        # VANISHING_RATIO of the largest layer's): climbing out of a vanished start is recovery, not explosion.
        with np.errstate(invalid="ignore"):
            usable = np.isfinite(v) & (v > 0) & (v >= VANISHING_RATIO * largest)
        measured = np.flatnonzero(usable)
        if len(measured) >= 2:
            # The early level is the median of the first third of the measured epochs, not the first epoch
            # alone: after a small initialization that one is tiny, and growing out of it is learning.
            early = measured[: max(1, len(measured) // 3)]
            i = int(early[np.argsort(v[early])[(len(early) - 1) // 2]])
            growth.append((v[measured[-1]] / v[i], name, i, measured[-1]))
    if growth:
        g, name, i, j = max(growth)
        if g >= EXPLODING_GROWTH:
            v = run.grad_norms[name]
            evidence.append(
                f"the gradient norm of {name!r} grew {g:.0f}x, from {num(v[i])} at epoch {run.epoch(i)} "
                f"to {num(v[j])} at epoch {run.epoch(j)}"
            )
            severity = "high" if g >= EXPLODING_GROWTH**2 else severity
    if len(names) >= 2:
        first, last = _recent(run.grad_norms[names[0]]), _recent(run.grad_norms[names[-1]])
        if first is not None and last and np.isfinite(first) and first / last >= EXPLODING_RATIO:
            evidence.append(
                f"the first layer {names[0]!r} gets a gradient {first / last:.0f}x that of the last layer {names[-1]!r}"
            )
    if not evidence:
        return None
    return finding("exploding_gradients", severity, "; ".join(evidence) + ".")


def dead_units(run: Run) -> Finding | None:
    """Most units of a layer output 0 for every probe sample (dead ReLUs)."""
    dead = {}
    for name in _order(run.dead_fractions):
        last = last_measured(run.dead_fractions[name], 1)  # the latest measurement: units die and stay dead
        if last.size and last[0] > DEAD_FRACTION:
            dead[name] = float(last[0])
    if not dead:
        return None
    worst = max(dead.values())
    listed = ", ".join(f"{pct(v)} of {n!r}" for n, v in sorted(dead.items(), key=lambda kv: -kv[1]))
    return finding(
        "dead_units",
        "high" if worst >= DEAD_SEVERE else "medium",
        f"units that output 0 for every probe sample, so get no gradient and cannot recover: {listed}.",
    )
