"""Exercises of notebook 02: the solutions pass, the usual slips fail with their hint."""

from toolkit.exercises.mnist_cnn import check_conv_params, check_precision_recall
from exercise_solutions import load_solutions

solution = load_solutions("02_mnist_cnn")


def test_placeholders_and_solutions():
    assert not check_precision_recall(...).answered and not check_conv_params(...).answered
    assert check_precision_recall(solution.precision_recall).passed
    assert check_conv_params(solution.conv_params).passed


def test_precision_recall_wrong_answers():
    assert "swapped" in check_precision_recall((0.8, 40 / 51)).message
    assert "accuracy" in check_precision_recall((135 / 160, 135 / 160)).message
    assert not check_precision_recall(0.5).passed  # not a pair: no exception


def test_conv_params_wrong_answers():
    assert "bias" in check_conv_params(3 * 3 * 32 * 64).hint
    assert "input channel" in check_conv_params(3 * 3 * 64 + 64).message


def _threshold_data():
    """20 true 9s and 80 other digits, with the model's probabilities built so that the counts are known.

    Argmax says 9 for all 20 true 9s and for 5 others (precision 20/25, recall 1); the strict rule
    (p(9) > 0.99) keeps 12 of the true 9s and 1 of the others (precision 12/13, recall 12/20).
    """
    import numpy as np

    labels = np.array([9] * 20 + [3] * 80)
    p9 = np.array([0.995] * 12 + [0.8] * 8 + [0.999] + [0.7] * 4 + [0.1] * 75)
    probs = np.zeros((100, 10))
    probs[:, 9] = p9
    probs[:, 3] = 1 - p9
    return labels, probs


def test_threshold_measurement_matches_a_hand_count():
    from toolkit.exercises.mnist_cnn import measure_threshold

    labels, probs = _threshold_data()
    runs = measure_threshold(labels, probs)
    assert runs["argmax"] == {"precision": 20 / 25, "recall": 1.0, "said": 25}
    assert runs["strict"]["said"] == 13
    assert abs(runs["strict"]["precision"] - 12 / 13) < 1e-12 and abs(runs["strict"]["recall"] - 12 / 20) < 1e-12


def test_threshold_prediction_solution_passes_and_explains():
    from toolkit.exercises.mnist_cnn import check_threshold_prediction

    labels, probs = _threshold_data()
    assert not check_threshold_prediction(..., y_true=labels, probs=probs).answered
    feedback = check_threshold_prediction(solution.threshold_prediction, y_true=labels, probs=probs)
    assert feedback.passed, feedback
    assert "0.800 → 0.923" in feedback.message and "1.000 → 0.600" in feedback.message


def test_threshold_prediction_wrong_answers_get_the_measurement_and_a_hint():
    from toolkit.exercises.mnist_cnn import check_threshold_prediction

    labels, probs = _threshold_data()
    swapped = check_threshold_prediction({"precision": "down", "recall": "up"}, y_true=labels, probs=probs)
    assert not swapped.passed and "Measured" in swapped.message
    assert "more of the true 9s" in swapped.hint and "wrong ones" in swapped.hint
    recall_only = check_threshold_prediction({"precision": "up", "recall": "same"}, y_true=labels, probs=probs)
    assert not recall_only.passed and "more of the true 9s" in recall_only.hint and "wrong ones" not in recall_only.hint


def test_threshold_prediction_follows_the_measurement_not_a_stored_answer():
    """With no false alarm to drop, precision stays 1.0: then "same" is right and "up" is not."""
    import numpy as np

    from toolkit.exercises.mnist_cnn import check_threshold_prediction

    labels, probs = _threshold_data()
    probs[20:25] = 0.0
    probs[20:25, 3] = 1.0  # no other digit is called 9 any more
    same = {"precision": "same", "recall": "down"}
    assert check_threshold_prediction(same, y_true=labels, probs=probs).passed
    assert not check_threshold_prediction(solution.threshold_prediction, y_true=labels, probs=probs).passed
    assert np.isclose(probs.sum(axis=1), 1).all()


def test_threshold_prediction_refuses_bad_answers_and_missing_data():
    from toolkit.exercises.mnist_cnn import check_threshold_prediction

    labels, probs = _threshold_data()

    class Always(dict):
        def __eq__(self, other):
            return True

    for bad in (Always(precision="up", recall="down"), {"precision": "up"}, {"precision": "higher", "recall": "down"},
                ("up", "down"), "up"):
        feedback = check_threshold_prediction(bad, y_true=labels, probs=probs)
        assert feedback.answered and not feedback.passed, bad
    no_data = check_threshold_prediction(solution.threshold_prediction)
    assert not no_data.passed and "y_true=y_val" in no_data.hint
    wrong_shape = check_threshold_prediction(solution.threshold_prediction, y_true=labels, probs=probs[:, :5])
    assert not wrong_shape.passed and "probs" in wrong_shape.message
