"""Exercises of notebook 04: the solution passes, the usual slips fail with their hint."""

import keras
import numpy as np
import pytest

from toolkit.exercises import check_adagrad_step, check_adam_step
from toolkit.exercises.optimizers import _GRADS, _THETA0, ADAGRAD_INITIAL_ACCUMULATOR
from answers_that_agree_with_everything import EqualStr
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


# Exercise 3: predict, run, explain (momentum on the well) ----------------------------------------

import pathlib  # noqa: E402

import nbformat  # noqa: E402

from toolkit.exercises import check_momentum_escape  # noqa: E402
from toolkit.exercises.optimizers import roll_on_well, well_outcome, well_points  # noqa: E402


def test_momentum_solution_passes_with_the_measured_run():
    feedback = check_momentum_escape(SOLUTIONS.MOMENTUM_PREDICTION, x_end=roll_on_well(0.95)[-1])
    assert feedback.passed, str(feedback)
    assert "shallow minimum" in feedback.message and "less friction" in feedback.message


def test_the_well_matches_a_hand_computation():
    shallow, bump, deep = well_points()
    for x in (shallow, bump, deep):  # the slope of (x² − 1)² − 0.3x is zero there
        assert abs(4 * x * (x**2 - 1) - 0.3) < 1e-9
    values = [(x**2 - 1) ** 2 - 0.3 * x for x in (shallow, bump, deep)]
    assert values[2] < values[0] - 0.5 and values[1] > values[0] + 0.5  # a deeper right minimum, a real bump
    # plain gradient descent stops in the shallow minimum, momentum 0.9 reaches the deep one, 0.99 keeps moving
    assert well_outcome(roll_on_well(0.0)) == "shallow" and abs(roll_on_well(0.0)[-1] - shallow) < 1e-3
    assert well_outcome(roll_on_well(0.9)) == "deep" and abs(roll_on_well(0.9)[-1] - deep) < 1e-3
    assert well_outcome(roll_on_well(0.99)) == "still moving"


@pytest.mark.parametrize("wrong", ["deep", "still moving", " Still-Moving "])
def test_momentum_wrong_predictions_get_the_explanation(wrong):
    feedback = check_momentum_escape(wrong, x_end=roll_on_well(0.95)[-1])
    assert feedback.answered and not feedback.passed
    assert "came back over the bump" in feedback.hint and "shallow minimum" in feedback.message


def test_momentum_check_needs_the_run_as_given():
    not_run = check_momentum_escape("shallow")
    assert not not_run.passed and "run the experiment" in not_run.message
    changed = check_momentum_escape("shallow", x_end=roll_on_well(0.9)[-1])  # the run of another alpha
    assert not changed.passed and "not where the experiment ends" in changed.message


def test_momentum_other_alphas_are_measured_not_stored():
    assert check_momentum_escape("deep", x_end=roll_on_well(0.9)[-1], alpha=0.9).passed
    stuck = check_momentum_escape("deep", x_end=roll_on_well(0.5)[-1], alpha=0.5)
    assert not stuck.passed and "not enough to carry the point over the bump" in stuck.hint
    assert check_momentum_escape("still moving", x_end=roll_on_well(0.99)[-1], alpha=0.99).passed



@pytest.mark.parametrize("junk", [EqualStr("deep"), 0.95, ["shallow"], "sideways"])
def test_momentum_check_refuses_junk(junk):
    feedback = check_momentum_escape(junk, x_end=roll_on_well(0.95)[-1])
    assert feedback.answered and not feedback.passed and "could not be checked" in feedback.message


def test_momentum_placeholder_is_not_answered_yet():
    feedback = check_momentum_escape(..., x_end=roll_on_well(0.95)[-1])
    assert not feedback.answered and "not answered yet" in str(feedback)


def test_the_notebook_rolls_on_the_checkers_well():
    """The notebook defines its own well and roll(); the checker must measure the same experiment."""
    path = pathlib.Path(__file__).resolve().parents[1] / "notebooks" / "04_optimizers.ipynb"
    cells = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    namespace = {"np": np}
    for marker in ("def momentum_step", "def roll(alpha)"):
        source = next(src for src in cells if marker in src)
        exec(source.split("rolls = ")[0], namespace)  # the definitions, not the plot
    for alpha in (0.0, 0.9, 0.95):
        np.testing.assert_allclose(namespace["roll"](alpha), roll_on_well(alpha), rtol=0, atol=1e-12)
