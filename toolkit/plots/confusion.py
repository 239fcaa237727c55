"""ConfusionMatrixDisplay: scikit-learn's display, from labels, scores or a ready matrix."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import ConfusionMatrixDisplay as _SklearnDisplay

from toolkit.labels import label_pair
from toolkit.plots._figure import Display, axes_or_new
from toolkit.validation import check_array, received

_NORMALIZE = (None, "true", "pred", "all")


def _normalized(cm: np.ndarray, normalize) -> np.ndarray:
    if normalize == "true":
        return cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    if normalize == "pred":
        return cm / np.maximum(cm.sum(axis=0, keepdims=True), 1)
    if normalize == "all":
        return cm / max(cm.sum(), 1)
    return cm.astype(int) if np.all(cm == np.round(cm)) else cm


class ConfusionMatrixDisplay(Display, _SklearnDisplay):
    """scikit-learn's ``ConfusionMatrixDisplay`` with the toolkit's readers and defaults.

    Rows are the true class, columns the predicted one; the diagonal counts
    the correct predictions. Built by :meth:`from_labels` (labels or model
    scores, read by :func:`toolkit.labels.label_pair`) or
    :meth:`from_confusion` (a k×k matrix). Besides scikit-learn's ``ax_``,
    ``figure_``, ``im_`` and ``text_`` it has ``axes_`` like every Display.

    Example:

    >>> display = ConfusionMatrixDisplay.from_labels(y_test, model.predict(x_test, verbose=0))
    >>> display.confusion_matrix[3, 5]   # true 3 predicted as 5
    """

    @classmethod
    def from_labels(cls, y_true, y_pred, *, class_names=None, normalize=None, from_logits: bool = False,
                    threshold=None, ax=None):
        """Count the predictions of each true class, then plot (see :func:`plot_confusion_matrix`)."""
        from sklearn.metrics import confusion_matrix

        _check_normalize(normalize)
        k = None if class_names is None else len(_check_names(class_names))
        yt, yp, k = label_pair(y_true, y_pred, from_logits=from_logits, threshold=threshold, num_classes=k,
                               num_classes_from="class_names")
        cm = _normalized(confusion_matrix(yt, yp, labels=np.arange(k)), normalize)
        return cls(cm, display_labels=class_names).plot(ax=ax)

    @classmethod
    def from_confusion(cls, confusion, *, class_names=None, normalize=None, ax=None):
        """Plot a ready k×k matrix of counts, e.g. ``classification_summary(...).confusion``."""
        _check_normalize(normalize)
        cm = check_array("confusion", confusion, finite=True).astype(float)
        if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
            raise ValueError(f"`confusion` must be a square k×k matrix. {received('confusion', confusion)}")
        if cm.min() < 0:
            raise ValueError(f"`confusion` holds counts, which cannot be negative (found {cm.min():g}). "
                             f"{received('confusion', confusion)}")
        if class_names is not None and len(_check_names(class_names)) != cm.shape[0]:
            raise ValueError(f"`class_names` must have {cm.shape[0]} names. {received('class_names', class_names)}")
        return cls(_normalized(cm, normalize), display_labels=class_names).plot(ax=ax)

    def plot(self, *, ax=None, cmap="Blues", colorbar: bool = False, values_format=None, **kwargs):
        """Draw on ``ax`` (a new figure when None) and return self; other arguments as in scikit-learn."""
        (axis,) = axes_or_new(ax, 1, size=(4.6, 4.0))
        if values_format is None:
            values_format = "d" if np.issubdtype(self.confusion_matrix.dtype, np.integer) else ".2f"
        _SklearnDisplay.plot(self, ax=axis, cmap=cmap, colorbar=colorbar, values_format=values_format, **kwargs)
        normalized = not np.issubdtype(self.confusion_matrix.dtype, np.integer)
        self.ax_.set_title(("share" if normalized else "count") + " per (true, predicted) pair; the diagonal is right",
                           fontsize=9)
        self._drawn_on([self.ax_])
        return self


def _check_normalize(normalize) -> None:
    if normalize not in _NORMALIZE:
        raise ValueError(f"`normalize` must be None, 'true', 'pred' or 'all'. {received('normalize', normalize)}")


def _check_names(class_names) -> list:
    if isinstance(class_names, (str, bytes)) or not hasattr(class_names, "__len__") or len(class_names) == 0:
        raise TypeError(f"`class_names` must be a list of names. {received('class_names', class_names)}")
    return list(class_names)


def plot_confusion_matrix(y_true=None, y_pred=None, *, confusion=None, class_names=None, normalize=None,
                          from_logits: bool = False, threshold=None, ax=None) -> ConfusionMatrixDisplay:
    """Plot a confusion matrix (rows true, columns predicted).

    Pass labels and predictions, or a ready ``confusion`` matrix.

    Args:
        y_true: labels ``(n,)``/``(n, 1)`` or one-hot rows.
        y_pred: labels, the ``(n, 1)`` scores of one sigmoid unit, or per-class
            scores ``(n, k)`` (the argmax is taken).
        confusion: a k×k matrix instead of ``y_true``/``y_pred``.
        class_names: tick labels; their number sets the number of classes.
        normalize: None, "true", "pred" or "all", as in scikit-learn.
        from_logits: one-column ``y_pred`` holds logits (threshold 0, not 0.5).
        threshold: the cut for one-column scores.
        ax: the Axes to draw on; a figure is created only when none is given.

    Returns:
        The :class:`ConfusionMatrixDisplay`.

    Example:

    >>> plot_confusion_matrix(y_test, model.predict(x_test, verbose=0), class_names=names)
    """
    if confusion is not None:
        return ConfusionMatrixDisplay.from_confusion(confusion, class_names=class_names, normalize=normalize, ax=ax)
    if y_true is None or y_pred is None:
        missing = "y_pred" if y_pred is None else "y_true"
        raise TypeError(f"Pass `y_true` and `y_pred`, or `confusion`. Received: {missing}=None")
    return ConfusionMatrixDisplay.from_labels(y_true, y_pred, class_names=class_names, normalize=normalize,
                                              from_logits=from_logits, threshold=threshold, ax=ax)
