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


class BatchCounter(keras.callbacks.Callback):
    """Counts the batches fit really ran (the optimizer's counter is restored on a stop, so it cannot tell)."""

    def on_train_begin(self, logs=None):
        self.batches = 0

    def on_train_batch_begin(self, batch, logs=None):
        self.batches += 1


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("check_every_batch", [True, False])
def test_an_lr_of_10_is_stopped_in_the_first_epoch(digits, optimizer, check_every_batch, capsys):
    (x, y), val = digits
    model = _mlp(optimizer=keras.optimizers.SGD(10.0) if optimizer == "sgd" else keras.optimizers.Adam(10.0))
    start = [w.copy() for w in model.get_weights()]
    doctor, counter = TrainingDoctor(check_every_batch=check_every_batch), BatchCounter()
    hist = model.fit(x, y, validation_data=val, epochs=5, batch_size=32, verbose=0, callbacks=[doctor, counter])
    steps = int(np.ceil(len(x) / 32))
    assert len(hist.history["loss"]) == 1 and doctor.stopped_epoch == 1
    if check_every_batch:
        assert counter.batches < steps, "check_every_batch stops within the epoch, not at its end"
    else:
        assert counter.batches == steps, "by default the doctor looks once per epoch"
    assert doctor.stop_reason in ("nan", "diverging")
    assert doctor.diagnosis.problems[0] in ("nan", "diverging")
    assert _finite(model), "the restored weights and optimizer state must be finite"
    assert all(np.array_equal(a, b) for a, b in zip(start, model.get_weights())), "no good epoch: back to the start"
    out = capsys.readouterr().out
    assert "TrainingDoctor stopped training in epoch 1" in out
    assert "Training doctor:" in out and ("nan" in out or "diverging" in out) and "learning rate" in out


@pytest.mark.parametrize("order", ["doctor first", "checkpoint first"])
def test_poisoned_weights_are_caught_before_any_checkpoint_saves_them(digits, tmp_path, order):
    """Listed first, the doctor's epoch-end check suffices; after a checkpoint, check_every_batch is needed."""
    (x, y), val = digits
    x = x.copy()
    x[40] = np.inf
    model = _mlp()
    path = tmp_path / "best.weights.h5"
    checkpoint = keras.callbacks.ModelCheckpoint(path, monitor="val_loss", save_best_only=True, save_weights_only=True)
    doctor = TrainingDoctor(verbose=False, check_every_batch=order == "checkpoint first")
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
    from sklearn.metrics import confusion_matrix

    want = confusion_matrix(val[1], model.predict(val[0], verbose=0).argmax(1), labels=range(10))
    np.testing.assert_array_equal(doctor.confusion, want)
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
        ({"check_every_batch": 1}, TypeError, "check_every_batch"),
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


# validation_freq, runs without `loss`, multi-output models, binary labels, async dispatch ----------------------


