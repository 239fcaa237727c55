"""toolkit.compiled: build_compiled traces fit once and changes no number; restart trains a compiled model again like a fresh one."""

import keras
import numpy as np
import pytest

from toolkit.compiled import build_compiled, restart
from toolkit.transfer import add_head, small_cnn_backbone


def _data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int32") + (x[:, 2] > 1).astype("int32")
    return x, y


def _mlp(batch_norm=False):
    layers = [keras.Input((6,)), keras.layers.Dense(8, activation="relu")]
    if batch_norm:
        layers.append(keras.layers.BatchNormalization())
    return keras.Sequential(layers + [keras.layers.Dense(3, activation="softmax")])


def _compile(model, lr=1e-2):
    model.compile(keras.optimizers.Adam(lr), "sparse_categorical_crossentropy")
    return model


def _fit(model, x, y):
    return model.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0).history["loss"]


@pytest.fixture
def deterministic():
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
    yield
    from toolkit.determinism import disable_op_determinism

    disable_op_determinism()


def test_restart_with_weights_trains_like_a_fresh_model(deterministic):
    x, y = _data()
    keras.utils.set_random_seed(0)
    model = _compile(_mlp(batch_norm=True))
    start = model.get_weights()
    first = _fit(model, x, y)
    traced = model.train_function
    restart(model, weights=start)
    again = _fit(model, x, y)
    assert model.train_function is traced, "restart must keep the traced training function"

    fresh = _compile(_mlp(batch_norm=True))
    fresh.set_weights(start)
    reference = _fit(fresh, x, y)
    np.testing.assert_allclose(again, reference, rtol=1e-6)
    np.testing.assert_allclose(first, reference, rtol=1e-6)
    for mine, theirs in zip(model.get_weights(), fresh.get_weights()):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-7)


def test_without_restart_the_second_fit_continues():
    # the reason restart exists: a second fit starts where the first ended
    x, y = _data()
    keras.utils.set_random_seed(0)
    model = _compile(_mlp())
    first = _fit(model, x, y)
    second = _fit(model, x, y)
    assert second[0] < first[0] - 0.05


def test_restart_resets_the_optimizer_but_keeps_the_learning_rate():
    x, y = _data()
    model = _compile(_mlp(), lr=3e-3)
    _fit(model, x, y)
    assert int(model.optimizer.iterations.numpy()) == 12
    slots = [v for v in model.optimizer.variables if "momentum" in v.path or "velocity" in v.path]
    assert slots and any(np.abs(v.numpy()).max() > 0 for v in slots)
    restart(model, seed=1)
    assert int(model.optimizer.iterations.numpy()) == 0
    assert all(np.all(v.numpy() == 0) for v in slots)
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(3e-3)


def test_restart_with_a_seed_draws_fresh_weights_and_batchnorm_statistics():
    x, y = _data()
    model = _compile(_mlp(batch_norm=True))
    _fit(model, x, y)
    bn = next(layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization))
    assert not np.allclose(bn.moving_mean.numpy(), 0.0)
    restart(model, seed=3)
    drawn = model.get_weights()
    np.testing.assert_array_equal(bn.moving_mean.numpy(), 0.0)
    np.testing.assert_array_equal(bn.moving_variance.numpy(), 1.0)
    restart(model, seed=3)
    for a, b in zip(drawn, model.get_weights()):
        np.testing.assert_array_equal(a, b)  # the same seed, the same draw
    restart(model, seed=4)
    assert not np.allclose(drawn[0], model.get_weights()[0])
    # the kernel is drawn from the layer's own initializer (Glorot uniform: |w| <= sqrt(6 / (fan_in + fan_out)))
    assert np.abs(drawn[0]).max() <= np.sqrt(6 / (6 + 8)) + 1e-6
    assert np.abs(drawn[0]).max() > 0.5 * np.sqrt(6 / (6 + 8))


