"""AugmentationDisplay: what a data-augmentation pipeline does to real images."""

from __future__ import annotations

import numpy as np

from toolkit.plots._figure import Display, axes_or_new, colour
from toolkit.validation import check_array, check_int, received

#: More rows than this make an unreadable figure; pass a few images.
MAX_ROWS = 16


def _as_batch(images):
    """``(n, h, w, c)`` float32 for the layer, plus how to show the result."""
    arr = check_array("images", images, ndim=(2, 3, 4), finite=True)
    if arr.ndim == 2:  # one grey image
        arr = arr[None]
    if arr.ndim == 4 and arr.shape[-1] not in (1, 3, 4):
        raise ValueError(
            "`images` must be (n, h, w) or (n, h, w, 1) grey, or (n, h, w, 3) colour; got shape "
            f"{arr.shape}. {received('images', images)}"
        )
    grey = arr.ndim == 3 or arr.shape[-1] == 1
    if arr.ndim == 3:
        arr = arr[..., None]
    if len(arr) > MAX_ROWS:
        raise ValueError(
            f"`images` holds {len(arr)} images; pass at most {MAX_ROWS} (one row each), e.g. images[:4]. "
            f"{received('images', images)}"
        )
    if np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool:
        value_range = (0.0, 255.0) if arr.max() > 1 else (0.0, 1.0)
    else:
        value_range = (min(0.0, float(arr.min())), max(1.0, float(arr.max())))
    return arr.astype(np.float32), grey, value_range


def _augment(layer_or_model, batch):
    """One stochastic pass with ``training=True`` (augmentation is off otherwise)."""
    import keras

    try:
        out = layer_or_model(batch, training=True)
    except TypeError as exc:
        if "training" in str(exc):
            raise TypeError(
                "`layer_or_model` must accept `training=True` (a Keras layer or model): augmentation layers "
                f"change their inputs only in training mode. {received('layer_or_model', layer_or_model)}"
            ) from None
        raise
    out = np.asarray(keras.ops.convert_to_numpy(out), dtype=np.float32)
    if out.ndim != 4 or len(out) != len(batch):
        raise ValueError(
            f"`layer_or_model` must return a batch of {len(batch)} images, it returned shape {out.shape}."
        )
    return out


def _display(image, grey, value_range):
    low, high = value_range
    shown = np.clip((image - low) / (high - low), 0.0, 1.0)
    return shown[..., 0] if grey else shown[..., :3]


class AugmentationDisplay(Display):
    """Each image (column 0, framed) next to its randomly augmented versions.

    Attributes:
        originals, augmented: ``(rows, h, w, c)`` and ``(n, rows, h, w, c)``
            float arrays, as the layer saw and returned them.
        axes_: a ``(rows, n + 1)`` array of Axes, one row per image.

    Example:

    >>> AugmentationDisplay.from_layer(keras.layers.RandomFlip("horizontal"), photos, n=4)
    """

    def __init__(self, originals, augmented, *, grey: bool, value_range, name: str = "augmentation"):
        self.originals, self.augmented = originals, augmented
        self.grey, self.value_range, self.name = grey, value_range, name

    @classmethod
    def from_layer(cls, layer_or_model, images, *, n: int = 8, ax=None):
        """Call the layer ``n`` times with ``training=True`` and plot (see :func:`plot_augmentations`)."""
        if not callable(layer_or_model):
            raise TypeError(
                f"`layer_or_model` must be a Keras layer or model (callable). {received('layer_or_model', layer_or_model)}"
            )
        n = check_int("n", n, minimum=1)
        batch, grey, value_range = _as_batch(images)
        augmented = np.stack([_augment(layer_or_model, batch) for _ in range(n)])
        name = getattr(layer_or_model, "name", type(layer_or_model).__name__)
        return cls(batch, augmented, grey=grey, value_range=value_range, name=name).plot(ax=ax)

    def plot(self, *, ax=None):
        """Draw on ``ax`` (``rows x (n + 1)`` Axes, or a new figure when None) and return self."""
        import matplotlib.pyplot as plt

        rows, cols = len(self.originals), len(self.augmented) + 1
        if ax is None:
            height, width = self.originals.shape[1:3]
            cell = 1.6 * max(1.0, width / height) if width >= height else 1.6
            fig, axes = plt.subplots(rows, cols, figsize=(cell * cols, 1.6 * rows + 0.3), squeeze=False)
        else:
            axes = axes_or_new(ax, rows * cols).reshape(rows, cols)
        cmap = "gray" if self.grey else None
        for r in range(rows):
            panels = [self.originals[r]] + [a[r] for a in self.augmented]
            for c, image in enumerate(panels):
                axis = axes[r, c]
                axis.imshow(_display(image, self.grey, self.value_range), cmap=cmap, vmin=0.0, vmax=1.0)
                axis.set_xticks([])
                axis.set_yticks([])
                if r == 0:
                    axis.set_title("original" if c == 0 else f"augmented {c}", fontsize=9)
            for spine in axes[r, 0].spines.values():
                spine.set_edgecolor(colour(0))
                spine.set_linewidth(2)
        if ax is None:
            axes[0, 0].figure.suptitle(f"{self.name}: each row is one image, called with training=True", fontsize=10)
            axes[0, 0].figure.tight_layout()
        self._drawn_on(axes)
        return self


def plot_augmentations(layer_or_model, images, *, n: int = 8, ax=None) -> AugmentationDisplay:
    """Show each image next to ``n`` randomly augmented versions of it.

    The layer (or ``keras.Sequential`` of augmentation layers) is called
    with ``training=True``: Keras's ``RandomFlip``, ``RandomRotation`` & co.
    return their input unchanged in inference mode, so a preview that
    forgot this would show ``n`` copies of the original.

    Args:
        layer_or_model: a Keras augmentation layer or model, called as
            ``layer_or_model(batch, training=True)`` on channels-last images.
        images: ``(n, h, w)`` or ``(n, h, w, 1)`` grey or ``(n, h, w, 3)``
            colour images, ``uint8`` (0–255) or float, at most 16. They are
            passed to the layer as float32 in their own value range.
        n: augmented versions per image (columns after the original).
        ax: ``len(images) * (n + 1)`` Axes (any shape, filled row by row);
            a figure is created only when none is given.

    Returns:
        The :class:`AugmentationDisplay`; its ``axes_`` has one row per
        image, the original in column 0.

    Example:

    >>> augment = keras.Sequential([keras.layers.RandomFlip("horizontal"), keras.layers.RandomRotation(0.1)])
    >>> photos, names = sample_images()
    >>> plot_augmentations(augment, photos, n=5)
    """
    return AugmentationDisplay.from_layer(layer_or_model, images, n=n, ax=ax)
