"""The checkers of notebook 05 accept the solutions and catch typical mistakes."""

import math

import numpy as np
import pytest

from toolkit.exercises import check_exponential_decay, check_lr_from_finder, check_onecycle_total_steps
from toolkit.exercises.lr_schedules import finder_regions
from answers_that_agree_with_everything import EqualStr
from exercise_solutions import load_solutions

solutions = load_solutions("05_lr_schedules")


class Curve:
    """An LR-finder-shaped curve: flat, a steep fall, a minimum near 0.5, a blow-up."""

    def __init__(self):
        self.lrs = list(np.geomspace(1e-6, 3.0, 120))
        log_lr = np.log10(self.lrs)
        fall = 2.3 - 2.0 / (1 + np.exp(-3.0 * (log_lr + 2.5)))  # falls around 3e-3
        rise = np.where(log_lr > -0.3, 8.0 * (log_lr + 0.3) ** 2, 0.0)  # blows up right of 0.5
        self.losses = list(fall + rise)


def test_finder_regions_of_the_curve():
    curve = Curve()
    low, high, at_min = finder_regions(curve.lrs, curve.losses)
    assert 1e-4 < low < 3e-3 < high < at_min
    assert at_min == pytest.approx(0.5, rel=0.15)


def test_lr_from_finder_solution_passes():
    curve = Curve()
    answer = solutions.lr_from_finder(curve.lrs, curve.losses)
    assert check_lr_from_finder(answer, finder=curve).passed
    assert check_lr_from_finder(answer, lrs=curve.lrs, losses=curve.losses).passed


@pytest.mark.parametrize(
    "pick, hint",
    [
        (lambda low, high, at_min: at_min, "edge of the blow-up"),  # the classic: the minimum itself
        (lambda low, high, at_min: at_min * 2.5, "diverges"),
        (lambda low, high, at_min: 1e-6 * 1.2, "crawl"),  # far left, on the flat part
        (lambda low, high, at_min: 50.0, "between its left and right ends"),
    ],
)
def test_lr_from_finder_wrong_answers(pick, hint):
    curve = Curve()
    result = check_lr_from_finder(pick(*finder_regions(curve.lrs, curve.losses)), finder=curve)
    assert result.answered and not result.passed
    assert hint in result.hint


def test_lr_from_finder_placeholder_and_junk():
    assert not check_lr_from_finder(..., finder=Curve()).answered
    assert "positive number" in check_lr_from_finder(-0.1, finder=Curve()).message
    assert "needs the finder" in check_lr_from_finder(0.01).message


def test_exponential_decay_solution_passes():
    assert check_exponential_decay(solutions.EXPONENTIAL_DECAY_LR).passed
    # other numbers: the reference comes from Keras's own schedule
    assert check_exponential_decay(0.2 * 0.5 ** (30 / 7), initial_learning_rate=0.2, decay_steps=7,
                                   decay_rate=0.5, step=30).passed


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (0.05 * 0.1 ** (2500 // 1000), "staircase"),
        (0.1 ** 2.5, "initial learning rate"),
        (0.05 * 0.9 ** 2.5, "not reduced by 10%"),
        (0.05 * 0.1 ** (1000 / 2500), "t / s, not s / t"),
        (0.05 * 0.1 * 2.5, "raised to t / s"),
        (0.123, "η0 · rate^(t / s)"),
    ],
)
def test_exponential_decay_wrong_answers(wrong, hint):
    result = check_exponential_decay(wrong)
    assert result.answered and not result.passed
    assert hint in result.hint
    assert f"{solutions.EXPONENTIAL_DECAY_LR:.3g}" not in str(result)  # never reveals the answer


def test_onecycle_total_steps_solution_passes():
    assert check_onecycle_total_steps(solutions.ONECYCLE_TOTAL_STEPS).passed
    assert check_onecycle_total_steps(3 * math.ceil(1000 / 64), n_train=1000, batch_size=64, epochs=3).passed


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (10 * (60000 // 128), "round up"),
        (math.ceil(60000 / 128), "all the epochs"),
        (10, "one per batch"),
        (600000, "one step per batch"),
        (2.5, "whole number"),
    ],
)
def test_onecycle_total_steps_wrong_answers(wrong, hint):
    result = check_onecycle_total_steps(wrong)
    assert result.answered and not result.passed
    assert hint in result.hint or hint in result.message


