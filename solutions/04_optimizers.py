"""Solutions to the exercises of notebook 04 (optimizers)."""

import numpy as np


def adam_step(theta, grad, m, v, t, lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    """One Adam step as keras.optimizers.Adam computes it. Returns (theta, m, v)."""
    m = beta_1 * m + (1 - beta_1) * grad
    v = beta_2 * v + (1 - beta_2) * grad**2
    # Bias correction, as Keras writes it: both factors folded into the step size, and epsilon
    # added to sqrt(v). (Kingma & Ba's m_hat / (sqrt(v_hat) + epsilon) passes the check too.)
    alpha = lr * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
    theta = theta - alpha * m / (np.sqrt(v) + epsilon)
    return theta, m, v


def adagrad_step(theta, grad, accumulator, lr=0.001, epsilon=1e-7):
    """One step of keras.optimizers.Adagrad. Returns (theta, accumulator)."""
    accumulator = accumulator + grad**2  # the sum of ALL past squared gradients: it only grows
    return theta - lr * grad / np.sqrt(accumulator + epsilon), accumulator


# Exercise 3 (predict, run, explain): with alpha = 0.95 the point rolls over the bump into the deep
# well, climbs its far wall with speed to spare (only 5% of the velocity is lost per step, against 10%
# at alpha = 0.9), comes back over the bump and settles in the shallow minimum. More momentum is less
# friction, not a better optimizer.
MOMENTUM_PREDICTION = "shallow"
