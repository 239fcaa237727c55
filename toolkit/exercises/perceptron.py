"""Exercise checks of lecture 01, the perceptron."""

from __future__ import annotations

import math

import numpy as np

from toolkit.exercises.feedback import as_array, as_choice, as_number, checker

#: The worked neuron of exercise 2: inputs, weights and bias.
NEURON = (np.array([1.0, 2.0, -1.0]), np.array([0.5, -0.25, 1.0]), 0.5)

# (w, b, x, y, lr) cases: one wrong-as-0, one wrong-as-1, one already right.
_UPDATE_CASES = [
    (np.array([0.0, 0.0]), 0.0, np.array([2.0, 3.0]), 1, 0.1),
    (np.array([1.0, 1.0]), 0.5, np.array([2.0, 1.0]), 0, 0.5),
    (np.array([1.0, -1.0]), 0.0, np.array([3.0, 1.0]), 1, 0.2),
]


def _reference_update(w, b, x, y, lr):
    error = y - int(w @ x + b > 0)
    return w + lr * error * x, b + lr * error


@checker("Perceptron update", placeholder_message="Fill in perceptron_update(w, b, x, y, lr).")
def check_perceptron_update(answer):
    """``answer`` is a function ``(w, b, x, y, lr) -> (new_w, new_b)``."""
    if not callable(answer):
        return False, "perceptron_update must be a function.", "Define it with def perceptron_update(w, b, x, y, lr): ..."
    for w, b, x, y, lr in _UPDATE_CASES:
        out = answer(w.copy(), b, x.copy(), y, lr)
        if out is None or out is Ellipsis:
            return False, "perceptron_update returned nothing.", "Return the pair (new_w, new_b)."
        new_w, new_b = out
        new_w, new_b = as_array(new_w, shape=w.shape), as_number(new_b)
        want_w, want_b = _reference_update(w, b, x, y, lr)
        if np.allclose(new_w, want_w) and math.isclose(new_b, want_b, abs_tol=1e-9):
            continue
        error = y - int(w @ x + b > 0)
        if error and np.allclose(new_w, w - lr * error * x):
            return False, "The weights moved the wrong way.", "Check the sign: the update is + lr · (y − ŷ) · x."
        if np.allclose(new_w, want_w):
            return False, "The weights are right but the bias is not.", (
                "The bias is a weight on a constant input of 1: it changes by lr · (y − ŷ) too."
            )
        raw_error = y - float(w @ x + b)
        if np.allclose(new_w, w + lr * raw_error * x):
            return False, "ŷ must be a class, 0 or 1.", (
                "You used the weighted sum w·x + b itself as ŷ. The perceptron first thresholds it: ŷ = 1 if w·x + b > 0, else 0."
            )
        if error == 0 and not np.allclose(new_w, w):
            return False, "A correctly classified sample changed the weights.", (
                "When ŷ equals y the error y − ŷ is 0, so nothing moves."
            )
        return False, "The new weights are not what the rule gives.", "Compute ŷ first (1 if w·x + b > 0), then the error y − ŷ."
    return True, "Your update matches the perceptron rule on three cases.", ""


@checker("Output of one neuron", placeholder_message="Compute the sigmoid output of the neuron.")
def check_neuron_output(answer):
    value = as_number(answer)
    x, w, b = NEURON
    total = float(x @ w + b)
    right = 1 / (1 + math.exp(-total))
    if math.isclose(value, right, abs_tol=1e-3):
        return True, f"sigmoid(w·x + b) = {value:.3f}.", ""
    if math.isclose(value, 1 / (1 + math.exp(-(total - b))), abs_tol=1e-3):
        return False, "Not the neuron's output.", "Did you forget the bias? The sum is w·x + b."
    if math.isclose(value, total, abs_tol=1e-3):
        return False, "That is the weighted sum, before the activation.", "Pass the sum through the sigmoid 1 / (1 + e^(−z))."
    if math.isclose(value, 1 / (1 + math.exp(total)), abs_tol=1e-3):
        return False, "Not the neuron's output.", "Check the sign in the sigmoid: 1 / (1 + e^(−z))."
    return False, "Not the neuron's output.", "Multiply each input by its weight, add them and the bias, then apply the sigmoid."


# Exercise 3 (predict, run, explain): the perceptron's learning rate from a zero start -----------------

