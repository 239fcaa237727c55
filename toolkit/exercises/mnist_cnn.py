"""Exercise checks of lecture 02, the MNIST CNN and its metrics."""

from __future__ import annotations

import math

import numpy as np

from toolkit.exercises.feedback import as_array, as_choice, as_count, as_mapping, checker

#: Exercise 1: a confusion matrix (rows true, columns predicted) and the class to score.
CONFUSION = np.array([[50, 2, 3], [4, 40, 6], [1, 9, 45]])
CLASS = 1
#: Exercise 2: a Conv2D layer of 64 filters of 3×3 on a 32-channel input.
CONV = {"filters": 64, "kernel": (3, 3), "in_channels": 32}


def _as_pair(answer):
    precision, recall = as_array(answer, shape=(2,))
    return float(precision), float(recall)


@checker("Precision and recall from a confusion matrix", placeholder_message="Give (precision, recall) of class 1.")
def check_precision_recall(answer):
    precision, recall = _as_pair(answer)
    tp = CONFUSION[CLASS, CLASS]
    want_p = tp / CONFUSION[:, CLASS].sum()
    want_r = tp / CONFUSION[CLASS, :].sum()
    close = lambda a, b: math.isclose(a, b, abs_tol=5e-3)  # noqa: E731
    if close(precision, want_p) and close(recall, want_r):
        return True, "Precision and recall of class 1 are right.", ""
    if close(precision, want_r) and close(recall, want_p):
        return False, "Precision and recall are swapped.", (
            "Precision looks down the predicted column (of all predicted 1s, how many are 1s); "
            "recall along the true row (of all real 1s, how many were found)."
        )
    accuracy = np.trace(CONFUSION) / CONFUSION.sum()
    if close(precision, accuracy) or close(recall, accuracy):
        return False, "That is the overall accuracy.", "Score only class 1: TP is the diagonal cell of class 1."
    return False, "Not yet right.", "TP is CONFUSION[1, 1]; FP are the other cells of column 1, FN the other cells of row 1."


@checker("Parameters of a Conv2D layer", placeholder_message="Give the number of trainable parameters.")
def check_conv_params(answer):
    value = as_count(answer)
    kh, kw = CONV["kernel"]
    weights = kh * kw * CONV["in_channels"] * CONV["filters"]
    if value == weights + CONV["filters"]:
        return True, "Weights plus one bias per filter.", ""
    if value == weights:
        return False, "Close: the weights are counted.", "Each filter also has one bias."
    if value == kh * kw * CONV["filters"] + CONV["filters"] or value == kh * kw * CONV["filters"]:
        return False, "Each filter sees every input channel.", "A 3×3 filter on a 32-channel input has 3·3·32 weights."
    return False, "Not yet right.", "Count the weights of one filter (height × width × input channels), times the filters, plus biases."


# Exercise 3 (predict, run, explain): a stricter decision threshold -----------------------------------

#: Exercise 3's experiment: say ``digit`` only when its probability is above ``threshold`` (instead of the argmax).
THRESHOLD_EXPERIMENT = {"digit": 9, "threshold": 0.99}
_METRICS = ("precision", "recall")
_DIRECTIONS = ("up", "down", "same")
#: Changes smaller than this count as "same".
_SAME = 0.005


