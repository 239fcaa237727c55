"""Checks for the exercises of notebook 08 (diagnosing training).

* :func:`check_name_the_problem`: name the problem in four mystery curves.
* :func:`check_avoided_class`: find the class a model avoids in a confusion matrix.
* :func:`check_class_weights`: class weights that balance an imbalanced training set.

The mystery curves and the confusion matrix are drawn the way the lecture
sketches them: :func:`mystery_curves` and :func:`mystery_confusion`.
"""

from __future__ import annotations

import numpy as np

from toolkit.exercises.feedback import (
    as_choice, as_count, as_mapping, as_number, checker, is_placeholder, matches, safe_repr, type_name,
)

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


_CURVES = ("A", "B", "C", "D")
#: The right word of each curve, hidden: its digest under the key "08.curves.<curve>" (see toolkit.exercises.feedback).
_CURVE_DIGESTS = {
    "A": "d86567e26fa7bdbc6d6d763bbd424c5d50f05af1d95e53ef83c9b4433af29bf2",
    "B": "debbd1c449dedc6b73fc5416618b6fc83b8f9cb5355ea68a9001a7d5ac6d4d2f",
    "C": "ffe383525a89f24e8e4e1d7356756b601cc603add669b050e22148c55bd023d0",
    "D": "1202875a821bce2995eda88c90716e53aefdae0b44f4c161f22b5cda7a8357ae",
}
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
    if type(answer) is not dict:
        return False, f"The answer must be a dict like {{'A': 'healthy', ...}}; got {type_name(answer)}.", (
            "Write one vocabulary word (a string) for each of the keys A, B, C and D."
        )
    given = as_mapping(answer, _CURVES, allow_missing=True)
    missing = [k for k in _CURVES if k not in given or is_placeholder(given[k])]
    if missing:
        return False, f"Curves {missing} have no answer yet.", "Give one word for each of A, B, C and D."
    words = {}
    for k in _CURVES:
        if type(given[k]) is not str:
            return False, f"The answer for curve {k} is a {type_name(given[k])}, not a word.", (
                "Write each word as a plain string in quotes, e.g. 'healthy'."
            )
        try:
            words[k] = as_choice(given[k], _VOCABULARY)
        except ValueError:
            return False, f"{safe_repr(given[k])} (curve {k}) is not a word of the doctor's vocabulary.", (
                "Use one of: " + ", ".join(_VOCABULARY) + "."
            )
    wrong = [k for k in _CURVES if not matches(f"08.curves.{k}", words[k], _CURVE_DIGESTS[k])]
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
    try:
        answer = as_count(answer)
    except ValueError:
        return False, f"The answer is a class index (an int); got {safe_repr(answer)}.", "Rows are true classes, numbered from 0."
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
        return False, f"Class {answer} is the rarest in this matrix, but the model recognizes it well.", (
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
    if type(answer) is not dict:
        return False, f"The answer must be a dict {{class: weight}}; got {type_name(answer)}.", (
            "Keras's fit(..., class_weight=...) takes a dict from class index to weight."
        )
    given = as_mapping(answer, range(len(counts)), allow_missing=True)
    missing = [c for c in range(len(counts)) if c not in given]
    if missing:
        return False, f"Classes {missing} have no weight.", "Give every class a weight, e.g. with a dict comprehension."
    try:
        weights = np.array([as_number(given[c]) for c in range(len(counts))])
    except ValueError:
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


# Exercise 4: predict what the doctor says when only the training labels are bad ----------------------

#: The keys of the prediction of exercise 4.
_PREDICTION_KEYS = ("doctor", "train_accuracy")
#: The doctor's reading that the lesson expects for that run, hidden under this key (see toolkit.exercises.feedback).
_SHUFFLED_KEY = "08.predict.train_labels_shuffled"
_SHUFFLED_DIGEST = "50f2c527e8d8619e795689d0a165de0907ebbdd4a1627afd0e907ae7f4043ed8"
#: A predicted final training accuracy this close to the measured one is right. Reasoning gives the share of
#: training labels still right (about 0.64 when 40% are shuffled); a run of eight epochs ends 0.02-0.05 below it.
ACCURACY_TOLERANCE = 0.08
_SHUFFLED_HINTS = {
    "healthy": "Compare the two accuracy curves the doctor reads: one is scored against shuffled labels, the other "
               "against true labels. Can they end at the same height?",
    "underfitting": "Underfitting compares the training accuracy with chance alone, and needs it less than halfway "
                    "from chance (0.1) to 1. Here a second accuracy, on clean labels, is measured too.",
    "overfitting": "Overfitting is a training accuracy far ABOVE the validation accuracy. Can a model agree with "
                   "labels of which a third are wrong, in ten epochs, without memorizing them?",
    "noisy": "Nothing in this run makes the steps larger or the batches smaller than in the baseline.",
    "class_imbalance": "The labels were shuffled among themselves: every digit keeps its count, and the validation "
                       "set is untouched.",
    "class_confusion": "The labels were shuffled among all ten digits, not swapped between two of them.",
}


def _measured_run(doctor):
    """``(problems, final train accuracy, final val accuracy)`` of the TrainingDoctor of the experiment."""
    from toolkit.diagnose.findings import Diagnosis

    diagnosis = getattr(doctor, "diagnosis", None)
    history = getattr(doctor, "history", None)
    if type(diagnosis) is not Diagnosis or type(history) is not dict:
        raise ValueError(f"`doctor` must be the TrainingDoctor of a finished run. Received: doctor={safe_repr(doctor)}")
    curves = {}
    for key in ("accuracy", "val_accuracy"):
        values = np.asarray(history.get(key, []), dtype=float)
        if values.size == 0 or not np.isfinite(values[-1]):
            raise ValueError(f"the run's history has no {key!r}: compile with metrics=['accuracy'] and pass validation data.")
        curves[key] = float(values[-1])
    return list(diagnosis.problems), curves["accuracy"], curves["val_accuracy"]


@checker(
    "Predict, run, explain: bad training labels",
    placeholder_message='Fill prediction = {"doctor": "<a word of the vocabulary>", "train_accuracy": <a number>} before running.',
)
def check_shuffled_labels_prediction(answer, *, doctor=None):
    """``answer`` predicts the doctor's word and the final training accuracy of the run ``doctor`` watched.

    The run: the baseline network trained on the training set with a share of
    its labels shuffled (``y_train_bad`` of the notebook), validated on the
    clean validation labels. The word is judged against the lesson (hidden),
    the accuracy against the run's own measurement, within
    :data:`ACCURACY_TOLERANCE`.

    Example:

    >>> check_shuffled_labels_prediction({"doctor": "healthy", "train_accuracy": 0.9}, doctor=doc_exercise)
    """
    if doctor is None:
        return False, "The check needs the run: pass doctor=the TrainingDoctor of the experiment.", (
            "Run the experiment cell, then call check_shuffled_labels_prediction(prediction, doctor=doc_exercise)."
        )
    problems, acc, val_acc = _measured_run(doctor)
    given = as_mapping(answer, _PREDICTION_KEYS, allow_missing=True)
    missing = [k for k in _PREDICTION_KEYS if k not in given or is_placeholder(given[k])]
    if missing:
        return False, f"The prediction has no {' and no '.join(repr(k) for k in missing)} yet.", (
            "Predict both before you look at the run: a word of the doctor's vocabulary and a number between 0 and 1."
        )
    word = as_choice(given["doctor"], _VOCABULARY)
    predicted = as_number(given["train_accuracy"])
    if not 0 <= predicted <= 1:
        return False, f"An accuracy lies between 0 and 1; you predicted {predicted:g}.", (
            "Write the accuracy as a fraction, e.g. 0.5 for 50%."
        )
    shown = f"The doctor read {', '.join(problems)}; training accuracy ended at {acc:.2f}, validation accuracy at {val_acc:.2f}."
    as_taught = any(matches(_SHUFFLED_KEY, p, _SHUFFLED_DIGEST) for p in problems)
    note = "" if as_taught else (
        " (This run did not come out as the lesson expects; judge your prediction by the reasoning, and rerun the "
        "experiment cell for another draw.)"
    )
    word_ok = matches(_SHUFFLED_KEY, word, _SHUFFLED_DIGEST)
    acc_ok = abs(predicted - acc) <= ACCURACY_TOLERANCE
    if word_ok and acc_ok:
        return True, (
            f"{shown} Both predicted: a model that learned the real digits agrees with a shuffled training label only "
            f"when the label happens to be right, so its training accuracy stops near the share of right labels, while "
            f"the clean validation labels score the same model far higher. The doctor sees training accuracy below "
            f"validation accuracy, whatever the cause, and its remedies include checking the training labels.{note}"
        ), ""
    if not word_ok:
        hint = _SHUFFLED_HINTS.get(word, "Think of the two accuracies the doctor compares: the training accuracy is "
                                         "scored against the shuffled labels, the validation accuracy against true ones.")
        message = f"{shown} Your word {word!r} is not what this run teaches{' (nor your accuracy)' if not acc_ok else ''}.{note}"
        return False, message, hint
    if predicted > acc:
        hint = ("A model cannot agree with a wrong label unless it memorizes it. What share of the training labels "
                "is still right after the shuffle?")
    else:
        hint = "The shuffled labels are not all wrong: a label shuffled among ten digits lands on the right one about one time in ten."
    return False, f"{shown} The word is right, but you predicted a training accuracy of {predicted:.2f}.{note}", hint


__all__ += ["ACCURACY_TOLERANCE", "check_shuffled_labels_prediction"]
