import keras
import numpy as np
import pytest

from toolkit.plots import plot_augmentations


class ShiftInTraining(keras.layers.Layer):
    """Adds a constant only in training mode, like every Keras augmentation layer."""

    def call(self, x, training=None):
        return x + 0.25 if training else x


def _digits(n=2):
    rng = np.random.default_rng(0)
    return rng.uniform(0, 0.5, size=(n, 8, 8)).astype("float32")


def _panel(axis):
    return np.asarray(axis.get_images()[0].get_array())


def test_grid_has_the_original_then_n_augmented_versions():
    axes = plot_augmentations(ShiftInTraining(), _digits(3), n=4).axes_
    assert axes.shape == (3, 5)
    assert [a.get_title() for a in axes[0]] == ["original"] + [f"augmented {i}" for i in range(1, 5)]
    assert all(len(a.get_images()) == 1 for a in axes.ravel())


def test_training_true_is_forced_so_panels_differ_from_the_original():
    images = _digits(2)
    axes = plot_augmentations(ShiftInTraining(), images, n=3).axes_
    for image, row in zip(images, axes):
        original = _panel(row[0])
        np.testing.assert_allclose(original, image, atol=1e-6)  # float in [0, 1] is shown as is
        for axis in row[1:]:
            assert not np.allclose(_panel(axis), original), "augmentation did not run: training=True not passed?"


def test_real_keras_layer_changes_the_images():
    keras.utils.set_random_seed(0)
    flip = keras.layers.RandomTranslation(0.3, 0.3, fill_mode="constant")
    images = np.zeros((1, 16, 16), dtype="float32")
    images[0, 4:12, 4:12] = 1.0
    axes = plot_augmentations(flip, images, n=4).axes_
    changed = [not np.allclose(_panel(a), _panel(axes[0, 0])) for a in axes[0, 1:]]
    assert sum(changed) >= 3


def test_colour_uint8_and_grey_with_channel_axis():
    photos = np.zeros((2, 12, 20, 3), dtype=np.uint8)
    photos[:, :, :10] = 255
    axes = plot_augmentations(keras.layers.Identity(), photos, n=2).axes_
    shown = _panel(axes[0, 0])
    assert shown.shape == (12, 20, 3) and shown.max() == pytest.approx(1.0)
    grey = (np.arange(2 * 8 * 8).reshape(2, 8, 8, 1) % 256).astype(np.uint8)
    axes = plot_augmentations(keras.layers.Identity(), grey, n=1).axes_
    assert _panel(axes[1, 0]).shape == (8, 8)
    assert axes[0, 0].get_images()[0].get_cmap().name == "gray"


def test_bad_input_is_refused_with_the_argument_named():
    with pytest.raises(TypeError, match="layer_or_model"):
        plot_augmentations("flip", _digits())
    with pytest.raises(ValueError, match="`n` must be >= 1"):
        plot_augmentations(ShiftInTraining(), _digits(), n=0)
    with pytest.raises(TypeError, match="`n` must be an integer"):
        plot_augmentations(ShiftInTraining(), _digits(), n=2.0)
    with pytest.raises(ValueError, match="`images` must have"):
        plot_augmentations(ShiftInTraining(), np.zeros((1, 2, 8, 8, 1)))
    with pytest.raises(ValueError, match=r"\(n, h, w, 3\)"):
        plot_augmentations(ShiftInTraining(), np.zeros((2, 8, 8, 5)))
    with pytest.raises(ValueError, match="at most 16"):
        plot_augmentations(ShiftInTraining(), _digits(17))


def test_a_callable_without_training_argument_is_explained():
    with pytest.raises(TypeError, match="training=True"):
        plot_augmentations(lambda x: x + 1, _digits())
