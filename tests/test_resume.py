"""Interruption: a fit killed mid-run and resumed with BackupAndRestore ends where an uninterrupted one does.

CPU, ``shuffle=False``, seeded. The model has BatchNorm (non-trainable state)
and Adam under a learning-rate schedule (optimizer slots and the step
counter), so everything a resume must restore is exercised. The resumed
model is built with a *different* seed, as after a kernel restart: every
weight must come from the backup.

Every toolkit callback is resume-safe under ``BackupAndRestore`` too: the
monitors report for the resumed epochs exactly what the uninterrupted run
reported, ``LiveHistoryPlot`` continues the curve at the real epochs, and
``TrainingDoctor`` restores the weights the resumed fit started from.
(Resuming with ``initial_epoch`` in one process is tested in
``tests/test_callbacks.py`` and ``tests/test_monitors.py``.)
"""

from __future__ import annotations

import os
import pathlib
import shutil
import signal
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from toolkit.callbacks import (
    ActivationMonitor,
    EpochTimer,
    GradientMonitor,
    LearningRateLogger,
    LiveHistoryPlot,
    TrainingDoctor,
)

EPOCHS = 6
STOP_AT = 3  # the interruption comes in epoch 3 (0-based): epochs 0-2 are backed up
FIT = dict(epochs=EPOCHS, batch_size=32, shuffle=False, verbose=0)
TESTS = pathlib.Path(__file__).resolve().parent


def make_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(192, 8)).astype("float32")
    y = (x[:, 0] + x[:, 1] ** 2 > 1).astype("int64")
    return (x[:160], y[:160]), (x[160:], y[160:])