def measure_threshold(y_true, probs) -> dict:
    """Precision and recall of exercise 3's digit under the argmax rule and under the strict threshold.

    Args:
        y_true: integer labels, shape ``(n,)``.
        probs: the model's class probabilities, shape ``(n, k)``.

    Returns:
        ``{"argmax": {"precision": p, "recall": r, "said": count}, "strict": {...}}``, computed by scikit-learn.

    Example:

    >>> probs = np.eye(10)[[9, 9, 1]] * 0.995 + 0.0005
    >>> measure_threshold([9, 1, 1], probs)["strict"]["precision"]
    0.5
    """
    from sklearn.metrics import precision_score, recall_score

    labels = as_array(y_true)
    scores = as_array(probs)
    digit, threshold = THRESHOLD_EXPERIMENT["digit"], THRESHOLD_EXPERIMENT["threshold"]
    if labels.ndim != 1 or not np.all(labels == np.round(labels)):
        raise ValueError(f"`y_true` must be integer labels of shape (n,). Received: y_true of shape {labels.shape}")
    if scores.ndim != 2 or scores.shape[0] != labels.shape[0] or scores.shape[1] <= digit:
        raise ValueError(
            f"`probs` must be class probabilities of shape ({labels.shape[0]}, k) with k > {digit}. "
            f"Received: probs of shape {scores.shape}"
        )
    is_digit = labels == digit
    if not is_digit.any():
        raise ValueError(f"`y_true` holds no {digit}: precision and recall of {digit} cannot be measured.")
    rules = {"argmax": scores.argmax(axis=1) == digit, "strict": scores[:, digit] > threshold}
    return {
        rule: {
            "precision": float(precision_score(is_digit, said, zero_division=0)),
            "recall": float(recall_score(is_digit, said, zero_division=0)),
            "said": int(said.sum()),
        }
        for rule, said in rules.items()
    }


def _direction(before: float, after: float) -> str:
    if after > before + _SAME:
        return "up"
    if after < before - _SAME:
        return "down"
    return "same"


@checker(
    "Predict, run, explain: a stricter threshold",
    placeholder_message='Write {"precision": ..., "recall": ...} with "up", "down" or "same", then run the experiment.',
)
def check_threshold_prediction(answer, *, y_true=None, probs=None):
    """``answer`` maps "precision" and "recall" to "up", "down" or "same": the predicted change from argmax to strict.

    The check measures the change itself on ``y_true`` and ``probs`` (the
    validation labels and the model's probabilities) with :func:`measure_threshold`.
    """
    prediction = as_mapping(answer, _METRICS)
    predicted = {metric: as_choice(prediction[metric], _DIRECTIONS) for metric in _METRICS}
    if y_true is None or probs is None:
        return False, "The check measures the experiment itself, so it needs the data.", (
            "Call it as check_threshold_prediction(threshold_prediction, y_true=y_val, probs=val_probs)."
        )
    runs = measure_threshold(y_true, probs)
    before, after = runs["argmax"], runs["strict"]
    measured = {metric: _direction(before[metric], after[metric]) for metric in _METRICS}
    digit = THRESHOLD_EXPERIMENT["digit"]
    shown = (
        f"the strict rule says {digit} for {after['said']} images instead of {before['said']}; "
        f"precision {before['precision']:.3f} → {after['precision']:.3f} ({measured['precision']}), "
        f"recall {before['recall']:.3f} → {after['recall']:.3f} ({measured['recall']})"
    )
    if predicted == measured:
        why = (
            f"Every image the strict rule calls {digit} was already called {digit} by the argmax, so it can only lose "
            f"true {digit}s (recall cannot rise), and the ones it keeps are those the model is surest of, which are "
            "rarely wrong (precision usually rises). A threshold trades recall for precision; choose it on the "
            "validation set for what each mistake costs, a missed case or a false alarm."
        )
        return True, f"Measured: {shown}. {why}", ""
    wrong = [metric for metric in _METRICS if predicted[metric] != measured[metric]]
    hints = {
        "recall": f"Is there any image that the strict rule calls {digit} but the argmax rule does not? "
                  f"Then can it find more of the true {digit}s?",
        "precision": f"Among the images the strict rule still calls {digit}, are the wrong ones more or less common "
                     "than among all the argmax's calls?",
    }
    return False, f"Measured: {shown}; you predicted precision {predicted['precision']!r}, recall {predicted['recall']!r}.", (
        " ".join(hints[metric] for metric in wrong)
    )
