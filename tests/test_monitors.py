"""GradientMonitor and ActivationMonitor: keys, values, non-interference, bad input."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from toolkit.callbacks import ActivationMonitor, GradientMonitor


def _fit(model, x, y, callbacks=(), epochs=3, **kwargs):
    return model.fit(x, y, epochs=epochs, batch_size=64, verbose=0, callbacks=list(callbacks), **kwargs)


# GradientMonitor ------------------------------------------------------------------


def test_gradient_monitor_writes_one_norm_per_kernel_layer(tiny_data, tiny_model):
    x, y = tiny_data
    hist = _fit(tiny_model(), x, y, [GradientMonitor((x[:64], y[:64]))])
    grad_keys = sorted(k for k in hist.history if k.startswith("grad_norm/"))
    assert grad_keys == ["grad_norm/hidden", "grad_norm/out"]
    for key in grad_keys:
        assert len(hist.history[key]) == 3 and all(v > 0 and math.isfinite(v) for v in hist.history[key])


def test_gradient_norms_equal_a_hand_computed_tape(tiny_data, tiny_model):
    x, y = tiny_data
    model = tiny_model()
    monitor = GradientMonitor((x[:50], y[:50]))
    _fit(model, x, y, [monitor], epochs=2)
    with tf.GradientTape() as tape:
        probs = model(x[:50], training=False)
        loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y[:50], probs))
    grads = tape.gradient(loss, [model.get_layer("hidden").kernel, model.get_layer("out").kernel])
    expected = [float(tf.norm(g)) for g in grads]
    assert monitor.last["hidden"] == pytest.approx(expected[0], rel=1e-5)
    assert monitor.last["out"] == pytest.approx(expected[1], rel=1e-5)


def test_gradient_monitor_every_writes_nan_on_skipped_epochs(tiny_data, tiny_model):
    x, y = tiny_data
    hist = _fit(tiny_model(), x, y, [GradientMonitor((x[:64], y[:64]), every=2)], epochs=4)
    values = hist.history["grad_norm/hidden"]
    assert len(values) == len(hist.history["loss"]) == 4
    assert math.isnan(values[0]) and math.isnan(values[2])
    assert values[1] > 0 and values[3] > 0


def test_probes_are_traced_once_and_survive_a_resume(tiny_data, tiny_model):
    x, y = tiny_data
    model = tiny_model()
    grad, act = GradientMonitor((x[:64], y[:64])), ActivationMonitor(x[:64])
    _fit(model, x, y, [grad, act], epochs=2)
    hist = _fit(model, x, y, [grad, act], epochs=4, initial_epoch=2)
    assert hist.epoch == [2, 3]
    assert len(hist.history["grad_norm/hidden"]) == 2 and len(hist.history["act_std/hidden"]) == 2
    assert grad._probe.experimental_get_tracing_count() == 1
    assert act._probe.experimental_get_tracing_count() == 1


def test_monitors_do_not_change_weights_optimizer_or_history(tiny_data, tiny_model):
    x, y = tiny_data

    def run(callbacks):
        keras.utils.set_random_seed(3)
        model = keras.Sequential(
            [
                keras.Input((8,)),
                keras.layers.Dense(16, activation="relu", name="hidden"),
                keras.layers.Dropout(0.3),  # random: a probe that drew random numbers would shift it
                keras.layers.Dense(2, activation="softmax", name="out"),
            ]
        )
        model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
        hist = _fit(model, x, y, callbacks, epochs=3, validation_split=0.25)
        return model, hist

    plain_model, plain = run([])
    probe = (x[:64], y[:64])
    watched_model, watched = run([GradientMonitor(probe), ActivationMonitor(probe)])
    for a, b in zip(plain_model.get_weights(), watched_model.get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(plain_model.optimizer.variables, watched_model.optimizer.variables):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert plain.history[key] == watched.history[key]


def test_gradient_monitor_refuses_bad_input(tiny_data):
    x, y = tiny_data
    with pytest.raises(TypeError, match="batch"):
        GradientMonitor(x)  # labels are needed for the loss
    with pytest.raises(ValueError, match="same length"):
        GradientMonitor((x[:10], y[:9]))
    with pytest.raises(ValueError, match="pair"):
        GradientMonitor((x, y, y))
    with pytest.raises(ValueError, match="small"):
        GradientMonitor((np.zeros((5000, 8)), np.zeros(5000)))
    with pytest.raises(TypeError, match="numbers"):
        GradientMonitor((np.array([["a"] * 8] * 4), np.zeros(4)))
    with pytest.raises(ValueError, match="every"):
        GradientMonitor((x, y), every=0)
    with pytest.raises(TypeError, match="every"):
        GradientMonitor((x, y), every=1.5)


def test_gradient_monitor_needs_kernels_and_a_loss(tiny_data):
    x, y = tiny_data
    no_kernel = keras.Sequential([keras.Input((8,)), keras.layers.Activation("relu")])
    no_kernel.compile("sgd", "mse")
    with pytest.raises(ValueError, match="no layer with a trainable kernel"):
        _fit(no_kernel, x, x, [GradientMonitor((x[:8], x[:8]))], epochs=1)


def _sequential_without_input():
    """No keras.Input: the model has no weights at on_train_begin, fit builds it at the first batch."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.layers.Dense(4, activation="relu", name="hidden"),
                              keras.layers.Dense(2, activation="softmax", name="out")])
    model.compile("adam", "sparse_categorical_crossentropy")
    return model


