"""Solutions of the exercises of notebook 01 (for instructors and the checker tests)."""

import math

import numpy as np


def perceptron_update(w, b, x, y, lr):
    y_hat = int(np.dot(w, x) + b > 0)
    error = y - y_hat
    return w + lr * error * x, b + lr * error


neuron_output = round(1 / (1 + math.exp(-(1.0 * 0.5 + 2.0 * -0.25 + -1.0 * 1.0 + 0.5))), 3)

# Exercise 3: from w = 0, b = 0 the learning rate scales w and b together; the sign of w·x + b, and so every
# prediction and every mistake, is the same at eta = 0.01, 0.1 and 1.0.
learning_rate_prediction = "same"
