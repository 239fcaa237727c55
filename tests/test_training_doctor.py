"""TrainingDoctor: stops a broken run within its epoch, restores good weights and says why."""

import keras
import numpy as np
import pytest

from toolkit.callbacks import TrainingDoctor
from toolkit.data import load_digits


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits()
    x = x.reshape(len(x), -1)
    return (x[:512], y[:512]), (x[512:768], y[512:768])


def _mlp(seed=0, lr=1e-2, optimizer=None):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [keras.Input((64,)), keras.layers.Dense(32, activation="relu", name="hidden"), keras.layers.Dense(10, activation="softmax", name="out")]
    )
    model.compile(optimizer or keras.optimizers.Adam(lr), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _finite(model):
    return all(np.all(np.isfinite(w)) for w in model.get_weights()) and all(
        np.all(np.isfinite(np.asarray(v))) for v in model.optimizer.variables
    )


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_an_lr_of_10_is_stopped_within_the_first_epoch(digits, optimizer, capsys):
    (x, y), val = digits
    model = _mlp(optimizer=keras.optimizers.SGD(10.0) if optimizer == "sgd" else keras.optimizers.Adam(10.0))
    start = [w.copy() for w in model.get_weights()]
    doctor = TrainingDoctor()
    hist = model.fit(x, y, validation_data=val, epochs=5, batch_size=32, verbose=0, callbacks=[doctor])
    steps = int(np.ceil(len(x) / 32))
    assert len(hist.history["loss"]) == 1 and doctor.stopped_epoch == 1
    assert int(model.optimizer.iterations) < steps, "the doctor must stop within the epoch, not at its end"
    assert doctor.stop_reason in ("nan", "diverging")
    assert doctor.diagnosis.problems[0] in ("nan", "diverging")
    assert _finite(model), "the restored weights and optimizer state must be finite"
    assert all(np.array_equal(a, b) for a, b in zip(start, model.get_weights())), "no good epoch: back to the start"
    out = capsys.readouterr().out
    assert "TrainingDoctor stopped training in epoch 1" in out
    assert "Training doctor:" in out and ("nan" in out or "diverging" in out) and "learning rate" in out


@pytest.mark.parametrize("order", ["doctor first", "checkpoint first"])
def test_poisoned_weights_are_caught_before_any_checkpoint_saves_them(digits, tmp_path, order):
    (x, y), val = digits
    x = x.copy()
    x[40] = np.inf
    model = _mlp()
    path = tmp_path / "best.weights.h5"
    checkpoint = keras.callbacks.ModelCheckpoint(path, monitor="val_loss", save_best_only=True, save_weights_only=True)
    doctor = TrainingDoctor(verbose=False)
    callbacks = [doctor, checkpoint] if order == "doctor first" else [checkpoint, doctor]
    model.fit(x, y, validation_data=val, epochs=2, batch_size=32, shuffle=False, verbose=0, callbacks=callbacks)
    assert doctor.stop_reason == "nan" and doctor.stopped_epoch == 1 and _finite(model)
    assert "nan" in doctor.diagnosis and "poisoned" in doctor.diagnosis["nan"].evidence
    if path.exists():
        model.load_weights(path)
        assert _finite(model), "the checkpoint must not hold the poisoned weights"


def test_a_divergence_later_restores_the_best_epochs_weights(digits):
    (x, y), _ = digits
    model = _mlp()
    saved = {}

    class Sabotage(keras.callbacks.Callback):
        """Keeps each epoch's weights, then blows the weights up at the start of epoch 4."""

        def on_epoch_end(self, epoch, logs=None):
            saved[epoch] = ([w.copy() for w in self.model.get_weights()], logs["loss"])

        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 3:
                self.model.set_weights([w * 30 for w in self.model.get_weights()])

    doctor = TrainingDoctor(verbose=False)
    model.fit(x, y, epochs=8, batch_size=32, verbose=0, callbacks=[Sabotage(), doctor])
    assert doctor.stopped_epoch == 4 and doctor.stop_reason in ("nan", "diverging")
    best = min((e for e in saved if e < 3), key=lambda e: saved[e][1])
    assert all(np.allclose(a, b) for a, b in zip(saved[best][0], model.get_weights()))


def test_a_healthy_run_runs_to_the_end_and_prints_the_diagnosis(digits, capsys):
    from toolkit.callbacks import ActivationMonitor, GradientMonitor

    (x, y), val = digits
    model = _mlp()
    doctor = TrainingDoctor(validation_data=val)
    probe = (val[0][:64], val[1][:64])
    # the doctor comes first: the monitors write their keys after it, and it still reads them
    hist = model.fit(x, y, validation_data=val, epochs=4, batch_size=64, verbose=0,
                     callbacks=[doctor, GradientMonitor(probe), ActivationMonitor(probe[0])])
    assert len(hist.history["loss"]) == 4 and doctor.stopped_epoch is None and doctor.stop_reason is None
    assert "nan" not in doctor.diagnosis and "diverging" not in doctor.diagnosis
    assert not any("confusion" in note for note in doctor.diagnosis.notes), "validation_data gives a confusion matrix"
    assert doctor.history["loss"] == pytest.approx(hist.history["loss"])
    assert {"grad_norm/hidden", "grad_norm/out", "dead_fraction/hidden"} <= set(doctor.history)
    assert capsys.readouterr().out.count("Training doctor:") == 1


def test_stop_on_divergence_false_only_reports(digits, capsys):
    (x, y), _ = digits
    model = _mlp(optimizer=keras.optimizers.Adam(10.0))
    doctor = TrainingDoctor(stop_on_divergence=False, verbose=False)
    hist = model.fit(x, y, epochs=2, batch_size=64, verbose=0, callbacks=[doctor])
    assert len(hist.history["loss"]) == 2 and doctor.stopped_epoch is None
    assert doctor.diagnosis.problems[0] in ("nan", "diverging")
    assert capsys.readouterr().out == ""


def test_state_is_reset_between_fits_and_a_resumed_fit_keeps_its_epoch_numbers(digits):
    (x, y), _ = digits
    model = _mlp()
    doctor = TrainingDoctor(verbose=False)
    model.fit(x, y, epochs=4, batch_size=64, verbose=0, callbacks=[doctor])
    model.fit(x, y, epochs=7, initial_epoch=4, batch_size=64, verbose=0, callbacks=[doctor])
    assert len(doctor.history["loss"]) == 3 and doctor.epochs == [4, 5, 6]
    assert doctor.diagnosis.epochs == 3


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        ({"validation_data": [1, 2, 3]}, TypeError, "pair"),
        ({"validation_data": "val"}, TypeError, "pair"),
        ({"validation_data": (np.zeros((4, 64)), np.zeros(3))}, ValueError, "same length"),
        ({"validation_data": (np.zeros((4, 64)), np.array([0, 1, -1, 2]))}, ValueError, ">= 0"),
        ({"stop_on_divergence": "yes"}, TypeError, "stop_on_divergence"),
        ({"verbose": 1}, TypeError, "verbose"),
    ],
)
def test_bad_arguments_get_clear_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        TrainingDoctor(**kwargs)


