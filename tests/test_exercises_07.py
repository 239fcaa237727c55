"""Exercises of notebook 07: the solution passes, the usual slips fail with their hint."""

import keras
import numpy as np
import pytest
from scipy.special import softmax

from toolkit.exercises import check_digit_augmentation, check_frozen_backbone, check_soft_targets
from toolkit.exercises.transfer import DISTILL_LOGITS, DISTILL_TEMPERATURE
from toolkit.transfer import small_cnn_backbone
from answers_that_agree_with_everything import EqualInt
from exercise_solutions import load_solutions


SOLUTIONS = load_solutions("07_transfer_learning_augmentation")


def _backbone():
    keras.utils.set_random_seed(0)
    return small_cnn_backbone(filters=(4, 8))  # tiny: the checks only look at its structure and BatchNorm


def _model(backbone, *, freeze=True, training_arg=False, compile_model=True, freeze_after_compile=False):
    """The student's model, with one of the usual slips."""
    if freeze:
        backbone.trainable = False
    inputs = keras.Input(backbone.input_shape[1:])
    x = backbone(inputs) if training_arg == "absent" else backbone(inputs, training=training_arg)
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x))
    if compile_model:
        model.compile("adam", "sparse_categorical_crossentropy")
    if freeze_after_compile:
        backbone.trainable = False
    return model


def _state(backbone):
    """What a checker must leave alone: every trainable flag and BatchNorm statistic."""
    flags = [layer.trainable for layer in backbone._flatten_layers()]
    stats = [
        (bn.moving_mean.numpy().copy(), bn.moving_variance.numpy().copy())
        for bn in backbone._flatten_layers()
        if isinstance(bn, keras.layers.BatchNormalization)
    ]
    return flags, stats


def _assert_unchanged(backbone, before):
    flags, stats = _state(backbone)
    assert flags == before[0]
    for (mean, var), (mean0, var0) in zip(stats, before[1]):
        np.testing.assert_array_equal(mean, mean0)
        np.testing.assert_array_equal(var, var0)


def test_solutions_pass():
    backbone = small_cnn_backbone()  # the notebook's backbone
    assert check_frozen_backbone(SOLUTIONS.frozen_model(backbone)).passed
    assert check_digit_augmentation(SOLUTIONS.digit_augmentation()).passed
    assert check_soft_targets(SOLUTIONS.SOFT_TARGETS).passed


def test_soft_targets_solution_is_the_softmax_at_the_temperature():
    np.testing.assert_allclose(SOLUTIONS.SOFT_TARGETS, softmax(DISTILL_LOGITS / DISTILL_TEMPERATURE))
    assert SOLUTIONS.SOFT_TARGETS.sum() == pytest.approx(1.0)
    assert check_soft_targets(list(SOLUTIONS.SOFT_TARGETS)).passed
    assert check_soft_targets(SOLUTIONS.SOFT_TARGETS[None, :]).passed  # a batch of one


# --- Exercise 1: freeze a backbone ----------------------------------------------------------


@pytest.mark.parametrize(
    "slip, hint",
    [
        (dict(freeze=False), "backbone.trainable = False before compiling"),  # left trainable
        (dict(freeze=False, freeze_after_compile=True), "set backbone.trainable first"),  # compile, then freeze
        (dict(training_arg="absent"), "Call the backbone with training=False"),  # BatchNorm in training mode
        (dict(training_arg=True), "Call the backbone with training=False"),
        (dict(compile_model=False), "Compile it"),
    ],
)
def test_frozen_backbone_wrong_answers_get_their_hint(slip, hint):
    model = _model(_backbone(), **slip)
    feedback = check_frozen_backbone(model)
    if slip.get("freeze_after_compile") and not hasattr(model, "_compiled_trainable_state"):
        # Before Keras 3.15 compile() did not fix trainability: freezing after compile (before fit) works there.
        assert feedback.passed, feedback.hint
        return
    assert feedback.answered and not feedback.passed
    assert hint in feedback.hint


