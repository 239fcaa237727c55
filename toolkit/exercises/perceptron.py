"""Exercise checks of lecture 01, the perceptron."""

from __future__ import annotations

import math

import numpy as np

from toolkit.exercises.feedback import checker

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
        want_w, want_b = _reference_update(w, b, x, y, lr)
        if np.allclose(new_w, want_w) and math.isclose(float(new_b), want_b, abs_tol=1e-9):
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
    value = float(answer)
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
