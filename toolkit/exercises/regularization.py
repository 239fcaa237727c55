"""Checkers of notebook 06 (regularization).

* :func:`check_l2_layer`: a Dense layer with an L2 penalty on its weights.
* :func:`check_l2_penalty`: the number ``L2(λ)`` adds to the loss, by hand.
* :func:`check_early_stopping`: an EarlyStopping that keeps the best weights.
"""

from __future__ import annotations

import numpy as np

from toolkit.exercises.feedback import as_array, as_number, checker, safe_repr

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
        return as_number(regularizer.l1), as_number(regularizer.l2)
    if isinstance(regularizer, keras.regularizers.L2):
        return 0.0, as_number(regularizer.l2)
    if isinstance(regularizer, keras.regularizers.L1):
        return as_number(regularizer.l1), 0.0
    return None


def _is_relu(activation) -> bool:
    """True when ``activation`` computes ReLU (judged by what it computes, not by its name)."""
    import keras

    if activation is keras.activations.relu:
        return True
    probe = np.array([-2.0, -0.5, 0.0, 0.5, 3.0], dtype="float32")
    out = as_array(keras.ops.convert_to_numpy(activation(keras.ops.convert_to_tensor(probe))))
    return out.shape == probe.shape and bool(np.allclose(out, np.maximum(probe, 0.0)))


@checker("Add L2 to a layer", placeholder_message="Replace ... with a keras.layers.Dense(...) layer.")
def check_l2_layer(answer):
    """The answer must be ``Dense(64, relu)`` with ``L2(1e-4)`` on its kernel."""
    import keras

    if not isinstance(answer, keras.layers.Dense):
        return False, f"Expected a keras.layers.Dense layer, got {type(answer).__name__}.", (
            "Create the layer itself, e.g. keras.layers.Dense(units, activation=..., kernel_regularizer=...)."
        )
    if type(answer.units) is not int or answer.units != L2_UNITS or not _is_relu(answer.activation):
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
            "L1 penalizes |w| and makes weights exactly zero; the exercise asks for L2, which penalizes w²."
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
        "signed": (lam * np.sum(w), "Square each weight before summing, so that negative weights are penalized too."),
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
    if type(answer.monitor) is not str or answer.monitor != "val_loss":
        if type(answer.monitor) is str and answer.monitor == "loss":
            hint = "The training loss keeps falling while a model overfits: watch the validation loss."
        else:
            hint = "Watch the validation loss, monitor='val_loss'."
        return False, f"It watches {safe_repr(answer.monitor)}.", hint
    if type(answer.patience) is not int or answer.patience != PATIENCE:
        hint = f"The exercise asks for a patience of {PATIENCE} epochs."
        if type(answer.patience) is not int:
            hint += " A patience counts epochs: give it as an int."
        return False, f"It waits {safe_repr(answer.patience)} epoch(s).", hint
    if answer.restore_best_weights is not True:
        return False, "It stops at the right time but keeps the last weights.", (
            "By default the model keeps the weights of the last epoch, PATIENCE epochs past the best: "
            "ask the callback to restore the best ones."
        )
    return True, f"Stops after {PATIENCE} epochs without progress on val_loss and restores the best weights.", ""


# Exercise 4 (predict, run, explain): dropout left on at inference ------------------------------------

#: The experiment of exercise 4: a dropout MLP on scikit-learn's 8×8 digits, then its test accuracy
#: with dropout off (the usual prediction), in single passes with dropout on, and averaged over passes.
DROPOUT_EXPERIMENT = {"train": 600, "width": 256, "rate": 0.5, "epochs": 30, "batch_size": 50, "seed": 0,
                      "single_passes": 5, "mc_passes": 30}
#: What the student predicts, for each way of predicting, relative to dropout off.
DROPOUT_QUESTIONS = ("one pass", "mean of 30 passes")
_DROPOUT_CHOICES = ("lower", "same", "higher")
#: Accuracy differences within this many points (of 1) count as "same": ±1.2 points, about 5 test digits.
_SAME_WITHIN = 0.012


