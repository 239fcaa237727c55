"""Reading a confusion matrix (rows: true class, columns: predicted), as the lecture does.

* A strong diagonal is the ideal: nothing is reported.
* A near-uniform matrix (the predictions say little about the true class) is
  ``underfitting``: inefficient learning or a model too simple.
* A pair of classes mostly mistaken for each other is ``class_confusion``;
  the lecture names data imbalance and an insufficient dataset as causes.
* A class with far lower recall that is also rare, or that the model hardly
  ever predicts (it has learned that the class is rare), is ``class_imbalance``.
"""

from __future__ import annotations

import numpy as np

from toolkit.diagnose.findings import Finding
from toolkit.diagnose.remedies import finding
from toolkit.diagnose.run import num
from toolkit.validation import check_array, received

#: Cohen's kappa of 0.2 or less is "slight" agreement (Landis & Koch): the predictions barely follow the truth.
UNIFORM_KAPPA = 0.2
#: One sample in five of a pair of classes predicted as the other: far above the background of a good model.
PAIR_RATE = 0.2
#: ... and those swaps are at least half of the two classes' errors: it is this pair, not a general blur.
PAIR_SHARE = 0.5
#: A class whose recall is 25 points or more below the median class's has a problem of its own.
RECALL_GAP = 0.25
#: Support at most half the median class's: the class is rare in this matrix.
RARE_SUPPORT = 0.5
#: Predicted at most 70% as often as it occurs (recall <= 0.7 x precision): the model avoids the class,
#: as it learns to when the class is rare in training; a merely hard class is over- as often as under-predicted.
UNDER_PREDICTED = 0.7


def check_confusion(confusion) -> np.ndarray:
    """Return a k×k matrix of counts or rates (k >= 2), refusing anything else."""
    cm = check_array("confusion", confusion, ndim=2, finite=True)
    if cm.shape[0] != cm.shape[1]:
        raise ValueError(
            f"`confusion` must be a square k×k matrix (rows true, columns predicted), got shape {cm.shape}. "
            f"{received('confusion', confusion)}"
        )
    if cm.shape[0] < 2:
        raise ValueError(f"`confusion` must cover at least 2 classes, got shape {cm.shape}. {received('confusion', confusion)}")
    if np.any(cm < 0):
        raise ValueError(f"`confusion` must hold counts or rates >= 0. {received('confusion', confusion)}")
    if cm.sum() <= 0:
        raise ValueError(f"`confusion` is all zeros. {received('confusion', confusion)}")
    return cm.astype(float)


def kappa(cm: np.ndarray) -> float:
    """Cohen's kappa of a confusion matrix: agreement beyond what the marginals give by chance."""
    total = cm.sum()
    observed = np.trace(cm) / total
    expected = float(cm.sum(axis=1) @ cm.sum(axis=0)) / total**2
    return (observed - expected) / (1 - expected) if expected < 1 else 0.0


def _recalls(cm):
    support = cm.sum(axis=1)
    recall = np.divide(np.diag(cm), support, out=np.zeros(len(cm)), where=support > 0)
    return support, recall


def uniform(cm: np.ndarray) -> Finding | None:
    """Near-uniform matrix: underfitting."""
    k = kappa(cm)
    if k > UNIFORM_KAPPA:
        return None
    acc = np.trace(cm) / cm.sum()
    return finding(
        "underfitting",
        "high",
        f"the confusion matrix is near-uniform: accuracy {num(acc)} against {num(1 / len(cm))} for guessing, "
        f"Cohen's kappa {kappa(cm):.2f}; the predictions barely depend on the true class.",
    )


def confused_pairs(cm: np.ndarray):
    """``[(rate, i, j)]`` for every pair of classes mostly mistaken for each other, worst first."""
    support, recall = _recalls(cm)
    errors = support - np.diag(cm)
    pairs = []
    for i in range(len(cm)):
        for j in range(i + 1, len(cm)):
            swaps = cm[i, j] + cm[j, i]
            both = support[i] + support[j]
            if both <= 0 or swaps <= 0:
                continue
            rate = swaps / both
            if rate >= PAIR_RATE and swaps >= PAIR_SHARE * (errors[i] + errors[j]):
                pairs.append((rate, i, j))
    return sorted(pairs, reverse=True)


def class_confusion(cm: np.ndarray) -> Finding | None:
    pairs = confused_pairs(cm)
    if not pairs:
        return None
    support = cm.sum(axis=1)
    parts = []
    for rate, i, j in pairs[:3]:
        a = cm[i, j] / support[i] if support[i] else 0.0
        b = cm[j, i] / support[j] if support[j] else 0.0
        parts.append(f"classes {i} and {j} are mistaken for each other ({100 * a:.0f}% of true {i} predicted {j}, "
                     f"{100 * b:.0f}% of true {j} predicted {i})")
    worst = pairs[0][0]
    return finding(
        "class_confusion",
        "high" if worst >= 0.4 else "medium",
        "; ".join(parts) + ". Causes: too few or imbalanced examples of those classes.",
    )


def class_imbalance(cm: np.ndarray) -> Finding | None:
    support, recall = _recalls(cm)
    predicted = cm.sum(axis=0)
    mid_recall, mid_support = float(np.median(recall)), float(np.median(support))
    parts, worst = [], 0.0
    for c in range(len(cm)):
        if support[c] <= 0 or recall[c] > mid_recall - RECALL_GAP:
            continue
        rare = support[c] <= RARE_SUPPORT * mid_support
        under = predicted[c] <= UNDER_PREDICTED * support[c]
        if not (rare or under):
            continue
        why = []
        if rare:
            why.append(f"it has {num(support[c])} samples against a median of {num(mid_support)}")
        if under:
            why.append(f"it is predicted only {num(predicted[c])} times for {num(support[c])} true samples")
        parts.append(f"class {c} has recall {recall[c]:.2f} (median class {mid_recall:.2f}); " + " and ".join(why))
        worst = max(worst, mid_recall - recall[c])
    if not parts:
        return None
    return finding(
        "class_imbalance",
        "high" if worst >= 0.5 else "medium",
        "; ".join(parts) + ": the model has learned that the class is rare.",
    )


def missing_classes(cm: np.ndarray) -> Finding | None:
    """Classes with no sample at all: the evaluation set does not represent the problem."""
    support = cm.sum(axis=1)
    missing = [int(c) for c in np.flatnonzero(support == 0)]
    if not missing:
        return None
    present = len(cm) - len(missing)
    shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
    return finding(
        "train_val_mismatch",
        "high" if present < 2 else "medium",
        f"the confusion matrix has no sample of class{'es' if len(missing) > 1 else ''} {shown} "
        f"({present} of {len(cm)} classes present): the evaluation set does not look like the training set.",
    )


def read_confusion(cm: np.ndarray, *, per_class: bool = True) -> list[Finding]:
    """All findings of a confusion matrix.

    Classes without a sample are a ``train_val_mismatch``. A near-uniform
    matrix is read as underfitting and nothing more. Pairs and rare classes
    are read only with ``per_class`` (the caller turns it off
    when the curves show a model that does not fit its own training data:
    then every class suffers, and the pattern is a symptom, not a cause).
    """
    found = [missing_classes(cm)] if missing_classes(cm) else []
    if np.count_nonzero(cm.sum(axis=1)) < 2:  # one class present: agreement beyond chance is undefined
        return found
    blur = uniform(cm)
    if blur:
        return found + [blur]
    if per_class:
        found += [f for f in (class_confusion(cm), class_imbalance(cm)) if f]
    return found
