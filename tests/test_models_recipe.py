"""The fast MNIST recipe: fast_mnist_cnn and fast_mnist_recipe (toolkit.models)."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from toolkit.models import fast_mnist_cnn, fast_mnist_recipe
from toolkit.schedules import OneCycle


@pytest.fixture(scope="module")
def digits():
    from toolkit.data import load_mnist

    (x, y), (xt, yt) = load_mnist()
    x = (x[:512].astype("float32") / 255.0)[..., None]
    xt = (xt[:256].astype("float32") / 255.0)[..., None]
    return (x, y[:512].astype("int64")), (xt, yt[:256].astype("int64"))


def test_fast_mnist_cnn_layout():
    model = fast_mnist_cnn()
    assert model.output_shape == (None, 10)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds[:2] == ["RandomTranslation", "RandomRotation"], "light augmentation comes first"
    assert "RandomFlip" not in kinds, "a flipped digit is not a digit"
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(norms) == 3 and all(bn.momentum == pytest.approx(0.9) for bn in norms)
    # BatchNorm sits after the pooling (cheaper), each conv has no bias (BatchNorm has one).
    for i in (1, 2, 3):
        names = [layer.name for layer in model.layers]
        assert names.index(f"pool{i}") < names.index(f"bn{i}")
        assert model.get_layer(f"conv{i}").use_bias is False


def test_augmentation_only_in_training(digits):
    (x, _), _ = digits
    keras.utils.set_random_seed(0)
    model = fast_mnist_cnn(rotation=0.0)
    shift = model.get_layer("shift")
    np.testing.assert_array_equal(np.asarray(shift(x[:8], training=False)), x[:8])
    assert not np.allclose(np.asarray(shift(x[:8], training=True)), x[:8]), "training=True should shift the digits"
    assert [type(layer).__name__ for layer in fast_mnist_cnn(shift=0.0, rotation=0.0).layers][0] == "Conv2D"


def test_recipe_compiles_with_one_cycle_and_learns(digits):
    (x, y), (xt, yt) = digits
    keras.utils.set_random_seed(0)
    model, fit_kwargs = fast_mnist_recipe(len(x), epochs=3, batch_size=32, max_lr=5e-3)
    assert fit_kwargs == {"epochs": 3, "batch_size": 32, "shuffle": True}
    schedule = model.optimizer._learning_rate
    assert isinstance(schedule, OneCycle)
    assert schedule.total_steps == 3 * math.ceil(len(x) / 32)
    assert schedule.max_lr == pytest.approx(5e-3)
    history = model.fit(x, y, verbose=0, **fit_kwargs)
    assert history.history["loss"][-1] < history.history["loss"][0]
    accuracy = float(np.mean(model.predict(xt, verbose=0).argmax(axis=1) == yt))
    assert accuracy > 0.7, f"even 512 digits and 3 epochs (48 steps) should beat chance (0.1) by far, got {accuracy:.3f}"


@pytest.mark.parametrize(
    "kwargs, error, text",
    [
        ({"n_train": 0}, ValueError, "n_train"),
        ({"n_train": 100, "epochs": 0}, ValueError, "epochs"),
        ({"n_train": 100, "batch_size": 2.5}, TypeError, "batch_size"),
        ({"n_train": 100, "max_lr": -1}, ValueError, "max_lr"),
        ({"n_train": 100, "filters": ()}, ValueError, "filters"),
    ],
)
def test_recipe_refuses_bad_arguments(kwargs, error, text):
    with pytest.raises(error, match=text):
        fast_mnist_recipe(**kwargs)


@pytest.mark.parametrize(
    "kwargs, error, text",
    [
        ({"input_shape": (28, 28)}, ValueError, "input_shape"),
        ({"filters": (8, 8, 8, 8, 8, 8)}, ValueError, "too small"),
        ({"filters": (8, "x")}, TypeError, r"filters\[1\]"),
        ({"rotation": 0.9}, ValueError, "rotation"),
        ({"shift": -0.1}, ValueError, "shift"),
        ({"bn_momentum": 1.0}, ValueError, "bn_momentum"),
        ({"num_classes": 1}, ValueError, "num_classes"),
    ],
)
def test_cnn_refuses_bad_arguments(kwargs, error, text):
    with pytest.raises(error, match=text):
        fast_mnist_cnn(**kwargs)
