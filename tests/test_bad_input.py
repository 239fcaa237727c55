"""Bad input across the whole public API: the toolkit refuses it itself, in words.

Every case below must raise a ``ValueError``/``TypeError`` whose message names
the argument and shows the value received, raised by a toolkit file (the last
frame of the traceback is under ``toolkit/``), never a deep TensorFlow/Keras
traceback and never a silent wrong result. Exercise checkers are the one
exception by design: they never raise, they answer ✗ in words.

Degenerate but valid input (a history with NaN, a single epoch, a one-class
``y_true``) must still work: plots draw (with a warning for NaN), reports
stay true.

Cases marked ``xfail(strict=True, reason="reported: ...")`` are bugs reported
to the lead; the mark goes when the fix lands (strict: a fix makes them XPASS,
which fails until the mark is removed).
"""

from __future__ import annotations

import pathlib
import traceback
import warnings

import keras
import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import toolkit
from toolkit import data, metrics, models, runtime, transfer
from toolkit.callbacks import (
    ActivationMonitor,
    GradientMonitor,
    LearningRateLogger,
    LiveHistoryPlot,
    LRFinder,
    TrainingDoctor,
)
from toolkit.diagnose import Finding, diagnose, diagnose_confusion, read_history_csv
from toolkit.plots import (
    plot_augmentations,
    plot_confusion_matrix,
    plot_decision_boundary,
    plot_history,
    plot_images,
    plot_layer_stats,
    plot_lr_finder,
    plot_optimizer_paths,
    plot_schedule,
)
from toolkit.schedules import OneCycle

TOOLKIT_DIR = pathlib.Path(toolkit.__file__).resolve().parent
FEW = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
#: Drawing costs ~0.1 s a figure: fewer examples for the plotting properties.
FEWER = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# The check every case goes through ------------------------------------------------------


def _origin(exc: BaseException) -> pathlib.Path:
    """The file of the traceback's last frame: where the exception was raised."""
    frames = traceback.extract_tb(exc.__traceback__)
    return pathlib.Path(frames[-1].filename).resolve()


def assert_refused(call, error, arg: str, shows: str):
    """``call()`` raises ``error`` from a toolkit file, naming ``arg`` and showing ``shows``."""
    with pytest.raises((TypeError, ValueError)) as info:
        call()
    exc = info.value
    where = _origin(exc)
    assert TOOLKIT_DIR in where.parents, (
        f"{type(exc).__name__} was raised in {where}, not by the toolkit: a student sees a deep traceback. "
        f"Message: {str(exc)[:300]}"
    )
    assert isinstance(exc, error), f"expected {error}, got {type(exc).__name__}: {exc}"
    message = str(exc)
    assert arg in message, f"the message must name the argument {arg!r}: {message}"
    assert shows in message, f"the message must show the value received ({shows!r}): {message}"
    assert len(message) < 600, f"a student-sized message, not a dump: {len(message)} characters"
    return exc


def reported(reason: str):
    return pytest.mark.xfail(strict=True, reason=f"reported: {reason}")


# Small shared objects, built lazily (some cases need a model) ------------------------------

_CACHE: dict = {}


def _mlp8():
    """An uncompiled 8 -> 4 -> 2 MLP built from keras.Input."""
    if "mlp" not in _CACHE:
        keras.utils.set_random_seed(0)
        _CACHE["mlp"] = keras.Sequential(
            [keras.Input((8,)), keras.layers.Dense(4, activation="relu", name="hidden"),
             keras.layers.Dropout(0.5), keras.layers.Dense(2, activation="softmax", name="out")]
        )
    return _CACHE["mlp"]


