"""Classification metrics from predictions, computed by scikit-learn.

:func:`classification_summary` gathers the confusion matrix and per-class
precision, recall, F1 and support in one object that shows as a table in a
notebook. :func:`iou` is the intersection over union of two boxes, the overlap
measure of object detection. :func:`expected_calibration_error` says how far a
model's predicted probabilities are from the accuracy it really has.
"""

from __future__ import annotations

import dataclasses
import html
import math

import numpy as np

from toolkit.plots.confusion import plot_confusion_matrix
from toolkit.labels import label_pair
from toolkit.validation import check_array, received

__all__ = ["ClassificationSummary", "classification_summary", "expected_calibration_error", "iou", "plot_confusion_matrix"]


@dataclasses.dataclass(frozen=True)
class ClassificationSummary:
    """Per-class metrics of one set of predictions (see :func:`classification_summary`)."""

    confusion: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray
    accuracy: float
    class_names: tuple

    def rows(self):
        for i, name in enumerate(self.class_names):
            yield name, self.precision[i], self.recall[i], self.f1[i], int(self.support[i])

    def __str__(self) -> str:
        width = max(8, *(len(str(n)) for n in self.class_names))
        lines = [f"{'class':<{width}}  precision  recall     f1  support"]
        for name, p, r, f, s in self.rows():
            lines.append(f"{str(name):<{width}}  {p:9.3f}  {r:6.3f}  {f:5.3f}  {s:7d}")
        lines.append(f"{'accuracy':<{width}}  {self.accuracy:9.3f}  ({int(self.support.sum())} samples)")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        # class_names come from the user (or a data set's metadata): escaped, never emitted raw.
        cells = "".join(
            f"<tr><td>{html.escape(str(name))}</td><td>{p:.3f}</td><td>{r:.3f}</td><td>{f:.3f}</td><td>{s}</td></tr>"
            for name, p, r, f, s in self.rows()
        )
        return (
            "<table><thead><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th>"
            f"</tr></thead><tbody>{cells}</tbody><tfoot><tr><td><b>accuracy</b></td>"
            f"<td colspan='4'><b>{self.accuracy:.3f}</b> ({int(self.support.sum())} samples)</td></tr></tfoot></table>"
        )

    def plot(self, *, normalize=None, ax=None):
        """Plot the confusion matrix (see :func:`toolkit.plots.plot_confusion_matrix`)."""
        return plot_confusion_matrix(
            confusion=self.confusion, class_names=[str(n) for n in self.class_names], normalize=normalize, ax=ax
        )


def classification_summary(y_true, y_pred, *, class_names=None, from_logits: bool = False,
                           threshold=None) -> ClassificationSummary:
    """Confusion matrix and per-class precision, recall, F1 and support.

    Labels and scores are read by :func:`toolkit.labels.label_pair`: ``(n,)``
    or ``(n, 1)`` labels, one-hot rows, the ``(n, 1)`` scores of a sigmoid
    unit (thresholded) or ``(n, k)`` per-class scores (argmax).

    Args:
        y_true: labels ``(n,)`` or ``(n, 1)``, or one-hot rows ``(n, k)``.
        y_pred: labels, one column of binary scores ``(n, 1)`` (probabilities,
            or logits with ``from_logits=True``), or per-class scores ``(n, k)``.
        class_names: optional names; their number sets the number of classes.
            Otherwise it is the width of a 2-D ``y_pred`` (2 for one column of
            scores), else the largest label + 1.
        from_logits: one-column ``y_pred`` holds logits (threshold 0).
        threshold: the cut for one-column scores (default 0.5, or 0 for logits).

    Returns:
        A :class:`ClassificationSummary`. Metrics come from scikit-learn with
        ``zero_division=0``: a class never predicted has precision 0.

    Example:

    >>> s = classification_summary(y_test, model.predict(x_test, verbose=0))
    >>> s.accuracy, s.recall[3]
    """
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    k = None
    if class_names is not None:
        if isinstance(class_names, str) or not hasattr(class_names, "__len__") or len(class_names) == 0:
            raise TypeError(f"`class_names` must be a list of names. {received('class_names', class_names)}")
        k = len(class_names)
    try:
        yt, yp, k = label_pair(y_true, y_pred, from_logits=from_logits, threshold=threshold, num_classes=k,
                               num_classes_from="class_names")
    except ValueError as exc:
        if class_names is None or "`class_names`" not in str(exc):
            raise
        raise ValueError(f"{exc} {received('class_names', class_names)}") from None
    labels = np.arange(k)
    precision, recall, f1, support = precision_recall_fscore_support(
        yt, yp, labels=labels, zero_division=0
    )
    return ClassificationSummary(
        confusion=confusion_matrix(yt, yp, labels=labels),
        precision=precision,
        recall=recall,
        f1=f1,
        support=support,
        accuracy=float(accuracy_score(yt, yp)),
        class_names=tuple(class_names) if class_names is not None else tuple(range(k)),
    )


