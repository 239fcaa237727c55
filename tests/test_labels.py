"""toolkit.labels: every label and score shape, against scikit-learn and hand counts; and escaped HTML."""

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, confusion_matrix

from toolkit.diagnose.findings import Diagnosis
from toolkit.diagnose.remedies import finding
from toolkit.labels import MAX_INFERRED_CLASSES, class_indices, label_pair
from toolkit.metrics import classification_summary
from toolkit.plots import plot_confusion_matrix, plot_images

Y = np.array([0, 1, 1, 0, 1, 0])
#: sigmoid probabilities of class 1, and the class each stands for (threshold 0.5, as Keras's BinaryAccuracy)
P1 = np.array([0.9, 0.1, 0.8, 0.2, 0.7, 0.4])
P1_CLASS = np.array([1, 0, 1, 0, 1, 0])  # by hand: wrong, wrong, right, right, right, right


@pytest.mark.parametrize("y_true", [Y, Y[:, None], np.eye(2)[Y], Y.astype(bool)], ids=["n", "n1", "one-hot", "bool"])
@pytest.mark.parametrize(
    "y_pred, kwargs",
    [
        (P1_CLASS, {}),
        (P1_CLASS[:, None], {}),
        (P1, {}),
        (P1[:, None], {}),
        (np.c_[1 - P1, P1], {}),
        (np.log(P1 / (1 - P1))[:, None], {"from_logits": True}),  # the same predictions as logits
        (P1_CLASS.astype(bool), {}),
    ],
    ids=["labels-n", "labels-n1", "scores-n", "scores-n1", "probs-nk", "logits-n1", "bool"],
)
def test_every_label_shape_with_every_prediction_shape_matches_sklearn(y_true, y_pred, kwargs):
    s = classification_summary(y_true, y_pred, **kwargs)
    assert s.accuracy == pytest.approx(accuracy_score(Y, P1_CLASS)) == pytest.approx(4 / 6)
    np.testing.assert_array_equal(s.confusion, confusion_matrix(Y, P1_CLASS))
    assert s.confusion.tolist() == [[2, 1], [1, 2]]  # hand count


def test_the_issue_example_is_all_wrong_not_all_right():
    s = classification_summary([[0], [1], [1], [0]], [[0.9], [0.1], [0.2], [0.8]])
    assert s.accuracy == 0.0 and s.confusion.tolist() == [[0, 2], [2, 0]]


def test_logits_are_thresholded_at_zero_and_a_threshold_can_be_given():
    logits = np.array([[2.0], [-0.5], [0.3], [-3.0]])
    assert class_indices(logits, scores=True, from_logits=True).tolist() == [1, 0, 1, 0]
    assert class_indices(logits, scores=True, from_logits=True, threshold=0.5).tolist() == [1, 0, 0, 0]
    assert class_indices(P1, scores=True, threshold=0.75).tolist() == [1, 0, 1, 0, 0, 0]


def test_n1_whole_numbers_are_class_labels_as_in_cifar10():
    y = np.array([[3], [7], [0]])  # keras.datasets.cifar10 labels are (n, 1)
    assert class_indices(y).tolist() == [3, 7, 0]
    yt, yp, k = label_pair(y, np.eye(10)[[3, 1, 0]])
    assert (yt.tolist(), yp.tolist(), k) == ([3, 7, 0], [3, 1, 0], 10)


@pytest.mark.parametrize(
    "y_true, y_pred, kwargs, match",
    [
        ([0, 1], [[2.5], [-1.5]], {}, "from_logits=True"),  # logits passed as probabilities
        ([0, 1], [[0.9], [-0.3]], {}, r"outside \[0, 1\].*from_logits=True"),
        ([0, 1, 10**9], [0, 1, 1], {}, f"more than {MAX_INFERRED_CLASSES}"),
        ([0, 1, 2], [[0.9], [0.1], [0.2]], {}, "label 2.*2 classes"),  # binary scores, a third class
        ([0.5, 1], [0, 1], {}, "whole-number"),
        ([[1, 1, 0], [0, 1, 0]], [0, 1], {}, "not one-hot"),
        (np.eye(3)[[0, 1]], np.eye(4)[[0, 1]], {}, "different numbers of classes"),
        ([0, 1], [[0.2, 0.8], [0.1, 0.9]], {"threshold": 0.3}, "threshold"),
        ([0, 1], [[0.2], [0.8]], {"threshold": 1.5}, "threshold"),
        ([0, 1], [[0.2], [0.8]], {"from_logits": "yes"}, "from_logits"),
        ([0, 3], [0, 1], {"class_names": ["a", "b"]}, r"label 3.*class_names.*Received: class_names=\['a', 'b'\]"),
    ],
)
def test_impossible_or_ambiguous_input_is_refused_in_words(y_true, y_pred, kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        classification_summary(y_true, y_pred, **kwargs)


def test_a_huge_label_is_refused_before_anything_is_allocated():
    import tracemalloc

    tracemalloc.start()
    with pytest.raises(ValueError, match="1000000000"):
        classification_summary([0, 1, 10**9], [0, 1, 1])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 50e6, f"{peak / 1e6:.0f} MB allocated before refusing"
    # with enough classes named, a big label is fine
    assert class_indices([0, 1500], num_classes=2000).tolist() == [0, 1500]


def test_confusion_matrix_plot_counts_sigmoid_scores_with_n1_labels():
    display = plot_confusion_matrix(Y[:, None], P1[:, None])
    np.testing.assert_array_equal(display.confusion_matrix, confusion_matrix(Y, P1_CLASS))
    shown = [[display.text_[i, j].get_text() for j in range(2)] for i in range(2)]
    assert shown == [["2", "1"], ["1", "2"]]
    logits = plot_confusion_matrix(Y, np.log(P1 / (1 - P1))[:, None], from_logits=True)
    np.testing.assert_array_equal(logits.confusion_matrix, display.confusion_matrix)


def test_image_titles_read_sigmoid_scores_and_n1_labels():
    display = plot_images(np.zeros((6, 4, 4)), Y[:, None], predictions=P1[:, None], class_names=["cat", "dog"])
    assert [a.get_title() for a in display.axes_] == ["cat→dog", "dog→cat", "dog→dog", "cat→cat", "dog→dog", "cat→cat"]


def test_training_doctor_reads_n1_binary_labels_without_inventing_a_class():
    from toolkit.diagnose import TrainingDoctor

    doctor = TrainingDoctor(validation_data=(np.zeros((4, 3)), np.array([[0], [1], [1], [0]])), verbose=False)
    assert doctor.validation_data[1].tolist() == [0, 1, 1, 0]


HOSTILE = "<img src=x onerror=alert(1)>"


def test_class_names_are_escaped_in_html():
    html = classification_summary([0, 1], [0, 1], class_names=[HOSTILE, "b&c"])._repr_html_()
    assert HOSTILE not in html and "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "b&amp;c" in html


def test_diagnosis_markdown_escapes_its_texts():
    report = Diagnosis([finding("overfitting", "medium", f"evidence {HOSTILE}")], notes=[HOSTILE])
    text = report._repr_markdown_()
    assert "<img" not in text and "&lt;img" in text