def _fit_tiny(callbacks, *, epochs=1, optimizer=None):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((8,)), keras.layers.Dense(4, activation="relu", name="hidden"),
         keras.layers.Dense(2, activation="softmax", name="out")]
    )
    model.compile(optimizer or keras.optimizers.SGD(0.01), "sparse_categorical_crossentropy")
    x = np.random.default_rng(0).normal(size=(32, 8)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    model.fit(x, y, epochs=epochs, batch_size=16, verbose=0, callbacks=callbacks)
    return model


def _fit_two_inputs(callbacks):
    """A functional model with two inputs, fit with a dict."""
    a, b = keras.Input((8,), name="a"), keras.Input((3,), name="b")
    out = keras.layers.Dense(2, activation="softmax")(keras.layers.Concatenate()([a, b]))
    model = keras.Model({"a": a, "b": b}, out)
    model.compile("sgd", "sparse_categorical_crossentropy")
    x = {"a": np.zeros((16, 8), "float32"), "b": np.zeros((16, 3), "float32")}
    model.fit(x, np.zeros(16), epochs=1, verbose=0, callbacks=callbacks)


def _fit_subclassed(callbacks, loss="mse"):
    class Subclassed(keras.Model):
        def __init__(self):
            super().__init__(name="subclassed")
            self.dense = keras.layers.Dense(1)

        def call(self, inputs):
            return self.dense(inputs)

    model = Subclassed()
    model.compile("sgd", loss)
    model.fit(np.zeros((16, 8), "float32"), np.zeros(16), epochs=1, verbose=0, callbacks=callbacks)


def _csv_with_text(tmp="bad_history.csv"):
    import tempfile

    path = pathlib.Path(tempfile.mkdtemp()) / tmp
    path.write_text("epoch,loss\n0,0.9\n1,abc\n")
    return path


class _FakeFinder:
    lrs = [1e-3, 1e-2]
    losses = [1.0, 0.5]


_IMGS = np.zeros((2, 8, 8), dtype=np.float32)
_XY = (np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]]), np.array([0, 1, 1, 0]))


def _on_first_axis(grid):
    return (grid[:, 0] > 0.5).astype(int)


def _model3():
    """A model that expects 3 features, for a 2-D decision boundary."""
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])


_SCHEDULE = keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)


def bug(case_id, call, error, arg, shows, *, reason):
    """A case that fails today: reported to the lead, expected to fail until fixed."""
    return case_id, call, error, arg, shows, reason