def test_placeholders_are_not_answered_yet():
    for check in (check_exponential_decay, check_onecycle_total_steps):
        result = check(...)
        assert not result.answered and not result.passed
        assert "not answered yet" in str(result)


# Exercise 4: predict, run, explain (a large batch at lr = 3) ---------------------------------------

import keras  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from toolkit.callbacks import LearningRateLogger  # noqa: E402
from toolkit.data import load_mnist  # noqa: E402
from toolkit.exercises import check_large_batch_lr  # noqa: E402
from toolkit.models import deep_mlp  # noqa: E402


class FakeRun:
    """What train(...)[1] returns, reduced to what the checker reads: history and params."""

    def __init__(self, val_accuracy, *, lr=3.0, steps=7, loss=None):
        epochs = len(val_accuracy)
        self.history = {"val_accuracy": list(val_accuracy), "loss": list(loss or [2.3] * epochs),
                        "learning_rate": [lr] * epochs}
        self.params = {"epochs": epochs, "steps": steps, "verbose": 0}


@pytest.fixture(scope="module")
def real_run():
    """The notebook's experiment, for real: its data (fast mode), its network, batch 512 at lr = 3."""
    (x, y), _ = load_mnist()
    if len(x) > 4000:  # as the notebook's N_TRAIN in fast mode (the offline sample has 4,000 already)
        x, _, y, _ = train_test_split(x, y, train_size=4000, stratify=y, random_state=42)
    x = x.reshape(len(x), -1).astype("float32") / 255.0
    x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.2, stratify=y, random_state=42)
    keras.utils.set_random_seed(42)
    model = deep_mlp(1, 64, name="mlp")
    model.compile(keras.optimizers.SGD(3.0, momentum=0.9), "sparse_categorical_crossentropy", metrics=["accuracy"])
    run = model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=5, batch_size=512,
                    callbacks=[LearningRateLogger()], verbose=0)
    return run, len(x_train)


def test_large_batch_solution_passes_on_the_real_run(real_run):
    run, n_train = real_run
    assert run.history["val_accuracy"][-1] < 0.3  # measured, not assumed: lr = 3 breaks batch 512 too
    feedback = check_large_batch_lr(solutions.LARGE_BATCH_PREDICTION, run=run, n_train=n_train)
    assert feedback.passed, str(feedback)
    assert "curvature" in feedback.message


def test_large_batch_wrong_prediction_gets_the_explanation(real_run):
    run, n_train = real_run
    feedback = check_large_batch_lr("trains", run=run, n_train=n_train)
    assert feedback.answered and not feedback.passed
    assert "near chance" in feedback.message and "curvature" in feedback.hint


def test_large_batch_outcome_is_read_from_the_run():
    trained = FakeRun([0.6, 0.8, 0.9])
    assert check_large_batch_lr("trains", run=trained, n_train=3200).passed
    assert not check_large_batch_lr("diverges", run=trained, n_train=3200).passed
    nan_loss = FakeRun([0.6, 0.8, 0.9], loss=[2.0, float("nan"), float("nan")])
    assert check_large_batch_lr("diverges", run=nan_loss, n_train=3200).passed


@pytest.mark.parametrize(
    "run, message",
    [
        (FakeRun([0.1] * 5, lr=1.0), "not at lr = 3"),
        (FakeRun([0.1] * 5, steps=100), "steps per epoch"),
        ("history", "History that train(...)[1] returns"),
        (FakeRun([]), "not at lr = 3"),
    ],
)
def test_large_batch_check_needs_the_experiment_as_given(run, message):
    feedback = check_large_batch_lr("diverges", run=run, n_train=3200)
    assert not feedback.passed
    assert message in feedback.message or message in feedback.hint, str(feedback)


def test_large_batch_placeholders():
    assert not check_large_batch_lr(..., run=FakeRun([0.1] * 5)).answered
    not_run = check_large_batch_lr("diverges")
    assert not_run.answered and not not_run.passed and "now run the experiment" in not_run.message
    assert not check_large_batch_lr("diverges", run=...).passed



@pytest.mark.parametrize("junk", [EqualStr("trains"), 1, True, "explodes"])
def test_large_batch_refuses_junk(junk):
    feedback = check_large_batch_lr(junk, run=FakeRun([0.1] * 5), n_train=3200)
    assert feedback.answered and not feedback.passed and "could not be checked" in feedback.message