def build(seed: int = 0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((8,)),
            keras.layers.Dense(16, activation="relu", name="hidden"),
            keras.layers.BatchNormalization(name="bn"),
            keras.layers.Dense(2, activation="softmax", name="out"),
        ]
    )
    schedule = keras.optimizers.schedules.ExponentialDecay(0.05, decay_steps=5, decay_rate=0.8)
    model.compile(keras.optimizers.Adam(schedule), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def state(model) -> list[np.ndarray]:
    """Weights (BatchNorm statistics included) and the optimizer's variables (step counter, Adam's slots)."""
    return [np.array(w) for w in model.get_weights()] + [
        np.array(keras.ops.convert_to_numpy(v)) for v in model.optimizer.variables
    ]


def assert_same_state(a, b):
    assert len(a) == len(b)
    for i, (u, v) in enumerate(zip(a, b)):
        np.testing.assert_array_equal(u, v, err_msg=f"state entry {i} differs")


class Disconnected(Exception):
    """A Colab disconnect, as far as the fit is concerned."""


class Interrupt(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if epoch == STOP_AT:
            raise Disconnected(f"interrupted at the start of epoch {epoch}")


def toolkit_callbacks(xv, yv):
    return [
        LiveHistoryPlot(),
        EpochTimer(),
        LearningRateLogger(),
        GradientMonitor((xv[:32], yv[:32])),
        ActivationMonitor(xv[:32]),
        TrainingDoctor(verbose=False),
    ]


@pytest.fixture(scope="module", autouse=True)
def _op_determinism_off():
    """The killed run is a fresh process without op determinism: the in-process runs must compute alike."""
    from tensorflow.python.framework import config

    from toolkit.determinism import seed_everything

    was_on = config.is_op_determinism_enabled()
    seed_everything(0, deterministic=False)
    yield
    seed_everything(0, deterministic=was_on)


@pytest.fixture(scope="module")
def data():
    return make_data()


@pytest.fixture(scope="module")
def reference(data):
    """The uninterrupted run, with and without the toolkit's callbacks."""
    (x, y), (xv, yv) = data
    plain = build(0)
    plain_hist = plain.fit(x, y, **FIT)
    watched = build(0)
    watched_hist = watched.fit(x, y, callbacks=toolkit_callbacks(xv, yv), **FIT)
    return {"state": state(plain), "history": plain_hist.history, "optimizer": plain.optimizer.variables,
            "watched_state": state(watched), "watched_history": watched_hist.history}


def _interrupt(data, backup_dir, callbacks=()):
    (x, y), _ = data
    model = build(0)
    with pytest.raises(Disconnected):
        model.fit(x, y, callbacks=[keras.callbacks.BackupAndRestore(str(backup_dir)), *callbacks, Interrupt()], **FIT)
    assert (backup_dir / "latest.weights.h5").exists(), "BackupAndRestore wrote no backup"
    return model


@pytest.fixture(scope="module")
def interrupted(data, tmp_path_factory):
    """One interrupted fit: its backup folder, and the weights it holds (the end of epoch 2)."""
    backup = tmp_path_factory.mktemp("interrupted") / "backup"
    model = _interrupt(data, backup)
    return backup, model.get_weights()


def _copy_of(backup, tmp_path):
    """A fresh copy of the backup folder: a completed fit deletes the one it resumed from."""
    return pathlib.Path(shutil.copytree(backup, tmp_path / "backup"))


def test_the_toolkit_callbacks_change_nothing_in_the_run(reference):
    assert_same_state(reference["state"], reference["watched_state"])
    for key, values in reference["history"].items():
        assert reference["watched_history"][key] == values, key


def test_an_interrupted_fit_resumed_from_its_backup_ends_with_the_same_weights(data, reference, interrupted, tmp_path):
    (x, y), _ = data
    backup = _copy_of(interrupted[0], tmp_path)
    resumed = build(seed=99)  # a new kernel: the fresh weights differ, everything must come from the backup
    hist = resumed.fit(x, y, callbacks=[keras.callbacks.BackupAndRestore(str(backup))], **FIT)
    assert hist.epoch == [3, 4, 5], "the resumed fit must start at the interrupted epoch"
    assert_same_state(state(resumed), reference["state"])
    assert hist.history["loss"] == reference["history"]["loss"][STOP_AT:]
    assert not backup.exists(), "a completed fit deletes its backup"


def test_the_equality_check_can_fail(reference):
    """Exact equality: one unit in the last place of one weight, or one optimizer step more, is a difference."""
    nudged = [w.copy() for w in reference["state"]]
    nudged[0].flat[0] = np.nextafter(nudged[0].flat[0], np.inf)
    with pytest.raises(AssertionError):
        assert_same_state(nudged, reference["state"])
    stepped = [w.copy() for w in reference["state"]]
    stepped[len(reference["state"]) - len(reference["optimizer"])] += 1  # the optimizer's step counter
    with pytest.raises(AssertionError):
        assert_same_state(stepped, reference["state"])


KILLED_RUN = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, {tests!r})
    import keras
    from test_resume import FIT, STOP_AT, build, make_data

    class Kill(keras.callbacks.Callback):
        # SIGKILL in the middle of an epoch: no exception, no cleanup, like a lost Colab VM.
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if self.epoch == STOP_AT and batch == 2:
                os.kill(os.getpid(), signal.SIGKILL)

    (x, y), _ = make_data()
    build(0).fit(x, y, callbacks=[keras.callbacks.BackupAndRestore(sys.argv[1]), Kill()], **FIT)
    print("NOT KILLED")
    """
)


@pytest.mark.timeout(180)
def test_a_process_killed_mid_epoch_resumes_to_the_same_weights(data, reference, tmp_path):
    backup = tmp_path / "backup"
    script = tmp_path / "killed_run.py"
    script.write_text(KILLED_RUN.format(tests=str(TESTS)))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run([sys.executable, str(script), str(backup)], capture_output=True, text=True, timeout=170,
                          env=env)
    assert proc.returncode == -signal.SIGKILL, f"the training process was not killed: {proc.stdout} {proc.stderr[-1500:]}"
    assert (backup / "latest.weights.h5").exists()
    (x, y), _ = data
    resumed = build(seed=99)
    hist = resumed.fit(x, y, callbacks=[keras.callbacks.BackupAndRestore(str(backup))], **FIT)
    assert hist.epoch == [3, 4, 5], "the half-done epoch is redone from the last backup"
    assert_same_state(state(resumed), reference["state"])


@pytest.mark.parametrize("kernel", ["new kernel", "same kernel"])
def test_toolkit_callbacks_are_resume_safe_under_backup_and_restore(data, reference, interrupted, tmp_path, kernel):
    """A new kernel builds new callbacks; re-running the cell in the same kernel reuses them."""
    (x, y), (xv, yv) = data
    if kernel == "new kernel":
        backup = _copy_of(interrupted[0], tmp_path)
        callbacks = toolkit_callbacks(xv, yv)
    else:
        backup = tmp_path / "backup"
        callbacks = toolkit_callbacks(xv, yv)
        _interrupt(data, backup, callbacks)
    live, timer, lr_logger, grad, act, doctor = callbacks
    resumed = build(seed=99)
    hist = resumed.fit(x, y, callbacks=[keras.callbacks.BackupAndRestore(str(backup)), *callbacks], **FIT)
    ref = reference["watched_history"]
    assert hist.epoch == [3, 4, 5]
    assert_same_state(state(resumed), reference["state"])
    # The monitors measure, for the resumed epochs, exactly what the uninterrupted run measured.
    monitored = [k for k in ref if k.startswith(("grad_norm/", "act_std/", "dead_fraction/"))]
    assert {"grad_norm/hidden", "grad_norm/out", "act_std/hidden", "dead_fraction/hidden"} <= set(monitored)
    for key in monitored + ["learning_rate", "loss", "accuracy"]:
        assert hist.history[key] == ref[key][STOP_AT:], f"{key} after the resume differs from the uninterrupted run"
    assert lr_logger.lrs == ref["learning_rate"][STOP_AT:], "the LR comes from the restored step counter"
    assert len(timer.times) == 3 and all(t > 0 for t in timer.times)
    assert grad.last and act.last
    # The doctor diagnoses the resumed epochs, with their real numbers, and does not stop a healthy run.
    assert doctor.epochs == [3, 4, 5] and doctor.stop_reason is None
    assert doctor.history["loss"] == hist.history["loss"] and doctor.diagnosis.epochs == 3
    # The live plot continues the curve at the real epochs.
    expected_epochs = [3, 4, 5] if kernel == "new kernel" else [0, 1, 2, 3, 4, 5]
    assert live.epochs == expected_epochs
    line = live._figure.axes[0].get_lines()[0]
    assert list(line.get_xdata()) == [e + 1 for e in expected_epochs]
    assert list(line.get_ydata()) == pytest.approx(ref["loss"][expected_epochs[0]:])


class Sabotage(keras.callbacks.Callback):
    """Poisons the weights at the start of the first resumed epoch."""

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == STOP_AT:
            self.model.set_weights([np.full_like(w, np.nan) for w in self.model.get_weights()])


@pytest.mark.parametrize(
    "order",
    [
        "backup first",
        "doctor first",  # the doctor's on_train_begin runs before BackupAndRestore's restore
    ],
)
def test_the_doctor_restores_the_weights_the_resumed_fit_started_from(data, interrupted, tmp_path, order):
    (x, y), _ = data
    backup = _copy_of(interrupted[0], tmp_path)
    started_from = interrupted[1]  # what the backup holds: the end of epoch 2
    doctor, restore = TrainingDoctor(verbose=False), keras.callbacks.BackupAndRestore(str(backup))
    callbacks = [restore, doctor] if order == "backup first" else [doctor, restore]
    resumed = build(seed=99)
    resumed.fit(x, y, callbacks=[*callbacks, Sabotage()], **FIT)
    assert doctor.stop_reason == "nan" and doctor.stopped_epoch == STOP_AT + 1
    for got, want in zip(resumed.get_weights(), started_from):
        np.testing.assert_array_equal(got, want, err_msg="the doctor restored weights the resumed fit never had")


def backup_problem(cells: list[str]) -> str | None:
    """Why the notebook's training would not resume in full mode, or None."""
    import ast

    fits = [src for src in cells if (".fit(" in src or "fit_or_retry(" in src) and "callbacks" in src]
    if not any("BackupAndRestore(" in src for src in fits):
        return "the training cell must pass keras.callbacks.BackupAndRestore"
    tree = ast.parse("\n".join(cells))
    switches = {
        node.targets[0].id: ast.unparse(node.value).replace(" ", "")
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "BackupAndRestore(" in ast.unparse(node):
            guard = ast.unparse(node.test)
            if not switches.get(guard, "").startswith("pick(full=True"):
                return f"BackupAndRestore is guarded by {guard!r} = {switches.get(guard)!r}: it must be on in full mode"
    return None


def test_notebook_02_trains_under_backup_and_restore_in_full_mode():
    """Issue #6: full-mode training in notebook 02 resumes after a Colab disconnect."""
    import nbformat
    from IPython.core.inputtransformer2 import TransformerManager

    path = TESTS.parent / "notebooks" / "02_mnist_cnn.ipynb"
    if not path.exists():
        pytest.skip("notebooks/02_mnist_cnn.ipynb does not exist yet")
    cells = [TransformerManager().transform_cell(c.source)
             for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    assert backup_problem(cells) is None, backup_problem(cells)


@pytest.mark.parametrize(
    "cells",
    [
        ["history = model.fit(x, y, callbacks=[LiveHistoryPlot()])"],
        ["USE_BACKUP = pick(full=False, fast=True)",
         "cbs = []\nif USE_BACKUP:\n    cbs.append(keras.callbacks.BackupAndRestore('b'))\nmodel.fit(x, y, callbacks=cbs)"],
    ],
    ids=["no backup", "backup off in full mode"],
)
def test_the_notebook_02_check_can_fail(cells):
    assert backup_problem(cells)
