"""Exercise checks of lecture 02, the MNIST CNN and its metrics."""

from __future__ import annotations

import math

import numpy as np

from toolkit.exercises.feedback import checker

#: Exercise 1: a confusion matrix (rows true, columns predicted) and the class to score.
CONFUSION = np.array([[50, 2, 3], [4, 40, 6], [1, 9, 45]])
CLASS = 1
#: Exercise 2: a Conv2D layer of 64 filters of 3×3 on a 32-channel input.
CONV = {"filters": 64, "kernel": (3, 3), "in_channels": 32}


def _as_pair(answer):
    precision, recall = answer
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
    value = int(answer)
    kh, kw = CONV["kernel"]
    weights = kh * kw * CONV["in_channels"] * CONV["filters"]
    if value == weights + CONV["filters"]:
        return True, "Weights plus one bias per filter.", ""
    if value == weights:
        return False, "Close: the weights are counted.", "Each filter also has one bias."
    if value == kh * kw * CONV["filters"] + CONV["filters"] or value == kh * kw * CONV["filters"]:
        return False, "Each filter sees every input channel.", "A 3×3 filter on a 32-channel input has 3·3·32 weights."
    return False, "Not yet right.", "Count the weights of one filter (height × width × input channels), times the filters, plus biases."