def test_frozen_backbone_other_slips():
    # everything frozen, the head too
    model = _model(_backbone(), compile_model=False)
    model.trainable = False
    model.compile("adam", "sparse_categorical_crossentropy")
    assert "head must stay trainable" in check_frozen_backbone(model).hint
    # a Sequential cannot pass training=False to the backbone
    backbone = _backbone()
    backbone.trainable = False
    seq = keras.Sequential([keras.Input((28, 28, 1)), backbone, keras.layers.Dense(10)])
    seq.compile("adam", "mse")
    assert "training=False" in check_frozen_backbone(seq).hint
    # a model without the backbone
    plain = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
    plain.compile("adam", "mse")
    assert "Call the given backbone" in check_frozen_backbone(plain).hint
    # not a model
    assert "keras.Input → backbone" in check_frozen_backbone(keras.layers.Dense(10)).hint


class _Subclassed(keras.Model):
    """A subclassed answer: no graph, so the checker runs it to see whether BatchNorm moves."""

    def __init__(self, backbone, inference_mode):
        super().__init__()
        self.backbone, self.head, self.inference_mode = backbone, keras.layers.Dense(10), inference_mode

    def call(self, x, training=None):
        return self.head(self.backbone(x, training=False) if self.inference_mode else self.backbone(x))


@pytest.mark.parametrize("inference_mode", [True, False])
def test_frozen_backbone_subclassed_model(inference_mode):
    backbone = _backbone()
    backbone.trainable = False
    model = _Subclassed(backbone, inference_mode)
    model(np.zeros((1, 28, 28, 1), "float32"))
    model.compile("adam", "mse")
    before = _state(backbone)
    feedback = check_frozen_backbone(model)
    assert feedback.passed is inference_mode
    if not inference_mode:
        assert "training=False" in feedback.hint
    _assert_unchanged(backbone, before)


@pytest.mark.parametrize("slip", [dict(), dict(training_arg="absent"), dict(freeze=False, freeze_after_compile=True)])
def test_frozen_backbone_check_leaves_the_model_unchanged(slip):
    backbone = _backbone()
    # pretrained-like statistics, so that any update would show
    for bn in backbone._flatten_layers():
        if isinstance(bn, keras.layers.BatchNormalization):
            bn.moving_mean.assign(np.full(bn.moving_mean.shape, 0.3, "float32"))
            bn.moving_variance.assign(np.full(bn.moving_variance.shape, 2.0, "float32"))
    model = _model(backbone, **slip)
    before = _state(backbone)
    compiled_state = dict(getattr(model, "_compiled_trainable_state", {}))  # Keras >= 3.15 only
    weights = [w.copy() for w in model.get_weights()]
    check_frozen_backbone(model)
    check_frozen_backbone(model)
    _assert_unchanged(backbone, before)
    assert dict(getattr(model, "_compiled_trainable_state", {})) == compiled_state
    for w, w0 in zip(model.get_weights(), weights):
        np.testing.assert_array_equal(w, w0)


# --- Exercise 2: augmentation for digits --------------------------------------------------


@pytest.mark.parametrize(
    "make, hint",
    [
        (lambda: keras.Sequential([keras.layers.RandomFlip("horizontal"), keras.layers.RandomRotation(0.05)]),
         "no flips for digits"),
        (lambda: keras.layers.RandomFlip("vertical"), "no flips for digits"),
        (lambda: keras.Sequential([keras.layers.RandomRotation(0.5)]), "Keep it at most 0.1"),
        (lambda: keras.Sequential([keras.layers.RandomRotation((-0.2, 0.05))]), "Keep it at most 0.1"),
        (lambda: keras.layers.Identity(), "Add Random... layers"),
        (lambda: keras.Sequential([keras.layers.RandomRotation(0.0)]), "Add Random... layers"),
        (lambda: keras.Sequential([keras.layers.Rescaling(0.5), keras.layers.RandomRotation(0.05)]),
         "pass images unchanged at inference"),
        (lambda: keras.Sequential([keras.layers.RandomCrop(20, 20)]), "Keep the 28×28×1 shape"),
        (lambda: [keras.layers.RandomRotation(0.05), keras.layers.RandomZoom(0.1)], "keras.Sequential([...])"),
        (lambda: (lambda images: images), "keras.Sequential([...])"),
    ],
)
def test_digit_augmentation_wrong_answers_get_their_hint(make, hint):
    feedback = check_digit_augmentation(make())
    assert feedback.answered and not feedback.passed
    assert hint in feedback.hint