# id, call, error, the argument named, the value shown
CASES = [
    # runtime ----------------------------------------------------------------------------
    ("runtime.seed_everything-negative", lambda: runtime.seed_everything(-1), ValueError, "`seed`", "seed=-1"),
    ("runtime.seed_everything-float", lambda: runtime.seed_everything(4.2), TypeError, "`seed`", "seed=4.2"),
    ("runtime.seed_everything-deterministic-str", lambda: runtime.seed_everything(0, deterministic="yes"),
     TypeError, "`deterministic`", "deterministic='yes'"),
    ("runtime.headline-empty-name", lambda: runtime.headline("", 0.9), TypeError, "`name`", "name=''"),
    ("runtime.pick-missing-fast", lambda: runtime.pick(full=3), TypeError, "fast", "pick(full="),
    # data -------------------------------------------------------------------------------
    ("data.make_linear-n-1", lambda: data.make_linear(1), ValueError, "`n`", "n=1"),
    ("data.make_linear-margin-nan", lambda: data.make_linear(margin=float("nan")), ValueError, "`margin`", "nan"),
    ("data.make_xor-noise-too-big", lambda: data.make_xor(noise=1.0), ValueError, "`noise`", "noise=1.0"),
    ("data.make_moons-n-str", lambda: data.make_moons("200"), TypeError, "`n`", "n='200'"),
    ("data.split-length-mismatch", lambda: data.train_val_test_split(np.zeros((10, 2)), np.zeros(9)),
     ValueError, "`x`", "len(y)=9"),
    ("data.split-fractions-sum", lambda: data.train_val_test_split(np.zeros((10, 2)), np.zeros(10), fractions=(0.6, 0.3, 0.3)),
     ValueError, "`fractions`", "(0.6, 0.3, 0.3)"),
    ("data.split-stratify-str", lambda: data.train_val_test_split(np.zeros((10, 2)), np.zeros(10), stratify="yes"),
     TypeError, "`stratify`", "stratify='yes'"),
    ("data.split-x-none", lambda: data.train_val_test_split(None, np.zeros(10)), TypeError, "`x`", "x=None"),
    ("data.split-x-scalar", lambda: data.train_val_test_split(5, 5), (TypeError, ValueError), "`x`", "x=5"),
    ("data.load_flowers-image_size-8", lambda: data.load_flowers(image_size=8), ValueError, "`image_size`", "image_size=8"),
    ("data.load_flowers-splits-str", lambda: data.load_flowers(splits="train"), ValueError, "`splits`", "splits='train'"),
    # plots ------------------------------------------------------------------------------
    ("plots.history-list", lambda: plot_history([0.5, 0.4]), TypeError, "`history`", "history=[0.5, 0.4]"),
    ("plots.history-empty", lambda: plot_history({}), ValueError, "`history`", "history={}"),
    ("plots.history-lengths-differ", lambda: plot_history({"loss": [1.0, 0.5], "accuracy": [1.0]}),
     ValueError, "`history`", "'accuracy': 1"),
    # 2 val_loss values for 3 epochs: no fit(validation_freq=k) writes that (a shorter val_loss alone is fine)
    ("plots.history-val-lengths-impossible", lambda: plot_history({"loss": [1.0, 0.5, 0.4], "val_loss": [1.0, 0.5]}),
     ValueError, "`history`", "'val_loss' has 2 values"),
    ("plots.history-text-values", lambda: plot_history({"loss": ["a", "b"]}), TypeError, "`history['loss']`", "['a', 'b']"),
    ("plots.history-unknown-metric", lambda: plot_history({"loss": [1.0]}, metrics=["acc"]), ValueError, "`metrics`", "'acc'"),
    ("plots.history-ax-str", lambda: plot_history({"loss": [1.0]}, ax="left"), TypeError, "`ax`", "ax='left'"),
    ("plots.images-rank-2", lambda: plot_images(np.zeros((28, 28))), ValueError, "`images`", "(28, 28)"),
    ("plots.images-2-channels", lambda: plot_images(np.zeros((2, 28, 28, 2))), ValueError, "`images`", "(2, 28, 28, 2)"),
    ("plots.images-labels-length", lambda: plot_images(_IMGS, [1]), ValueError, "`labels`", "len(labels)=1"),
    ("plots.images-max_images-0", lambda: plot_images(_IMGS, max_images=0), ValueError, "`max_images`", "max_images=0"),
    (
        "plots.images-class_names-int", lambda: plot_images(_IMGS, [0, 1], class_names=5), TypeError,
        "`class_names`", "class_names=5",
    ),
    ("plots.confusion-only-y_true", lambda: plot_confusion_matrix([0, 1]), TypeError, "`y_pred`", "y_pred=None"),
    ("plots.confusion-normalize", lambda: plot_confusion_matrix([0, 1], [0, 1], normalize="rows"),
     ValueError, "`normalize`", "normalize='rows'"),
    ("plots.confusion-negative-label", lambda: plot_confusion_matrix([0, -1], [0, 1]), ValueError, "`y_true`", "-1"),
    (
        "plots.confusion-nan-matrix", lambda: plot_confusion_matrix(confusion=[[np.nan, 1], [1, 2]]), ValueError,
        "`confusion`", "NaN",
    ),
    (
        "plots.confusion-negative-matrix", lambda: plot_confusion_matrix(confusion=[[-1, 1], [1, 2]]), ValueError,
        "`confusion`", "-1",
    ),
    (
        "plots.confusion-text-matrix", lambda: plot_confusion_matrix(confusion="abc"), (TypeError, ValueError),
        "`confusion`", "'abc'",
    ),
    ("plots.layer_stats-list", lambda: plot_layer_stats([1.0, 2.0]), TypeError, "`stats`", "stats=[1.0, 2.0]"),
    ("plots.layer_stats-nan", lambda: plot_layer_stats({"He": [1.0, np.nan]}), ValueError, "`stats['He']`", "NaN"),
    ("plots.lr_finder-dict", lambda: plot_lr_finder({"lrs": [1e-3], "losses": [1.0]}), TypeError, "`finder`", "finder={"),
    ("plots.schedule-steps-0", lambda: plot_schedule(lambda s: 0.1, 0), ValueError, "`steps`", "steps=0"),
    ("plots.schedule-not-callable", lambda: plot_schedule(0.1, 10), TypeError, "`schedule`", "schedule=0.1"),
    ("plots.optimizer_paths-3-columns", lambda: plot_optimizer_paths(lambda a, b: a**2 + b**2, {"sgd": np.zeros((3, 3))}),
     ValueError, "`paths['sgd']`", "(3, 3)"),
    ("plots.optimizer_paths-levels-1",
     lambda: plot_optimizer_paths(lambda a, b: a**2 + b**2, {"sgd": [[0.0, 1.0], [1.0, 1.0]]}, levels=1),
     ValueError, "`levels`", "levels=1"),
    ("plots.decision_boundary-not-callable", lambda: plot_decision_boundary(3, *_XY), TypeError,
     "`model_or_fn`", "model_or_fn=3"),
    ("plots.decision_boundary-3-features", lambda: plot_decision_boundary(_on_first_axis, np.zeros((4, 3)), _XY[1]),
     ValueError, "`x`", "(4, 3)"),
    ("plots.decision_boundary-resolution-1", lambda: plot_decision_boundary(_on_first_axis, *_XY, resolution=1),
     ValueError, "`resolution`", "resolution=1"),
    ("plots.decision_boundary-padding-negative", lambda: plot_decision_boundary(_on_first_axis, *_XY, padding=-1.0),
     ValueError, "`padding`", "padding=-1.0"),
    ("plots.decision_boundary-model-expects-3-features", lambda: plot_decision_boundary(_model3(), *_XY),
     ValueError, "`model_or_fn`", "3"),
    ("plots.decision_boundary-fn-returns-wrong-size", lambda: plot_decision_boundary(lambda g: np.zeros(3), *_XY),
     ValueError, "`model_or_fn`", "3"),
    ("plots.augmentations-not-callable", lambda: plot_augmentations(3, _IMGS), TypeError, "`layer_or_model`", "layer_or_model=3"),
    ("plots.augmentations-17-images", lambda: plot_augmentations(keras.layers.RandomFlip(), np.zeros((17, 8, 8))),
     ValueError, "`images`", "17"),
    ("plots.augmentations-rank-5", lambda: plot_augmentations(keras.layers.RandomFlip(), np.zeros((2, 8, 8, 1, 1))),
     ValueError, "`images`", "(2, 8, 8, 1, 1)"),
    # metrics ------------------------------------------------------------------------------
    ("metrics.summary-length", lambda: metrics.classification_summary([0, 1], [0]), ValueError, "`y_true`", "len(y_pred)=1"),
    ("metrics.summary-nan-scores", lambda: metrics.classification_summary([0, 1], [[np.nan, 1.0], [0.0, 1.0]]),
     ValueError, "`y_pred`", "NaN"),
    ("metrics.summary-fractional-labels", lambda: metrics.classification_summary([0.5, 1], [0, 1]),
     ValueError, "`y_true`", "whole-number"),
    ("metrics.summary-class_names-str", lambda: metrics.classification_summary([0, 1], [0, 1], class_names="ab"),
     TypeError, "`class_names`", "class_names='ab'"),
    ("metrics.summary-label-outside-class_names", lambda: metrics.classification_summary([0, 2], [0, 1], class_names=["a", "b"]),
     ValueError, "class_names", "['a', 'b']"),
    ("metrics.iou-three-numbers", lambda: metrics.iou((0, 0, 1), (0, 0, 1, 1)), ValueError, "`box_a`", "(0, 0, 1)"),
    ("metrics.iou-inverted", lambda: metrics.iou((2, 2, 1, 1), (0, 0, 1, 1)), ValueError, "`box_a`", "(2, 2, 1, 1)"),
    ("metrics.iou-str", lambda: metrics.iou("box", (0, 0, 1, 1)), TypeError, "`box_a`", "box_a='box'"),
    # models -------------------------------------------------------------------------------
    ("models.mnist_cnn-num_classes-1", lambda: models.mnist_cnn(num_classes=1), ValueError, "`num_classes`", "num_classes=1"),
    ("models.mnist_cnn-dropout-1", lambda: models.mnist_cnn(dropout=1.0), ValueError, "`dropout`", "dropout=1.0"),
    ("models.mnist_cnn-input_shape-rank-2", lambda: models.mnist_cnn(input_shape=(28, 28)), ValueError,
     "`input_shape`", "(28, 28)"),
    (
        "models.mnist_cnn-input_shape-too-small", lambda: models.mnist_cnn(input_shape=(2, 2, 1)), ValueError,
        "`input_shape`", "(2, 2, 1)",
    ),
    ("models.deep_mlp-depth-0", lambda: models.deep_mlp(0, 10), ValueError, "`depth`", "depth=0"),
    ("models.deep_mlp-width-str", lambda: models.deep_mlp(3, "64"), TypeError, "`width`", "width='64'"),
    ("models.deep_mlp-activation", lambda: models.deep_mlp(3, 8, activation="relux"), ValueError,
     "`activation`", "activation='relux'"),
    ("models.deep_mlp-initializer", lambda: models.deep_mlp(3, 8, kernel_initializer="he"), ValueError,
     "`kernel_initializer`", "kernel_initializer='he'"),
    (
        "models.deep_mlp-input_shape-int", lambda: models.deep_mlp(3, 8, input_shape=784), (TypeError, ValueError),
        "`input_shape`", "input_shape=784",
    ),
    ("models.mc_dropout-not-a-model", lambda: models.mc_dropout_predict("model", np.zeros((4, 8))), TypeError,
     "`model`", "model='model'"),
    ("models.mc_dropout-samples-1", lambda: models.mc_dropout_predict(_mlp8(), np.zeros((4, 8)), samples=1),
     ValueError, "`samples`", "samples=1"),
    (
        "models.mc_dropout-feature-mismatch", lambda: models.mc_dropout_predict(_mlp8(), np.zeros((4, 5))),
        ValueError, "`x`", "(4, 5)",
    ),
    (
        "models.mc_dropout-nan-x", lambda: models.mc_dropout_predict(_mlp8(), np.full((4, 8), np.nan)),
        ValueError, "`x`", "NaN",
    ),
    ("models.fast_mnist_cnn-filters-empty", lambda: models.fast_mnist_cnn(filters=[]), ValueError, "`filters`", "filters=[]"),
    ("models.fast_mnist_recipe-max_lr-0", lambda: models.fast_mnist_recipe(100, max_lr=0), ValueError, "`max_lr`", "max_lr=0"),
    # callbacks ----------------------------------------------------------------------------
    ("callbacks.GradientMonitor-bare-array", lambda: GradientMonitor(np.zeros((4, 8))), TypeError,
     "`batch`", "array of shape (4, 8)"),
    ("callbacks.GradientMonitor-lengths", lambda: GradientMonitor((np.zeros((4, 8)), np.zeros(3))), ValueError,
     "`x`", "len(y)=3"),
    ("callbacks.GradientMonitor-too-large", lambda: GradientMonitor((np.zeros((3000, 8)), np.zeros(3000))),
     ValueError, "`batch`", "3000"),
    ("callbacks.GradientMonitor-every-0", lambda: GradientMonitor((np.zeros((4, 8)), np.zeros(4)), every=0),
     ValueError, "`every`", "every=0"),
    ("callbacks.ActivationMonitor-str", lambda: ActivationMonitor("x_val"), TypeError, "`batch`", "batch='x_val'"),
    ("callbacks.GradientMonitor-probe-shape-mismatch",
     lambda: _fit_tiny([GradientMonitor((np.zeros((4, 5), "float32"), np.zeros(4)))]), ValueError, "`batch`", "(4, 5)"),
    ("callbacks.ActivationMonitor-probe-shape-mismatch",
     lambda: _fit_tiny([ActivationMonitor(np.zeros((4, 5), "float32"))]), ValueError, "`batch`", "(4, 5)"),
    ("callbacks.GradientMonitor-nan-probe", lambda: GradientMonitor((np.full((4, 8), np.nan), np.zeros(4))),
     ValueError, "`batch", "NaN"),
    ("callbacks.LearningRateLogger-per_batch-int", lambda: LearningRateLogger(per_batch=1), TypeError,
     "`per_batch`", "per_batch=1"),
    ("callbacks.LRFinder-end-below-start", lambda: LRFinder(1e-3, 1e-4), ValueError, "`end_lr`", "end_lr=0.0001"),
    ("callbacks.LRFinder-start-0", lambda: LRFinder(0, 1.0), ValueError, "`start_lr`", "start_lr=0"),
    ("callbacks.LRFinder-beta-1", lambda: LRFinder(beta=1), ValueError, "`beta`", "beta=1"),
    ("callbacks.LRFinder-optimizer-with-schedule", lambda: _fit_tiny([LRFinder()], optimizer=keras.optimizers.SGD(_SCHEDULE)),
     TypeError, "schedule", "ExponentialDecay"),
    ("callbacks.LiveHistoryPlot-metrics-int", lambda: LiveHistoryPlot(metrics=42), TypeError, "`metrics`", "metrics=42"),
    ("callbacks.GradientMonitor-one-array-for-two-inputs", lambda: _fit_two_inputs([GradientMonitor((np.zeros((4, 8)), np.zeros(4)))]),
     ValueError, "`batch`", "2 inputs"),
    ("callbacks.ActivationMonitor-subclassed-model", lambda: _fit_subclassed([ActivationMonitor(np.zeros((4, 8)))]),
     ValueError, "subclassed", "model='Subclassed'"),
    ("callbacks.GradientMonitor-no-loss", lambda: _fit_subclassed([GradientMonitor((np.zeros((4, 8)), np.zeros(4)))], loss=None),
     ValueError, "`loss`", "model.loss=None"),
    ("callbacks.TrainingDoctor-fractional-labels",
     lambda: TrainingDoctor(validation_data=(np.zeros((2, 3)), np.array([0.5, 1.0]))), ValueError,
     "`validation_data[1] (y)`", "whole-number"),
    # Text x is accepted at construction (a model may take strings); a model that takes numbers refuses it at
    # on_train_begin: tests/test_training_doctor.py.
    # schedules ----------------------------------------------------------------------------
    ("schedules.OneCycle-max_lr-0", lambda: OneCycle(0, 100), ValueError, "`max_lr`", "max_lr=0"),
    ("schedules.OneCycle-total_steps-1", lambda: OneCycle(0.1, 1), ValueError, "`total_steps`", "total_steps=1"),
    ("schedules.OneCycle-total_steps-float", lambda: OneCycle(0.1, 100.0), TypeError, "`total_steps`", "total_steps=100.0"),
    ("schedules.OneCycle-pct_start-1", lambda: OneCycle(0.1, 100, pct_start=1.0), ValueError, "`pct_start`", "pct_start=1.0"),
    ("schedules.OneCycle-div_factor-below-1", lambda: OneCycle(0.1, 100, div_factor=0.5), ValueError,
     "`div_factor`", "div_factor=0.5"),
    # diagnose -----------------------------------------------------------------------------
    ("diagnose.history-missing-file", lambda: diagnose("history.csv"), ValueError, "`history`", "history='history.csv'"),
    ("diagnose.confusion-not-square", lambda: diagnose({"loss": [1.0]}, confusion=[[1, 2, 3]]), ValueError,
     "`confusion`", "(1, 3)"),
    ("diagnose.confusion-negative", lambda: diagnose({"loss": [1.0]}, confusion=[[1, -2], [0, 3]]), ValueError,
     "`confusion`", "[[1, -2], [0, 3]]"),
    ("diagnose.num_classes-1", lambda: diagnose({"loss": [1.0]}, num_classes=1), ValueError, "`num_classes`", "num_classes=1"),
    ("diagnose.num_classes-vs-confusion", lambda: diagnose({"loss": [1.0]}, confusion=[[1, 0], [0, 1]], num_classes=3),
     ValueError, "`num_classes`", "num_classes=3"),
    ("diagnose.diagnose_confusion-1d", lambda: diagnose_confusion([1, 2]), ValueError, "`confusion`", "confusion=[1, 2]"),
    ("diagnose.read_history_csv-int", lambda: read_history_csv(3), TypeError, "`path`", "path=3"),
    ("diagnose.read_history_csv-text-cell", lambda: read_history_csv(_csv_with_text()), ValueError, "'loss'", "'abc'"),
    ("diagnose.Finding-unknown-problem", lambda: Finding("exploding", "high", "e", ("a", "b")), ValueError,
     "`problem`", "problem='exploding'"),
    # transfer -----------------------------------------------------------------------------
    ("transfer.add_head-not-a-model", lambda: transfer.add_head("mobilenet", 5), TypeError, "`backbone`", "backbone='mobilenet'"),
    ("transfer.add_head-num_classes-1", lambda: transfer.add_head(transfer.small_cnn_backbone((8, 8, 1), filters=(4,)), 1),
     ValueError, "`num_classes`", "num_classes=1"),
    ("transfer.unfreeze_top-0", lambda: transfer.unfreeze_top(_mlp8(), 0), ValueError, "`n_layers`", "n_layers=0"),
    ("transfer.small_cnn_backbone-too-small", lambda: transfer.small_cnn_backbone((4, 4, 1), filters=(8, 8, 8)),
     ValueError, "`input_shape`", "(4, 4, 1)"),
    ("transfer.imagenet_backbone-size", lambda: transfer.imagenet_backbone(image_size=100), ValueError,
     "`image_size`", "image_size=100"),
]