def test_arguments_are_keyword_only():
    with pytest.raises(TypeError):
        TrainingDoctor((np.zeros((2, 64)), np.zeros(2)))


def test_the_callbacks_reach_the_doctor_lazily():
    """toolkit.callbacks must not import toolkit.diagnose when it loads (diagnose sits above it)."""
    import ast
    import pathlib

    import toolkit.callbacks as callbacks
    from toolkit.diagnose import TrainingDoctor as Doctor

    for path in pathlib.Path(callbacks.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:  # module level only: imports inside functions are lazy
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(n.startswith("toolkit.diagnose") for n in names), f"{path.name} imports toolkit.diagnose"
    assert TrainingDoctor is Doctor and "TrainingDoctor" in callbacks.__all__
    with pytest.raises(AttributeError, match="NoSuchCallback"):
        callbacks.NoSuchCallback


def test_a_snapshot_restores_weights_and_optimizer_state(digits):
    from toolkit.diagnose.snapshot import Snapshot, non_finite_layer

    (x, y), _ = digits
    model = _mlp()
    model.fit(x, y, epochs=1, batch_size=64, verbose=0)
    good = Snapshot(model)
    state = [keras.ops.convert_to_numpy(v).copy() for v in model.optimizer.variables]
    weights = [w.copy() for w in model.get_weights()]
    model.fit(x, y, epochs=1, batch_size=64, verbose=0)
    model.set_weights([w * np.nan for w in model.get_weights()])
    assert non_finite_layer(model) == "hidden"
    good.restore(model)
    assert non_finite_layer(model) is None
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights()))
    assert all(np.array_equal(a, keras.ops.convert_to_numpy(v)) for a, v in zip(state, model.optimizer.variables))
    fresh = _mlp()
    start = Snapshot(fresh)  # taken before the optimizer has built its slots
    fresh.fit(x, y, epochs=1, batch_size=64, verbose=0)
    start.restore(fresh)
    slots = [keras.ops.convert_to_numpy(v) for v in fresh.optimizer.variables if "momentum" in v.path or "velocity" in v.path]
    assert slots and all(not s.any() for s in slots), "slots built after the snapshot restart from zero"
    assert int(fresh.optimizer.iterations) == 0
