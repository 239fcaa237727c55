"""Solutions to the exercises of notebook 07 (transfer learning, augmentation, distillation).

For instructors: ``tests/test_exercises_07.py`` runs every checker of
``toolkit.exercises.transfer`` against these answers.
"""

import keras
import numpy as np


def frozen_model(backbone, num_classes=10):
    """Exercise 1: a new head on a frozen backbone (``toolkit.transfer.small_cnn_backbone()``).

    Freeze first, then compile: Keras fixes what trains at ``compile()``.
    Call the backbone with ``training=False`` so that its BatchNorm layers are
    meant to stay in inference mode, also after unfreezing for fine-tuning.
    """
    backbone.trainable = False
    inputs = keras.Input(backbone.input_shape[1:])
    x = backbone(inputs, training=False)
    outputs = keras.layers.Dense(num_classes, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def digit_augmentation():
    """Exercise 2: small changes that keep a digit the same digit.

    No flips (a mirrored 3 is not a 3) and small rotations only (0.05 of a
    turn = 18°; large turns make a 6 look like a 9). The Random... layers act
    in training only and pass images unchanged at inference.
    """
    return keras.Sequential(
        [
            keras.layers.RandomRotation(0.05, fill_mode="constant"),
            keras.layers.RandomZoom(0.1, fill_mode="constant"),
            keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant"),
        ]
    )


# Exercise 3: the teacher's probabilities softened at temperature T = 4:
# softmax(z / T), the logits divided by T before the softmax (not the probabilities).
DISTILL_LOGITS = np.array([6.0, 1.0, 3.5, -2.0, 0.5])
DISTILL_TEMPERATURE = 4.0
_e = np.exp(DISTILL_LOGITS / DISTILL_TEMPERATURE)
SOFT_TARGETS = _e / _e.sum()


# Exercise 4 (predict, run, explain): transfer gains most where labels are scarcest. With 20 labeled
# images a network from scratch cannot learn useful features (it scores far below the pretrained one);
# with 1,000 it learns its own and the pretrained head start all but disappears.
LABEL_BUDGET_PREDICTION = 20