def _param(case):
    case_id, call, error, arg, shows, *reason = case
    return pytest.param(call, error, arg, shows, id=case_id, marks=[reported(r) for r in reason])


@pytest.mark.parametrize("call, error, arg, shows", [_param(c) for c in CASES])
def test_bad_input_is_refused_by_the_toolkit_in_words(call, error, arg, shows):
    assert_refused(call, error, arg, shows)


def test_there_are_at_least_40_cases_over_every_module():
    ids = [c[0] for c in CASES]
    assert len(ids) == len(set(ids)) and len(ids) >= 40
    modules = {i.split(".")[0] for i in ids}
    assert {"runtime", "data", "plots", "metrics", "models", "callbacks", "schedules", "diagnose"} <= modules


def test_the_origin_check_can_fail():
    """A Keras error (the thing we guard against) is recognised as not the toolkit's."""
    with pytest.raises(AssertionError, match="not by the toolkit"):
        # Dropout checks its rate in every Keras 3 release; Dense(-3) is refused only from 3.13 on.
        assert_refused(lambda: keras.layers.Dropout(-3), ValueError, "rate", "-3")
    with pytest.raises(AssertionError, match="name the argument"):
        assert_refused(lambda: runtime.seed_everything(-1), ValueError, "`depth`", "-1")