def test_restart_keeps_trainable_flags_of_a_nested_backbone():
    keras.utils.set_random_seed(0)
    backbone = small_cnn_backbone(filters=(4, 8))
    backbone.trainable = False
    model = add_head(backbone, 3)
    _compile(model)
    frozen = [w.numpy().copy() for w in backbone.weights]
    restart(model, seed=5)
    assert not backbone.trainable and len(model.trainable_weights) == 2  # only the head's kernel and bias
    assert any(not np.allclose(a, w.numpy()) for a, w in zip(frozen, backbone.weights) if a.size > 8)


def test_restart_leaves_weights_alone_without_seed_or_weights():
    x, y = _data()
    model = _compile(_mlp())
    _fit(model, x, y)
    kept = model.get_weights()
    restart(model)
    for a, b in zip(kept, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert int(model.optimizer.iterations.numpy()) == 0


def test_restart_an_uncompiled_model():
    model = _mlp()
    before = model.get_weights()
    restart(model, seed=0)  # nothing to reset in an optimizer: only the weights
    assert getattr(model, "optimizer", None) is None
    assert not np.allclose(before[0], model.get_weights()[0])


class _Subclassed(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(3)

    def call(self, x):
        return self.dense(x)


@pytest.mark.parametrize(
    "call, error, text",
    [
        (lambda m: restart("model", seed=0), TypeError, "Received: model="),
        (lambda m: restart(m, seed=0, weights=m.get_weights()), ValueError, "not both"),
        (lambda m: restart(m, seed=-1), ValueError, "seed"),
        (lambda m: restart(m, seed=1.0), TypeError, "seed"),
        (lambda m: restart(m, weights=np.zeros(3)), TypeError, "Received: weights="),
        (lambda m: restart(m, weights=[np.zeros(3)]), ValueError, ""),
    ],
)
def test_restart_bad_arguments(call, error, text):
    with pytest.raises(error, match=text):
        call(_compile(_mlp()))


class _NoInitializerAttribute(keras.layers.Layer):
    """A weight that no ``*_initializer`` attribute names."""

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], 3), initializer="ones")

    def call(self, x):
        return x @ self.w


class _Custom(keras.Model):
    def __init__(self):
        super().__init__()
        self.inner = _NoInitializerAttribute()

    def call(self, x):
        return self.inner(x)


def test_restart_with_a_seed_draws_a_subclassed_model_from_its_initializers():
    model = _Subclassed()
    model(np.zeros((1, 6), "float32"))
    restart(model, seed=0)
    first = model.get_weights()[0]
    restart(model, seed=1)
    assert not np.allclose(first, model.get_weights()[0])


def test_restart_with_a_seed_needs_initializers_or_a_model_clone_model_can_rebuild():
    model = _Custom()
    model(np.zeros((1, 6), "float32"))
    with pytest.raises(ValueError, match="pass `weights` instead"):
        restart(model, seed=0)
    restart(model, weights=[np.full((6, 3), 2.0, "float32")])
    np.testing.assert_array_equal(model.get_weights()[0], 2.0)


