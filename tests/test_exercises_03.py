"""Exercises of notebook 03: the solution passes, the usual slips fail with their hint."""

import math

import pytest

from toolkit.exercises import check_conv_he_std, check_he_std, check_initializer_choice
from exercise_solutions import load_solutions


SOLUTIONS = load_solutions("03_initialization")


def test_placeholders_are_not_answered_yet():
    blank = dict.fromkeys(SOLUTIONS.initializer_choice, ...)  # the notebook's placeholder dict
    for check, answer in ((check_he_std, ...), (check_conv_he_std, ...), (check_initializer_choice, ...),
                          (check_initializer_choice, blank)):
        feedback = check(answer)
        assert not feedback.answered and not feedback.passed
        assert "not answered yet" in str(feedback)


def test_solutions_pass():
    assert check_he_std(SOLUTIONS.he_std).passed
    assert check_conv_he_std(SOLUTIONS.conv_he_std).passed
    assert check_initializer_choice(SOLUTIONS.initializer_choice).passed


def test_he_std_follows_the_layer_it_is_asked_about():
    assert check_he_std(math.sqrt(2 / 100), fan_in=100, fan_out=10).passed
    assert not check_he_std(SOLUTIONS.he_std, fan_in=100, fan_out=10).passed


@pytest.mark.parametrize(
    "answer, hint",
    [
        (2 / 784, "square root"),  # the variance, not the std
        (math.sqrt(1 / 784), "LeCun"),  # forgot the 2
        (math.sqrt(2 / 256), "fan_in"),  # used fan_out
        (math.sqrt(2 / (784 + 256)), "Glorot"),
        (0.3, "2 / fan_in"),
        ("a lot", "could not be checked"),
    ],
)
def test_he_std_wrong_answers_get_their_hint(answer, hint):
    feedback = check_he_std(answer)
    assert not feedback.passed and feedback.answered
    assert hint in feedback.hint or hint in feedback.message


@pytest.mark.parametrize(
    "answer, hint",
    [
        (math.sqrt(2 / 32), "input channels only"),
        (math.sqrt(2 / 64), "filters"),
        (2 / 288, "square root"),
        (math.sqrt(2 / (288 + 576)), "Glorot"),
    ],
)
def test_conv_he_std_wrong_answers_get_their_hint(answer, hint):
    feedback = check_conv_he_std(answer)
    assert not feedback.passed
    assert hint in feedback.hint


def test_initializer_choice_wrong_answers_get_their_hint():
    relu_glorot = dict(SOLUTIONS.initializer_choice, relu="glorot")
    feedback = check_initializer_choice(relu_glorot)
    assert not feedback.passed and "doubles the variance" in feedback.hint
    selu_he = dict(SOLUTIONS.initializer_choice, selu="he_normal")
    assert "1/fan_in" in check_initializer_choice(selu_he).hint
    tanh_he = dict(SOLUTIONS.initializer_choice, tanh="he")
    assert "fan_avg" in check_initializer_choice(tanh_he).hint
    half_done = dict(SOLUTIONS.initializer_choice, selu=...)
    assert "['selu']" in check_initializer_choice(half_done).message
    partial = {"relu": "he"}
    assert "no initializer yet" in check_initializer_choice(partial).message
    assert not check_initializer_choice(["he"]).passed
    # Keras names are accepted too.
    named = {k: {"he": "HeNormal", "glorot": "glorot_uniform", "lecun": "lecun_normal"}[v]
             for k, v in SOLUTIONS.initializer_choice.items()}
    assert check_initializer_choice(named).passed