def test_a_live_plot_of_an_unknown_metric_is_refused_after_the_first_epoch_at_the_latest():
    epochs_begun = []

    class Count(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            epochs_begun.append(epoch)

    with pytest.raises(ValueError) as info:
        _fit_tiny([Count(), LiveHistoryPlot(metrics=["acc"])], epochs=3)
    assert "`metrics`" in str(info.value) and "'acc'" in str(info.value)
    assert epochs_begun == [0], f"refused only after epochs {epochs_begun}: a typo must not cost the whole training"


# Hypothesis: random shapes, NaN, wrong types -------------------------------------------------


@FEWER
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=6).filter(lambda s: len(s) not in (3, 4)))
def test_images_of_the_wrong_rank_are_refused(shape):
    assert_refused(lambda: plot_images(np.zeros(shape)), ValueError, "`images`", str(tuple(shape)))
    plt.close("all")


@FEW
@given(box=st.lists(st.floats(-10, 10), min_size=0, max_size=8).filter(lambda b: len(b) != 4))
def test_boxes_without_four_numbers_are_refused(box):
    assert_refused(lambda: metrics.iou(box, (0, 0, 1, 1)), ValueError, "`box_a`", "box_a=")


@FEW
@given(n=st.integers(2, 12), k=st.integers(2, 5), where=st.data())
def test_scores_holding_nan_are_refused(n, k, where):
    scores = np.random.default_rng(n * k).random((n, k))
    i = where.draw(st.integers(0, n - 1))
    j = where.draw(st.integers(0, k - 1))
    scores[i, j] = where.draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    y_true = np.arange(n) % k
    assert_refused(lambda: metrics.classification_summary(y_true, scores), ValueError, "`y_pred`", "NaN")


