"""The checkers of notebook 05 accept the solutions and catch typical mistakes."""

import math

import numpy as np
import pytest

from toolkit.exercises import check_exponential_decay, check_lr_from_finder, check_onecycle_total_steps
from toolkit.exercises.lr_schedules import finder_regions
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
