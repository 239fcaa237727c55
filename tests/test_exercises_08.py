"""The checkers of notebook 08 accept the solutions and catch typical mistakes."""

import numpy as np
import pytest

from toolkit.diagnose import diagnose
from toolkit.exercises import check_avoided_class, check_class_weights, check_name_the_problem
from toolkit.exercises.diagnosing import mystery_confusion, mystery_curves
from exercise_solutions import load_solutions

solutions = load_solutions("08_diagnosing_training")

COUNTS = [108, 106, 105, 18, 107, 109, 106, 108, 18, 107]


# Exercise 1: name the problem ------------------------------------------------------------------


def test_the_doctor_agrees_with_the_solution():
    """The mystery curves are what the solution says: the doctor reads them the same way."""
    for name, history in mystery_curves().items():
        assert diagnose(history, num_classes=10).problems == [solutions.NAME_THE_PROBLEM[name]]


def test_name_the_problem_solution_passes():
    feedback = check_name_the_problem(solutions.NAME_THE_PROBLEM)
    assert feedback.passed and feedback.answered


@pytest.mark.parametrize(
    "curve,wrong,hint",
    [
        ("A", "diverging", "keeps falling. Only val_loss climbs"),
        ("A", "underfitting", "fits its training data"),
        ("B", "underfitting", "straight line"),
        ("C", "lr_too_low", "stopped falling"),
        ("D", "nan", "finite number"),
        ("D", "overfitting", "training loss itself climbs"),
    ],
)
def test_name_the_problem_catches_the_usual_confusions(curve, wrong, hint):
    answer = dict(solutions.NAME_THE_PROBLEM, **{curve: wrong})
    feedback = check_name_the_problem(answer)
    assert not feedback.passed and hint in feedback.hint
    assert solutions.NAME_THE_PROBLEM[curve] not in feedback.hint + feedback.message, "never reveal the answer"


@pytest.mark.parametrize(
    "answer,text",
    [
        ({"A": "overfit", "B": "lr_too_low", "C": "underfitting", "D": "diverging"}, "not a word"),
        ({"A": "overfitting"}, "no answer yet"),
        ("overfitting", "must be a dict"),
    ],
)
def test_name_the_problem_explains_malformed_answers(answer, text):
    feedback = check_name_the_problem(answer)
    assert not feedback.passed and text in feedback.message


def test_name_the_problem_accepts_case_and_spaces():
    assert check_name_the_problem({k: f" {v.upper()} " for k, v in solutions.NAME_THE_PROBLEM.items()}).passed


# Exercise 2: the avoided class ----------------------------------------------------------------------


def test_the_doctor_finds_the_avoided_class_too():
    report = diagnose({"loss": [1.0, 0.5, 0.3, 0.25, 0.2]}, confusion=mystery_confusion())
    assert "class_imbalance" in report and f"class {solutions.AVOIDED_CLASS} has recall" in report["class_imbalance"].evidence


def test_avoided_class_solution_passes():
    assert check_avoided_class(solutions.AVOIDED_CLASS).passed


@pytest.mark.parametrize(
    "answer,hint",
    [
        (4, "Few samples alone"),  # the rarest class, but recognised
        (3, "attracts predictions"),  # the column that collects the errors
        (0, "attracts predictions"),
    ],
)
def test_avoided_class_catches_typical_mistakes(answer, hint):
    feedback = check_avoided_class(answer)
    assert not feedback.passed and hint in feedback.hint


@pytest.mark.parametrize("answer", ["2", 2.0, 7, -1, True])
def test_avoided_class_wants_an_index(answer):
    feedback = check_avoided_class(answer)
    assert not feedback.passed and feedback.answered


def test_avoided_class_reads_a_given_matrix():
    cm = np.diag([50.0, 50, 50])
    cm[1] = [20, 10, 20]
    assert check_avoided_class(1, confusion=cm).passed and not check_avoided_class(2, confusion=cm).passed


# Exercise 3: class weights ------------------------------------------------------------------------------


def test_class_weights_solution_passes():
    assert check_class_weights(solutions.class_weights(COUNTS), counts=COUNTS).passed


def test_class_weights_any_scale_passes():
    assert check_class_weights({c: 1000.0 / n for c, n in enumerate(COUNTS)}, counts=COUNTS).passed


@pytest.mark.parametrize(
    "weights,hint",
    [
        ({c: n / sum(COUNTS) for c, n in enumerate(COUNTS)}, "inversely proportional"),  # the inverted weights
        ({c: 1.0 for c in range(10)}, "Rare classes need larger weights"),
        ({c: (5.0 if n < 50 else 1.0) for c, n in enumerate(COUNTS)}, "balanced"),
    ],
)
def test_class_weights_catch_typical_mistakes(weights, hint):
    feedback = check_class_weights(weights, counts=COUNTS)
    assert not feedback.passed and hint in feedback.hint


@pytest.mark.parametrize(
    "weights,text",
    [
        ({c: 1.0 for c in range(9)}, "no weight"),
        ([1.0] * 10, "must be a dict"),
        ({c: (0.0 if c == 3 else 1.0) for c in range(10)}, "positive"),
        ({c: "a" for c in range(10)}, "number"),
    ],
)
def test_class_weights_explain_malformed_answers(weights, text):
    feedback = check_class_weights(weights, counts=COUNTS)
    assert not feedback.passed and text in feedback.message


def test_class_weights_need_the_counts():
    assert not check_class_weights({0: 1.0}).passed


@pytest.mark.parametrize("check", [check_name_the_problem, check_avoided_class, check_class_weights])
def test_placeholders_are_not_answered_yet(check):
    feedback = check(...)
    assert not feedback.answered and not feedback.passed and "not answered yet" in str(feedback)
