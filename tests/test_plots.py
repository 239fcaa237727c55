import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest

from toolkit.plots import plot_confusion_matrix, plot_history, plot_images
from toolkit.plots._figure import WRONG_COLOUR

HIST = {"loss": [1.0, 0.6, 0.4, 0.3], "val_loss": [1.1, 0.7, 0.65, 0.8],
        "accuracy": [0.5, 0.7, 0.8, 0.9], "val_accuracy": [0.45, 0.6, 0.7, 0.68]}


def test_history_train_solid_val_dashed_same_colour():
    axes = plot_history(HIST).axes_
    assert [a.get_title().split(" (")[0] for a in axes] == ["loss", "accuracy"]
    assert "lower is better" in axes[0].get_title() and "higher is better" in axes[1].get_title()
    lines = {l.get_label(): l for l in axes[0].get_lines() if not l.get_label().startswith("_")}
    assert lines["train"].get_linestyle() == "-" and lines["val"].get_linestyle() == "--"
    assert lines["train"].get_color() == lines["val"].get_color()
    assert axes[0].get_xlabel() == "epoch"


def test_history_marks_best_validation_epoch():
    axes = plot_history(HIST).axes_
    texts = [t.get_text() for t in axes[0].texts]
    assert texts == ["best 0.65"]  # min of val_loss, at epoch 3
    marker = [l for l in axes[0].get_lines() if l.get_marker() == "o"][0]
    assert marker.get_xdata()[0] == 3
    assert [t.get_text() for t in axes[1].texts] == ["best 0.7"]  # max of val_accuracy


def test_history_draws_on_the_axes_given():
    fig, ax = plt.subplots()
    returned = plot_history(HIST, metrics=["loss"], ax=ax)
    assert returned.ax_ is ax and returned.figure_ is fig and len(plt.get_fignums()) == 1


def test_history_compares_runs_with_one_colour_each():
    display = plot_history({"SGD": HIST, "Adam": {"loss": [0.5, 0.2], "val_loss": [0.6, 0.3]}}, metrics=["loss"])
    ax = display.ax_
    labels = [l.get_label() for l in ax.get_lines() if not l.get_label().startswith("_")]
    assert labels == ["SGD train", "SGD val", "Adam train", "Adam val"]
    colours = {l.get_label(): l.get_color() for l in ax.get_lines()}
    assert colours["SGD train"] != colours["Adam train"] and colours["SGD train"] == colours["SGD val"]
    # one legend entry per run (with its best validation value), not one per line; no labels on the curves
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "SGD (best val 0.65 at 3)", "Adam (best val 0.3 at 2)", "solid = train", "dashed = val"]
    assert not ax.texts and display.best_ == {("loss", "SGD"): (3, 0.65), ("loss", "Adam"): (2, 0.3)}


def test_history_accepts_a_keras_history_and_real_epochs():
    class FakeHistory:
        history = {"loss": [0.5, 0.4]}
        epoch = [3, 4]  # a resumed run

    ax = plot_history(FakeHistory()).ax_
    assert list(ax.get_lines()[0].get_xdata()) == [4, 5]


def test_history_with_nan_draws_and_warns():
    with pytest.warns(RuntimeWarning, match="NaN"):
        ax = plot_history({"loss": [1.0, float("nan"), 2.0]}).ax_
    assert len(ax.get_lines()) == 1


def test_epochs_without_validation_are_skipped_silently():
    """validation_freq=2: Keras's History holds the 2 validated epochs only; they are drawn at epochs 2 and 4."""
    history = {"loss": [1.0, 0.8, 0.6, 0.5], "val_loss": [0.9, 0.7]}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ax = plot_history(history).ax_
    val = [l for l in ax.get_lines() if l.get_label() == "val"][0]
    assert list(val.get_xdata()) == [2, 4] and list(val.get_ydata()) == [0.9, 0.7]
    assert val.get_marker() == "."  # sparse points are marked


def test_a_real_validation_freq_history_is_drawn_at_the_validated_epochs():
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    x = np.linspace(0, 1, 32, dtype="float32").reshape(16, 2)
    hist = model.fit(x, x[:, :1], validation_data=(x, x[:, :1]), validation_freq=3, epochs=7, verbose=0)
    ax = plot_history(hist).ax_
    val = [l for l in ax.get_lines() if l.get_label() == "val"][0]
    assert list(val.get_xdata()) == [3, 6] and list(val.get_ydata()) == pytest.approx(hist.history["val_loss"])


def test_a_measured_nan_in_validation_is_a_gap_not_an_unmeasured_epoch():
    with pytest.warns(RuntimeWarning, match="val_loss has 1 NaN"):
        plot_history({"loss": [1.0, 0.8, 0.6], "val_loss": [0.9, float("nan"), 0.7]})


def test_a_diverged_validation_curve_still_warns():
    with pytest.warns(RuntimeWarning) as record:
        plot_history({"loss": [1.0, float("nan")], "val_loss": [0.9, float("nan")]})
    messages = sorted(str(w.message).split(" has ")[0] for w in record)
    assert messages == ["loss", "val_loss"]


def test_single_epoch_history_draws():
    ax = plot_history({"loss": [0.7], "val_loss": [0.8]}).ax_
    assert len(ax.get_lines()) >= 2