def test_gradient_monitor_watches_a_sequential_built_by_its_first_batch(tiny_data):
    """The probe is built at the first epoch end."""
    x, y = tiny_data
    model = _sequential_without_input()
    hist = _fit(model, x, y, [GradientMonitor((x[:32], y[:32]))], epochs=2)
    for key in ("grad_norm/hidden", "grad_norm/out"):
        assert len(hist.history[key]) == 2 and all(v > 0 and math.isfinite(v) for v in hist.history[key])


# ActivationMonitor -----------------------------------------------------------------


def test_activation_monitor_watches_a_sequential_built_by_its_first_batch(tiny_data):
    """The probe is built at the first epoch end; it has another size than the batches."""
    x, y = tiny_data
    model = _sequential_without_input()
    monitor = ActivationMonitor(x[:10])
    hist = _fit(model, x, y, [monitor], epochs=2)
    assert len(hist.history["act_std/hidden"]) == len(hist.history["dead_fraction/hidden"]) == 2
    hidden = np.maximum(x[:10] @ model.get_layer("hidden").kernel.numpy() + model.get_layer("hidden").bias.numpy(), 0)
    assert monitor.last["act_std/hidden"] == pytest.approx(float(np.std(hidden)), rel=1e-5)
    assert monitor.last["dead_fraction/hidden"] == pytest.approx(float(np.mean(hidden.max(axis=0) == 0)))
    assert monitor.last["act_std/out"] == pytest.approx(float(np.std(model.predict(x[:10], verbose=0))), rel=1e-5)


def test_a_hugely_negative_bias_kills_every_relu_unit(tiny_data):
    x, y = tiny_data
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((8,)),
            keras.layers.Dense(16, activation="relu", bias_initializer=keras.initializers.Constant(-100.0), name="dead"),
            keras.layers.Dense(16, activation="relu", name="alive"),
            keras.layers.Dense(2, activation="softmax", name="out"),
        ]
    )
    model.compile(keras.optimizers.SGD(0.01), "sparse_categorical_crossentropy")
    hist = _fit(model, x, y, [ActivationMonitor(x[:64])], epochs=1)
    assert hist.history["dead_fraction/dead"] == [1.0]
    assert hist.history["act_std/dead"] == [0.0]
    # Fed only zeros, the next layer outputs the same value for every sample: std 0.
    assert hist.history["act_std/alive"][0] == pytest.approx(0.0, abs=1e-7)
    assert "dead_fraction/out" in hist.history and "act_std/out" in hist.history


def test_activation_values_match_numpy(tiny_data, tiny_model):
    x, y = tiny_data
    model = tiny_model()
    monitor = ActivationMonitor((x[:100], y[:100]))
    _fit(model, x, y, [monitor], epochs=1)
    hidden = np.maximum(x[:100] @ model.get_layer("hidden").kernel.numpy() + model.get_layer("hidden").bias.numpy(), 0)
    assert monitor.last["act_std/hidden"] == pytest.approx(float(hidden.std()), rel=1e-4)
    assert monitor.last["dead_fraction/hidden"] == pytest.approx(float(np.mean(hidden.max(axis=0) == 0)))


def test_conv_units_are_channels_and_linear_layers_have_no_dead_share():
    rng = np.random.default_rng(1)
    x = rng.uniform(size=(16, 6, 6, 1)).astype("float32")
    keras.utils.set_random_seed(0)
    bias = np.array([-50.0, -50.0, 0.0, 0.0], dtype="float32")  # 2 of 4 channels switched off
    model = keras.Sequential(
        [
            keras.Input((6, 6, 1)),
            keras.layers.Conv2D(4, 3, activation="relu", bias_initializer=keras.initializers.Constant(bias), name="conv"),
            keras.layers.Flatten(),
            keras.layers.Dense(3, name="linear"),
            keras.layers.LeakyReLU(name="leaky"),
        ]
    )
    model.compile(keras.optimizers.SGD(0.0), "mse")
    hist = _fit(model, x, np.zeros((16, 3), "float32"), [ActivationMonitor(x)], epochs=1)
    assert hist.history["dead_fraction/conv"] == [0.5]
    assert "act_std/linear" in hist.history and "dead_fraction/linear" not in hist.history
    assert hist.history["dead_fraction/leaky"] == [0.0]


def test_activation_monitor_refuses_bad_input_and_subclassed_models(tiny_data):
    x, y = tiny_data
    with pytest.raises(TypeError, match="batch"):
        ActivationMonitor("x")
    with pytest.raises(ValueError, match="same length"):
        ActivationMonitor((x[:10], y[:3]))
    with pytest.raises(ValueError, match="dimension"):
        ActivationMonitor(np.zeros(8))
    with pytest.raises(ValueError, match="every"):
        ActivationMonitor(x, every=-1)

    class Subclassed(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(2)

        def call(self, inputs):
            return self.dense(inputs)

    model = Subclassed()
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="keras.Input"):
        _fit(model, x, np.zeros((len(x), 2), "float32"), [ActivationMonitor(x[:8])], epochs=1)
