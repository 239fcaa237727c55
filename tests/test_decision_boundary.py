import keras
import numpy as np
import pytest

from toolkit.data import make_linear
from toolkit.plots import plot_decision_boundary


def test_numpy_function_regions_follow_the_rule():
    x, y = make_linear(100)
    ax = plot_decision_boundary(lambda g: (g.sum(axis=1) > 9).astype(int), x, y, resolution=50)
    assert len(ax.collections) >= 2  # filled regions + the scatter
    assert ax.get_xlabel() == "$x_1$" and ax.get_ylabel() == "$x_2$"
    scatter = ax.collections[-1]
    assert len(scatter.get_offsets()) == 100


def test_probabilities_and_keras_model():
    x, y = make_linear(60)
    ax = plot_decision_boundary(lambda g: 1 / (1 + np.exp(-(g.sum(axis=1) - 9))), x, y, resolution=20)
    assert len(ax.collections[-1].get_offsets()) == 60
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, activation="softmax")])
    ax = plot_decision_boundary(model, x, y, resolution=20)
    assert len(ax.collections) >= 2


@pytest.mark.parametrize(
    "args, match",
    [
        (("not callable", np.zeros((4, 2)), [0, 1, 0, 1]), "model_or_fn"),
        ((lambda g: g[:, 0], np.zeros((4, 3)), [0, 1, 0, 1]), "2 features"),
        ((lambda g: g[:, 0], np.zeros((4, 2)), [0, 1]), "same length"),
        ((lambda g: g[:, 0], np.full((2, 2), np.nan), [0, 1]), "NaN"),
    ],
)
def test_bad_input(args, match):
    with pytest.raises((TypeError, ValueError), match=match):
        plot_decision_boundary(*args)
