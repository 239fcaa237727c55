"""Exercises of notebook 03: the solution passes, the usual slips fail with their hint."""

import math

import pytest

from toolkit.exercises import check_conv_he_std, check_he_std, check_initializer_choice
from answers_that_agree_with_everything import EqualStr
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


# Exercise 4, predict → run → explain: BatchNorm at a 30× higher learning rate -------------------------

from toolkit.exercises import check_bn_high_lr  # noqa: E402

NAN = float("nan")
#: What the notebook's runs measure: the plain net's loss overflows, the BN net's falls.
USUAL_RUNS = {"without BN": {"loss": [6.9e17, NAN]}, "with BN": {"loss": [1.39, 0.73]}}


def test_bn_high_lr_waits_for_a_prediction():
    feedback = check_bn_high_lr(..., runs={})
    assert not feedback.answered and "not answered yet" in str(feedback)


def test_bn_high_lr_solution_passes_and_explains():
    feedback = check_bn_high_lr(SOLUTIONS.bn_lr_prediction, runs=USUAL_RUNS)
    assert feedback.passed, feedback
    assert "only the net with BN trained" in feedback.message and "higher learning rate" in feedback.message
    # Case, spaces and hyphens do not matter.
    assert check_bn_high_lr(" Only-with bn ", runs=USUAL_RUNS).passed


@pytest.mark.parametrize(
    "prediction, hint",
    [
        ("both", "without BN did not train"),
        ("neither", "with BN did train"),
        ("only without BN", "with BN did train"),
    ],
)
def test_bn_high_lr_wrong_predictions_get_their_hint(prediction, hint):
    feedback = check_bn_high_lr(prediction, runs=USUAL_RUNS)
    assert feedback.answered and not feedback.passed
    assert hint in feedback.hint
    assert "only the net with BN trained" in feedback.message  # the measurement is shown


def test_bn_high_lr_reads_the_run_not_a_stored_answer():
    # A run that measured something else: the prediction of that run passes, and the message says it is unusual.
    both = {"without BN": {"loss": [2.0, 1.2]}, "with BN": {"loss": [1.4, 0.86]}}
    feedback = check_bn_high_lr("both", runs=both)
    assert feedback.passed and "usually gives" in feedback.message
    assert not check_bn_high_lr(SOLUTIONS.bn_lr_prediction, runs=both).passed
    # A loss that is finite but above the threshold does not count as training.
    stuck = {"without BN": {"loss": [2.31, 2.30]}, "with BN": {"loss": [2.30, 2.29]}}
    assert check_bn_high_lr("neither", runs=stuck).passed
    # The answer is hidden: no importable name holds it in clear text.
    import toolkit.exercises.initialization as module

    texts = [v for v in vars(module).values() if isinstance(v, str)]
    assert SOLUTIONS.bn_lr_prediction not in texts


@pytest.mark.parametrize(
    "runs, words",
    [
        ({}, "has not run"),
        (None, "has not run"),
        ({"with BN": {"loss": [0.7]}}, "missing"),
        ({"without BN": {"loss": []}, "with BN": {"loss": [0.7]}}, "no per-epoch training loss"),
        ({"without BN": "nan", "with BN": {"loss": [0.7]}}, "could not be checked"),
    ],
)
def test_bn_high_lr_without_usable_runs(runs, words):
    feedback = check_bn_high_lr(SOLUTIONS.bn_lr_prediction, runs=runs)
    assert feedback.answered and not feedback.passed
    assert words in feedback.message



@pytest.mark.parametrize("answer", ["yes", True, 1, ["only with BN"], EqualStr("only with BN")])
def test_bn_high_lr_refuses_answers_that_are_not_one_option(answer):
    feedback = check_bn_high_lr(answer, runs=USUAL_RUNS)
    assert feedback.answered and not feedback.passed
    assert "could not be checked" in feedback.message


def test_bn_high_lr_on_the_notebooks_real_runs():
    """The experiment of the notebook's cell, on its data and sizes (fast mode): the solution's prediction holds."""
    import keras
    import numpy as np

    from toolkit.data import load_mnist
    from toolkit.models import deep_mlp

    (x_all, y_all), _ = load_mnist()
    order = np.random.default_rng(42).permutation(len(x_all))
    x = x_all[order].reshape(len(x_all), -1).astype("float32") / 255.0
    x_train, y_train = x[1000:3000], y_all[order][1000:3000].astype("int64")
    x_train = (x_train - x_train.mean()) / x_train.std()
    runs = {}
    for batch_norm in (False, True):
        keras.utils.set_random_seed(42)
        model = deep_mlp(10, 100, activation="relu", kernel_initializer="he_normal", batch_norm=batch_norm)
        model.compile(optimizer=keras.optimizers.SGD(0.3, momentum=0.9), loss="sparse_categorical_crossentropy")
        runs["with BN" if batch_norm else "without BN"] = model.fit(x_train, y_train, epochs=2, batch_size=64, verbose=0)
    feedback = check_bn_high_lr(SOLUTIONS.bn_lr_prediction, runs=runs)
    assert feedback.passed, feedback
    assert "usually gives" not in feedback.message