@FEW
@given(max_lr=st.one_of(st.floats(max_value=0.0), st.sampled_from([np.nan, np.inf, -np.inf])))
def test_onecycle_refuses_a_peak_that_is_not_a_positive_number(max_lr):
    assert_refused(lambda: OneCycle(max_lr, 100), ValueError, "`max_lr`", "max_lr=")


@FEW
@given(seed=st.one_of(st.integers(max_value=-1), st.floats(allow_nan=True), st.text(max_size=3), st.none()))
def test_seed_everything_refuses_what_is_not_a_non_negative_int(seed):
    error = ValueError if isinstance(seed, int) else TypeError
    assert_refused(lambda: runtime.seed_everything(seed), error, "`seed`", "seed=")


@FEW
@given(fractions=st.tuples(st.floats(0.01, 0.98), st.floats(0.01, 0.98), st.floats(0.01, 0.98)).filter(
    lambda f: abs(sum(f) - 1) > 1e-3))
def test_split_fractions_that_do_not_sum_to_one_are_refused(fractions):
    x, y = np.zeros((50, 2)), np.arange(50) % 2
    assert_refused(lambda: data.train_val_test_split(x, y, fractions=fractions), ValueError, "`fractions`", "fractions=(")


@FEWER
@given(values=st.lists(st.one_of(st.text(alphabet="bcxyz ", min_size=1, max_size=3), st.lists(st.integers(), min_size=2, max_size=3)),
                       min_size=1, max_size=4))