#: The experiment of exercise 3: the lecture's line (``make_linear``), the rates trained, the rate predicted.
LR_EXPERIMENT = {"points": 200, "seed": 0, "epochs": 100, "rates": (0.01, 0.1, 1.0), "baseline": 0.1, "predicted": 1.0}
_LR_CHOICES = ("fewer", "same", "more")


def _perceptron_mistakes(x, y, lr, *, epochs, seed):
    """Mistakes per epoch of the notebook's perceptron (zero start, the reference update, shuffled order)."""
    w, b = np.zeros(x.shape[1]), 0.0
    rng = np.random.default_rng(seed)
    errors = []
    for _ in range(epochs):
        mistakes = 0
        for i in rng.permutation(len(x)):
            mistakes += int(y[i] != int(w @ x[i] + b > 0))
            w, b = _reference_update(w, b, x[i], y[i], lr)
        errors.append(mistakes)
        if mistakes == 0:
            break
    return errors


def measure_learning_rates(x=None, y=None):
    """Run exercise 3's experiment: ``{rate: mistakes per epoch}`` for each rate of :data:`LR_EXPERIMENT`.

    Args:
        x: points of shape ``(n, 2)``; by default the lecture's line, ``make_linear(200, seed=0)``.
        y: their 0/1 labels, shape ``(n,)``; given together with ``x``.

    Example:

    >>> runs = measure_learning_rates()
    >>> sorted(runs) == sorted(LR_EXPERIMENT["rates"])
    True
    """
    if x is None and y is None:
        from toolkit.data import make_linear

        x, y = make_linear(LR_EXPERIMENT["points"], seed=LR_EXPERIMENT["seed"])
    elif x is None or y is None:
        raise ValueError(f"`x` and `y` go together. Received: x={'None' if x is None else 'an array'}, "
                         f"y={'None' if y is None else 'an array'}")
    x = as_array(x)
    y = as_array(y)
    if x.ndim != 2 or y.shape != (x.shape[0],) or not np.isin(y, (0, 1)).all():
        raise ValueError(f"`x` must have shape (n, d) and `y` 0/1 labels of shape (n,). "
                         f"Received: x of shape {x.shape}, y of shape {y.shape}")
    y = y.astype(int)
    return {
        lr: _perceptron_mistakes(x, y, lr, epochs=LR_EXPERIMENT["epochs"], seed=LR_EXPERIMENT["seed"])
        for lr in LR_EXPERIMENT["rates"]
    }


@checker(
    "Predict, run, explain: the perceptron's learning rate",
    placeholder_message='Write "fewer", "same" or "more" before you run the experiment.',
)
def check_learning_rate_prediction(answer, *, x=None, y=None):
    """``answer`` is the predicted epoch count at η = 1.0 relative to η = 0.1: "fewer", "same" or "more".

    The check runs the experiment itself (:func:`measure_learning_rates`, on
    the notebook's ``x`` and ``y`` when given) and compares the prediction
    with what it measured.
    """
    prediction = as_choice(answer, _LR_CHOICES)
    runs = measure_learning_rates(x, y)
    base, big = len(runs[LR_EXPERIMENT["baseline"]]), len(runs[LR_EXPERIMENT["predicted"]])
    measured = "fewer" if big < base else ("more" if big > base else "same")
    identical = all(errors == runs[LR_EXPERIMENT["baseline"]] for errors in runs.values())
    shown = ", ".join(f"η = {lr}: {len(errors)} epochs" for lr, errors in runs.items())
    if identical:
        shown += ", with exactly the same mistakes in every epoch"
    why = (
        "From w = 0 and b = 0 every update adds η·(y − ŷ)·x and η·(y − ŷ), so at every moment w and b are η times "
        "the same sums: η scales them together, and the sign of w·x + b, the only thing the perceptron looks at, "
        "never changes. Gradient descent on a smooth loss is different: there the step size matters."
    )
    if prediction == measured:
        return True, f"Measured: {shown}. {why if identical else ''}".rstrip(), ""
    hint = (
        "A larger η takes bigger steps, but what does the prediction depend on? Only on the sign of w·x + b. "
        "Starting from zero, what does multiplying every update by 10 do to w, to b, and to that sign?"
    )
    return False, f"You predicted {prediction!r}; measured: {shown}.", hint
