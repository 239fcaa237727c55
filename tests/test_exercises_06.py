"""Exercises of notebook 06: the solution passes, the usual slips fail with their hint."""

import keras
import numpy as np
import pytest

from toolkit.exercises import check_early_stopping, check_l2_layer, check_l2_penalty
from toolkit.exercises.regularization import PENALTY_FACTOR, PENALTY_WEIGHTS
from answers_that_agree_with_everything import EqualStr, YesDict
from exercise_solutions import load_solutions


SOLUTIONS = load_solutions("06_regularization")


def test_solutions_pass():
    assert check_l2_layer(SOLUTIONS.l2_layer()).passed
    assert check_l2_penalty(SOLUTIONS.L2_PENALTY).passed
    assert check_early_stopping(SOLUTIONS.early_stopping()).passed


def test_penalty_solution_is_what_keras_adds():
    added = keras.ops.convert_to_numpy(keras.regularizers.L2(PENALTY_FACTOR)(PENALTY_WEIGHTS.astype("float32")))
    assert SOLUTIONS.L2_PENALTY == pytest.approx(float(added), rel=1e-6)
    assert check_l2_penalty(np.float32(SOLUTIONS.L2_PENALTY)).passed  # numpy scalars are numbers too
    assert check_l2_penalty(np.array([SOLUTIONS.L2_PENALTY])).passed


@pytest.mark.parametrize(
    "layer, hint",
    [
        (lambda: keras.layers.Dense(64, activation="relu", bias_regularizer=keras.regularizers.L2(1e-4)),
         "use kernel_regularizer="),
        (lambda: keras.layers.Dense(64, activation="relu", activity_regularizer=keras.regularizers.L2(1e-4)),
         "use kernel_regularizer="),
        (lambda: keras.layers.Dense(64, activation="relu", kernel_regularizer=keras.regularizers.L1(1e-4)),
         "L1 penalizes |w|"),
        (lambda: keras.layers.Dense(64, activation="relu", kernel_regularizer=keras.regularizers.L2()),
         "use λ = 0.01"),
        (lambda: keras.layers.Dense(64, activation="relu", kernel_regularizer="l2"), "use λ = 0.01"),
        (lambda: keras.layers.Dense(64, activation="relu", kernel_regularizer=keras.regularizers.L2(1e-3)),
         "asks for λ = 0.0001"),
        (lambda: keras.layers.Dense(64, activation="relu"), "Pass kernel_regularizer="),
        (lambda: keras.layers.Dense(64, activation="relu", kernel_regularizer=keras.regularizers.L1L2(1e-4, 1e-4)),
         "pure L2"),
        (lambda: keras.layers.Dense(32, activation="relu", kernel_regularizer=keras.regularizers.L2(1e-4)),
         "64 units"),
        (lambda: keras.layers.Dense(64, kernel_regularizer=keras.regularizers.L2(1e-4)), "ReLU activation"),
        (lambda: keras.layers.Dense(64, activation="relu", kernel_regularizer=keras.regularizers.OrthogonalRegularizer()),
         "Use keras.regularizers.L2"),
    ],
)
def test_l2_layer_wrong_answers_get_their_hint(layer, hint):
    feedback = check_l2_layer(layer())
    assert feedback.answered and not feedback.passed
    assert hint in feedback.hint


W, LAM = PENALTY_WEIGHTS, PENALTY_FACTOR


@pytest.mark.parametrize(
    "answer, hint",
    [
        (LAM / 2 * np.sum(W**2), "without the 1/2"),
        (LAM * np.sum(np.abs(W)), "That is the L1 penalty"),
        (np.sum(W**2), "Multiply by λ"),
        (LAM * np.sqrt(np.sum(W**2)), "not the norm ‖w‖"),
        (LAM * np.sum(W), "negative weights are penalized"),
        (LAM * np.mean(W**2), "does not average"),
        (0.5, "λ times the sum of the squared weights"),
        (np.ones(3), "could not be checked"),
        ("about 0.08", "could not be checked"),
    ],
)
def test_l2_penalty_wrong_answers_get_their_hint(answer, hint):
    feedback = check_l2_penalty(answer)
    assert feedback.answered and not feedback.passed
    assert hint in feedback.hint or hint in feedback.message
    assert f"{SOLUTIONS.L2_PENALTY:.5g}" not in str(feedback)  # never reveals the answer


