"""Checks for the exercises of notebook 08 (diagnosing training).

* :func:`check_name_the_problem`: name the problem in four mystery curves.
* :func:`check_avoided_class`: find the class a model avoids in a confusion matrix.
* :func:`check_class_weights`: class weights that balance an imbalanced training set.

The mystery curves and the confusion matrix are drawn the way the lecture
sketches them: :func:`mystery_curves` and :func:`mystery_confusion`.
"""

from __future__ import annotations

import numbers

import numpy as np

from toolkit.exercises.feedback import checker

_VOCABULARY = (
    "healthy", "overfitting", "underfitting", "diverging", "lr_too_low", "noisy", "nan",
    "train_val_mismatch", "vanishing_gradients", "exploding_gradients", "dead_units",
    "class_imbalance", "class_confusion",
)


def mystery_curves() -> dict[str, dict[str, list[float]]]:
    """Four training histories (10-class problems: the loss of guessing is ln 10 = 2.30).

    Plot them with ``plot_history(curves[name], metrics=["loss"])`` and name
    the problem of each with one word of the doctor's vocabulary.
    """
    t = np.arange(16)
    a_train = 2.1 * np.exp(-t / 3) + 0.02
    a_val = np.r_[2.0 * np.exp(-t[:6] / 2.5) + 0.45, 0.63 + 0.05 * np.arange(1, 11)]
    b = 2.30 - 0.035 * t
    c = 1.85 + 0.45 * np.exp(-t / 1.5) + 0.01 * np.cos(2.1 * t)
    d = np.r_[2.2 - 0.3 * t[:6], 0.7 * 1.45 ** np.arange(1, 11)]
    return {
        "A": {"loss": a_train.round(3).tolist(), "val_loss": a_val.round(3).tolist()},
        "B": {"loss": b.round(3).tolist(), "val_loss": (b + 0.03).round(3).tolist()},
        "C": {"loss": c.round(3).tolist(), "val_loss": (c + 0.02).round(3).tolist()},
        "D": {"loss": d.round(3).tolist(), "val_loss": (d * 1.1).round(3).tolist()},
    }


_CURVE_ANSWERS = {"A": "overfitting", "B": "lr_too_low", "C": "underfitting", "D": "diverging"}
_CURVE_HINTS = {
    ("A", "diverging"): "Look at the training loss of A: it keeps falling. Only val_loss climbs.",
    ("A", "underfitting"): "A's training loss falls almost to zero: the model fits its training data very well.",
    ("A", "noisy"): "A's val_loss does not jump back and forth: it turns once and climbs steadily.",
    ("B", "underfitting"): "Is B flat, or still falling in a straight line without slowing down? Which knob makes steps too small?",
    ("B", "healthy"): "B is still near the loss of guessing (2.30) and falls by a tiny, constant amount each epoch.",
    ("C", "lr_too_low"): "Look at C's last epochs: it has stopped falling, and stays near the loss of guessing (2.30).",
    ("C", "healthy"): "C never gets far below 2.30, the loss of guessing among 10 classes.",
    ("D", "nan"): "Every value of D is a finite number: nan means the loss became NaN or inf.",
    ("D", "overfitting"): "In D the training loss itself climbs, not only val_loss.",
    ("D", "noisy"): "D does not zig-zag: after epoch 6 it climbs in every epoch.",
}


@checker("Name the problem in each curve", placeholder_message='Fill answer = {"A": ..., "B": ..., "C": ..., "D": ...}.')
def check_name_the_problem(answer):
    """``answer`` maps each mystery curve ("A".."D") to one vocabulary word."""
    if not isinstance(answer, dict):
        return False, f"The answer must be a dict like {{'A': 'healthy', ...}}; got {type(answer).__name__}.", (
            "Write one vocabulary word (a string) for each of the keys A, B, C and D."
        )
    missing = [k for k in _CURVE_ANSWERS if k not in answer]
    if missing:
        return False, f"Curves {missing} have no answer yet.", "Give one word for each of A, B, C and D."
    words = {k: str(v).strip().lower() for k, v in answer.items() if k in _CURVE_ANSWERS}
    unknown = {k: w for k, w in words.items() if w not in _VOCABULARY}
    if unknown:
        k, w = next(iter(unknown.items()))
        return False, f"{w!r} (curve {k}) is not a word of the doctor's vocabulary.", (
            "Use one of: " + ", ".join(_VOCABULARY) + "."
        )
    wrong = [k for k, w in words.items() if w != _CURVE_ANSWERS[k]]
    if not wrong:
        return True, "All four named correctly: you read curves the way the doctor does.", ""
    k = wrong[0]
    hint = _CURVE_HINTS.get((k, words[k]), f"Compare curve {k} with the lecture's sketches: train and val, flat or falling, where it ends.")
    return False, f"{len(wrong)} of 4 not yet right (first: curve {k}).", hint


