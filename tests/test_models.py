import keras
import numpy as np
import pytest

from toolkit.models import deep_mlp, mc_dropout_predict, mnist_cnn


def test_mnist_cnn_is_the_lecture_architecture():
    model = mnist_cnn()
    kinds = [type(l).__name__ for l in model.layers]
    assert kinds == ["Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten", "Dropout", "Dense"]
    assert model.get_layer("conv1").filters == 32 and model.get_layer("conv2").filters == 64
    assert model.get_layer("conv1").kernel_size == (3, 3)
    assert model.get_layer("dropout").rate == 0.5
    assert model.output_shape == (None, 10)
    assert model.count_params() == 34826  # the Keras example's count


def test_deep_mlp_depth_width_and_names():
    model = deep_mlp(5, 20, activation="tanh", kernel_initializer="glorot_normal", num_classes=None)
    dense = [l for l in model.layers if isinstance(l, keras.layers.Dense)]
    assert [l.name for l in dense] == [f"dense_{i}" for i in range(1, 6)]
    assert all(l.units == 20 for l in dense) and model.output_shape == (None, 20)
    bn = deep_mlp(3, 8, batch_norm=True)
    assert sum(isinstance(l, keras.layers.BatchNormalization) for l in bn.layers) == 3


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"depth": 0, "width": 3}, "depth"),
        ({"depth": 2, "width": 2.5}, "width"),
        ({"depth": 2, "width": 3, "activation": "relux"}, "activation"),
        ({"depth": 2, "width": 3, "kernel_initializer": "he_nomral"}, "kernel_initializer"),
        ({"depth": 2, "width": 3, "batch_norm": "yes"}, "batch_norm"),
    ],
)
def test_deep_mlp_bad_input(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        deep_mlp(**kwargs)


def test_mc_dropout_predict_varies_only_with_dropout():
    keras.utils.set_random_seed(0)
    model = mnist_cnn()
    x = np.random.default_rng(0).random((4, 28, 28, 1)).astype("float32")
    mean, std = mc_dropout_predict(model, x, samples=5)
    assert mean.shape == (4, 10) and np.allclose(mean.sum(axis=1), 1, atol=1e-5)
    assert std.max() > 0  # dropout on: passes differ
    with pytest.raises(TypeError, match="model"):
        mc_dropout_predict("model", x)
    with pytest.raises(ValueError, match="samples"):
        mc_dropout_predict(model, x, samples=1)


def test_deep_mlp_draws_independent_layers_from_one_initializer_instance():
    # A Keras initializer instance returns the same values at every call: deep_mlp copies it per layer.
    for init in (keras.initializers.RandomNormal(stddev=0.01), keras.initializers.RandomNormal(stddev=0.01, seed=3)):
        keras.utils.set_random_seed(1)
        model = deep_mlp(3, 10, activation="sigmoid", kernel_initializer=init, num_classes=None)
        k2, k3 = (keras.ops.convert_to_numpy(model.get_layer(f"dense_{i}").kernel) for i in (2, 3))
        assert not np.allclose(k2, k3), f"dense_2 and dense_3 got the same kernel from {init!r}"
        assert abs(k2.std() / 0.01 - 1) < 0.2  # still the instance's distribution
        keras.utils.set_random_seed(1)
        again = deep_mlp(3, 10, activation="sigmoid", kernel_initializer=init, num_classes=None)
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(again.get_layer("dense_2").kernel), k2)
