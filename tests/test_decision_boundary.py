import keras
import matplotlib.pyplot as plt
import numpy as np
import pytest

from toolkit.data import make_linear
from toolkit.plots import plot_decision_boundary


def _filled_levels(ax):
    """Indices of the contour levels that cover some area of the plane."""
    (contour,) = [c for c in ax.collections if hasattr(c, "levels")]
    return [i for i, path in enumerate(contour.get_paths()) if len(path.vertices)]


def test_numpy_function_regions_follow_the_rule():
    x, y = make_linear(100)
    ax = plot_decision_boundary(lambda g: (g.sum(axis=1) > 9).astype(int), x, y, resolution=50)
    assert len(ax.collections) == 2  # filled regions + the scatter
    assert ax.get_xlabel() == "$x_1$" and ax.get_ylabel() == "$x_2$"
    scatter = ax.collections[-1]
    assert len(scatter.get_offsets()) == 100
    assert _filled_levels(ax) == [0, 1]


def test_draws_on_the_given_axes():
    x, y = make_linear(40)
    fig, (left, right) = plt.subplots(1, 2)
    out = plot_decision_boundary(lambda g: g.sum(axis=1) > 9, x, y, ax=right, resolution=10)
    assert out is right and not left.collections and len(right.collections) == 2
    plt.close(fig)


def test_probabilities_of_class_one_are_thresholded():
    x, y = make_linear(60)
    always_one = plot_decision_boundary(lambda g: np.full(len(g), 0.7), x, y, resolution=20)
    assert _filled_levels(always_one) == [1]
    always_zero = plot_decision_boundary(lambda g: np.full((len(g), 1), 0.3), x, y, resolution=20)
    assert _filled_levels(always_zero) == [0]


def test_integer_labels_of_three_classes_are_kept():
    x = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]])
    y = np.array([0, 1, 2])
    ax = plot_decision_boundary(lambda g: np.digitize(g[:, 0], [0.7, 1.4]), x, y, resolution=30)
    assert _filled_levels(ax) == [0, 1, 2]


def test_keras_models_with_one_or_several_outputs():
    x, y = make_linear(60)
    softmax = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, activation="softmax")])
    ax = plot_decision_boundary(softmax, x, y, resolution=20)
    assert len(ax.collections) == 2 and len(ax.collections[-1].get_offsets()) == 60
    sigmoid = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, activation="sigmoid")])
    sigmoid.layers[0].set_weights([np.zeros((2, 1)), np.array([5.0])])  # always class 1
    assert _filled_levels(plot_decision_boundary(sigmoid, x, y, resolution=20)) == [1]
    plt.close("all")


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        (("not callable", np.zeros((4, 2)), [0, 1, 0, 1]), {}, "model_or_fn"),
        ((lambda g: g[:, 0], np.zeros((4, 3)), [0, 1, 0, 1]), {}, "2 features"),
        ((lambda g: g[:, 0], np.zeros(4), [0, 1, 0, 1]), {}, "dimension"),
        ((lambda g: g[:, 0], np.zeros((4, 2)), [0, 1]), {}, "same length"),
        ((lambda g: g[:, 0], np.full((2, 2), np.nan), [0, 1]), {}, "NaN"),
        ((lambda g: g[:, 0], np.zeros((2, 2)), [0, -1]), {}, ">= 0"),
        ((lambda g: g[:, 0], np.zeros((2, 2)), [0, 1]), {"resolution": 1}, "resolution"),
        ((lambda g: g[:, 0], np.zeros((2, 2)), [0, 1]), {"padding": -1.0}, "padding"),
        ((lambda g: 1.0, np.zeros((2, 2)), [0, 1]), {}, "one label"),
        ((lambda g: g[:5, 0], np.zeros((2, 2)), [0, 1]), {}, "one label"),
        ((lambda g: np.full(len(g), np.nan), np.zeros((2, 2)), [0, 1]), {}, "NaN"),
    ],
)
def test_bad_input(args, kwargs, match):
    with pytest.raises((TypeError, ValueError), match=match):
        plot_decision_boundary(*args, **kwargs)
