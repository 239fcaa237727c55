"""One plot API (scikit-learn's Display pattern) and readable figures, checked on the artists, not pixels."""

import keras
import matplotlib.pyplot as plt
import numpy as np
import pytest

from toolkit.plots import (
    Display,
    plot_augmentations,
    plot_confusion_matrix,
    plot_decision_boundary,
    plot_history,
    plot_images,
    plot_layer_stats,
    plot_lr_finder,
    plot_optimizer_paths,
    plot_schedule,
)
from toolkit.plots._figure import OKABE_ITO


class _Finder:
    lrs = list(np.geomspace(1e-5, 1.0, 40))
    losses = list(2.3 - 1.5 / (1 + np.exp(-3 * (np.log10(lrs) + 2.5))) + np.geomspace(1e-3, 2.0, 40))
    suggestion = 3e-3


def _sweep(n_runs=7, epochs=10):
    """Loss curves of an LR sweep: several runs whose best epochs crowd together (notebook 05)."""
    e = np.arange(1, epochs + 1)
    runs = {}
    for i in range(n_runs):
        loss = 2.0 * np.exp(-e * 0.1 * (i + 1)) + 0.3
        runs[f"lr={10 ** (i / 2 - 3):g}"] = {"loss": list(loss), "val_loss": list(loss + 0.05 + 0.002 * i)}
    return runs


