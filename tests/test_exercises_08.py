"""The checkers of notebook 08 accept the solutions and catch typical mistakes."""

import numpy as np
import pytest

from toolkit.diagnose import diagnose
from toolkit.exercises import check_avoided_class, check_class_weights, check_name_the_problem
from toolkit.exercises.diagnosing import mystery_confusion, mystery_curves
from answers_that_agree_with_everything import EqualStr
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
        (4, "Few samples alone"),  # the rarest class, but recognized
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


# Exercise 4: predict, run, explain (bad training labels) --------------------------------------------------

import pathlib  # noqa: E402
import types  # noqa: E402

from toolkit.exercises.diagnosing import ACCURACY_TOLERANCE, check_shuffled_labels_prediction  # noqa: E402


def _run(acc_end=0.60, val_end=0.91, epochs=8):
    """A history like the exercise's run: accuracy stops near 0.6 on shuffled labels, val accuracy climbs to 0.9."""
    t = np.arange(epochs)
    acc = acc_end - 0.35 * np.exp(-t / 1.5)
    val = val_end - 0.4 * np.exp(-t / 1.5)
    return {"loss": (2.2 - 0.7 * (1 - np.exp(-t / 2))).tolist(), "val_loss": (1.8 - 1.4 * (1 - np.exp(-t / 2))).tolist(),
            "accuracy": acc.tolist(), "val_accuracy": val.tolist()}


def _doctor(history):
    """What the checker reads of a TrainingDoctor: its diagnosis and its history."""
    return types.SimpleNamespace(diagnosis=diagnose(history, num_classes=10), history=history)


MISMATCH = _doctor(_run())


def test_the_synthetic_run_reads_like_the_real_one():
    assert MISMATCH.diagnosis.problems == [solutions.SHUFFLED_LABELS_PREDICTION["doctor"]]


def test_shuffled_labels_solution_passes():
    feedback = check_shuffled_labels_prediction(solutions.SHUFFLED_LABELS_PREDICTION, doctor=MISMATCH)
    assert feedback.passed and "0.60" in feedback.message and "0.91" in feedback.message


@pytest.mark.parametrize(
    "word,hint",
    [
        ("healthy", "Compare the two accuracy curves"),
        ("underfitting", "compares the training accuracy with chance alone"),
        ("overfitting", "far ABOVE the validation accuracy"),
        ("noisy", "Nothing in this run"),
        ("class_imbalance", "every digit keeps its count"),
        ("dead_units", "Think of the two accuracies"),
    ],
)
def test_shuffled_labels_wrong_words_get_their_hint(word, hint):
    feedback = check_shuffled_labels_prediction({"doctor": word, "train_accuracy": 0.64}, doctor=MISMATCH)
    assert not feedback.passed and hint in feedback.hint
    assert "train_val_mismatch" not in feedback.hint, "the hint never gives the word away"


@pytest.mark.parametrize(
    "accuracy,hint",
    [(0.95, "cannot agree with a wrong label"), (0.4, "about one time in ten"), (0.1, "about one time in ten")],
)
def test_shuffled_labels_accuracy_far_off_gets_its_hint(accuracy, hint):
    answer = dict(solutions.SHUFFLED_LABELS_PREDICTION, train_accuracy=accuracy)
    feedback = check_shuffled_labels_prediction(answer, doctor=MISMATCH)
    assert not feedback.passed and hint in feedback.hint and "The word is right" in feedback.message


def test_shuffled_labels_accuracy_is_judged_against_the_measured_run():
    """The tolerance is around the run's own accuracy, not around a constant."""
    low = _doctor(_run(acc_end=0.57))
    answer = dict(solutions.SHUFFLED_LABELS_PREDICTION, train_accuracy=0.57 + ACCURACY_TOLERANCE + 0.01)
    assert low.diagnosis.problems == ["train_val_mismatch"]
    assert not check_shuffled_labels_prediction(answer, doctor=low).passed
    assert check_shuffled_labels_prediction(dict(answer, train_accuracy=0.6), doctor=low).passed


@pytest.mark.parametrize(
    "answer,text",
    [
        ({"doctor": "train_val_mismatch", "train_accuracy": 64}, "between 0 and 1"),
        ({"doctor": "mismatch", "train_accuracy": 0.64}, "is not one of"),
        ({"doctor": 3, "train_accuracy": 0.64}, "expected a word"),
        ({"doctor": "train_val_mismatch", "train_accuracy": "0.64"}, "expected a number"),
        ({"doctor": "train_val_mismatch"}, "no 'train_accuracy'"),
        ({"doctor": ..., "train_accuracy": ...}, "no 'doctor' and no 'train_accuracy'"),
        (["train_val_mismatch", 0.64], "must be a dict"),
    ],
)
def test_shuffled_labels_malformed_answers_are_explained(answer, text):
    feedback = check_shuffled_labels_prediction(answer, doctor=MISMATCH)
    assert feedback.answered and not feedback.passed and text in feedback.message



