"""ImageGridDisplay: a grid of images, titled with their labels, wrong predictions highlighted."""

from __future__ import annotations

import numpy as np

from toolkit.labels import class_indices
from toolkit.plots._figure import WRONG_COLOUR, Display, axes_or_new
from toolkit.validation import check_array, check_int, check_same_length, received


def _as_images(images) -> np.ndarray:
    arr = check_array("images", images, ndim=(3, 4))
    if arr.ndim == 4 and arr.shape[-1] not in (1, 3, 4):
        raise ValueError(
            "`images` must be (n, h, w), (n, h, w, 1) or (n, h, w, 3); got shape "
            f"{arr.shape}. {received('images', images)}"
        )
    if arr.ndim == 4 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    return arr


class ImageGridDisplay(Display):
    """Images in a grid; titles ``true→predicted``, wrong ones in vermillion with a frame.

    Attributes:
        images, labels, predictions: what is drawn (labels and predictions as
            class indices, or None).
        class_names: the names shown instead of numbers, or None.
        axes_: one Axes per image drawn.

    Example:

    >>> ImageGridDisplay.from_predictions(x_test[:16], y_test[:16], model.predict(x_test[:16], verbose=0))
    """

    def __init__(self, images, labels=None, predictions=None, *, class_names=None, ncols: int = 8):
        self.images, self.labels, self.predictions = images, labels, predictions
        self.class_names, self.ncols = class_names, ncols

    @classmethod
    def from_predictions(cls, images, labels=None, predictions=None, *, class_names=None, max_images: int = 32,
                         ncols: int = 8, from_logits: bool = False, threshold=None, ax=None):
        """Read the labels and predictions (see :func:`plot_images`), then plot."""
        arr = _as_images(images)
        max_images = check_int("max_images", max_images, minimum=1)
        ncols = check_int("ncols", ncols, minimum=1)
        k = None
        if class_names is not None:
            if isinstance(class_names, (str, bytes)) or not hasattr(class_names, "__iter__"):
                raise TypeError(f"`class_names` must be a list of names. {received('class_names', class_names)}")
            class_names = list(class_names)
            k = len(class_names)
        y = None if labels is None else class_indices(labels, name="labels", num_classes=k, num_classes_from="class_names")
        p = None
        if predictions is not None:
            p = class_indices(predictions, name="predictions", scores=True, from_logits=from_logits,
                              threshold=threshold, num_classes=k, num_classes_from="class_names")
        if y is not None:
            check_same_length(images=arr, labels=y)
        if p is not None:
            check_same_length(images=arr, predictions=p)
        n = min(len(arr), max_images)
        cut = (lambda v: None if v is None else v[:n])
        return cls(arr[:n], cut(y), cut(p), class_names=class_names, ncols=ncols).plot(ax=ax)

    def _name(self, k: int) -> str:
        return str(self.class_names[k]) if self.class_names is not None else str(k)

    def plot(self, *, ax=None):
        """Draw the grid on ``ax`` (one Axes per image; a new figure when None) and return self."""
        n = len(self.images)
        ncols = min(self.ncols, n)
        axes = axes_or_new(ax, n, ncols=ncols, size=(1.4, 1.6))
        y, p = self.labels, self.predictions
        for i, axis in enumerate(axes):
            axis.set_xticks([])
            axis.set_yticks([])
            axis.imshow(self.images[i], cmap="gray" if self.images.ndim == 3 else None)
            if p is not None:
                wrong = y is not None and p[i] != y[i]
                title = f"{self._name(y[i])}→{self._name(p[i])}" if y is not None else self._name(p[i])
                axis.set_title(title, fontsize=9, color=WRONG_COLOUR if wrong else "black")
                if wrong:
                    for spine in axis.spines.values():
                        spine.set_edgecolor(WRONG_COLOUR)
                        spine.set_linewidth(2)
            elif y is not None:
                axis.set_title(self._name(y[i]), fontsize=9)
        if ax is None:
            axes[0].figure.tight_layout()
        self._drawn_on(axes)
        return self


def plot_images(images, labels=None, *, predictions=None, class_names=None, max_images=32, ncols=8,
                from_logits: bool = False, threshold=None, ax=None) -> ImageGridDisplay:
    """Draw images in a grid, titled with their labels.

    When ``predictions`` are given, each title reads ``true→predicted`` and
    wrong predictions are drawn in vermillion with a frame.

    Args:
        images: ``(n, h, w)`` grey or ``(n, h, w, 3)`` colour images.
        labels: optional true labels: ``(n,)``, ``(n, 1)`` or one-hot.
        predictions: optional predicted labels, the ``(n, 1)`` scores of one
            sigmoid unit, or per-class scores (see :mod:`toolkit.labels`).
        class_names: optional names to show instead of label numbers.
        max_images: at most this many images are drawn.
        ncols: images per row.
        from_logits: one-column ``predictions`` are logits (threshold 0).
        threshold: the cut for one-column scores (default 0.5).
        ax: an array of Axes, one per image drawn; a figure is created only
            when none is given.

    Returns:
        The :class:`ImageGridDisplay` (``axes_``: one Axes per image drawn).

    Example:

    >>> plot_images(x_test[:16], y_test[:16], predictions=model.predict(x_test[:16], verbose=0))
    """
    return ImageGridDisplay.from_predictions(images, labels, predictions, class_names=class_names,
                                             max_images=max_images, ncols=ncols, from_logits=from_logits,
                                             threshold=threshold, ax=ax)
