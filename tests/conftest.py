import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def tiny_data():
    """A small, learnable 2-class problem: 256 points, 8 features."""
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 8)).astype("float32")
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype("int64")
    return x, y


@pytest.fixture
def tiny_model():
    """A factory of small compiled MLPs built from keras.Input."""
    import keras

    def build(seed=0, lr=0.05, optimizer=None):
        keras.utils.set_random_seed(seed)
        model = keras.Sequential(
            [
                keras.Input((8,)),
                keras.layers.Dense(16, activation="relu", name="hidden"),
                keras.layers.Dense(2, activation="softmax", name="out"),
            ]
        )
        model.compile(optimizer or keras.optimizers.SGD(lr), "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    return build
