import numpy as np
import pytest
from sklearn.metrics import f1_score, precision_score, recall_score

from toolkit.metrics import classification_summary, iou


def test_summary_matches_sklearn_and_hand_counts():
    y_true = np.array([0, 0, 1, 1, 1, 2, 2, 2, 2, 0])
    y_pred = np.array([0, 1, 1, 1, 0, 2, 2, 1, 2, 0])
    s = classification_summary(y_true, y_pred)
    np.testing.assert_allclose(s.precision, precision_score(y_true, y_pred, average=None))
    np.testing.assert_allclose(s.recall, recall_score(y_true, y_pred, average=None))
    np.testing.assert_allclose(s.f1, f1_score(y_true, y_pred, average=None))
    assert s.support.tolist() == [3, 3, 4]
    assert s.accuracy == pytest.approx(0.7)
    # class 1 by hand: TP=2, FP=2, FN=1
    assert s.precision[1] == pytest.approx(2 / 4) and s.recall[1] == pytest.approx(2 / 3)
    assert s.confusion[1].tolist() == [1, 2, 0]


def test_summary_takes_scores_and_one_hot():
    y_true = np.eye(3)[[0, 1, 2]]
    scores = np.array([[0.8, 0.1, 0.1], [0.3, 0.6, 0.1], [0.5, 0.2, 0.3]])
    s = classification_summary(y_true, scores)
    assert s.confusion.shape == (3, 3) and s.accuracy == pytest.approx(2 / 3)


def test_number_of_classes_comes_from_names_then_width_then_labels():
    assert len(classification_summary([0, 1], [0, 1], class_names=["a", "b", "c"]).recall) == 3
    assert len(classification_summary([0, 1], np.eye(4)[[0, 1]]).recall) == 4
    assert len(classification_summary([0, 4], [0, 4]).recall) == 5


def test_zero_division_is_zero_not_a_warning():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = classification_summary([0, 0, 1], [0, 0, 0])
    assert s.precision[1] == 0.0 and s.recall[1] == 0.0


def test_one_class_y_true():
    s = classification_summary([1, 1, 1], [1, 1, 0], class_names=["a", "b"])
    assert s.support.tolist() == [0, 3] and s.recall[1] == pytest.approx(2 / 3)


def test_summary_renders_as_table():
    s = classification_summary([0, 1, 1], [0, 1, 0], class_names=["cat", "dog"])
    html = s._repr_html_()
    assert "<table>" in html and "cat" in html and "precision" in html
    assert "accuracy" in str(s) and "dog" in str(s)
    disp = s.plot()
    assert [t.get_text() for t in disp.ax_.get_xticklabels()] == ["cat", "dog"]


@pytest.mark.parametrize(
    "y_true, y_pred, kwargs, exc, match",
    [
        ([0, 1], [0], {}, ValueError, "same length"),
        ([-1, 1], [0, 1], {}, ValueError, "y_true.*>= 0"),
        ([0, 3], [0, 1], {"class_names": ["a", "b"]}, ValueError, "outside"),
        ([0.5, 1], [0, 1], {}, ValueError, "whole-number"),
        ([], [], {}, ValueError, "empty"),
        ("ab", [0, 1], {}, TypeError, "y_true"),
        ([0, 1], [0, np.nan], {}, ValueError, "NaN"),
        ([0, 1], [0, 1], {"class_names": "ab"}, TypeError, "class_names"),
    ],
)
def test_summary_bad_input(y_true, y_pred, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        classification_summary(y_true, y_pred, **kwargs)


def test_iou_worked_examples():
    assert iou((0, 0, 2, 2), (1, 1, 3, 3)) == pytest.approx(1 / 7)
    assert iou((0, 0, 2, 2), (0, 0, 2, 2)) == pytest.approx(1.0)
    assert iou((0, 0, 1, 1), (2, 2, 3, 3)) == 0.0
    assert iou((0, 0, 4, 4), (1, 1, 2, 2)) == pytest.approx(1 / 16)


@pytest.mark.parametrize(
    "box, match",
    [((2, 0, 1, 1), "x_max >= x_min"), ((0, 0, 1), r"\(x_min"), ((0, np.nan, 1, 1), "NaN"), ("box", "box_a")],
)
def test_iou_bad_boxes(box, match):
    with pytest.raises((ValueError, TypeError), match=match):
        iou(box, (0, 0, 1, 1))
