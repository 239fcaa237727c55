"""Solutions to the exercises of notebook 06 (regularization).

For instructors: ``tests/test_exercises_06.py`` runs every checker of
``toolkit.exercises.regularization`` against these answers.
"""

import keras
import numpy as np


def l2_layer():
    """Exercise 1: Dense(64, relu) with an L2 penalty of 1e-4 on its kernel.

    Weight decay acts on the weight matrix (``kernel_regularizer``), not on the
    bias; the strength must be given, because ``L2()`` and the string ``"l2"``
    default to λ = 0.01, a hundred times stronger.
    """
    return keras.layers.Dense(64, activation="relu", kernel_regularizer=keras.regularizers.L2(1e-4))


# Exercise 2: what keras.regularizers.L2(0.01) adds to the loss for these weights.
# Keras adds λ·Σw² (no 1/2, summed over all weights, not averaged): 0.01 · 7.75 = 0.0775.
W = np.array([[0.5, -1.0], [2.0, 0.0], [-0.5, 1.5]])
L2_PENALTY = 0.01 * np.sum(W**2)


def early_stopping():
    """Exercise 3: stop when the validation loss has not improved for 5 epochs.

    Watch ``val_loss`` (the training loss keeps falling while the model
    overfits), and restore the best weights: without it the model keeps the
    weights of the last epoch, ``patience`` epochs past the best one.
    """
    return keras.callbacks.EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)


# Exercise 4 (predict, run, explain): dropout left on at inference.
# One pass with training=True is one thinned network: the 1/(1 - p) scaling keeps every unit's output
# right on average, not in each pass, so a single pass is noisier and less accurate (about 3 points
# lower here). The mean of 30 passes averages that noise away and lands on the accuracy of the usual
# prediction (within a few test digits): MC dropout costs no accuracy.
DROPOUT_PREDICTION = {"one pass": "lower", "mean of 30 passes": "same"}
