"""toolkit.metrics.expected_calibration_error against a hand count and scikit-learn's calibration_curve."""

import numpy as np
import pytest
from sklearn.calibration import calibration_curve

from toolkit.metrics import expected_calibration_error


def test_two_predictions_by_hand():
    # 0.9 right (gap 0.1) and 0.6 wrong (gap 0.6), half the samples each
    assert expected_calibration_error([0, 1], [[0.9, 0.1], [0.6, 0.4]]) == pytest.approx(0.35)


def test_a_calibrated_model_scores_near_zero_and_an_overconfident_one_does_not():
    rng = np.random.default_rng(0)
    n = 20000
    confidence = rng.uniform(0.5, 1.0, n)
    right = rng.uniform(size=n) < confidence  # right exactly as often as it says
    p = np.stack([confidence, 1 - confidence], axis=1)
    y = np.where(right, 0, 1)
    assert expected_calibration_error(y, p) < 0.02
    sure = np.stack([np.full(n, 0.99), np.full(n, 0.01)], axis=1)  # says 99 %, right ~75 % of the time
    assert expected_calibration_error(y, sure) == pytest.approx(0.99 - np.mean(right), abs=1e-9)


def test_matches_scikit_learn_binning():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(3000, 4)) * 2
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = rng.integers(0, 4, 3000)
    confidence, correct = p.max(axis=1), (p.argmax(axis=1) == y)
    # scikit-learn bins by [lo, hi) edges over [0, 1]; with no confidence on an edge the bins agree
    assert np.min(np.abs(confidence * 10 - np.round(confidence * 10))) > 1e-9
    accuracy, mean_conf = calibration_curve(correct, confidence, n_bins=10, strategy="uniform")
    counts = np.histogram(confidence, bins=np.linspace(0, 1, 11))[0]
    expected = np.sum(counts[counts > 0] / len(y) * np.abs(accuracy - mean_conf))
    assert expected_calibration_error(y, p) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize(
    "y, p, bins, error",
    [
        ([0, 1], [[0.5, 0.5]], 10, ValueError),
        ([0], [[0.7, 0.7]], 10, ValueError),
        ([2], [[0.5, 0.5]], 10, ValueError),
        ([0], [[0.5, 0.5]], 0, ValueError),
        ([0], [[0.5, 0.5]], 2.5, ValueError),
        ([0], [0.5, 0.5], 10, ValueError),
    ],
)
def test_bad_arguments(y, p, bins, error):
    with pytest.raises(error):
        expected_calibration_error(y, p, bins=bins)
