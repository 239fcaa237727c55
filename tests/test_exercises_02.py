"""Exercises of notebook 02: the solutions pass, the usual slips fail with their hint."""

from toolkit.exercises.mnist_cnn import check_conv_params, check_precision_recall
from exercise_solutions import load_solutions

solution = load_solutions("02_mnist_cnn")


def test_placeholders_and_solutions():
    assert not check_precision_recall(...).answered and not check_conv_params(...).answered
    assert check_precision_recall(solution.precision_recall).passed
    assert check_conv_params(solution.conv_params).passed


def test_precision_recall_wrong_answers():
    assert "swapped" in check_precision_recall((0.8, 40 / 51)).message
    assert "accuracy" in check_precision_recall((135 / 160, 135 / 160)).message
    assert not check_precision_recall(0.5).passed  # not a pair: no exception


def test_conv_params_wrong_answers():
    assert "bias" in check_conv_params(3 * 3 * 32 * 64).hint
    assert "input channel" in check_conv_params(3 * 3 * 64 + 64).message