class _YesDict(dict):
    def __contains__(self, key):
        return True

    def __getitem__(self, key):
        return "train_val_mismatch" if key == "doctor" else 0.6


class _YesNumber(float):
    def __eq__(self, other):
        return True

    def __sub__(self, other):
        return 0.0

    __hash__ = float.__hash__


@pytest.mark.parametrize(
    "answer",
    [
        {"doctor": EqualStr("healthy"), "train_accuracy": 0.64},
        _YesDict(),
        {"doctor": "healthy", "train_accuracy": _YesNumber(0.64)},
    ],
)
def test_shuffled_labels_cannot_be_fooled_by_objects_that_say_yes(answer):
    assert not check_shuffled_labels_prediction(answer, doctor=MISMATCH).passed


def test_shuffled_labels_a_lying_float_is_read_by_its_value():
    """A float subclass is read through float itself: its lying __sub__ does not make 0.95 right."""
    answer = {"doctor": "train_val_mismatch", "train_accuracy": _YesNumber(0.95)}
    assert not check_shuffled_labels_prediction(answer, doctor=MISMATCH).passed


def test_shuffled_labels_need_the_run():
    feedback = check_shuffled_labels_prediction(solutions.SHUFFLED_LABELS_PREDICTION)
    assert not feedback.passed and "pass doctor=" in feedback.message
    feedback = check_shuffled_labels_prediction(solutions.SHUFFLED_LABELS_PREDICTION, doctor=object())
    assert not feedback.passed and "TrainingDoctor of a finished run" in feedback.message


def test_shuffled_labels_a_run_that_misses_the_lesson_says_so():
    """A run that came out healthy is reported as unusual; the reasoning is still what is judged."""
    odd = _doctor(_run(val_end=0.62))
    assert odd.diagnosis.healthy
    feedback = check_shuffled_labels_prediction(solutions.SHUFFLED_LABELS_PREDICTION, doctor=odd)
    assert feedback.passed and "did not come out as the lesson expects" in feedback.message
    feedback = check_shuffled_labels_prediction({"doctor": "healthy", "train_accuracy": 0.6}, doctor=odd)
    assert not feedback.passed and "did not come out as the lesson expects" in feedback.message


def test_shuffled_labels_placeholder_is_not_answered_yet():
    feedback = check_shuffled_labels_prediction(..., doctor=None)
    assert not feedback.answered and "not answered yet" in str(feedback)


def test_shuffled_labels_answer_is_not_in_clear_text():
    import toolkit.exercises.diagnosing as module

    word = solutions.SHUFFLED_LABELS_PREDICTION["doctor"]
    for name, value in vars(module).items():
        if name in ("_VOCABULARY", "__builtins__") or callable(value):
            continue
        assert value != word and not (isinstance(value, dict) and word in value.values()), name
    source = pathlib.Path(module.__file__).read_text()
    assert source.count(f'"{word}"') == 1, "the word appears once, in the vocabulary, never as an answer"


@pytest.mark.slow
def test_shuffled_labels_the_real_run_teaches_the_lesson():
    """The notebook's experiment, for real: the doctor reads it as the solution says, and the solution passes."""
    import keras

    from toolkit.callbacks import TrainingDoctor
    from toolkit.data import load_digits, train_val_test_split
    from toolkit.models import deep_mlp
    from toolkit.runtime import seed_everything

    seed_everything(0)
    images, labels = load_digits()
    (x_train, y_train), (x_val, y_val), _ = train_val_test_split(images.reshape(len(images), -1), labels, seed=0)
    rng = np.random.default_rng(0)
    y_bad = y_train.copy()
    picked = rng.choice(len(y_bad), round(0.4 * len(y_bad)), replace=False)
    y_bad[picked] = rng.permutation(y_bad[picked])
    model = deep_mlp(1, 64, input_shape=(64,))
    model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    doctor = TrainingDoctor(validation_data=(x_val, y_val), verbose=False)
    model.fit(x_train, y_bad, validation_data=(x_val, y_val), epochs=8, batch_size=64, verbose=0, callbacks=[doctor])
    assert solutions.SHUFFLED_LABELS_PREDICTION["doctor"] in doctor.diagnosis, doctor.diagnosis.problems
    feedback = check_shuffled_labels_prediction(solutions.SHUFFLED_LABELS_PREDICTION, doctor=doctor)
    assert feedback.passed, str(feedback)
