"""plot_layer_stats and plot_optimizer_paths: what they draw, and bad input."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from toolkit.plots import plot_layer_stats, plot_optimizer_paths


def _bowl(x, y):
    return x**2 + 10 * y**2


# plot_layer_stats -----------------------------------------------------------------


def test_layer_stats_one_line_per_run_on_a_log_axis():
    stats = {"He + ReLU": [0.9, 0.8, 0.85, 0.8], "N(0, 0.01)": [0.1, 0.01, 0.001, 0.0001]}
    ax = plot_layer_stats(stats).ax_
    lines = ax.get_lines()
    assert len(lines) == 2
    assert ax.get_yscale() == "log"
    assert list(lines[0].get_xdata()) == [1, 2, 3, 4]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["He + ReLU", "N(0, 0.01)"]
    assert ax.get_xlabel() == "layer" and ax.get_ylabel() == "activation std"
    assert "through depth" in ax.get_title()


def test_layer_stats_zeros_are_named_in_the_legend_and_runs_may_differ_in_depth():
    ax = plot_layer_stats({"vanishing": [1e-3, 1e-30, 0.0, 0.0], "short": [1.0, 1.0]}, ylabel="grad norm", title="t").ax_
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts == ["vanishing (0 from layer 3)", "short"]
    assert np.isnan(ax.get_lines()[0].get_ydata()[2])
    assert len(ax.get_lines()[1].get_xdata()) == 2
    assert ax.get_title() == "t" and ax.get_ylabel() == "grad norm"


def test_layer_stats_draws_on_the_given_axes_and_linear_scale():
    fig, given = plt.subplots()
    display = plot_layer_stats({"a": [-1.0, 0.0, 1.0]}, ax=given, logy=False)
    ax = display.ax_
    assert ax is given and list(display.axes_) == [given] and ax.get_yscale() == "linear"


@pytest.mark.parametrize(
    "stats, kwargs, error, match",
    [
        ([0.1, 0.2], {}, TypeError, "dict"),
        ({}, {}, TypeError, "non-empty"),
        ({1: [0.1]}, {}, TypeError, "run names"),
        ({"a": []}, {}, ValueError, "empty"),
        ({"a": [[0.1, 0.2]]}, {}, ValueError, "dimension"),
        ({"a": ["x", "y"]}, {}, TypeError, "numbers"),
        ({"a": [0.1, float("nan")]}, {}, ValueError, "NaN"),
        ({"a": [-0.1, 0.2]}, {}, ValueError, "logy=False"),
        ({"a": [0.1]}, {"logy": "yes"}, TypeError, "logy"),
        ({"a": [0.1]}, {"ax": "left"}, TypeError, "ax"),
    ],
)
def test_layer_stats_refuses_bad_input(stats, kwargs, error, match):
    with pytest.raises(error, match=match):
        plot_layer_stats(stats, **kwargs)


# plot_optimizer_paths ------------------------------------------------------------


def test_optimizer_paths_contours_and_three_artists_per_path():
    sgd = np.array([[-2.0, 1.0], [-1.5, 0.2], [-1.0, 0.1]])
    adam = np.array([[-2.0, 1.0], [-1.0, 0.5], [0.0, 0.0]])
    ax = plot_optimizer_paths(_bowl, {"SGD": sgd, "Adam": adam}, minimum=(0, 0)).ax_
    assert len(ax.collections) >= 1  # the contour set
    lines = ax.get_lines()
    assert len(lines) == 2 * 3 + 1  # path, start, end per optimizer + the minimum
    np.testing.assert_array_equal(lines[0].get_xdata(), sgd[:, 0])
    assert lines[1].get_marker() == "o" and lines[2].get_marker() == "X"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["SGD", "Adam", "minimum"]
    assert ax.get_xlabel() == "x" and "start" in ax.get_title()
    low, high = ax.get_xlim()
    assert low < -2.0 and high > 0.0


def test_optimizer_paths_marks_a_diverged_path_and_accepts_scalar_losses():
    def scalar_only(x, y):  # a loss written for one point at a time
        return float(x) ** 2 + float(y) ** 2

    path = np.array([[1.0, 1.0], [3.0, -3.0], [np.inf, np.nan]])
    ax = plot_optimizer_paths(scalar_only, {"SGD lr=1.1": path}, xlim=(-4, 4), ylim=(-4, 4), title="bowl").ax_
    assert ax.get_legend().get_texts()[0].get_text() == "SGD lr=1.1 (diverged)"
    assert len(ax.get_lines()[0].get_xdata()) == 2
    assert ax.get_lines()[2].get_marker() == "x"
    assert ax.get_xlim() == (-4.0, 4.0) and ax.get_title() == "bowl"


@pytest.mark.parametrize(
    "loss_fn, paths, kwargs, error, match",
    [
        ("bowl", {"a": [[0, 0]]}, {}, TypeError, "loss_fn"),
        (_bowl, [[0, 0], [1, 1]], {}, TypeError, "dict"),
        (_bowl, {}, {}, TypeError, "non-empty"),
        (_bowl, {"a": [[0, 0, 0]]}, {}, ValueError, r"\(steps, 2\)"),
        (_bowl, {"a": [0, 0]}, {}, ValueError, "dimension"),
        (_bowl, {"a": [[np.nan, 0]]}, {}, ValueError, "finite point"),
        (_bowl, {"a": [[0, 0], [1, 1]]}, {"levels": 1}, ValueError, "levels"),
        (_bowl, {"a": [[0, 0], [1, 1]]}, {"xlim": (1, -1)}, ValueError, "xlim"),
        (_bowl, {"a": [[0, 0], [1, 1]]}, {"minimum": (0, 0, 0)}, ValueError, "minimum"),
    ],
)
def test_optimizer_paths_refuses_bad_input(loss_fn, paths, kwargs, error, match):
    with pytest.raises(error, match=match):
        plot_optimizer_paths(loss_fn, paths, **kwargs)
