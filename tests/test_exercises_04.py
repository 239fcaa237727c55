"""Exercises of notebook 04: the solution passes, the usual slips fail with their hint."""

import keras
import numpy as np
import pytest

from toolkit.exercises import check_adagrad_step, check_adam_step
from toolkit.exercises.optimizers import _GRADS, _THETA0, ADAGRAD_INITIAL_ACCUMULATOR
from exercise_solutions import load_solutions


SOLUTIONS = load_solutions("04_optimizers")


def test_placeholders_are_not_answered_yet():
    def adam_step(theta, grad, m, v, t, lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        ...

    def adagrad_step(theta, grad, accumulator, lr=0.001, epsilon=1e-7):
        ...

    for check, answer in ((check_adam_step, adam_step), (check_adagrad_step, adagrad_step), (check_adam_step, ...)):
        feedback = check(answer)
        assert not feedback.answered and "not answered yet" in str(feedback)


def test_solutions_pass():
    assert check_adam_step(SOLUTIONS.adam_step).passed
    assert check_adagrad_step(SOLUTIONS.adagrad_step).passed


@pytest.mark.parametrize(
    "optimizer, step, hyper, init",
    [
        (lambda: keras.optimizers.Adam(0.01, epsilon=1e-7), "adam_step", {"lr": 0.01}, [0.0, 0.0]),
        (
            lambda: keras.optimizers.Adagrad(0.1, epsilon=1e-7, initial_accumulator_value=ADAGRAD_INITIAL_ACCUMULATOR),
            "adagrad_step",
            {"lr": 0.1},
            [ADAGRAD_INITIAL_ACCUMULATOR],
        ),
    ],
)
def test_the_solutions_are_what_keras_computes(optimizer, step, hyper, init):
    """The checker's reference is Keras itself: the solution tracks the real optimizer."""
    opt, var = optimizer(), keras.Variable(_THETA0.astype("float32"))
    theta, state = _THETA0.copy(), [np.full(4, v) for v in init]
    for t, grad in enumerate(_GRADS, start=1):
        opt.apply_gradients([(keras.ops.convert_to_tensor(grad.astype("float32")), var)])
        theta, *state = getattr(SOLUTIONS, step)(theta, grad, *state, *((t,) if step == "adam_step" else ()), **hyper)
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
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the t = 0 slip divides by zero
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


def _adagrad(sign=1, decay=None, memory=True, sqrt=True, eps_inside=True, update_first=True):
    def adagrad_step(theta, grad, s, lr=0.001, epsilon=1e-7):
        old = s
        if not memory:
            s = grad**2
        elif decay is not None:
            s = decay * s + (1 - decay) * grad**2
        else:
            s = s + grad**2
        used = s if update_first else old
        scale = (np.sqrt(used + epsilon) if eps_inside else np.sqrt(used) + epsilon) if sqrt else used + epsilon
        return theta - sign * lr * grad / scale, (s if memory else old)

    return adagrad_step


@pytest.mark.parametrize(
    "answer, hint",
    [
        (_adagrad(sign=-1), "uphill"),
        (_adagrad(decay=0.9), "RMSProp"),
        (_adagrad(memory=False), "remember past steps"),
        (_adagrad(sqrt=False), "square root"),
        (_adagrad(update_first=False), "first"),
        (lambda theta, grad, s, lr=0.1, epsilon=1e-7: (theta - lr * grad, s), "s ← s + g²"),
    ],
)
def test_adagrad_slips_get_their_hint(answer, hint):
    feedback = check_adagrad_step(answer)
    assert feedback.answered and not feedback.passed
    assert hint in feedback.hint, str(feedback)


def test_adagrad_with_epsilon_outside_the_root_passes_too():
    assert check_adagrad_step(_adagrad(eps_inside=False)).passed  # the difference is below 1e-6
