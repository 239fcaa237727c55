"""NaN and divergence: LR = 10 is stopped in its first epoch with the cause named, and no
ModelCheckpoint(save_best_only=True) ever writes NaN weights.

The ways a run breaks are different:

* LR = 10: the loss explodes (or turns NaN) within the first epoch;
* a poisoned input (one ``inf`` pixel): the *weights* hold NaN while the loss
  still looks finite (ReLU hides the NaN), which no loss-watching rule sees;
  only a check of the weights does.

The doctor's own tests (``tests/test_training_doctor.py``) cover its rules on
an MLP; here the course's ``deep_mlp`` meets each optimizer, and the
checkpoint files written next to the doctor are opened and inspected.
"""

from __future__ import annotations

import ast
import pathlib

import keras
import nbformat
import numpy as np
import pytest

from toolkit.callbacks import TrainingDoctor
from toolkit.data import load_digits
from toolkit.models import deep_mlp

ROOT = pathlib.Path(__file__).resolve().parents[1]
BATCH = 32


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits()
    return (x[:512], y[:512]), (x[512:768], y[512:768])


def _model(optimizer, seed=0):
    keras.utils.set_random_seed(seed)
    model = deep_mlp(2, 32, input_shape=(8, 8))
    model.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _poisoned(x):
    x = x.copy()
    x[40, 3, 3] = np.inf  # one bad pixel: the weights turn NaN, the loss stays finite
    return x


def written_weights(path: pathlib.Path):
    """The weights in a checkpoint file (None when none was written)."""
    if not path.exists():
        return None
    if path.name.endswith(".weights.h5"):
        model = _model(keras.optimizers.SGD(0.01), seed=7)
        model.load_weights(path)
    else:
        model = keras.saving.load_model(path)  # safe_mode left at its default (True)
    return model.get_weights()


def holds_nan(weights) -> bool:
    return weights is not None and any(not np.all(np.isfinite(w)) for w in weights)


# LR = 10 ----------------------------------------------------------------------------------------


