"""Exercises of notebook 01: the solutions pass, the usual slips fail with their hint."""

import numpy as np

from toolkit.exercises.perceptron import check_neuron_output, check_perceptron_update
from exercise_solutions import load_solutions

solution = load_solutions("01_perceptron")


def test_placeholders_are_not_answered():
    assert not check_perceptron_update(...).answered
    assert not check_neuron_output(...).answered


def test_solutions_pass():
    assert check_perceptron_update(solution.perceptron_update).passed
    assert check_neuron_output(solution.neuron_output).passed


def test_update_wrong_sign():
    def wrong(w, b, x, y, lr):
        e = y - int(np.dot(w, x) + b > 0)
        return w - lr * e * x, b - lr * e

    fb = check_perceptron_update(wrong)
    assert not fb.passed and "sign" in fb.hint


def test_update_forgotten_bias():
    def wrong(w, b, x, y, lr):
        e = y - int(np.dot(w, x) + b > 0)
        return w + lr * e * x, b

    fb = check_perceptron_update(wrong)
    assert not fb.passed and "bias" in fb.hint


def test_update_returning_nothing_does_not_raise():
    fb = check_perceptron_update(lambda w, b, x, y, lr: None)
    assert not fb.passed and "Return" in fb.hint


def test_neuron_wrong_answers():
    assert "bias" in check_neuron_output(0.269).hint
    assert "before the activation" in check_neuron_output(-0.5).message
    assert "sign" in check_neuron_output(0.622).hint
    assert not check_neuron_output("abc").passed  # never raises


def test_update_without_threshold():
    def wrong(w, b, x, y, lr):  # the raw sum used as the prediction
        e = y - (np.dot(w, x) + b)
        return w + lr * e * x, b + lr * e

    fb = check_perceptron_update(wrong)
    assert not fb.passed and "thresholds" in fb.hint


def test_update_that_always_moves():
    def wrong(w, b, x, y, lr):  # ignores the prediction: moves even when right
        return w + lr * y * x, b + lr * y

    assert not check_perceptron_update(wrong).passed


def test_learning_rate_prediction_placeholder_and_solution():
    from toolkit.exercises.perceptron import check_learning_rate_prediction

    assert not check_learning_rate_prediction(...).answered
    feedback = check_learning_rate_prediction(solution.learning_rate_prediction)
    assert feedback.passed, feedback
    assert "11 epochs" in feedback.message and "same mistakes" in feedback.message


def test_learning_rate_prediction_wrong_answers_get_the_measurement_and_a_hint():
    from toolkit.exercises.perceptron import check_learning_rate_prediction

    for wrong in ("fewer", "more", " More "):
        feedback = check_learning_rate_prediction(wrong)
        assert not feedback.passed and "measured" in feedback.message and "sign" in feedback.hint, feedback


def test_learning_rate_prediction_refuses_non_words_and_liars():
    from toolkit.exercises.perceptron import check_learning_rate_prediction

    class Always(str):
        def __eq__(self, other):
            return True

        __hash__ = str.__hash__

    for bad in (Always("fewer"), 1.0, ["same"], "faster"):
        feedback = check_learning_rate_prediction(bad)
        assert feedback.answered and not feedback.passed, bad


def test_learning_rate_experiment_is_scale_invariant_like_scikit_learn():
    """The checker's measurement agrees with an independent perceptron: scikit-learn's, whose weights scale with eta0."""
    from sklearn.linear_model import Perceptron

    from toolkit.data import make_linear
    from toolkit.exercises.perceptron import LR_EXPERIMENT, measure_learning_rates

    runs = measure_learning_rates()
    assert set(runs) == set(LR_EXPERIMENT["rates"])
    reference = runs[LR_EXPERIMENT["baseline"]]
    assert reference[-1] == 0 and len(reference) > 1, "the perceptron converges on the separable line"
    assert all(errors == reference for errors in runs.values())

    x, y = make_linear(LR_EXPERIMENT["points"], seed=LR_EXPERIMENT["seed"])
    fitted = [Perceptron(eta0=eta, max_iter=50, tol=None, random_state=0).fit(x, y) for eta in (0.1, 1.0)]
    np.testing.assert_allclose(fitted[1].coef_, 10 * fitted[0].coef_, rtol=1e-5)
    np.testing.assert_allclose(fitted[1].intercept_, 10 * fitted[0].intercept_, rtol=1e-5)
    assert (fitted[0].predict(x) == fitted[1].predict(x)).all()


def test_learning_rate_prediction_measures_on_the_notebooks_data():
    """Given the notebook's points, the check reports the notebook's own epochs (here 400 points, full mode)."""
    from toolkit.data import make_linear
    from toolkit.exercises.perceptron import check_learning_rate_prediction, measure_learning_rates

    x, y = make_linear(400, seed=0)
    runs = measure_learning_rates(x, y)
    assert [len(errors) for errors in runs.values()] == [4, 4, 4]  # the run of notebook 01 in full mode
    feedback = check_learning_rate_prediction("same", x=x, y=y)
    assert feedback.passed and "4 epochs" in feedback.message
    assert not check_learning_rate_prediction("same", x=x).passed  # y missing
    assert not check_learning_rate_prediction("same", x=x[:, :1].T, y=y).passed  # wrong shape