def mystery_confusion() -> np.ndarray:
    """A 5-class confusion matrix (rows true, columns predicted) of a model trained on imbalanced data."""
    return np.array(
        [
            [95, 1, 1, 2, 1],
            [2, 90, 1, 5, 2],
            [14, 12, 38, 22, 14],
            [3, 4, 2, 88, 3],
            [0, 1, 0, 1, 28],
        ]
    )


@checker("Find the class the model avoids", placeholder_message="Set answer to a class index, 0-4.")
def check_avoided_class(answer, *, confusion=None):
    """``answer`` is the class index whose recall is low because the model rarely predicts it."""
    cm = np.asarray(mystery_confusion() if confusion is None else confusion, dtype=float)
    if isinstance(answer, bool) or not isinstance(answer, numbers.Integral):
        return False, f"The answer is a class index (an int); got {answer!r}.", "Rows are true classes, numbered from 0."
    if not 0 <= answer < len(cm):
        return False, f"There is no class {answer}: the classes are 0 to {len(cm) - 1}.", "Count rows from 0."
    support, predicted = cm.sum(axis=1), cm.sum(axis=0)
    recall = np.diag(cm) / np.maximum(support, 1)
    avoided = int(np.argmin(recall))
    if answer == avoided:
        return True, (
            f"Yes: class {answer} has recall {recall[answer]:.2f} and is predicted only {predicted[answer]:.0f} times "
            f"for {support[answer]:.0f} true samples. Class weights or over-sampling would help it."
        ), ""
    if support[answer] == support.min():
        return False, f"Class {answer} is the rarest in this matrix, but the model recognises it well.", (
            "Few samples alone are not the problem: look for a class with low recall (diagonal / row sum)."
        )
    if predicted[answer] > support[answer]:
        return False, f"Class {answer} is predicted {predicted[answer]:.0f} times for {support[answer]:.0f} true samples.", (
            "That class attracts predictions; the avoided class is the one whose column sum is far below its row sum."
        )
    return False, f"Class {answer} has recall {recall[answer]:.2f}; another class does much worse.", (
        "Divide each diagonal entry by its row sum, and compare each column sum with its row sum."
    )


@checker("Class weights for an imbalanced set", placeholder_message="Set answer to a dict {class: weight}.")
def check_class_weights(answer, *, counts=None):
    """``answer`` maps every class to a weight proportional to 1 / (its number of training samples)."""
    if counts is None:
        return False, "The check needs the training counts.", "Call check_class_weights(answer, counts=counts)."
    counts = np.asarray(counts, dtype=float)
    if not isinstance(answer, dict):
        return False, f"The answer must be a dict {{class: weight}}; got {type(answer).__name__}.", (
            "Keras's fit(..., class_weight=...) takes a dict from class index to weight."
        )
    missing = [c for c in range(len(counts)) if c not in answer]
    if missing:
        return False, f"Classes {missing} have no weight.", "Give every class a weight, e.g. with a dict comprehension."
    try:
        weights = np.array([float(answer[c]) for c in range(len(counts))])
    except (TypeError, ValueError):
        return False, "Every weight must be a number.", "Compute weights as floats."
    if not np.all(np.isfinite(weights)) or np.any(weights <= 0):
        return False, "Every weight must be a positive, finite number.", "A class with zero weight is ignored by the loss."
    target = 1.0 / counts
    ratio = weights / target
    if np.allclose(ratio, ratio[0], rtol=0.02):
        return True, "Right: each class now weighs the same in the loss, whatever its size.", ""
    if np.allclose(weights / counts, (weights / counts)[0], rtol=0.02):
        return False, "Your weights grow with the class size.", (
            "That makes the common classes even heavier. The weight must be inversely proportional to the count."
        )
    if np.allclose(weights, weights[0]):
        return False, "All your weights are equal: nothing changes.", "Rare classes need larger weights than common ones."
    return False, "The weights are not proportional to 1 / count.", (
        "Try n_samples / (n_classes * count) for each class (scikit-learn's 'balanced' weights)."
    )


__all__ = [
    "check_avoided_class", "check_class_weights", "check_name_the_problem", "mystery_confusion", "mystery_curves",
]
