"""Checks for the exercises of notebook 05 (learning-rate schedules).

* :func:`check_lr_from_finder`: read a learning rate off the LR finder's plot.
* :func:`check_exponential_decay`: the exponential schedule by hand.
* :func:`check_onecycle_total_steps`: how many steps a 1cycle must span.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from toolkit.exercises.feedback import checker


def _close(a: float, b: float, rel: float = 1e-3) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)


def _positive_number(answer) -> float | None:
    if isinstance(answer, bool) or not isinstance(answer, numbers.Real):
        return None
    value = float(answer)
    return value if math.isfinite(value) and value > 0 else None


def finder_regions(lrs, losses) -> tuple[float, float, float]:
    """``(low, high, lr_at_minimum)``: the range of good learning rates on a finder curve.

    The minimum of the smoothed loss is the edge of the blow-up, not the
    best rate; the usual advice is to go about ten times lower. The range
    accepted here spans two decades around that: from 300x to 3x below the
    learning rate at the minimum. The first 10% of the points, single noisy
    batches at negligible rates, are left out of the minimum, as the
    finder's own suggestion does.
    """
    lrs = np.asarray(lrs, dtype=float)
    losses = np.asarray(losses, dtype=float)
    if lrs.ndim != 1 or lrs.shape != losses.shape or len(lrs) < 5:
        raise ValueError("lrs and losses must be two lists of the same length (at least 5 points)")
    skip = len(losses) // 10
    at_min = float(lrs[skip + int(np.argmin(losses[skip:]))])
    return at_min / 300.0, at_min / 3.0, at_min


@checker("Pick a learning rate from the LR finder", placeholder_message="Set my_lr to a learning rate read off the plot.")
def check_lr_from_finder(answer, *, finder=None, lrs=None, losses=None):
    """Is ``answer`` in the useful range of the finder's curve?

    Pass the finder itself (``finder=``), or its ``lrs`` and ``losses``.
    """
    if finder is not None:
        lrs, losses = finder.lrs, finder.losses
    if lrs is None or losses is None:
        return False, "The check needs the finder's curve.", "Call check_lr_from_finder(my_lr, finder=finder)."
    lr = _positive_number(answer)
    if lr is None:
        return False, f"A learning rate is a positive number; got {answer!r}.", "Write it as a float, e.g. 3e-3."
    low, high, at_min = finder_regions(lrs, losses)
    if lr < lrs[0] or lr > max(lrs):
        return False, "That learning rate is outside the range the finder tried.", (
            "Pick a value on the curve's x axis, between its left and right ends."
        )
    if lr < low:
        return False, "Too low: the curve is still nearly flat there, far left of its minimum.", (
            "Training would crawl. Move right, into the stretch where the curve falls steeply."
        )
    if lr > at_min:
        return False, "Too high: the loss is already past its minimum and rising there.", (
            "Right of the minimum the updates overshoot and training diverges. Move well left of the minimum."
        )
    if lr > high:
        return False, "Too high: that is at (or just before) the minimum of the curve.", (
            "The minimum is the edge of the blow-up, not the best rate: the loss is lowest there because it is "
            "about to explode. Go about ten times lower, where the curve is still falling steeply."
        )
    return True, "Good choice: the loss falls steeply there and is far from blowing up.", ""


def _exponential_decay(initial_learning_rate, decay_steps, decay_rate, step) -> float:
    """The value of Keras's own ExponentialDecay (continuous), at one step."""
    import keras

    schedule = keras.optimizers.schedules.ExponentialDecay(initial_learning_rate, decay_steps, decay_rate)
    return float(keras.ops.convert_to_numpy(schedule(step)))


@checker("ExponentialDecay by hand", placeholder_message="Compute the learning rate with a pencil (or Python's **).")
def check_exponential_decay(answer, *, initial_learning_rate=0.05, decay_steps=1000, decay_rate=0.1, step=2500):
    """Is ``answer`` the learning rate of ``ExponentialDecay`` at ``step``?

    The reference value comes from Keras's schedule itself.
    """
    lr = _positive_number(answer)
    if lr is None:
        return False, f"A learning rate is a positive number; got {answer!r}.", "Use ** for powers in Python."
    eta0, s, rate, t = initial_learning_rate, decay_steps, decay_rate, step
    if _close(lr, _exponential_decay(eta0, s, rate, t)):
        return True, f"Right: that is what the schedule gives at step {t}.", ""
    mistakes = [
        (eta0 * rate ** (t // s), "That is the staircase version (integer division t // s). By default Keras's "
         "ExponentialDecay is smooth: the exponent t / s is a fraction."),
        (rate ** (t / s), "You left out the initial learning rate η0 that the decay factor multiplies."),
        (eta0 * (1 - rate) ** (t / s), "A decay rate of 0.1 means the LR is multiplied by 0.1 every s steps, "
         "not reduced by 10%."),
        (eta0 * rate ** (s / t), "The exponent is steps taken over decay steps, t / s, not s / t."),
        (eta0 * rate * t / s, "The decay is a power: the rate is raised to t / s, not multiplied by it."),
        (eta0 * math.exp(-rate * t / s), "That is e^(-rate · t/s); the formula raises the rate itself to t / s."),
    ]
    for value, hint in mistakes:
        if _close(lr, value):
            return False, "Not the schedule's value.", hint
    return False, "Not the schedule's value.", "Use η(t) = η0 · rate^(t / s) with the numbers given."


@checker("Steps of a 1cycle schedule", placeholder_message="Compute total_steps for OneCycle.")
def check_onecycle_total_steps(answer, *, n_train=60000, batch_size=128, epochs=10):
    """Is ``answer`` the number of optimizer steps of the whole training?"""
    if isinstance(answer, bool) or not isinstance(answer, numbers.Real) or not float(answer).is_integer():
        return False, f"A number of steps is a whole number; got {answer!r}.", "Use math.ceil for a partial batch."
    steps = int(answer)
    per_epoch = math.ceil(n_train / batch_size)
    if steps == per_epoch * epochs:
        return True, "Right: the schedule spans every batch of every epoch.", ""
    if steps == (n_train // batch_size) * epochs:
        return False, "A few steps short.", "The last, smaller batch of each epoch is a step too: round up."
    if steps == per_epoch or steps == n_train // batch_size:
        return False, "That is one epoch.", "The schedule must span the whole training, all the epochs."
    if steps == epochs:
        return False, "That counts epochs, not steps.", (
            "A schedule is evaluated at every optimizer step (one per batch), not once per epoch."
        )
    if steps in (n_train * epochs, n_train):
        return False, "That counts samples, not steps.", "The optimizer takes one step per batch of samples."
    if steps < per_epoch * epochs:
        return False, "Too few steps: the 1cycle would end early and train on at its tiny final rate.", (
            "Count batches per epoch times epochs."
        )
    return False, "Too many steps: the 1cycle would never reach its low final rate.", (
        "Count batches per epoch times epochs."
    )
