"""Checkers of notebook 06 (regularization).

* :func:`check_l2_layer`: a Dense layer with an L2 penalty on its weights.
* :func:`check_l2_penalty`: the number ``L2(λ)`` adds to the loss, by hand.
* :func:`check_early_stopping`: an EarlyStopping that keeps the best weights.
"""

from __future__ import annotations

import numpy as np

from toolkit.exercises.feedback import as_number, checker

#: Exercise 1: the layer asked for.
L2_UNITS = 64
L2_FACTOR = 1e-4
#: Exercise 2: the weights and the factor of the penalty to compute by hand.
PENALTY_WEIGHTS = np.array([[0.5, -1.0], [2.0, 0.0], [-0.5, 1.5]], dtype="float64")
PENALTY_FACTOR = 0.01
#: Exercise 3: the patience asked for.
PATIENCE = 5

_KERAS_DEFAULT_FACTOR = 0.01  # keras.regularizers.L1/L2() and the strings "l1"/"l2"


def _factors(regularizer):
    """``(l1, l2)`` strengths of a Keras regularizer (0 where absent)."""
    import keras

    if isinstance(regularizer, keras.regularizers.L1L2):
        return float(regularizer.l1), float(regularizer.l2)
    if isinstance(regularizer, keras.regularizers.L2):
        return 0.0, float(regularizer.l2)
    if isinstance(regularizer, keras.regularizers.L1):
        return float(regularizer.l1), 0.0
    return None


@checker("Add L2 to a layer", placeholder_message="Replace ... with a keras.layers.Dense(...) layer.")
def check_l2_layer(answer):
    """The answer must be ``Dense(64, relu)`` with ``L2(1e-4)`` on its kernel."""
    import keras

    if not isinstance(answer, keras.layers.Dense):
        return False, f"Expected a keras.layers.Dense layer, got {type(answer).__name__}.", (
            "Create the layer itself, e.g. keras.layers.Dense(units, activation=..., kernel_regularizer=...)."
        )
    if answer.units != L2_UNITS or keras.activations.serialize(answer.activation) != "relu":
        return False, "The layer's size or activation is not the one asked for.", (
            f"The exercise asks for {L2_UNITS} units with a ReLU activation."
        )
    reg = answer.kernel_regularizer
    if reg is None:
        if answer.bias_regularizer is not None or answer.activity_regularizer is not None:
            return False, "The penalty is on the bias or the outputs, not on the weights.", (
                "Weight decay acts on the kernel (the weight matrix): use kernel_regularizer=."
            )
        return False, "The layer has no regularizer on its weights.", "Pass kernel_regularizer= to the layer."
    factors = _factors(reg)
    if factors is None:
        return False, f"{type(reg).__name__} is not an L1/L2 regularizer.", "Use keras.regularizers.L2(...)."
    l1, l2 = factors
    if l1 > 0 and l2 == 0:
        return False, "That is an L1 penalty.", (
            "L1 penalises |w| and makes weights exactly zero; the exercise asks for L2, which penalises w²."
        )
    if l1 > 0:
        return False, "The regularizer has an L1 part as well.", "Use a pure L2 penalty (keras.regularizers.L2)."
    if np.isclose(l2, L2_FACTOR, rtol=1e-6):
        return True, f"Dense({L2_UNITS}, relu) with an L2 penalty of {L2_FACTOR:g} on its kernel.", ""
    if np.isclose(l2, _KERAS_DEFAULT_FACTOR):
        return False, f"The L2 strength is Keras's default, {l2:g}.", (
            "The string 'l2' and L2() without an argument use λ = 0.01; give the strength asked for."
        )
    return False, f"The L2 strength is {l2:g}.", f"The exercise asks for λ = {L2_FACTOR:g}."


@checker("The L2 penalty by hand", placeholder_message="Replace ... with a number.")
def check_l2_penalty(answer):
    """The answer must equal what ``keras.regularizers.L2(PENALTY_FACTOR)`` adds for ``PENALTY_WEIGHTS``."""
    import keras

    value = as_number(answer)
    w, lam = PENALTY_WEIGHTS, PENALTY_FACTOR
    expected = float(keras.ops.convert_to_numpy(keras.regularizers.L2(lam)(w.astype("float32"))))
    if np.isclose(value, expected, rtol=1e-4):
        return True, f"L2({lam:g}) adds {value:.5g} to the loss for this W.", ""
    wrong = {
        "half": (lam / 2 * np.sum(w**2), "Keras's L2(λ) adds λ·Σw², without the 1/2 that some slides write."),
        "norm": (lam * np.sqrt(np.sum(w**2)), "Square the weights: the penalty uses ‖w‖², not the norm ‖w‖."),
        "no factor": (np.sum(w**2), "Multiply by λ: it sets how strong the penalty is."),
        "l1": (lam * np.sum(np.abs(w)), "That is the L1 penalty (absolute values); L2 squares the weights."),
        "signed": (lam * np.sum(w), "Square each weight before summing, so that negative weights are penalised too."),
        "mean": (lam * np.mean(w**2), "Sum the squares over all weights; Keras does not average them."),
    }
    for wanted, hint in wrong.values():
        if np.isclose(value, wanted, rtol=1e-4):
            return False, f"{value:.5g} is not what Keras adds.", hint
    return False, f"{value:.5g} is not what Keras adds.", "The penalty is λ times the sum of the squared weights."


@checker("Early stopping that keeps the best model", placeholder_message="Replace ... with a keras.callbacks.EarlyStopping(...).")
def check_early_stopping(answer):
    """The answer must watch ``val_loss`` with patience 5 and restore the best weights."""
    import keras

    if not isinstance(answer, keras.callbacks.EarlyStopping):
        return False, f"Expected a keras.callbacks.EarlyStopping, got {type(answer).__name__}.", (
            "Create the callback object; fit() will call it at the end of every epoch."
        )
    if answer.monitor != "val_loss":
        if answer.monitor == "loss":
            hint = "The training loss keeps falling while a model overfits: watch the validation loss."
        else:
            hint = "Watch the validation loss, monitor='val_loss'."
        return False, f"It watches '{answer.monitor}'.", hint
    if answer.patience != PATIENCE:
        return False, f"It waits {answer.patience} epoch(s).", f"The exercise asks for a patience of {PATIENCE} epochs."
    if not answer.restore_best_weights:
        return False, "It stops at the right time but keeps the last weights.", (
            "By default the model keeps the weights of the last epoch, PATIENCE epochs past the best: "
            "ask the callback to restore the best ones."
        )
    return True, f"Stops after {PATIENCE} epochs without progress on val_loss and restores the best weights.", ""
