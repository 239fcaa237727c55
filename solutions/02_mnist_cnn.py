"""Solutions of the exercises of notebook 02 (for instructors and the checker tests)."""

# Class 1 of [[50, 2, 3], [4, 40, 6], [1, 9, 45]]: TP = 40, FP = 2 + 9, FN = 4 + 6.
precision_recall = (40 / 51, 40 / 50)

# Conv2D(64, 3x3) on 32 channels: 3*3*32 weights per filter, 64 filters, 64 biases.
conv_params = 3 * 3 * 32 * 64 + 64

# Exercise 3: "p(9) > 0.99" only ever says 9 where the argmax already did (0.99 > every other class), so it can
# only lose true 9s: recall goes down. The 9s it keeps are the ones the model is surest of, rarely wrong: precision
# goes up (measured on the validation set: 0.95 -> 1.00 and 0.95 -> 0.52 in fast mode).
threshold_prediction = {"precision": "up", "recall": "down"}
