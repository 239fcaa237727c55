import keras
import matplotlib.pyplot as plt
import numpy as np
import pytest

from toolkit.data import make_linear
from toolkit.plots import DecisionBoundaryDisplay, plot_decision_boundary


def _filled_levels(display):
    """Indices of the contour levels that cover some area of the plane."""
    (contour,) = [c for c in display.ax_.collections if hasattr(c, "levels")]
    assert contour is display.surface_
    return [i for i, path in enumerate(contour.get_paths()) if len(path.vertices)]


def test_numpy_function_regions_follow_the_rule():
    x, y = make_linear(100)
    display = plot_decision_boundary(lambda g: (g.sum(axis=1) > 9).astype(int), x, y, resolution=50)
    assert isinstance(display, DecisionBoundaryDisplay)
    ax = display.ax_
    assert len(ax.collections) == 2  # filled regions + the scatter
    assert ax.get_xlabel() == "$x_1$" and ax.get_ylabel() == "$x_2$"
    assert display.scatter_ is ax.collections[-1] and len(display.scatter_.get_offsets()) == 100
    assert _filled_levels(display) == [0, 1]
    # the response is the rule itself, point by point
    expected = (display.xx0 + display.xx1 > 9).astype(int)
    np.testing.assert_array_equal(display.response, expected)


def test_draws_on_the_given_axes():
    x, y = make_linear(40)
    fig, (left, right) = plt.subplots(1, 2)
    out = plot_decision_boundary(lambda g: g.sum(axis=1) > 9, x, y, ax=right, resolution=10)
    assert out.ax_ is right and out.figure_ is fig and list(out.axes_) == [right]
    assert not left.collections and len(right.collections) == 2
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
    display = plot_decision_boundary(lambda g: np.digitize(g[:, 0], [0.7, 1.4]), x, y, resolution=30)
    assert _filled_levels(display) == [0, 1, 2]


def _sigmoid_model(bias: float, *, logits: bool = False):
    """One Dense unit: p(class 1) = sigmoid(x1 - x2 + bias), or the logit itself."""
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, activation=None if logits else "sigmoid")])
    model.layers[0].set_weights([np.array([[1.0], [-1.0]]), np.array([bias])])
    return model


def test_keras_models_with_one_or_several_outputs():
    x, y = make_linear(60)
    softmax = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, activation="softmax")])
    display = plot_decision_boundary(softmax, x, y, resolution=20)
    assert len(display.ax_.collections) == 2 and len(display.ax_.collections[-1].get_offsets()) == 60
    always_one = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, activation="sigmoid")])
    always_one.layers[0].set_weights([np.zeros((2, 1)), np.array([5.0])])
    assert _filled_levels(plot_decision_boundary(always_one, x, y, resolution=20)) == [1]
    plt.close("all")


def test_a_sigmoid_model_with_n1_labels_splits_the_plane_on_its_line():
    """(n, 1) sigmoid scores and (n, 1) labels: class 1 exactly where x1 - x2 + 0.55 > 0 (not all class 0)."""
    x = np.array([[0.0, 0.0], [0.0, 2.0], [2.0, 0.0], [2.0, 2.0]])
    y_n1 = np.array([[1], [0], [1], [1]])
    display = plot_decision_boundary(_sigmoid_model(0.55), x, y_n1, resolution=21, padding=0.0)
    expected = (display.xx0 - display.xx1 + 0.55 > 0).astype(int)
    np.testing.assert_array_equal(display.response, expected)
    assert 0.3 < display.response.mean() < 0.8  # both classes have a region
    assert display.y.tolist() == [1, 0, 1, 1]


def test_logits_are_thresholded_at_zero_and_read_from_the_compiled_loss():
    x = np.array([[0.0, 0.0], [0.0, 2.0], [2.0, 0.0], [2.0, 2.0]])
    logit_model = _sigmoid_model(0.55, logits=True)
    with pytest.raises(ValueError, match="from_logits=True"):
        plot_decision_boundary(logit_model, x, [1, 0, 1, 1], resolution=21, padding=0.0)
    explicit = plot_decision_boundary(logit_model, x, [1, 0, 1, 1], resolution=21, padding=0.0, from_logits=True)
    np.testing.assert_array_equal(explicit.response, (explicit.xx0 - explicit.xx1 + 0.55 > 0).astype(int))
    logit_model.compile(loss=keras.losses.BinaryCrossentropy(from_logits=True))
    from_loss = plot_decision_boundary(logit_model, x, [1, 0, 1, 1], resolution=21, padding=0.0)
    np.testing.assert_array_equal(from_loss.response, explicit.response)


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
        ((lambda g: g[:, :1] * 3.0 - 1.0, np.zeros((2, 2)) + 0.5, [0, 1]), {}, "from_logits=True"),
        ((lambda g: g[:, 0], np.zeros((2, 2)), [0, 1]), {"from_logits": "yes"}, "from_logits"),
        ((lambda g: g[:, 0], np.zeros((2, 2)), [0.5, 1]), {}, "whole-number"),
    ],
)
def test_bad_input(args, kwargs, match):
    with pytest.raises((TypeError, ValueError), match=match):
        plot_decision_boundary(*args, **kwargs)