def measure_dropout_at_inference():
    """Run exercise 4's experiment; returns the test accuracies ``{"off", "one pass", "mean of 30 passes"}``.

    "one pass" is the mean accuracy of single forward passes with
    ``training=True`` (each pass drops other units); "mean of 30 passes"
    averages the probabilities of 30 such passes first (MC dropout).

    Example:

    >>> accuracy = measure_dropout_at_inference()
    >>> sorted(accuracy)
    ['mean of 30 passes', 'off', 'one pass']
    """
    import keras

    from toolkit.data import load_digits

    cfg = DROPOUT_EXPERIMENT
    x, y = load_digits()
    x = x.reshape(len(x), -1)
    order = np.random.default_rng(cfg["seed"]).permutation(len(x))
    train, test = order[: cfg["train"]], order[cfg["train"]:]
    keras.utils.set_random_seed(cfg["seed"])
    model = keras.Sequential([
        keras.Input((x.shape[1],)),
        keras.layers.Dense(cfg["width"], activation="relu"),
        keras.layers.Dropout(cfg["rate"]),
        keras.layers.Dense(cfg["width"], activation="relu"),
        keras.layers.Dropout(cfg["rate"]),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
    model.fit(x[train], y[train], batch_size=cfg["batch_size"], epochs=cfg["epochs"], verbose=0)
    x_test, y_test = x[test], y[test]

    def stochastic():
        return keras.ops.convert_to_numpy(model(x_test, training=True))

    off = float(np.mean(model.predict(x_test, verbose=0).argmax(axis=1) == y_test))
    single = float(np.mean([np.mean(stochastic().argmax(axis=1) == y_test) for _ in range(cfg["single_passes"])]))
    averaged = np.mean([stochastic() for _ in range(cfg["mc_passes"])], axis=0)
    return {"off": off, "one pass": single, "mean of 30 passes": float(np.mean(averaged.argmax(axis=1) == y_test))}


def _compared(accuracy: float, reference: float) -> str:
    if accuracy < reference - _SAME_WITHIN:
        return "lower"
    if accuracy > reference + _SAME_WITHIN:
        return "higher"
    return "same"


@checker(
    "Predict, run, explain: dropout left on at inference",
    placeholder_message='Write {"one pass": ..., "mean of 30 passes": ...} with "lower", "same" or "higher" '
    "before you run the experiment.",
)
def check_dropout_at_inference(answer):
    """``answer`` maps each of :data:`DROPOUT_QUESTIONS` to "lower", "same" or "higher": the test accuracy
    with dropout on, relative to the usual prediction with dropout off.

    The check runs the experiment itself (:func:`measure_dropout_at_inference`,
    a few seconds) and compares each prediction with what it measured.
    """
    from toolkit.exercises.feedback import as_choice, as_mapping

    given = as_mapping(answer, DROPOUT_QUESTIONS)
    prediction = {key: as_choice(value, _DROPOUT_CHOICES) for key, value in given.items()}
    accuracy = measure_dropout_at_inference()
    measured = {key: _compared(accuracy[key], accuracy["off"]) for key in DROPOUT_QUESTIONS}
    shown = (f"test accuracy with dropout off {accuracy['off']:.3f}, one pass with dropout on "
             f"{accuracy['one pass']:.3f}, the mean of 30 such passes {accuracy['mean of 30 passes']:.3f}")
    wrong = [key for key in DROPOUT_QUESTIONS if prediction[key] != measured[key]]
    if not wrong:
        return True, (
            f"Measured: {shown}. One pass with dropout on is a thinned network, a noisy guess: the 1/(1 − p) "
            "scaling keeps each unit's output right on average, not in every pass. Averaging many passes "
            "cancels the noise, which is why MC dropout costs no accuracy and gives a spread for free."
        ), ""
    hints = {
        "one pass": "One pass with training=True drops half of the units, a different half each time. The "
                    "1/(1 − p) scaling keeps the mean of each output right; does it keep every single pass right?",
        "mean of 30 passes": "What does averaging 30 noisy passes do to the noise, and where does the average "
                             "land compared with the prediction that uses every unit, scaled?",
    }
    return False, f"Measured: {shown}. Not as predicted for: {', '.join(wrong)}.", " ".join(hints[k] for k in wrong)