# (plot function, arguments, number of Axes it draws on)
CASES = {
    "history": (plot_history, ({"loss": [1.0, 0.5, 0.4], "val_loss": [1.1, 0.7, 0.6]},), {"metrics": ["loss"]}, 1),
    "confusion": (plot_confusion_matrix, ([0, 1, 1], [0, 1, 0]), {}, 1),
    "images": (plot_images, (np.zeros((3, 4, 4)), [0, 1, 1]), {}, 3),
    "decision_boundary": (plot_decision_boundary, (lambda g: g[:, 0] > 0, np.array([[-1.0, 0], [1, 0]]), [0, 1]),
                          {"resolution": 5}, 1),
    "lr_finder": (plot_lr_finder, (_Finder(),), {}, 1),
    "schedule": (plot_schedule, (lambda s: 0.1 * 0.9**s, 20), {}, 1),
    "layer_stats": (plot_layer_stats, ({"a": [1.0, 0.5, 0.25]},), {}, 1),
    "optimizer_paths": (plot_optimizer_paths, (lambda a, b: a**2 + b**2, {"SGD": [[1.0, 1.0], [0.5, 0.4]]}), {}, 1),
    "augmentations": (plot_augmentations, (keras.layers.Identity(), np.zeros((2, 4, 4))), {"n": 1}, 4),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_plot_returns_a_display_and_draws_on_the_axes_given(case):
    fn, args, kwargs, n_axes = CASES[case]
    created = fn(*args, **kwargs)
    assert isinstance(created, Display)
    assert created.axes_.size == n_axes and created.ax_ is created.axes_.flat[0]
    assert created.figure_ is created.ax_.figure
    fig, given = plt.subplots(1, n_axes, squeeze=False)
    before = len(plt.get_fignums())
    display = fn(*args, **kwargs, ax=given if n_axes > 1 else given[0, 0])
    assert isinstance(display, Display) and len(plt.get_fignums()) == before
    assert [id(a) for a in display.axes_.flat] == [id(a) for a in given.flat]
    assert display.figure_ is fig
    # plot() draws again, on new axes, and returns the Display itself
    fig2, again = plt.subplots(1, n_axes, squeeze=False)
    assert display.plot(ax=again if n_axes > 1 else again[0, 0]) is display and display.figure_ is fig2


@pytest.mark.parametrize("case", sorted(CASES))
def test_ax_of_the_wrong_type_is_refused_in_words(case):
    fn, args, kwargs, _ = CASES[case]
    with pytest.raises(TypeError, match=r"`ax` must be a matplotlib Axes.*Received: ax='left'"):
        fn(*args, **kwargs, ax="left")


def _window(artist, renderer):
    return artist.get_window_extent(renderer)


def test_epoch_ticks_are_whole_numbers():
    display = plot_history({"loss": [1.0, 0.8, 0.6], "val_loss": [1.1, 0.9, 0.8]})
    display.figure_.canvas.draw()
    ticks = [t for t in display.ax_.get_xticks() if display.ax_.get_xlim()[0] <= t <= display.ax_.get_xlim()[1]]
    assert ticks and all(float(t).is_integer() for t in ticks), ticks
    layers = plot_layer_stats({"a": [1.0, 0.5, 0.25]}).ax_
    layers.figure.canvas.draw()
    assert all(float(t).is_integer() for t in layers.get_xticks())


def test_a_comparison_of_many_runs_has_one_legend_entry_per_run_and_no_colliding_labels():
    runs = _sweep()
    display = plot_history(runs, metrics=["loss"])
    ax = display.ax_
    entries = [t.get_text() for t in ax.get_legend().get_texts()]
    assert entries[: len(runs)] == [f"{name} (best val {display.best_['loss', name][1]:.3g} at "
                                    f"{display.best_['loss', name][0]})" for name in runs]
    assert entries[len(runs):] == ["solid = train", "dashed = val"]
    # one colour per run, train solid and val dashed in it; the colours colour-blind safe
    colours = [display.lines_["loss", name, "train"].get_color() for name in runs]
    assert len(set(colours)) == len(runs) and set(colours) <= set(OKABE_ITO)
    for name in runs:
        assert display.lines_["loss", name, "val"].get_color() == display.lines_["loss", name, "train"].get_color()
        assert display.lines_["loss", name, "train"].get_linestyle() == "-"
        assert display.lines_["loss", name, "val"].get_linestyle() == "--"
    # every text drawn in the axes (none for a comparison) is clear of every other
    display.figure_.canvas.draw()
    renderer = display.figure_.canvas.get_renderer()
    boxes = [_window(t, renderer) for t in ax.texts]
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


@pytest.mark.parametrize(
    "plot",
    [
        lambda: plot_history(_sweep(), metrics=["loss"]),
        lambda: plot_history({"loss": [1.0, 0.6, 0.5, 0.45], "val_loss": [1.0, 0.7, 0.6, 0.65]}),
        lambda: plot_lr_finder(_Finder()),
        lambda: plot_layer_stats({"a": [1.0, 0.5, 0.25], "b": [1.0, 1.0, 1.0]}),
        lambda: plot_schedule(lambda s: 0.1 * 0.9**s, 20),
        lambda: plot_optimizer_paths(lambda a, b: a**2 + b**2, {"SGD": [[1.0, 1.0], [0.5, 0.4], [0.1, 0.1]]}),
    ],
    ids=["sweep", "one-run", "lr_finder", "layer_stats", "schedule", "optimizer_paths"],
)
def test_legends_never_cover_the_data_and_stay_inside_the_figure(plot):
    display = plot()
    fig = display.figure_
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    figure_box = fig.bbox
    for axis in display.axes_.flat:
        legend = axis.get_legend()
        assert legend is not None
        box = _window(legend, renderer)
        data = [line for line in axis.get_lines() if len(line.get_xdata())]
        for line in data:  # no data point of any line lies under the legend
            points = axis.transData.transform(np.c_[np.asarray(line.get_xdata(), float),
                                                    np.asarray(line.get_ydata(), float)])
            inside = [(x, y) for x, y in points if np.isfinite(x) and np.isfinite(y) and box.contains(x, y)]
            assert not inside, f"{line.get_label()} has points under the legend"
        assert not box.overlaps(axis.bbox) or box.x0 >= axis.bbox.x1  # outside the axes
        assert box.x1 <= figure_box.x1 + 1 and box.y0 >= figure_box.y0 - 1, "the legend is cut off"


def test_the_best_label_of_one_run_stays_inside_its_axes():
    display = plot_history({"loss": [1.0, 0.6, 0.5, 0.4], "accuracy": [0.5, 0.6, 0.7, 0.8],
                            "val_loss": [1.0, 0.7, 0.6, 0.55], "val_accuracy": [0.5, 0.6, 0.65, 0.7]})
    display.figure_.canvas.draw()
    renderer = display.figure_.canvas.get_renderer()
    for axis in display.axes_:
        (text,) = axis.texts
        box = _window(text, renderer)
        assert axis.bbox.x0 <= box.x0 and box.x1 <= axis.bbox.x1 and box.y1 <= axis.bbox.y1 + 1
        assert not box.overlaps(_window(axis.get_legend(), renderer))
