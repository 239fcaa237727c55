"""Checks for the exercises of notebook 05 (learning-rate schedules).

* :func:`check_lr_from_finder`: read a learning rate off the LR finder's plot.
* :func:`check_exponential_decay`: the exponential schedule by hand.
* :func:`check_onecycle_total_steps`: how many steps a 1cycle must span.
"""

from __future__ import annotations

import math

import numpy as np

from toolkit.exercises.feedback import as_count, as_number, checker, safe_repr


def _close(a: float, b: float, rel: float = 1e-3) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)


def _positive_number(answer) -> float | None:
    """The answer as a positive finite float, read strictly (:func:`as_number`), or None."""
    try:
        value = as_number(answer)
    except ValueError:
        return None
    return value if value > 0 else None


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
        return False, f"A learning rate is a positive number; got {safe_repr(answer)}.", "Write it as a float, e.g. 3e-3."
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
        return False, f"A learning rate is a positive number; got {safe_repr(answer)}.", "Use ** for powers in Python."
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
    try:
        steps = as_count(answer)
    except ValueError:
        return False, f"A number of steps is a whole number, an int; got {safe_repr(answer)}.", (
            "Use math.ceil for a partial batch: it returns an int (a float such as 4.0 is not a count)."
        )
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


# Predict, run, explain: a large batch at a higher learning rate (exercise 4) ----------------------

from toolkit.exercises.feedback import as_array, as_choice, as_count, is_placeholder, safe_repr, type_name  # noqa: E402

_BATCH_OUTCOMES = ("trains", "diverges")

_BATCH_WHY = {
    "diverges": (
        "A larger batch removes noise from the gradient: that is why batch {batch} survived lr = 1, where the noisy "
        "steps of small batches were thrown far off. But the largest stable step is set by the curvature of the loss, "
        "as on notebook 04's bowl (no step above 2/25 there): averaging more images estimates the same gradient and "
        "the same curvature better, it does not flatten the loss. Above that limit every step overshoots, whatever "
        "the batch size, so scaling the rate with the batch works only up to it."
    ),
    "trains": (
        "Its gradient, averaged over {batch} images, is smooth enough that steps of lr = {lr:g} still land downhill. "
        "The limit is set by the curvature of the loss (as on notebook 04's bowl), which a larger batch does not "
        "change: raise the rate further and this run too will diverge."
    ),
}


def _history_of(run):
    """``run.history`` as an exact dict (a Keras History, or the dict itself), or an AnswerError-like ValueError."""
    history = run if type(run) is dict else getattr(run, "history", None)
    if type(history) is not dict:
        raise ValueError(
            f"the run must be the History that train(...)[1] returns, got {type_name(run)}; "
            "write large_batch_lr3 = train(3.0, batch_size=LARGE_BATCH)[1]"
        )
    return history


@checker(
    "Predict, run, explain: a large batch at lr = 3",
    placeholder_message='Write "trains" or "diverges" before you run the experiment.',
)
def check_large_batch_lr(answer, *, run=None, lr: float = 3.0, batch_size: int = 512, n_train=None):
    """``answer``: does batch ``batch_size`` still train at rate ``lr``? Predicted before the run.

    ``run`` is the student's training (the History of ``train(lr, batch_size=...)``,
    with the ``learning_rate`` that LearningRateLogger writes); the check reads
    what it measured, checks that it is the experiment asked for (its rate, and
    its steps per epoch when ``n_train`` is given), and compares the outcome
    with the prediction. Nothing about the outcome is stored.
    """
    prediction = as_choice(answer, _BATCH_OUTCOMES)
    if run is None or is_placeholder(run):
        return False, "Your prediction is written; now run the experiment.", (
            "Replace ... with train(3.0, batch_size=LARGE_BATCH)[1] and run the cell again."
        )
    history = _history_of(run)
    rates = history.get("learning_rate")
    if rates is None:
        return False, "This run has no learning rate in its history.", "Use the notebook's train(...), which logs it."
    rates = as_array(rates, finite=False)
    if rates.size == 0 or not np.allclose(rates, lr, rtol=1e-3):
        return False, f"This run was trained at lr = {safe_repr(rates.tolist())}, not at lr = {lr:g}.", (
            f"Pass the rate {lr:g} to train(...)."
        )
    if n_train is not None:
        expected = math.ceil(as_count(n_train) / batch_size)
        params = getattr(run, "params", None)
        steps = dict.get(params, "steps") if type(params) is dict else None
        if steps is not None and steps != expected:
            return False, f"This run made {steps} steps per epoch; batch {batch_size} makes {expected}.", (
                "Pass batch_size=LARGE_BATCH to train(...)."
            )
    val_accuracy = as_array(history.get("val_accuracy", []), finite=False)
    losses = as_array(history.get("loss", []), finite=False)
    if val_accuracy.size == 0:
        return False, "This run has no validation accuracy.", "Use the notebook's train(...), which validates every epoch."
    final = float(val_accuracy[-1])
    outcome = "trains" if np.isfinite(final) and final >= 0.5 and np.all(np.isfinite(losses)) else "diverges"
    measured = (f"Measured: batch {batch_size} at lr = {lr:g} ends at validation accuracy {final:.1%} "
                f"({'well above' if outcome == 'trains' else 'near'} chance, 10%).")
    why = _BATCH_WHY[outcome].format(batch=batch_size, lr=lr)
    if prediction == outcome:
        return True, f"Your prediction holds. {measured} {why}", ""
    return False, f"You predicted {prediction!r}. {measured}", why
