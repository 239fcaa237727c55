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
        GradientMonitor((x[:4], np.array(["a", "b", "c", "d"])))  # labels must be numbers
    with pytest.raises(ValueError, match="every"):
        GradientMonitor((x, y), every=0)
    with pytest.raises(TypeError, match="every"):
        GradientMonitor((x, y), every=1.5)


def test_a_text_probe_is_refused_at_train_begin_by_a_model_that_takes_numbers(tiny_data):
    x, y = tiny_data
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    text = np.array([["a b c"]] * 4)
    for monitor in (GradientMonitor((text, y[:4])), ActivationMonitor(text)):
        seen = []
        stop = keras.callbacks.LambdaCallback(on_train_batch_begin=lambda *_: seen.append(1))
        with pytest.raises(ValueError, match="holds strings"):
            _fit(model, x, y, [monitor, stop], epochs=1)
        assert not seen, "refused before the first batch"


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


# Real-world models (issue 15): one watched layer, LSTM, nested backbones, compute_loss overrides,
# recompiling, mixed precision, several inputs and outputs. References are computed independently:
# a sub-model keras.Model(inputs, layer.output) for activations, a tf.GradientTape for gradients.


def _stats(values, relu=True):
    """act_std and dead_fraction of one layer's output, by NumPy."""
    values = np.asarray(values, dtype="float64")
    per_unit = np.abs(values).reshape(-1, values.shape[-1])
    return float(values.std()), float(np.mean(per_unit.max(axis=0) == 0))


def _tape_norms(model, x, y, kernels, loss_fn):
    with tf.GradientTape() as tape:
        loss = loss_fn(y, model(x, training=False))
    return [float(tf.norm(g)) for g in tape.gradient(loss, kernels)]


def test_activation_monitor_on_a_one_dense_model_matches_a_sub_model(tiny_data):
    """One watched layer: Keras returns a bare tensor, not a list (this crashed fit after epoch 1)."""
    x, y = tiny_data
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(3, activation="relu", name="only")])
    model.compile("sgd", "mse")
    monitor = ActivationMonitor(x[:40])
    hist = _fit(model, x, np.zeros((len(x), 3), "float32"), [monitor], epochs=2)
    assert len(hist.history["act_std/only"]) == 2
    reference = keras.Model(model.inputs[0], model.get_layer("only").output)(x[:40])
    std, dead = _stats(reference)
    assert monitor.last["act_std/only"] == pytest.approx(std, rel=1e-5)
    assert monitor.last["dead_fraction/only"] == pytest.approx(dead)


def test_activation_monitor_on_an_lstm_model_matches_a_sub_model():
    rng = np.random.default_rng(2)
    tokens = rng.integers(1, 50, size=(64, 12))
    labels = rng.integers(0, 2, size=(64,)).astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((12,), dtype="int32"),
            keras.layers.Embedding(50, 8),
            keras.layers.LSTM(6),
            keras.layers.Dense(1, activation="sigmoid", name="score"),
        ]
    )
    model.compile("adam", "binary_crossentropy")
    act, grad = ActivationMonitor(tokens[:20]), GradientMonitor((tokens[:20], labels[:20]))
    hist = _fit(model, tokens, labels, [act, grad], epochs=2)
    assert len(hist.history["act_std/score"]) == 2
    reference = keras.Model(model.inputs[0], model.get_layer("score").output)(tokens[:20])
    assert act.last["act_std/score"] == pytest.approx(_stats(reference)[0], rel=1e-5)
    assert act.last["dead_fraction/score"] == pytest.approx(_stats(reference)[1])
    lstm = model.layers[1]
    expected = _tape_norms(
        model, tokens[:20], labels[:20], [lstm.cell.kernel, model.get_layer("score").kernel],
        lambda t, p: tf.reduce_mean(keras.losses.binary_crossentropy(t[:, None], p)),
    )
    assert grad.last["score"] == pytest.approx(expected[1], rel=1e-4)


def _backbone_model(trainable):
    keras.utils.set_random_seed(0)
    inner = keras.Input((8,))
    h = keras.layers.Dense(6, activation="relu", name="bb_hidden")(inner)
    h = keras.layers.Dense(5, activation="tanh", name="bb_top")(h)
    backbone = keras.Model(inner, h, name="backbone")
    backbone.trainable = trainable
    inputs = keras.Input((8,))
    outputs = keras.layers.Dense(2, activation="softmax", name="head")(backbone(inputs, training=False))
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.SGD(0.05), "sparse_categorical_crossentropy")
    return model, backbone