@pytest.mark.parametrize(
    "bad, exc, match",
    [
        ({}, ValueError, "empty"),
        ([1, 2], TypeError, "History or a dict"),
        ({"loss": []}, ValueError, "empty"),
        ({"loss": [1, 2], "accuracy": [1]}, ValueError, "one value per epoch"),
        ({"loss": [1, 2, 3], "val_loss": [1, 2, 3, 4]}, ValueError, "one value per epoch"),
        ({"loss": [1, 2, 3, 4, 5, 6], "val_loss": [1, 2, 3, 4, 5]}, ValueError, "no fit\\(validation_freq=k\\)"),
        ({"loss": "abc"}, TypeError, "per-epoch values"),
        ({"loss": ["a", "b"]}, TypeError, "numbers"),
    ],
)
def test_history_bad_input(bad, exc, match):
    with pytest.raises(exc, match=match):
        plot_history(bad)


def test_a_run_without_loss_draws_the_losses_it_logs():
    """A GAN's own train_step logs d_loss and g_loss: those are the curves."""
    axes = plot_history({"d_loss": [0.7, 0.6, 0.65], "g_loss": [1.2, 1.0, 0.9]}).axes_
    assert [len(a.get_lines()) for a in axes] == [1, 1]
    assert [list(a.get_lines()[0].get_ydata()) for a in axes] == [[0.7, 0.6, 0.65], [1.2, 1.0, 0.9]]


def test_history_unknown_metric_is_named():
    with pytest.raises(ValueError, match="'auc'"):
        plot_history(HIST, metrics=["auc"])


def test_history_marks_draw_a_labelled_line_before_the_epoch():
    axes = plot_history(HIST, marks={"fine-tuning starts": 2}).axes_
    for axis in axes:
        mark = [l for l in axis.get_lines() if l.get_label() == "fine-tuning starts"]
        assert len(mark) == 1 and mark[0].get_linestyle() == ":"
        assert list(mark[0].get_xdata()) == [2.5, 2.5]  # between epoch 2 and epoch 3 (the first fine-tuned)
        assert "fine-tuning starts" in [t.get_text() for t in axis.get_legend().get_texts()]


@pytest.mark.parametrize(
    "marks, exc",
    [([2], TypeError), ({"a": "2"}, TypeError), ({3: 2}, TypeError), ({"a": True}, TypeError),
     ({"a": -1}, ValueError), ({"a": float("nan")}, ValueError)],
)
def test_history_bad_marks_are_named(marks, exc):
    with pytest.raises(exc, match="marks"):
        plot_history(HIST, marks=marks)


def test_images_highlight_wrong_predictions():
    images = np.random.default_rng(0).random((6, 8, 8))
    axes = plot_images(images, [0, 1, 2, 3, 4, 5], predictions=[0, 1, 9, 3, 4, 0], class_names=list("abcdefghij")).axes_
    titles = [a.get_title() for a in axes]
    assert titles == ["a→a", "b→b", "c→j", "d→d", "e→e", "f→a"]
    red = [a.title.get_color() for a in axes]
    assert red[2] == WRONG_COLOUR and red[5] == WRONG_COLOUR and red[0] == "black"


def test_images_class_names_and_colour_images():
    axes = plot_images(np.zeros((2, 4, 4, 3)), [0, 1], class_names=["cat", "dog"]).axes_
    assert [a.get_title() for a in axes] == ["cat", "dog"]


@pytest.mark.parametrize("images", [np.zeros((8, 8)), np.zeros((2, 8, 8, 5)), np.zeros((0, 8, 8)), "img"])
def test_images_bad_rank(images):
    with pytest.raises((ValueError, TypeError), match="images"):
        plot_images(images)


def test_images_mismatched_labels():
    with pytest.raises(ValueError, match="same length"):
        plot_images(np.zeros((3, 4, 4)), [0, 1])


def test_confusion_matrix_ticks_and_values():
    disp = plot_confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2], class_names=["a", "b", "c"])
    ticks = [t.get_text() for t in disp.ax_.get_xticklabels()]
    assert ticks == ["a", "b", "c"]
    assert disp.confusion_matrix.tolist() == [[1, 0, 0], [0, 1, 1], [0, 0, 1]]
    assert disp.ax_.get_ylabel() == "True label"


def test_confusion_matrix_from_scores_and_from_matrix():
    disp = plot_confusion_matrix([0, 1], [[0.9, 0.1], [0.2, 0.8]])
    assert disp.confusion_matrix.tolist() == [[1, 0], [0, 1]]
    disp = plot_confusion_matrix(confusion=[[5, 1], [2, 4]], normalize="true")
    np.testing.assert_allclose(disp.confusion_matrix.sum(axis=1), [1, 1])


def test_confusion_matrix_bad_input():
    with pytest.raises(ValueError, match="square"):
        plot_confusion_matrix(confusion=[[1, 2, 3], [4, 5, 6]])
    with pytest.raises(TypeError, match="y_true"):
        plot_confusion_matrix()
    with pytest.raises(ValueError, match="normalize"):
        plot_confusion_matrix([0], [0], normalize="rows")