@pytest.mark.parametrize(
    "kwargs, hint",
    [
        (dict(monitor="val_loss", patience=5), "restore the best ones"),
        (dict(monitor="val_loss", patience=5, restore_best_weights=False), "restore the best ones"),
        (dict(monitor="loss", patience=5, restore_best_weights=True), "watch the validation loss"),
        (dict(monitor="val_accuracy", patience=5, restore_best_weights=True), "monitor='val_loss'"),
        (dict(monitor="val_loss", patience=10, restore_best_weights=True), "patience of 5"),
        (dict(monitor="val_loss", restore_best_weights=True), "patience of 5"),  # Keras's default patience 0
    ],
)
def test_early_stopping_wrong_answers_get_their_hint(kwargs, hint):
    feedback = check_early_stopping(keras.callbacks.EarlyStopping(**kwargs))
    assert feedback.answered and not feedback.passed
    assert hint in feedback.hint


def test_early_stopping_needs_the_callback_object():
    feedback = check_early_stopping(keras.callbacks.ModelCheckpoint("best.keras"))
    assert not feedback.passed and "Create the callback object" in feedback.hint


# --- Exercise 4 (predict, run, explain): dropout left on at inference ---------------------------------

from toolkit.exercises import regularization as _regularization
from toolkit.exercises.regularization import DROPOUT_QUESTIONS, check_dropout_at_inference


@pytest.fixture(scope="module")
def dropout_accuracies():
    """The experiment, run once: the real measurement behind every check below."""
    return _regularization.measure_dropout_at_inference()


def test_dropout_experiment_shows_the_lesson(dropout_accuracies):
    acc = dropout_accuracies
    assert acc["off"] > 0.9, "the dropout net should learn the 8x8 digits"
    assert acc["one pass"] < acc["off"] - 0.015, "one pass with dropout on should be clearly less accurate"
    assert abs(acc["mean of 30 passes"] - acc["off"]) < 0.01, "the MC average should cost no accuracy"


def test_dropout_solution_passes_on_the_real_experiment():
    feedback = check_dropout_at_inference(SOLUTIONS.DROPOUT_PREDICTION)
    assert feedback.passed, str(feedback)
    assert "Measured:" in feedback.message and "1/(1 − p)" in feedback.message


@pytest.mark.parametrize(
    "answer, hint",
    [
        ({"one pass": "same", "mean of 30 passes": "same"}, "does it keep every single pass right?"),
        ({"one pass": "higher", "mean of 30 passes": "same"}, "does it keep every single pass right?"),
        ({"one pass": "lower", "mean of 30 passes": "higher"}, "What does averaging 30 noisy passes do"),
        ({"one pass": "lower", "mean of 30 passes": "lower"}, "What does averaging 30 noisy passes do"),
        ({"one pass": "same", "mean of 30 passes": "higher"}, "every single pass right? What does averaging"),
    ],
)
def test_dropout_wrong_predictions_get_their_hint(answer, hint, monkeypatch, dropout_accuracies):
    monkeypatch.setattr(_regularization, "measure_dropout_at_inference", lambda: dropout_accuracies)
    feedback = check_dropout_at_inference(answer)
    assert feedback.answered and not feedback.passed
    assert hint in feedback.hint
    assert "Measured:" in feedback.message  # the student sees what was measured



@pytest.mark.parametrize(
    "answer, text",
    [
        ("lower", "must be a dict"),
        (YesDict(), "must be a dict"),
        ({"one pass": "lower"}, "missing"),
        ({"one pass": 0.93, "mean of 30 passes": "same"}, "expected a word"),
        ({"one pass": EqualStr("x"), "mean of 30 passes": "same"}, "expected a word"),
        ({"one pass": "worse", "mean of 30 passes": "same"}, "is not one of"),
    ],
)
def test_dropout_check_reads_answers_strictly(answer, text, monkeypatch, dropout_accuracies):
    monkeypatch.setattr(_regularization, "measure_dropout_at_inference", lambda: dropout_accuracies)
    feedback = check_dropout_at_inference(answer)
    assert feedback.answered and not feedback.passed
    assert text in feedback.message


def test_dropout_check_placeholder_runs_nothing(monkeypatch):
    def boom():
        raise AssertionError("the experiment must not run for an unanswered exercise")

    monkeypatch.setattr(_regularization, "measure_dropout_at_inference", boom)
    feedback = check_dropout_at_inference(...)
    assert not feedback.answered and "lower" in feedback.message
    assert list(DROPOUT_QUESTIONS) == ["one pass", "mean of 30 passes"]