def test_both_monitors_open_a_nested_backbone_and_agree(tiny_data):
    x, y = tiny_data
    model, backbone = _backbone_model(trainable=True)
    act, grad = ActivationMonitor(x[:50]), GradientMonitor((x[:50], y[:50]))
    _fit(model, x, y, [act, grad], epochs=1)
    assert act.layer_names == grad.layer_names == ["bb_hidden", "bb_top", "head"]
    for name in ("bb_hidden", "bb_top"):
        reference = keras.Model(backbone.input, backbone.get_layer(name).output)(x[:50])
        std, dead = _stats(reference)
        assert act.last[f"act_std/{name}"] == pytest.approx(std, rel=1e-5)
    assert act.last["dead_fraction/bb_hidden"] == pytest.approx(_stats(keras.Model(
        backbone.inputs, backbone.get_layer("bb_hidden").output)(x[:50]))[1])
    kernels = [backbone.get_layer("bb_hidden").kernel, backbone.get_layer("bb_top").kernel, model.get_layer("head").kernel]
    expected = _tape_norms(model, x[:50], y[:50], kernels,
                           lambda t, p: tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(t, p)))
    assert [grad.last[n] for n in grad.layer_names] == pytest.approx(expected, rel=1e-5)


def _tripled(y_true, y_pred):
    return 3.0 * keras.losses.sparse_categorical_crossentropy(y_true, y_pred)


def test_gradient_monitor_follows_unfreezing_and_a_new_loss(tiny_data):
    """The probe is rebuilt after a recompile: new trainable kernels, new loss (it kept the stale ones)."""
    x, y = tiny_data
    model, backbone = _backbone_model(trainable=False)
    grad = GradientMonitor((x[:50], y[:50]))
    _fit(model, x, y, [grad], epochs=1)
    assert grad.layer_names == ["head"]
    backbone.trainable = True
    model.compile(keras.optimizers.SGD(0.01), _tripled)
    hist = _fit(model, x, y, [grad], epochs=2, initial_epoch=1)
    assert grad.layer_names == ["bb_hidden", "bb_top", "head"] and "grad_norm/bb_top" in hist.history
    kernels = [model.get_layer("backbone").get_layer(n).kernel for n in ("bb_hidden", "bb_top")]
    expected = _tape_norms(model, x[:50], y[:50], kernels + [model.get_layer("head").kernel],
                           lambda t, p: tf.reduce_mean(_tripled(t, p)))
    assert [grad.last[n] for n in grad.layer_names] == pytest.approx(expected, rel=1e-5)


class Distiller(keras.Model):
    """keras.io's Distiller, shrunk: compute_loss overridden without a `training` argument."""

    def __init__(self, student, teacher):
        super().__init__()
        self.student, self.teacher = student, teacher

    def compile(self, optimizer, alpha=0.5):
        super().compile(optimizer=optimizer)
        self.alpha = alpha

    def call(self, x):
        return self.student(x)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, allow_empty=False):
        teacher = self.teacher(x, training=False)
        hard = keras.losses.sparse_categorical_crossentropy(y, y_pred)
        soft = keras.losses.kl_divergence(teacher, y_pred)
        return keras.ops.mean(self.alpha * hard + (1 - self.alpha) * soft)


def test_gradient_monitor_probes_a_compute_loss_override_without_training(tiny_data):
    x, y = tiny_data

    def mlp(name, seed):
        keras.utils.set_random_seed(seed)
        return keras.Sequential([keras.Input((8,)), keras.layers.Dense(6, activation="relu", name=f"{name}_h"),
                                 keras.layers.Dense(2, activation="softmax", name=f"{name}_out")], name=name)

    student, teacher = mlp("student", 0), mlp("teacher", 1)
    teacher.trainable = False
    distiller = Distiller(student, teacher)
    distiller.compile(keras.optimizers.Adam(0.01))
    grad = GradientMonitor((x[:40], y[:40]))
    _fit(distiller, x, y, [grad], epochs=1)
    assert grad.layer_names == ["student_h", "student_out"]
    kernels = [student.get_layer("student_h").kernel, student.get_layer("student_out").kernel]
    with tf.GradientTape() as tape:
        p = student(x[:40], training=False)
        t = teacher(x[:40], training=False)
        loss = tf.reduce_mean(0.5 * keras.losses.sparse_categorical_crossentropy(y[:40], p)
                              + 0.5 * keras.losses.kl_divergence(t, p))
    expected = [float(tf.norm(g)) for g in tape.gradient(loss, kernels)]
    assert [grad.last[n] for n in grad.layer_names] == pytest.approx(expected, rel=1e-5)