def test_restart_with_a_seed_works_where_clone_model_cannot():
    # a regularizer whose strength is a variable (notebook 06's lambda sweep) has no config to clone
    strength = keras.Variable(0.0, trainable=False)
    regularizer = keras.regularizers.L2()
    regularizer.l2 = strength
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(4, kernel_regularizer=regularizer),
                              keras.layers.Dense(3)])
    _compile(model)
    restart(model, seed=7)
    drawn = model.get_weights()
    restart(model, seed=7)
    for a, b in zip(drawn, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def _count_traces(model):
    """Count the Python calls of ``model.train_step``: one per trace of the training function."""
    calls = []
    step = model.train_step

    def counted(data):
        calls.append(1)
        return step(data)

    model.train_step = counted
    return calls


def _dropout_mlp():
    return keras.Sequential([
        keras.Input((6,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dropout(0.3),
        keras.layers.Dense(3, activation="softmax"),
    ])


def _compile_with_metrics(model):
    model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_keras_traces_the_first_fit_twice_and_build_compiled_makes_it_once():
    x, y = _data()
    plain = _compile_with_metrics(_mlp())
    plain_traces = _count_traces(plain)
    plain.fit(x, y, batch_size=64, epochs=2, verbose=0)  # 64 samples: one full batch per epoch, one shape
    built = build_compiled(_compile_with_metrics(_mlp()), x, y)
    assert built.optimizer.built and len(built.optimizer.variables) > 1, "the optimizer's slots must exist now"
    built_traces = _count_traces(built)
    built.fit(x, y, batch_size=64, epochs=2, verbose=0)
    assert len(plain_traces) == 2, f"Keras itself traces a variable-creating step twice (saw {len(plain_traces)})"
    assert len(built_traces) == 1, f"after build_compiled the step is traced once (saw {len(built_traces)})"


def test_build_compiled_changes_no_number_of_the_training(deterministic):
    x, y = _data()
    histories, weights = [], []
    for build in (False, True):
        keras.utils.set_random_seed(3)
        model = _compile_with_metrics(_dropout_mlp())
        if build:
            assert build_compiled(model, x, y) is model
        history = model.fit(x, y, batch_size=16, epochs=3, validation_data=(x[:20], y[:20]), verbose=0).history
        histories.append(history)
        weights.append(model.get_weights())
    assert histories[0].keys() == histories[1].keys()
    for key in histories[0]:
        np.testing.assert_array_equal(histories[0][key], histories[1][key], err_msg=key)
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)


def test_build_compiled_reads_a_dataset_by_its_element_spec():
    import tensorflow as tf

    x, y = _data()
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)  # 64 samples: 4 full batches, one shape
    model = build_compiled(_compile_with_metrics(_mlp()), ds)
    assert model.optimizer.built
    assert [m.name for m in model.metrics] == ["loss", "compile_metrics"]
    assert all(float(keras.ops.convert_to_numpy(v)) == 0.0 for m in model.metrics for v in m.variables), (
        "the metrics measured on the zero sample must be reset"
    )
    traces = _count_traces(model)
    history = model.fit(ds, epochs=1, verbose=0).history
    assert len(traces) == 1 and np.isfinite(history["loss"][0])
    with pytest.raises(ValueError, match="dataset holds its targets"):
        build_compiled(model, ds, y)


class _Autoencoder(keras.Model):
    """A keras.io-style subclassed model with its own train_step, compiled with an optimizer only."""

    def __init__(self):
        super().__init__(name="autoencoder")
        self.encode, self.decode = keras.layers.Dense(3), keras.layers.Dense(6)
        self.loss_tracker = keras.metrics.Mean(name="loss")

    def call(self, x):
        return self.decode(self.encode(x))

    def train_step(self, data):
        import tensorflow as tf

        x = data[0] if isinstance(data, tuple) else data
        with tf.GradientTape() as tape:
            loss = keras.ops.mean((self(x) - x) ** 2)
        grads = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}

    @property
    def metrics(self):
        return [self.loss_tracker]


def test_build_compiled_takes_a_model_with_its_own_train_step_and_no_compiled_loss():
    x, _ = _data()
    model = _Autoencoder()
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    assert build_compiled(model, x, x) is model and model.built and model.optimizer.built
    assert float(keras.ops.convert_to_numpy(model.loss_tracker.count)) == 0.0
    traces = _count_traces(model)
    history = model.fit(x, batch_size=64, epochs=2, verbose=0).history
    assert len(traces) == 1 and history["loss"][1] < history["loss"][0]


def test_build_compiled_refuses_bad_input_in_words():
    x, y = _data()
    with pytest.raises(ValueError, match="compiled first"):
        build_compiled(_mlp(), x, y)
    with pytest.raises(TypeError, match="Received: model="):
        build_compiled("not a model", x, y)
    with pytest.raises(ValueError, match="`y` is needed"):
        build_compiled(_compile(_mlp()), x)
    with pytest.raises(ValueError, match="at least one sample"):
        build_compiled(_compile(_mlp()), x[:0], y[:0])
