"""plot_confusion_matrix: scikit-learn's ConfusionMatrixDisplay, from labels or scores."""

from __future__ import annotations

import numpy as np

from toolkit.validation import check_array, check_labels, check_same_length, received


def plot_confusion_matrix(y_true=None, y_pred=None, *, confusion=None, class_names=None, normalize=None, ax=None):
    """Plot a confusion matrix (rows true, columns predicted).

    A thin wrapper around :class:`sklearn.metrics.ConfusionMatrixDisplay`:
    pass labels (``y_pred`` may be per-class scores; the argmax is taken) or a
    ready ``confusion`` matrix, e.g. ``classification_summary(...).confusion``.

    Args:
        y_true, y_pred: labels, one-hot rows or per-class scores.
        confusion: a k×k matrix instead of ``y_true``/``y_pred``.
        class_names: tick labels.
        normalize: None, "true", "pred" or "all", as in scikit-learn.
        ax: the Axes to draw on; a figure is created only when none is given.

    Returns:
        The ``ConfusionMatrixDisplay``.
    """
    from sklearn.metrics import ConfusionMatrixDisplay, confusion_matrix

    if normalize not in (None, "true", "pred", "all"):
        raise ValueError(f"`normalize` must be None, 'true', 'pred' or 'all'. {received('normalize', normalize)}")
    if confusion is None:
        if y_true is None or y_pred is None:
            missing = "y_pred" if y_pred is None else "y_true"
            raise TypeError(f"Pass `y_true` and `y_pred`, or `confusion`. Received: {missing}=None")
        yt = check_labels("y_true", y_true)
        yp = check_labels("y_pred", y_pred)
        check_same_length(y_true=yt, y_pred=yp)
        k = max(yt.max(), yp.max()) + 1
        if class_names is not None:
            k = max(k, len(class_names))
        cm = confusion_matrix(yt, yp, labels=np.arange(k), normalize=normalize)
    else:
        cm = check_array("confusion", confusion, finite=True).astype(float)
        if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
            raise ValueError(f"`confusion` must be a square k×k matrix. {received('confusion', confusion)}")
        if cm.min() < 0:
            raise ValueError(f"`confusion` holds counts, which cannot be negative (found {cm.min():g}). "
                             f"{received('confusion', confusion)}")
        if normalize == "true":
            cm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
        elif normalize == "pred":
            cm = cm / np.maximum(cm.sum(axis=0, keepdims=True), 1)
        elif normalize == "all":
            cm = cm / max(cm.sum(), 1)
        elif np.all(cm == np.round(cm)):
            cm = cm.astype(int)
    if class_names is not None and len(class_names) != cm.shape[0]:
        raise ValueError(f"`class_names` must have {cm.shape[0]} names. {received('class_names', class_names)}")
    display = ConfusionMatrixDisplay(cm, display_labels=class_names)
    display.plot(ax=ax, cmap="Blues", colorbar=False, values_format="d" if np.issubdtype(np.asarray(cm).dtype, np.integer) else ".2f")
    return display