class BatchCounter(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.batches = 0

    def on_train_batch_begin(self, batch, logs=None):
        self.batches += 1


@pytest.mark.parametrize("optimizer", ["SGD", "Adam", "RMSprop"])
@pytest.mark.parametrize("check_every_batch", [False, True])
def test_lr_10_is_stopped_in_its_first_epoch_with_the_cause_named(digits, optimizer, check_every_batch, capsys):
    """By default at the end of epoch 1; with check_every_batch=True within it (the batch count tells)."""
    (x, y), val = digits
    model = _model(getattr(keras.optimizers, optimizer)(learning_rate=10.0))
    doctor, counter = TrainingDoctor(check_every_batch=check_every_batch), BatchCounter()
    hist = model.fit(x, y, validation_data=val, epochs=5, batch_size=BATCH, verbose=0, callbacks=[doctor, counter])
    steps = int(np.ceil(len(x) / BATCH))
    assert doctor.stopped_epoch == 1 and len(hist.history["loss"]) == 1
    if check_every_batch:
        assert counter.batches < steps, "stopped within the first epoch, not at its end"
    assert doctor.stop_reason in ("nan", "diverging")
    out = capsys.readouterr().out
    stop_line = next(line for line in out.splitlines() if line.startswith("TrainingDoctor stopped training"))
    assert "epoch 1" in stop_line and ("loss" in stop_line), f"the stop message must say what was seen: {stop_line}"
    assert doctor.stop_reason in out and "learning rate" in out.lower(), f"the cause and its remedy must be printed: {out}"
    assert not holds_nan(model.get_weights()), "the doctor leaves the model usable"


# ModelCheckpoint(save_best_only=True) next to the doctor --------------------------------------------


@pytest.mark.parametrize("fmt", [".keras", ".weights.h5"])
@pytest.mark.parametrize("order", ["doctor first", "checkpoint first"])
def test_a_best_only_checkpoint_never_holds_nan_after_lr_10(digits, tmp_path, fmt, order):
    (x, y), val = digits
    path = tmp_path / f"best{fmt}"
    checkpoint = keras.callbacks.ModelCheckpoint(path, monitor="val_loss", save_best_only=True,
                                                 save_weights_only=fmt == ".weights.h5")
    # After a checkpoint in the list, only the per-batch check runs before the checkpoint's on_epoch_end.
    doctor = TrainingDoctor(verbose=False, check_every_batch=order == "checkpoint first")
    callbacks = [doctor, checkpoint] if order == "doctor first" else [checkpoint, doctor]
    model = _model(keras.optimizers.SGD(10.0))
    model.fit(x, y, validation_data=val, epochs=4, batch_size=BATCH, verbose=0, callbacks=callbacks)
    assert doctor.stop_reason in ("nan", "diverging")
    assert not holds_nan(written_weights(path)), f"{path.name} holds NaN weights"


@pytest.mark.parametrize(
    "order",
    ["doctor first", "checkpoint first"],
)
def test_a_best_only_checkpoint_never_holds_nan_when_the_weights_are_poisoned(digits, tmp_path, order):
    (x, y), val = digits
    path = tmp_path / "best.keras"
    checkpoint = keras.callbacks.ModelCheckpoint(path, monitor="val_loss", save_best_only=True)
    doctor = TrainingDoctor(verbose=False, check_every_batch=order == "checkpoint first")
    callbacks = [doctor, checkpoint] if order == "doctor first" else [checkpoint, doctor]
    model = _model(keras.optimizers.Adam(1e-2))
    model.fit(_poisoned(x), y, validation_data=val, epochs=3, batch_size=BATCH, shuffle=False, verbose=0,
              callbacks=callbacks)
    assert doctor.stop_reason == "nan"
    assert not holds_nan(written_weights(path)), f"{path.name} holds NaN weights"


def test_the_nan_check_can_fail(digits, tmp_path):
    """Without the doctor, a poisoned run's checkpoint does hold NaN, with a finite val_loss: what the doctor prevents."""
    (x, y), val = digits
    path = tmp_path / "every_epoch.keras"
    model = _model(keras.optimizers.Adam(1e-2))
    hist = model.fit(_poisoned(x), y, validation_data=val, epochs=1, batch_size=BATCH, shuffle=False, verbose=0,
                     callbacks=[keras.callbacks.ModelCheckpoint(path, monitor="val_loss", save_best_only=True)])
    assert np.isfinite(hist.history["val_loss"][0]), "the poisoned weights hide behind a finite val_loss"
    assert holds_nan(written_weights(path))


# The notebooks' checkpoints ---------------------------------------------------------------------------


def _code_cells():
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                from IPython.core.inputtransformer2 import TransformerManager

                yield f"{path.name} cell {i}", TransformerManager().transform_cell(cell.source)


def checkpoint_problems(code: str) -> list[str]:
    """ModelCheckpoint calls without save_best_only=True, and lists that put one before a TrainingDoctor."""
    problems = []
    tree = ast.parse(code)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and (getattr(node.func, "attr", None) or getattr(node.func, "id", None)) == "ModelCheckpoint":
            best = [k for k in node.keywords if k.arg == "save_best_only"]
            if not best or not (isinstance(best[0].value, ast.Constant) and best[0].value.value is True):
                problems.append("ModelCheckpoint without save_best_only=True")
        if isinstance(node, ast.List):
            names = [ast.unparse(e) for e in node.elts]
            ckpt = [i for i, n in enumerate(names) if "ModelCheckpoint" in n or "checkpoint" in n.lower()]
            doctor = [i for i, n in enumerate(names) if "TrainingDoctor" in n or "doctor" in n.lower()]
            if ckpt and doctor and min(ckpt) < min(doctor):
                problems.append(f"a checkpoint listed before the doctor: {ast.unparse(node)}")
    return problems


def test_notebook_checkpoints_save_only_the_best_and_come_after_the_doctor():
    found = {where: p for where, code in _code_cells() if (p := checkpoint_problems(code))}
    assert not found, f"a ModelCheckpoint could write NaN weights: {found}"


@pytest.mark.parametrize(
    "code, bad",
    [
        ("cb = keras.callbacks.ModelCheckpoint('m.keras')", True),
        ("cb = keras.callbacks.ModelCheckpoint('m.keras', save_best_only=False)", True),
        ("cb = keras.callbacks.ModelCheckpoint('m.keras', save_best_only=True)", False),
        ("fit(callbacks=[checkpoint, doctor])", True),
        ("fit(callbacks=[TrainingDoctor(), keras.callbacks.ModelCheckpoint('m.keras', save_best_only=True)])", False),
    ],
)
def test_the_notebook_checkpoint_lint_can_fail(code, bad):
    assert bool(checkpoint_problems(code)) == bad


def test_keras_never_takes_a_nan_epoch_for_the_best(digits, tmp_path):
    """Keras's rule the notebooks rely on: once the loss is NaN, a best-only checkpoint keeps the last good file."""
    (x, y), val = digits
    kept = {}

    class NanFromEpoch2(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            kept[epoch] = [w.copy() for w in self.model.get_weights()]

        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                self.model.set_weights([np.full_like(w, np.nan) for w in self.model.get_weights()])

    path = tmp_path / "best.keras"
    checkpoint = keras.callbacks.ModelCheckpoint(path, monitor="val_loss", save_best_only=True)
    model = _model(keras.optimizers.Adam(1e-2))
    hist = model.fit(x, y, validation_data=val, epochs=3, batch_size=BATCH, verbose=0,
                     callbacks=[NanFromEpoch2(), checkpoint])
    assert np.isnan(hist.history["val_loss"][1:]).all()
    saved = written_weights(path)
    assert not holds_nan(saved)
    for got, want in zip(saved, kept[0]):
        np.testing.assert_array_equal(got, want)
