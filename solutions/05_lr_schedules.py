"""Solutions to the exercises of notebook 05 (learning-rate schedules).

For instructors: ``tests/test_exercises_05.py`` runs every checker of
``toolkit.exercises.lr_schedules`` against these answers.
"""

import math

import numpy as np


def lr_from_finder(lrs, losses):
    """Exercise 1: about ten times below the learning rate at the curve's minimum.

    The minimum of the smoothed loss is the edge of divergence; an order of
    magnitude lower the loss still falls steeply. The first 10% of the
    points (single noisy batches at a negligible rate) are not a minimum.
    """
    lrs, losses = np.asarray(lrs), np.asarray(losses)
    skip = len(losses) // 10
    return float(lrs[skip + np.argmin(losses[skip:])] / 10)


# Exercise 2: ExponentialDecay(0.05, decay_steps=1000, decay_rate=0.1) at step 2500:
# eta(t) = eta0 * rate ** (t / s), with the fraction t / s (Keras's default, staircase=False).
EXPONENTIAL_DECAY_LR = 0.05 * 0.1 ** (2500 / 1000)

# Exercise 3: 60,000 images, batches of 128, 10 epochs: one step per batch, the last
# partial batch included, for every epoch.
ONECYCLE_TOTAL_STEPS = 10 * math.ceil(60000 / 128)

# Exercise 4 (predict, run, explain): batch 512 survived lr = 1 because its averaged gradient is less noisy,
# but the largest stable step is set by the curvature of the loss, which a larger batch does not change:
# at lr = 3 the steps overshoot and the run ends near chance (measured in fast mode: 10-19% validation
# accuracy over three seeds).
LARGE_BATCH_PREDICTION = "diverges"
