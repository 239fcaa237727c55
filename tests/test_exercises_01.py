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
