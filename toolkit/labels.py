"""Class labels and model outputs, read as class indices: the one place that does it.

Every function of the toolkit that takes labels or predictions
(:func:`toolkit.metrics.classification_summary`, the confusion-matrix,
image-grid and decision-boundary plots, ``TrainingDoctor(validation_data=...)``)
reads them here, with the same rules:

* ``(n,)`` whole numbers (or booleans) are class labels.
* ``(n, 1)`` is a column: whole numbers are class labels (``y_train`` of
  ``keras.datasets.cifar10`` is ``(n, 1)``), other values are the scores of one
  sigmoid unit, the ``(n, 1)`` that ``model.predict`` returns for a binary
  classifier. Probabilities are thresholded at 0.5; with ``from_logits=True``
  the scores are logits, thresholded at 0 (as Keras's ``BinaryAccuracy``
  compares ``y_pred > threshold``). Scores outside ``[0, 1]`` without
  ``from_logits=True`` are refused: they are logits, not probabilities.
* ``(n, k > 1)`` is one-hot labels or per-class scores: the argmax is taken.
  For *labels* the rows must be one-hot (or probability rows summing to 1);
  multi-hot rows are refused, since one class per sample is what is read.
* A label must lie in ``[0, num_classes)``. Without ``num_classes`` the number
  of classes is inferred, and a label of :data:`MAX_INFERRED_CLASSES` or more is
  refused before anything of that size is allocated (a stray ``10**9`` would
  otherwise ask for a 10**9 x 10**9 confusion matrix).

Public API: :func:`class_indices` (one array) and :func:`label_pair`
(``y_true`` and ``y_pred`` together, with the number of classes).

Example:

>>> class_indices([[0.9], [0.2]], scores=True)           # sigmoid scores
array([1, 0])
>>> class_indices([[2.0], [-1.0]], scores=True, from_logits=True)
array([1, 0])
>>> label_pair([0, 1, 1], [[0.1], [0.8], [0.3]])            # 1-D labels, (n, 1) scores
(array([0, 1, 1]), array([0, 1, 0]), 2)
"""

from __future__ import annotations

import numpy as np

from toolkit.validation import check_array, check_float, check_int, check_same_length, received

__all__ = ["MAX_INFERRED_CLASSES", "class_indices", "label_pair"]

#: Without ``num_classes`` (or ``class_names``), labels must lie below this.
MAX_INFERRED_CLASSES = 1000


def _threshold(threshold, from_logits: bool) -> float:
    if threshold is None:
        return 0.0 if from_logits else 0.5
    if from_logits:
        return check_float("threshold", threshold)
    return check_float("threshold", threshold, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)


def _read(y, name: str, scores: bool, from_logits: bool, threshold) -> tuple[np.ndarray, int | None]:
    """``(class indices, number of classes the shape implies or None)``."""
    if not isinstance(from_logits, bool):
        raise TypeError(f"`from_logits` must be True or False. {received('from_logits', from_logits)}")
    arr = check_array(name, y, ndim=(1, 2), finite=True)
    if arr.dtype == bool:
        arr = arr.astype(int)
    if arr.ndim == 2 and arr.shape[1] == 0:
        raise ValueError(f"`{name}` has no columns. {received(name, y)}")
    if arr.ndim == 2 and arr.shape[1] > 1:
        if scores and threshold is not None:
            raise ValueError(
                f"`threshold` applies to one column of binary scores; `{name}` has {arr.shape[1]} columns "
                f"(per-class scores: the argmax is taken). {received('threshold', threshold)}"
            )
        if not scores:
            sums = arr.sum(axis=1)
            bad = np.flatnonzero((arr.min(axis=1) < 0) | ~np.isclose(sums, 1.0, atol=1e-3))
            if bad.size:
                i = int(bad[0])
                raise ValueError(
                    f"`{name}` must be labels (n,) or one-hot rows (n, k); row {i} is {arr[i].tolist()!r:.80}, "
                    "which is not one-hot (several or no classes: multi-label targets are not supported). "
                    f"{received(name, y)}"
                )
        return arr.argmax(axis=1), arr.shape[1]
    values = arr.reshape(len(arr)).astype(float)
    whole = bool(np.all(values == np.round(values)))
    if scores and from_logits:
        return (values > _threshold(threshold, True)).astype(int), 2
    if whole and (threshold is None or not scores):
        if values.min() < 0:
            hint = " If these are logits, pass from_logits=True." if scores else ""
            raise ValueError(
                f"`{name}` must hold class labels >= 0, found {values.min():g}.{hint} {received(name, y)}"
            )
        return values.astype(np.int64), None
    if not scores:
        first = values[values != np.round(values)][0]
        raise ValueError(
            f"`{name}` must hold whole-number class labels, found {first:g}. Predicted scores go in the "
            f"predictions argument. {received(name, y)}"
        )
    low, high = float(values.min()), float(values.max())
    if low < 0 or high > 1:
        raise ValueError(
            f"`{name}` holds one column of scores outside [0, 1] (from {low:g} to {high:g}): these are logits, "
            f"not probabilities. Pass from_logits=True to threshold them at 0. {received(name, y)}"
        )
    return (values > _threshold(threshold, False)).astype(int), 2