def _check_box(name, box) -> np.ndarray:
    arr = check_array(name, box, ndim=1, finite=True)
    if arr.shape != (4,):
        raise ValueError(f"`{name}` must be (x_min, y_min, x_max, y_max). {received(name, box)}")
    if arr[2] < arr[0] or arr[3] < arr[1]:
        raise ValueError(f"`{name}` must have x_max >= x_min and y_max >= y_min. {received(name, box)}")
    return arr.astype(float)


def iou(box_a, box_b) -> float:
    """Intersection over union of two ``(x_min, y_min, x_max, y_max)`` boxes.

    Example:

    >>> iou((0, 0, 2, 2), (1, 1, 3, 3))  # overlap 1, union 7
    0.14285714285714285
    """
    a = _check_box("box_a", box_a)
    b = _check_box("box_b", box_b)
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 and not math.isclose(union, 0.0) else 0.0


def expected_calibration_error(y_true, probabilities, *, bins: int = 10) -> float:
    """Expected calibration error (ECE) of predicted class probabilities, between 0 and 1.

    The predictions are grouped by their confidence (the top probability)
    into ``bins`` equal-width bins over (0, 1]; in each bin the gap between
    the mean confidence and the accuracy is weighted by the bin's share of
    the samples: ECE = Σ_b (n_b / n) · |accuracy_b − confidence_b|
    (Guo et al. 2017). 0 means that among the predictions made with 80 %
    confidence, 80 % are right, and so on for every bin.

    Args:
        y_true: integer labels, shape ``(n,)``.
        probabilities: predicted probabilities, shape ``(n, classes)``.
        bins: number of confidence bins.

    Example:

    >>> expected_calibration_error([0, 1], [[0.9, 0.1], [0.6, 0.4]])  # 0.9 right, 0.6 wrong
    0.35
    """
    p = check_array("probabilities", probabilities, ndim=2, finite=True)
    y = check_array("y_true", y_true, ndim=1)
    if len(y) != len(p) or len(p) == 0:
        raise ValueError(f"`y_true` and `probabilities` must have the same, non-zero length. "
                         f"{received('y_true', y_true)}; probabilities of shape {p.shape}")
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
        raise ValueError(f"`bins` must be a positive integer. {received('bins', bins)}")
    if np.any(p < 0) or not np.allclose(p.sum(axis=1), 1.0, atol=1e-3):
        raise ValueError(f"`probabilities` must be non-negative rows that sum to 1 (softmax outputs). "
                         f"{received('probabilities', probabilities)}")
    if not np.all(np.equal(np.mod(y, 1), 0)) or y.min() < 0 or y.max() >= p.shape[1]:
        raise ValueError(f"`y_true` must hold class indices 0..{p.shape[1] - 1}. {received('y_true', y_true)}")
    confidence = p.max(axis=1)
    correct = p.argmax(axis=1) == y.astype(int)
    which = np.clip(np.ceil(confidence * bins).astype(int) - 1, 0, bins - 1)  # bin b holds (b/bins, (b+1)/bins]
    ece = 0.0
    for b in range(bins):
        in_bin = which == b
        if in_bin.any():
            ece += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(ece)