def _two_in_two_out():
    keras.utils.set_random_seed(0)
    a, b = keras.Input((8,), name="a"), keras.Input((3,), name="b")
    h = keras.layers.Dense(6, activation="relu", name="trunk")(keras.layers.Concatenate()([a, b]))
    cls = keras.layers.Dense(2, activation="softmax", name="cls")(h)
    reg = keras.layers.Dense(1, name="reg")(h)
    return keras.Model({"a": a, "b": b}, {"cls": cls, "reg": reg})


def test_monitors_support_several_inputs_and_outputs(tiny_data):
    x, y = tiny_data
    rng = np.random.default_rng(4)
    inputs = {"a": x, "b": rng.normal(size=(len(x), 3)).astype("float32")}
    targets = {"cls": y, "reg": x[:, :1] * 2.0}
    model = _two_in_two_out()
    model.compile("adam", loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"},
                  loss_weights={"cls": 1.0, "reg": 0.5})
    probe_x = {k: v[:30] for k, v in inputs.items()}
    probe_y = {k: v[:30] for k, v in targets.items()}
    act, grad = ActivationMonitor(probe_x), GradientMonitor((probe_x, probe_y))
    _fit(model, inputs, targets, [act, grad], epochs=1)
    trunk = keras.Model(model.input, model.get_layer("trunk").output)(probe_x)
    assert act.last["act_std/trunk"] == pytest.approx(_stats(trunk)[0], rel=1e-5)
    kernels = [model.get_layer(n).kernel for n in ("trunk", "cls", "reg")]
    with tf.GradientTape() as tape:
        out = model(probe_x, training=False)
        loss = (tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(probe_y["cls"], out["cls"]))
                + 0.5 * tf.reduce_mean(keras.losses.mean_squared_error(probe_y["reg"], out["reg"])))
    expected = [float(tf.norm(g)) for g in tape.gradient(loss, kernels)]
    assert [grad.last[n] for n in ("trunk", "cls", "reg")] == pytest.approx(expected, rel=1e-5)


def test_a_kernel_without_gradient_is_nan_with_one_warning(tiny_data):
    """An output with no loss gets no gradient: NaN (not measured), never 0 (read as vanishing)."""
    x, y = tiny_data
    model = _two_in_two_out()
    model.compile("adam", loss={"cls": "sparse_categorical_crossentropy", "reg": None})
    b = np.zeros((len(x), 3), "float32")
    grad = GradientMonitor(({"a": x[:30], "b": b[:30]}, {"cls": y[:30], "reg": x[:30, :1]}))
    with pytest.warns(UserWarning, match=r"\['reg'\].*NaN") as record:
        hist = _fit(model, {"a": x, "b": b}, {"cls": y, "reg": x[:, :1]}, [grad], epochs=2)
    assert sum("GradientMonitor" in str(w.message) for w in record) == 1
    assert all(math.isnan(v) for v in hist.history["grad_norm/reg"])
    assert all(v > 0 for v in hist.history["grad_norm/cls"])


@pytest.mark.parametrize("factor", [1.0, 1e-7])
def test_gradient_monitor_under_mixed_float16_differentiates_the_scaled_loss(tiny_data, factor):
    """With a loss this small, unscaled float16 gradients underflow to 0: Keras scales the loss, and so must we."""
    x, y = tiny_data

    def loss(t, p):
        return factor * keras.losses.sparse_categorical_crossentropy(t, p)

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu", name="hidden"),
                                  keras.layers.Dense(2, name="logits"),
                                  keras.layers.Activation("softmax", dtype="float32")])
        model.compile(keras.optimizers.SGD(0.05), loss)
        assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
        grad = GradientMonitor((x[:50], y[:50]))
        _fit(model, x, y, [grad], epochs=1)
        weights = model.get_weights()
    finally:
        keras.config.set_dtype_policy(previous)
    # Reference: the same weights in float32, differentiated plainly.
    keras.utils.set_random_seed(0)
    twin = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu", name="hidden"),
                             keras.layers.Dense(2, name="logits"), keras.layers.Activation("softmax")])
    twin.set_weights(weights)
    kernels = [twin.get_layer("hidden").kernel, twin.get_layer("logits").kernel]
    expected = _tape_norms(twin, x[:50], y[:50], kernels, lambda t, p: tf.reduce_mean(loss(t, p)))
    assert min(expected) > 0
    assert [grad.last["hidden"], grad.last["logits"]] == pytest.approx(expected, rel=2e-2)
