"""Exercises of notebook 04: the solution passes, the usual slips fail with their hint."""

import importlib.util
import pathlib

import keras
import numpy as np
import pytest

from toolkit.exercises import check_adam_step, check_momentum_step
from toolkit.exercises.optimizers import _GRADS, _THETA0

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _solutions():
    spec = importlib.util.spec_from_file_location("solutions_04", ROOT / "solutions" / "04_optimizers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SOLUTIONS = _solutions()


def test_placeholders_are_not_answered_yet():
    def adam_step(theta, grad, m, v, t, lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        ...

    def momentum_step(theta, grad, velocity, lr=0.01, momentum=0.9):
        ...

    for check, answer in ((check_adam_step, adam_step), (check_momentum_step, momentum_step), (check_adam_step, ...)):
        feedback = check(answer)
        assert not feedback.answered and "not answered yet" in str(feedback)


def test_solutions_pass():
    assert check_adam_step(SOLUTIONS.adam_step).passed
    assert check_momentum_step(SOLUTIONS.momentum_step).passed


@pytest.mark.parametrize(
    "optimizer, step, n_state",
    [
        (lambda: keras.optimizers.Adam(0.01, epsilon=1e-7), "adam_step", 2),
        (lambda: keras.optimizers.SGD(0.1, momentum=0.9), "momentum_step", 1),
    ],
)
def test_the_solutions_are_what_keras_computes(optimizer, step, n_state):
    """The checker's reference is Keras itself: the solution tracks the real optimizer."""
    opt, var = optimizer(), keras.Variable(_THETA0.astype("float32"))
    theta, state = _THETA0.copy(), [np.zeros(4)] * n_state
    hyper = {"lr": 0.01} if n_state == 2 else {"lr": 0.1, "momentum": 0.9}
    for t, grad in enumerate(_GRADS, start=1):
        opt.apply_gradients([(keras.ops.convert_to_tensor(grad.astype("float32")), var)])
        theta, *state = getattr(SOLUTIONS, step)(theta, grad, *state, *((t,) if n_state == 2 else ()), **hyper)
        np.testing.assert_allclose(var.numpy(), theta, rtol=1e-5, atol=1e-7)


def _adam(correct_m=True, correct_v=True, sign=1, eps_inside=False, t_shift=0):
    def adam_step(theta, grad, m, v, t, lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        t = t + t_shift
        m = beta_1 * m + (1 - beta_1) * grad
        v = beta_2 * v + (1 - beta_2) * grad**2
        m_hat = m / (1 - beta_1**t) if correct_m else m
        v_hat = v / (1 - beta_2**t) if correct_v else v
        denominator = np.sqrt(v_hat + epsilon) if eps_inside else np.sqrt(v_hat) + epsilon
        return theta - sign * lr * m_hat / denominator, m, v

    return adam_step


def test_adam_as_in_the_paper_passes_too():
    assert check_adam_step(_adam()).passed  # Kingma & Ba: epsilon added to sqrt(v_hat)


@pytest.mark.parametrize(
    "answer, hint",
    [
        (_adam(correct_m=False, correct_v=False), "bias correction"),
        (_adam(correct_v=False), "but not v"),
        (_adam(correct_m=False), "but not m"),
        (_adam(sign=-1), "uphill"),
        (_adam(eps_inside=True), "after the square root"),
        (_adam(t_shift=-1), "starts at 1"),
        (lambda theta, grad, m, v, t, **kw: theta, "could not be checked"),
        ("adam", "function"),
    ],
)
def test_adam_slips_get_their_hint(answer, hint):
    feedback = check_adam_step(answer)
    assert feedback.answered and not feedback.passed
    assert hint in feedback.hint or hint in feedback.message, str(feedback)


def test_adam_that_forgets_to_return_its_state_is_told():
    def stateless(theta, grad, m, v, t, lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        new_theta, _, _ = SOLUTIONS.adam_step(theta, grad, m, v, t, lr, beta_1, beta_2, epsilon)
        return new_theta, m, v  # the old moments

    feedback = check_adam_step(stateless)
    assert not feedback.passed and "UPDATED m and v" in feedback.hint


@pytest.mark.parametrize(
    "answer, hint",
    [
        (lambda theta, grad, vel, lr=0.01, momentum=0.9: (theta + momentum * vel + lr * grad, momentum * vel + lr * grad), "uphill"),
        (lambda theta, grad, vel, lr=0.01, momentum=0.9: (theta - lr * grad, vel), "plain SGD"),
        (
            lambda theta, grad, vel, lr=0.01, momentum=0.9: (
                theta - lr * (momentum * vel + (1 - momentum) * grad),
                momentum * vel + (1 - momentum) * grad,
            ),
            "damp",
        ),
        (
            lambda theta, grad, vel, lr=0.01, momentum=0.9: (
                theta + momentum * (momentum * vel - lr * grad) - lr * grad,
                momentum * vel - lr * grad,
            ),
            "Nesterov",
        ),
        (lambda theta, grad, vel, lr=0.01, momentum=0.9: (theta + 1.0, vel), "m ← α·m − lr·g"),
    ],
)
def test_momentum_slips_get_their_hint(answer, hint):
    feedback = check_momentum_step(answer)
    assert feedback.answered and not feedback.passed
    assert hint in feedback.hint, str(feedback)
