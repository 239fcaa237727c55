"""Solutions to the exercises of notebook 03 (initialization and unstable gradients)."""

import math

# Exercise 1: HeNormal for Dense(256) on 784 input pixels: variance 2 / fan_in.
he_std = math.sqrt(2 / 784)

# Exercise 2: Conv2D(64, 3×3) on 32 input channels: each output sums over 3·3·32 inputs.
conv_he_std = math.sqrt(2 / (3 * 3 * 32))

# Exercise 3: the lecture's table.
initializer_choice = {
    "relu": "he",
    "leaky_relu": "he",
    "elu": "he",
    "tanh": "glorot",
    "sigmoid": "glorot",
    "selu": "lecun",
}

# Exercise 4: at lr 0.3 (30x) the plain He + ReLU net diverges (its loss overflows to NaN), while BatchNorm
# re-normalizes every layer's input at each step, so the BN net still trains.
bn_lr_prediction = "only with BN"
