"""Solutions to the exercises of notebook 08 (diagnosing training).

For instructors: ``tests/test_exercises_08.py`` runs every checker of
``toolkit.exercises.diagnosing`` against these answers.
"""

# Exercise 1: the four mystery curves.
# A: the training loss falls towards 0 while val_loss turns and climbs after epoch 5.
# B: a straight, slow fall from the loss of guessing (2.30), not slowing down: steps too small.
# C: a quick drop to a flat line near 2.30, the loss of guessing: the model cannot fit the data.
# D: the training loss itself turns and climbs every epoch, 45% per epoch.
NAME_THE_PROBLEM = {"A": "overfitting", "B": "lr_too_low", "C": "underfitting", "D": "diverging"}

# Exercise 2: recall = diagonal / row sum; class 2 has recall 38/100 and its column sums to 42 for
# 100 true samples: the model avoids it. Class 4 is rarer (30 samples) but recognised (28/30).
AVOIDED_CLASS = 2


def class_weights(counts):
    """Exercise 3: scikit-learn's 'balanced' weights, n_samples / (n_classes * count)."""
    total, k = sum(counts), len(counts)
    return {c: total / (k * n) for c, n in enumerate(counts)}

# Exercise 4: only the training labels are bad (40% shuffled), the validation labels are true. A model that
# learns the real digits agrees with a training label only where the label is right: 60% untouched, plus the
# tenth of the shuffled 40% that land on the right digit by chance, 0.6 + 0.4 * 0.1 = 0.64. The clean
# validation labels score the same model about 0.9: training accuracy far below validation accuracy.
SHUFFLED_LABELS_PREDICTION = {"doctor": "train_val_mismatch", "train_accuracy": 0.6 + 0.4 * 0.1}