def test_histories_of_non_numbers_are_refused_by_plots_and_doctor(values):
    for fn in (plot_history, diagnose):
        assert_refused(lambda: fn({"loss": values}), (TypeError, ValueError), "`history", "history")
    plt.close("all")


# Degenerate but valid input: it must still work, and tell the truth -----------------------------


@FEWER
@given(n=st.integers(1, 12), data_=st.data())
def test_histories_with_nan_still_draw_with_a_warning(n, data_):
    rng = np.random.default_rng(n)
    loss = rng.random(n) + 0.1
    val = rng.random(n) + 0.1
    bad = data_.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True))
    loss[bad] = data_.draw(st.sampled_from([np.nan, np.inf]))
    with pytest.warns(RuntimeWarning, match=rf"loss has {len(bad)} NaN/inf"):
        axis = plot_history({"loss": loss.tolist(), "val_loss": val.tolist()}).ax_
    lines = [ln for ln in axis.get_lines() if ln.get_label() in ("train", "val")]
    assert [ln.get_label() for ln in lines] == ["train", "val"]
    assert len(lines[0].get_xdata()) == n  # NaN points are gaps in the curve, not a shorter x axis
    plt.close("all")


def test_an_all_nan_history_still_draws_and_warns():
    with pytest.warns(RuntimeWarning, match="NaN/inf"):
        axis = plot_history({"loss": [np.nan, np.nan], "val_loss": [np.nan, np.inf]}).ax_
    assert axis.get_title().startswith("loss") and len(axis.get_lines()) == 2
    report = diagnose({"loss": [np.nan, np.nan]})
    assert report.problems == ["nan"]