def test_digit_augmentation_accepts_a_single_small_layer():
    assert check_digit_augmentation(keras.layers.RandomTranslation(0.1, 0.1)).passed
    assert check_digit_augmentation(keras.Sequential([keras.layers.RandomRotation(0.1)])).passed


# --- Exercise 3: soft targets -------------------------------------------------------------

Z, T = DISTILL_LOGITS, DISTILL_TEMPERATURE


@pytest.mark.parametrize(
    "answer, hint",
    [
        (softmax(Z), "Divide the logits by the temperature before the softmax"),  # temperature 1
        (softmax(Z * T), "do not multiply"),
        (np.exp(Z / T), "Normalize"),
        (softmax(softmax(Z) / T), "Apply the temperature to the logits"),
        (softmax(Z) ** (1 / T), "Apply the temperature to the logits"),
        (softmax(Z / T)[:4], "One probability per class"),
        (np.ones(10) / 10, "One probability per class"),
        (np.full(5, 0.2), "softmax(logits / temperature)"),
        ("abc", "could not be checked"),
    ],
)
def test_soft_targets_wrong_answers_get_their_hint(answer, hint):
    feedback = check_soft_targets(answer)
    assert feedback.answered and not feedback.passed
    assert hint in feedback.hint or hint in feedback.message


# --- Exercise 4 (predict, run, explain): with how many labels does transfer pay most? -------------

from toolkit.exercises import transfer as _transfer
from toolkit.exercises.transfer import LABEL_BUDGETS, check_label_budget


@pytest.fixture(scope="module")
def transfer_accuracies():
    """The experiment, run once: the real measurement behind the checks below."""
    return _transfer.measure_transfer_gains()


def test_label_budget_experiment_shows_the_lesson(transfer_accuracies):
    gains = {n: t - s for n, (t, s) in transfer_accuracies.items()}
    assert sorted(gains) == sorted(LABEL_BUDGETS)
    assert gains[20] > 0.05, f"with 20 labels the pretrained backbone should win clearly: {transfer_accuracies}"
    assert gains[20] > gains[1000] + 0.03, f"the gain should shrink with more labels: {gains}"
    assert transfer_accuracies[1000][1] > 0.9, "with 1,000 labels a network from scratch learns the task well"


def test_label_budget_solution_passes(monkeypatch, transfer_accuracies):
    monkeypatch.setattr(_transfer, "measure_transfer_gains", lambda: transfer_accuracies)
    feedback = check_label_budget(SOLUTIONS.LABEL_BUDGET_PREDICTION)
    assert feedback.passed, str(feedback)
    assert "Measured:" in feedback.message and "scarce labels" in feedback.message
    assert check_label_budget(np.int64(SOLUTIONS.LABEL_BUDGET_PREDICTION)).passed


@pytest.mark.parametrize("answer", [200, 1000])
def test_label_budget_wrong_predictions_get_a_hint(answer, monkeypatch, transfer_accuracies):
    monkeypatch.setattr(_transfer, "measure_transfer_gains", lambda: transfer_accuracies)
    feedback = check_label_budget(answer)
    assert feedback.answered and not feedback.passed
    assert "When is that hardest?" in feedback.hint and "Measured" not in feedback.hint
    assert "measured:" in feedback.message



@pytest.mark.parametrize(
    "answer, text",
    [
        (20.0, "an integer count"),
        ("20", "an integer count"),
        (EqualInt(200), "an integer count"),
        (True, "an integer count"),
        (50, "is not one of the numbers tried"),
    ],
)
def test_label_budget_reads_answers_strictly(answer, text, monkeypatch):
    def boom():
        raise AssertionError("a refused answer must not run the experiment")

    monkeypatch.setattr(_transfer, "measure_transfer_gains", boom)
    feedback = check_label_budget(answer)
    assert feedback.answered and not feedback.passed
    assert text in feedback.message


def test_label_budget_placeholder_runs_nothing(monkeypatch):
    monkeypatch.setattr(_transfer, "measure_transfer_gains", lambda: (_ for _ in ()).throw(AssertionError()))
    feedback = check_label_budget(...)
    assert not feedback.answered and "20" in feedback.message