def _check_range(indices: np.ndarray, name: str, k: int | None, why: str) -> None:
    at = int(indices.argmax())
    top = int(indices[at])
    if k is None:
        if top >= MAX_INFERRED_CLASSES:
            raise ValueError(
                f"`{name}` holds the label {top} (at index {at}), which would mean {top + 1} classes (more than "
                f"{MAX_INFERRED_CLASSES}): a stray value? If there really are that many classes, pass "
                f"num_classes (or class_names). Received: {name}[{at}]={top}"
            )
    elif top >= k:
        raise ValueError(f"`{name}` holds the label {top} (at index {at}), outside the {k} classes {why}. "
                         f"Received: {name}[{at}]={top}")


def class_indices(y, *, name: str = "y", scores: bool = False, from_logits: bool = False, threshold=None,
                  num_classes=None, num_classes_from: str = "num_classes") -> np.ndarray:
    """Return ``y`` as a 1-D array of class indices (see the module docstring for the rules).

    Args:
        y: labels ``(n,)``, a column ``(n, 1)``, or one-hot rows / per-class scores ``(n, k)``.
        name: the argument's name, for error messages.
        scores: True when ``y`` may be model outputs (probabilities or
            logits); False for true labels, which must be whole numbers.
        from_logits: one-column scores are logits (threshold 0), not probabilities.
        threshold: the cut for one-column scores (default 0.5, or 0 for logits).
        num_classes: the number of classes, if known; labels must lie below it.
        num_classes_from: where ``num_classes`` came from, for messages (e.g. ``"class_names"``).

    Returns:
        An int64 array of shape ``(n,)``.

    Example:

    >>> class_indices(np.eye(3)[[2, 0]])
    array([2, 0])
    """
    if num_classes is not None:
        num_classes = check_int("num_classes", num_classes, minimum=1)
    indices, implied = _read(y, name, scores, from_logits, threshold)
    if num_classes is not None and implied not in (None, num_classes):
        raise ValueError(f"`{name}` implies {implied} classes (its shape is {np.shape(y)}), but "
                         f"`{num_classes_from}` gives {num_classes}.")
    why = f"given by `{num_classes_from}`" if num_classes is not None else f"that the shape of `{name}` implies"
    _check_range(indices, name, num_classes or implied, why)
    return indices


def label_pair(y_true, y_pred, *, from_logits: bool = False, threshold=None, num_classes=None,
               names=("y_true", "y_pred"), num_classes_from: str = "num_classes") -> tuple[np.ndarray, np.ndarray, int]:
    """Read true labels and predictions together, and the number of classes.

    ``y_true`` are labels (``(n,)``, ``(n, 1)`` or one-hot); ``y_pred`` are
    labels or scores (``(n,)``/``(n, 1)`` for one sigmoid unit, ``(n, k)`` per
    class). ``names`` are the two arguments' names in messages, and
    ``num_classes_from`` says where ``num_classes`` came from (e.g.
    ``"class_names"``). The number of classes is ``num_classes`` if given, else what the
    shapes say (k columns; 2 for one column of scores), else the largest label + 1.

    Returns:
        ``(true indices, predicted indices, number of classes)``.

    Example:

    >>> label_pair([[0], [1]], [[0.9], [0.1]])   # every prediction wrong
    (array([0, 1]), array([1, 0]), 2)
    """
    true_name, pred_name = names
    if num_classes is not None:
        num_classes = check_int("num_classes", num_classes, minimum=1)
    yt, kt = _read(y_true, true_name, False, False, None)
    yp, kp = _read(y_pred, pred_name, True, from_logits, threshold)
    check_same_length(**{true_name: yt, pred_name: yp})
    implied = {n: k for n, k in ((true_name, kt), (pred_name, kp)) if k is not None}
    if len(set(implied.values())) > 1:
        shown = ", ".join(f"`{n}` {k}" for n, k in implied.items())
        raise ValueError(f"`{true_name}` and `{pred_name}` imply different numbers of classes: {shown} "
                         f"(shapes {np.shape(y_true)} and {np.shape(y_pred)}).")
    shape_k = next(iter(implied.values()), None)
    if num_classes is not None and shape_k not in (None, num_classes):
        raise ValueError(f"The shapes of `{true_name}`/`{pred_name}` imply {shape_k} classes, but "
                         f"`{num_classes_from}` gives {num_classes}.")
    k = num_classes or shape_k
    why = f"given by `{num_classes_from}`" if num_classes is not None else f"that the shape of `{pred_name if kp else true_name}` implies"
    _check_range(yt, true_name, k, why)
    _check_range(yp, pred_name, k, why)
    if k is None:
        k = int(max(yt.max(), yp.max())) + 1
    return yt, yp, k
