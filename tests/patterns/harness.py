"""One supervised pattern, run with every toolkit callback and helper attached, every number checked.

:func:`run_pattern` does what a student does with their own model:

1. an LRFinder search on the freshly compiled model (with LearningRateLogger
   per batch beside it), then checks the search left no trace;
2. ``fit`` with GradientMonitor, ActivationMonitor, LearningRateLogger,
   LiveHistoryPlot, EpochTimer and TrainingDoctor together;
3. plot_history, diagnose, classification_summary and plot_confusion_matrix
   on the results.

Every reported value is compared with an independent reference (:mod:`patterns.checks`).
"""

from __future__ import annotations

import dataclasses
import time
from typing import Callable

import keras
import matplotlib.pyplot as plt
import numpy as np
import pytest

import toolkit.diagnose.doctor as doctor_module
from patterns import checks
from toolkit.callbacks import (
    ActivationMonitor,
    EpochTimer,
    GradientMonitor,
    LearningRateLogger,
    LiveHistoryPlot,
    LRFinder,
    TrainingDoctor,
)
from toolkit.diagnose import diagnose
from toolkit.metrics import classification_summary, plot_confusion_matrix
from toolkit.plots import plot_history

#: A subclassed model has no symbolic inputs whose layer outputs could be read: refused, in words.
ACTIVATIONS_REFUSED = r"(?i)functional|sequential|keras\.Input|subclass"


def classification_data(n, features, classes, *, seed=0, imbalance=None):
    """A learnable k-class problem: the label is the argmax of a fixed linear map (optionally thinned out)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype("float32")
    w = np.random.default_rng(99).normal(size=(features, classes))
    y = (x @ w).argmax(axis=1) if classes > 2 else (x @ w[:, 0] > 0).astype(int)
    if imbalance is not None:  # keep a share of each class: an imbalanced data set
        keep = rng.random(n) < np.asarray(imbalance)[y]
        x, y = x[keep], y[keep]
    return x, y.astype("int64")


def split(x, y, n_val):
    return (x[:-n_val], y[:-n_val]), (x[-n_val:], y[-n_val:])


class ConfusionSpy:
    """Records the confusion matrices TrainingDoctor hands to diagnose() (the real function still runs)."""

    def __init__(self, monkeypatch):
        self.matrices = []
        real = doctor_module.diagnose

        def spy(history, *args, confusion=None, **kwargs):
            if confusion is not None:
                self.matrices.append(np.asarray(confusion))
            return real(history, *args, confusion=confusion, **kwargs)

        monkeypatch.setattr(doctor_module, "diagnose", spy)


@dataclasses.dataclass
class Pattern:
    """A compiled-model builder (seeded inside) and its data."""

    build: Callable[[], keras.Model]
    train: tuple
    val: tuple
    loss_of: Callable  # (model, x, y, y_pred) -> scalar: the loss written out by hand
    classes: int | None = None  # None: a regression
    from_logits: bool = False
    fit_kwargs: dict = dataclasses.field(default_factory=dict)
    activations_refused: bool = False
    epochs: int = 3
    batch_size: int = 32
    probe: int = 64
    rel: float = 1e-4


def lr_search(pattern: Pattern, model):
    """LRFinder (+ LearningRateLogger per batch) on the fresh model; then it must be in its untouched state."""
    x, y = pattern.train
    state = checks.fresh_state(pattern.build, x[:2])
    finder, lr_logger = LRFinder(1e-4, 1.0), LearningRateLogger(per_batch=True)
    model.fit(x, y, epochs=1, batch_size=pattern.batch_size, verbose=0, callbacks=[finder, lr_logger],
              **pattern.fit_kwargs)
    checks.check_restored(model, state)
    checks.check_lr_search(finder, lr_logger)
    return finder


def run_pattern(pattern: Pattern, monkeypatch):
    """Run the pattern with everything attached and check every number; returns (model, history)."""
    (x, y), (x_val, y_val) = pattern.train, pattern.val
    probe_x, probe_y = x[: pattern.probe], y[: pattern.probe]
    if pattern.activations_refused:
        checks.refused_before_training(
            pattern.build(), dict(x=x, y=y, epochs=1, batch_size=pattern.batch_size), ActivationMonitor(probe_x),
            ACTIVATIONS_REFUSED,
        )
    model = pattern.build()
    lr_search(pattern, model)

    spy = ConfusionSpy(monkeypatch)
    grad, timer = GradientMonitor((probe_x, probe_y)), EpochTimer()
    doctor = TrainingDoctor(validation_data=(x_val, y_val) if pattern.classes else None, verbose=False)
    callbacks = [grad, LearningRateLogger(), LiveHistoryPlot(), timer, doctor]
    if not pattern.activations_refused:
        callbacks.insert(1, ActivationMonitor(probe_x))
    start = time.perf_counter()
    hist = model.fit(x, y, validation_data=(x_val, y_val), epochs=pattern.epochs, batch_size=pattern.batch_size,
                     verbose=0, callbacks=callbacks, **pattern.fit_kwargs)
    wall = time.perf_counter() - start
    h = hist.history

    # A healthy run is neither stopped nor diagnosed as broken.
    assert hist.epoch == list(range(pattern.epochs)) and doctor.stopped_epoch is None
    assert not {"nan", "diverging"} & set(doctor.diagnosis.problems)
    checks.check_gradient_norms(model, grad, h, probe_x, probe_y,
                                lambda yt, yp: pattern.loss_of(model, probe_x, yt, yp), rel=pattern.rel)
    if not pattern.activations_refused:
        checks.check_activations(model, h, probe_x, rel=pattern.rel)
    lr = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
    assert h["learning_rate"] == pytest.approx([lr] * pattern.epochs, rel=1e-6)
    checks.check_epoch_timer(timer, h, pattern.epochs, wall)

    _, ax = plt.subplots()
    plot_history(hist, metrics=["loss"], ax=ax)
    epochs = np.arange(1, pattern.epochs + 1)
    checks.check_history_plot(ax, h, "loss", epochs, val_epochs=epochs)
    assert "nan" not in diagnose(hist).problems

    if pattern.classes:
        scores = model.predict(x_val, verbose=0)
        kwargs = {"from_logits": True} if pattern.from_logits else {}
        predicted = checks.predicted_classes(scores, from_logits=pattern.from_logits)
        summary = classification_summary(y_val, scores, **kwargs)
        assert summary.accuracy == pytest.approx(np.mean(predicted == np.asarray(y_val).reshape(-1)))
        checks.check_confusion(summary.confusion, y_val, scores, pattern.classes, from_logits=pattern.from_logits)
        display = plot_confusion_matrix(y_val, scores, **kwargs)
        checks.check_confusion(display.confusion_matrix, y_val, scores, pattern.classes,
                               from_logits=pattern.from_logits)
        assert spy.matrices, "TrainingDoctor(validation_data=...) built no confusion matrix"
        checks.check_confusion(spy.matrices[-1], y_val, scores, pattern.classes, from_logits=pattern.from_logits)
    return model, hist
