import keras
import pytest

import toolkit.exercises as exercises
from toolkit.exercises import Feedback, checker


@checker("Sigmoid of zero", placeholder_message="Replace ... with a number.")
def check_sigmoid_zero(answer):
    ok = abs(float(answer) - 0.5) < 1e-6
    hint = "sigmoid(0) = 1 / (1 + e^0)." if float(answer) != -0.5 else "Check the sign."
    return ok, "sigmoid(0) checked.", hint


def test_placeholder_is_not_answered_yet():
    fb = check_sigmoid_zero(...)
    assert isinstance(fb, Feedback) and fb.passed is False and fb.answered is False
    assert "not answered yet" in str(fb) and "not answered yet" in fb._repr_html_()


def test_right_answer_passes_with_a_tick():
    fb = check_sigmoid_zero(0.5)
    assert fb.passed and str(fb).startswith("✓") and fb.hint == ""


def test_wrong_answer_gets_the_specific_hint():
    fb = check_sigmoid_zero(-0.5)
    assert not fb.passed and str(fb).startswith("✗") and "sign" in fb.hint
    assert "Hint" in fb._repr_html_()


def test_checker_never_raises():
    fb = check_sigmoid_zero("not a number")
    assert not fb.passed and fb.answered and "could not be checked" in fb.message


# Every checker of the course ---------------------------------------------------------------

ALL_CHECKS = [getattr(exercises, name) for name in exercises.__all__ if name.startswith("check_")]


def test_every_checker_is_exported():
    assert len(ALL_CHECKS) >= 2 * 8, "every notebook has 2-4 exercises, each with a checker"


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: c.__name__)
def test_every_checker_says_not_answered_yet_for_the_placeholder(check):
    for feedback in (check(...), check(None), check()):
        assert isinstance(feedback, Feedback) and not feedback.answered and not feedback.passed
        assert "not answered yet" in str(feedback)


@pytest.mark.parametrize("junk", ["a string", -12345.678, [1, 2, 3], {"a": 1}, object(), keras.layers.Dense(3)],
                         ids=["str", "number", "list", "dict", "object", "layer"])
@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: c.__name__)
def test_every_checker_refuses_junk_without_raising(check, junk):
    feedback = check(junk)
    assert feedback.answered and not feedback.passed and feedback.message
