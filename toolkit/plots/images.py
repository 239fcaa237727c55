"""plot_images: a grid of images, wrong predictions highlighted."""

from __future__ import annotations

import numpy as np

from toolkit.validation import check_array, check_int, check_labels, check_same_length, received

WRONG_COLOUR = "tab:red"


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


def plot_images(images, labels=None, *, predictions=None, class_names=None, max_images=32, ncols=8):
    """Draw images in a grid, titled with their labels.

    When ``predictions`` are given, each title reads ``true→predicted`` and
    wrong predictions are drawn in red with a red frame.

    Args:
        images: ``(n, h, w)`` grey or ``(n, h, w, 3)`` colour images.
        labels: optional true labels (ints or one-hot).
        predictions: optional predicted labels or per-class scores.
        class_names: optional names to show instead of label numbers.
        max_images: at most this many images are drawn.
        ncols: images per row.

    Returns:
        The array of Axes, one per image drawn.

    Example:

    >>> plot_images(x_test[:16], y_test[:16], predictions=model.predict(x_test[:16]))
    """
    import matplotlib.pyplot as plt

    arr = _as_images(images)
    max_images = check_int("max_images", max_images, minimum=1)
    ncols = check_int("ncols", ncols, minimum=1)
    y = None if labels is None else check_labels("labels", labels)
    p = None if predictions is None else check_labels("predictions", predictions)
    if y is not None:
        check_same_length(images=arr, labels=y)
    if p is not None:
        check_same_length(images=arr, predictions=p)
    if class_names is not None:
        if isinstance(class_names, (str, bytes)) or not hasattr(class_names, "__iter__"):
            raise TypeError(f"`class_names` must be a list of names. {received('class_names', class_names)}")
        class_names = list(class_names)
        top = max([0] + [int(v.max()) for v in (y, p) if v is not None])
        if top >= len(class_names):
            raise ValueError(f"`class_names` has {len(class_names)} names but a label is {top}. "
                             f"{received('class_names', class_names)}")

    def name(k):
        return class_names[k] if class_names is not None else str(k)

    n = min(len(arr), max_images)
    ncols = min(ncols, n)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.4 * ncols, 1.6 * nrows), squeeze=False)
    axes = axes.ravel()
    for i, axis in enumerate(axes):
        axis.set_xticks([])
        axis.set_yticks([])
        if i >= n:
            axis.set_visible(False)
            continue
        axis.imshow(arr[i], cmap="gray" if arr.ndim == 3 else None)
        if p is not None:
            wrong = y is not None and p[i] != y[i]
            title = f"{name(y[i])}→{name(p[i])}" if y is not None else name(p[i])
            colour = WRONG_COLOUR if wrong else "black"
            axis.set_title(title, fontsize=9, color=colour)
            if wrong:
                for spine in axis.spines.values():
                    spine.set_edgecolor(WRONG_COLOUR)
                    spine.set_linewidth(2)
        elif y is not None:
            axis.set_title(name(y[i]), fontsize=9)
    fig.tight_layout()
    return axes[:n]