def test_a_single_epoch_history_draws_visible_points_and_is_read_honestly():
    history = {"loss": [0.9], "val_loss": [1.1], "accuracy": [0.6], "val_accuracy": [0.5]}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning from an empty reduction
        axes = plot_history(history).axes_
    assert [a.get_title().split(" (")[0] for a in axes] == ["loss", "accuracy"]
    train = axes[0].get_lines()[0]
    assert list(train.get_xdata()) == [1] and train.get_marker() not in (None, "None", "")  # one point must show
    report = diagnose(history)
    assert report.problems == ["healthy"]
    assert any("only 1 finite epoch" in note for note in report.notes)


def test_a_one_class_y_true_gives_true_numbers():
    y_true = np.full(6, 2)
    y_pred = np.array([2, 2, 2, 2, 1, 2])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # sklearn's UndefinedMetricWarning would mean a silent 0/0
        summary = metrics.classification_summary(y_true, y_pred)
    assert summary.accuracy == pytest.approx(5 / 6)
    assert summary.support.tolist() == [0, 0, 6] and summary.recall[2] == pytest.approx(5 / 6)
    display = plot_confusion_matrix(y_true, y_pred)
    assert [t.get_text() for t in display.ax_.get_xticklabels()] == ["0", "1", "2"]


def test_a_one_class_confusion_matrix_is_not_called_underfitting():
    history = {"loss": [1.0, 0.6, 0.4, 0.3, 0.25], "val_loss": [1.0, 0.7, 0.5, 0.4, 0.35]}
    one_class = [[100, 0, 0], [0, 0, 0], [0, 0, 0]]  # every sample right, all of one class
    for report in (diagnose(history, confusion=one_class), diagnose_confusion(one_class)):
        assert "underfitting" not in report.problems, str(report)


# Exercise checkers never raise: they refuse bad answers in words -----------------------------------


def _checkers():
    import toolkit.exercises as ex

    return [getattr(ex, name) for name in ex.__all__ if name.startswith("check_")]


BAD_ANSWERS = [
    pytest.param("0.05 * 0.1 ** 2.5", id="text"),
    pytest.param(float("nan"), id="nan"),
    pytest.param([], id="empty-list"),
    pytest.param(np.zeros((2, 0)), id="empty-array"),
    pytest.param(object(), id="object"),
]


@pytest.mark.parametrize("answer", BAD_ANSWERS)
def test_every_checker_answers_bad_answers_with_a_cross_not_a_traceback(answer, capsys):
    from toolkit.exercises import Feedback

    checkers = _checkers()
    assert checkers, "toolkit.exercises exports no checker"
    for check in checkers:
        feedback = check(answer)
        assert isinstance(feedback, Feedback), f"{check.__name__} returned {feedback!r}"
        assert feedback.answered and not feedback.passed, f"{check.__name__} accepted {answer!r}"
        assert feedback.message, f"{check.__name__} gave no reason for refusing {answer!r}"
    assert capsys.readouterr().out == "", "a checker never prints (it could print the solution)"


@pytest.mark.parametrize(
    "name, answer, shows",
    [
        pytest.param("check_exponential_decay", "0.05*0.1**2.5", "'0.05*0.1**2.5'", id="decay-text"),
        pytest.param("check_exponential_decay", -0.01, "-0.01", id="decay-negative"),
        pytest.param("check_onecycle_total_steps", 4690.5, "4690.5", id="steps-fraction"),
        pytest.param("check_onecycle_total_steps", [4690], "[4690]", id="steps-list"),
    ],
)
def test_a_checker_shows_the_answer_it_could_not_accept(name, answer, shows):
    import toolkit.exercises as ex

    if not hasattr(ex, name):
        pytest.skip(f"{name} is not exported yet")
    feedback = getattr(ex, name)(answer)
    assert not feedback.passed and shows in feedback.message, str(feedback)
    assert shows in str(feedback)  # the text rendering shows it too