def test_a_healthy_run_with_validation_freq_2_runs_all_its_epochs_and_keeps_its_weights(digits):
    """Keras validates at epochs 2, 4, 6, 8 only: the other epochs are not measured, never a NaN to stop on."""
    (x, y), val = digits
    model = _mlp()
    last = {}

    class KeepLast(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            last["weights"] = [w.copy() for w in self.model.get_weights()]

    doctor = TrainingDoctor(verbose=False)
    hist = model.fit(x, y, validation_data=val, validation_freq=2, epochs=8, batch_size=64, verbose=0,
                     callbacks=[doctor, KeepLast()])
    assert len(hist.history["loss"]) == 8 and len(hist.history["val_loss"]) == 4
    assert doctor.stopped_epoch is None and doctor.stop_reason is None
    assert "nan" not in doctor.diagnosis.problems
    assert all(np.array_equal(a, b) for a, b in zip(last["weights"], model.get_weights())), "nothing was restored"
    assert doctor.history["val_loss"] == pytest.approx(hist.history["val_loss"])


class TwoLosses(keras.Model):
    """A GAN-style model whose own train_step logs d_loss and g_loss, and no `loss`."""

    def __init__(self):
        super().__init__()
        self.d = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
        self.g = keras.Sequential([keras.Input((2,)), keras.layers.Dense(4)])

    def compile(self, d_optimizer, g_optimizer):
        super().compile()
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer

    def train_step(self, data):
        import tensorflow as tf

        real = data
        noise = tf.random.normal((tf.shape(real)[0], 2))
        with tf.GradientTape() as tape:
            fake = self.g(noise)
            d_loss = tf.reduce_mean(tf.nn.softplus(-self.d(real)) + tf.nn.softplus(self.d(fake)))
        self.d_optimizer.apply(tape.gradient(d_loss, self.d.trainable_weights), self.d.trainable_weights)
        with tf.GradientTape() as tape:
            g_loss = tf.reduce_mean(tf.nn.softplus(-self.d(self.g(noise))))
        self.g_optimizer.apply(tape.gradient(g_loss, self.g.trainable_weights), self.g.trainable_weights)
        return {"d_loss": d_loss, "g_loss": g_loss}


def test_a_run_without_loss_is_said_once_to_be_unsupported_and_runs_to_the_end(capsys):
    keras.utils.set_random_seed(0)
    gan = TwoLosses()
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
    doctor = TrainingDoctor()
    with pytest.warns(UserWarning, match="logs no `loss`") as record:
        hist = gan.fit(np.random.default_rng(0).normal(size=(64, 4)).astype("float32"), epochs=3, batch_size=16,
                       verbose=0, callbacks=[doctor])
    assert len([w for w in record if "TrainingDoctor" in str(w.message)]) == 1, "said once, not every epoch"
    assert len(hist.history["d_loss"]) == 3 and doctor.stopped_epoch is None
    assert "d_loss" in doctor.unsupported and doctor.diagnosis is None
    assert capsys.readouterr().out == ""


def _two_heads(seed=0):
    keras.utils.set_random_seed(seed)
    inp = keras.Input((64,))
    hidden = keras.layers.Dense(32, activation="relu")(inp)
    model = keras.Model(inp, {"digit": keras.layers.Dense(10, activation="softmax", name="digit")(hidden),
                              "ink": keras.layers.Dense(1, name="ink")(hidden)})
    model.compile("adam", loss={"digit": "sparse_categorical_crossentropy", "ink": "mse"})
    return model


def test_a_multi_output_model_gets_the_confusion_matrix_of_its_classifier_output(digits):
    from sklearn.metrics import confusion_matrix

    from toolkit.diagnose.doctor import classifier_output, num_classes_of

    (x, y), (xv, yv) = digits
    model = _two_heads()
    assert num_classes_of(model) is None, "the summed loss of two heads has no chance level ln k"
    assert classifier_output(model) == (model.output_names.index("digit"), 10, False)
    doctor = TrainingDoctor(validation_data=(xv, yv), verbose=False)
    model.fit(x, {"digit": y, "ink": x.mean(1, keepdims=True)}, epochs=2, batch_size=64, verbose=0, callbacks=[doctor])
    want = confusion_matrix(yv, model.predict(xv, verbose=0)["digit"].argmax(1), labels=range(10))
    np.testing.assert_array_equal(doctor.confusion, want)


def test_two_regression_heads_skip_the_confusion_matrix_with_a_note(digits):
    (x, y), (xv, yv) = digits
    keras.utils.set_random_seed(0)
    inp = keras.Input((64,))
    model = keras.Model(inp, [keras.layers.Dense(1)(inp), keras.layers.Dense(1)(inp)])
    model.compile("adam", loss=["mse", "mse"])
    doctor = TrainingDoctor(validation_data=(xv, yv), verbose=False)
    model.fit(x, [x[:, :1], x[:, 1:2]], epochs=2, batch_size=64, verbose=0, callbacks=[doctor])
    assert doctor.confusion is None
    assert any("none of the model's 2 output(s)" in note for note in doctor.diagnosis.notes)


def test_binary_n_by_1_labels_give_a_two_class_confusion_matrix(digits):
    """(n, 1) labels are binary labels, not one-hot rows of one class (their argmax would be class 0 for all)."""
    from sklearn.metrics import confusion_matrix

    (x, y), (xv, yv) = digits
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy")
    yb, yvb = (y >= 5).astype("float32")[:, None], (yv >= 5).astype("float32")[:, None]
    doctor = TrainingDoctor(validation_data=(xv, yvb), verbose=False)
    model.fit(x, yb, epochs=2, batch_size=64, verbose=0, callbacks=[doctor])
    want = confusion_matrix(yvb[:, 0], (model.predict(xv, verbose=0)[:, 0] > 0.5).astype(int), labels=[0, 1])
    assert doctor.confusion.shape == (2, 2) and doctor.confusion.sum(1).tolist() == np.bincount(yvb[:, 0].astype(int)).tolist()
    np.testing.assert_array_equal(doctor.confusion, want)


def test_a_label_outside_the_classifier_is_refused_at_train_begin(digits):
    (x, y), (xv, yv) = digits
    model = _mlp()
    doctor = TrainingDoctor(validation_data=(xv, np.where(yv == 9, 12, yv)), verbose=False)
    with pytest.raises(ValueError, match="label 12.*10 classes"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[doctor])


def test_by_default_the_doctor_keeps_keras_async_dispatch_on(monkeypatch):
    """A per-batch hook switches Keras's async dispatch off (CallbackList._configure_async_dispatch): opt-in only.

    TensorFlow's backend never dispatches asynchronously (IS_THREAD_SAFE is False); JAX's and PyTorch's do, so
    the choice is checked as Keras makes it on those backends.
    """
    from keras.src import backend
    from keras.src.utils.python_utils import is_default

    assert is_default(TrainingDoctor().on_train_batch_end)
    assert not is_default(TrainingDoctor(check_every_batch=True).on_train_batch_end)
    monkeypatch.setattr(backend, "IS_THREAD_SAFE", True)
    model = _mlp()
    lazy = keras.callbacks.CallbackList([TrainingDoctor()], model=model)
    eager = keras.callbacks.CallbackList([TrainingDoctor(check_every_batch=True)], model=model)
    assert lazy._async_train and not eager._async_train


def test_a_snapshot_stays_on_the_device_and_restores_the_values_it_was_taken_at(digits):
    """The copies are tensors (not host arrays), and training after the snapshot does not change them."""
    from toolkit.diagnose.snapshot import Snapshot, all_finite

    (x, y), _ = digits
    model = _mlp()
    model.fit(x, y, epochs=1, batch_size=64, verbose=0)
    want = [w.copy() for w in model.get_weights()]
    good = Snapshot(model)
    assert not any(isinstance(saved, np.ndarray) for _, saved in good.weights)
    model.fit(x, y, epochs=1, batch_size=64, verbose=0)
    assert not all(np.array_equal(a, b) for a, b in zip(want, model.get_weights()))
    good.restore(model)
    assert all(np.array_equal(a, b) for a, b in zip(want, model.get_weights()))
    assert all_finite(model)
    model.layers[0].kernel.assign(np.full(model.layers[0].kernel.shape, np.inf, "float32"))
    assert not all_finite(model)


def test_text_validation_data_is_refused_at_train_begin_by_a_model_that_takes_numbers():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    doctor = TrainingDoctor(validation_data=(np.array(["a", "b"]), np.array([0, 1])), verbose=False)
    seen = []
    count = keras.callbacks.LambdaCallback(on_train_batch_begin=lambda *_: seen.append(1))
    with pytest.raises(ValueError, match="holds strings"):
        model.fit(np.zeros((4, 3)), np.array([0, 1, 0, 1]), epochs=1, verbose=0, callbacks=[doctor, count])
    assert not seen
