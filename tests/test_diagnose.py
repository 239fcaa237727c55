"""toolkit.diagnose: the report, the confusion-matrix and monitor rules, bad input, the CSV reader and CLI.

The curve rules are tested in tests/test_diagnose_curves.py.
"""

import csv
import itertools
import math
import subprocess
import sys

import numpy as np
import pytest

from toolkit.diagnose import REMEDIES, SEVERITIES, VOCABULARY, Diagnosis, Finding, diagnose, diagnose_confusion, read_history_csv
from toolkit.diagnose import confusion as confusion_rules
from toolkit.diagnose import layers

HEALTHY = {"loss": [2.0, 1.0, 0.6, 0.4, 0.3, 0.25], "val_loss": [1.5, 0.9, 0.6, 0.45, 0.4, 0.38]}
# The lecture's three multi-class confusion matrices (rows true A-D, columns predicted).
LECTURE_IDEAL = np.diag([100, 100, 100, 100])
LECTURE_UNIFORM = np.array([[23, 29, 36, 24], [18, 17, 15, 34], [38, 39, 30, 26], [21, 15, 19, 16]])
LECTURE_PAIR = np.array([[93, 1, 5, 13], [4, 89, 5, 3], [1, 7, 42, 39], [2, 1, 46, 40]])
LECTURE_EXAMPLE = np.array([[93, 1, 5, 13], [4, 89, 5, 3], [1, 7, 88, 5], [2, 1, 2, 79]])


# The vocabulary, findings and the report ---------------------------------------------------------


def test_the_vocabulary_is_the_designs():
    assert VOCABULARY == (
        "healthy", "overfitting", "underfitting", "diverging", "lr_too_low", "noisy", "nan",
        "train_val_mismatch", "vanishing_gradients", "exploding_gradients", "dead_units",
        "class_imbalance", "class_confusion",
    )


@pytest.mark.parametrize("problem", VOCABULARY)
def test_every_problem_has_at_least_two_remedies(problem):
    assert len(REMEDIES[problem]) >= 2 and all(isinstance(r, str) and len(r) > 10 for r in REMEDIES[problem])


def test_remedies_follow_the_lecture():
    text = " ".join(REMEDIES["overfitting"]).lower()
    assert all(w in text for w in ("augmentation", "dropout", "regulariz", "early", "less complex"))
    text = " ".join(REMEDIES["vanishing_gradients"]).lower()
    assert all(w in text for w in ("relu", "batchnormalization", "he ", "residual"))
    assert "class_weight" in " ".join(REMEDIES["class_imbalance"])
    assert "clip" in " ".join(REMEDIES["exploding_gradients"])


def test_a_finding_checks_itself():
    with pytest.raises(ValueError, match="problem"):
        Finding("sick", "high", "x", ("a", "b"))
    with pytest.raises(ValueError, match="severity"):
        Finding("nan", "urgent", "x", ("a", "b"))
    with pytest.raises(ValueError, match="two remedies"):
        Finding("nan", "high", "x", ("a",))
    with pytest.raises(ValueError, match="healthy"):
        Finding("healthy", "high", "x", ("a", "b"))
    with pytest.raises(ValueError, match="evidence"):
        Finding("nan", "high", " ", ("a", "b"))


def test_healthy_is_reported_alone():
    sick = Finding("nan", "high", "loss became NaN", REMEDIES["nan"])
    well = Finding("healthy", "none", "fine", REMEDIES["healthy"])
    with pytest.raises(ValueError, match="alone"):
        Diagnosis([sick, well])
    with pytest.raises(ValueError, match="once"):
        Diagnosis([sick, sick])
    with pytest.raises(ValueError, match="at least one"):
        Diagnosis([])


def test_findings_come_most_severe_first():
    low = Finding("noisy", "low", "a", REMEDIES["noisy"])
    high = Finding("overfitting", "high", "b", REMEDIES["overfitting"])
    medium = Finding("nan", "medium", "c", REMEDIES["nan"])
    assert Diagnosis([low, medium, high]).problems == ["overfitting", "nan", "noisy"]
    assert Diagnosis([low, medium, high]).severity == "high"


def test_the_report_reads_as_text_and_markdown():
    hist = {"loss": [1.0, 0.6, 0.4, 0.3, 0.2, 0.15, 0.1, 0.08], "val_loss": [1.0, 0.7, 0.55, 0.5, 0.56, 0.62, 0.68, 0.72]}
    report = diagnose(hist)
    text = str(report)
    assert text.startswith("Training doctor: overfitting (8 epochs)")
    assert "val_loss rose" in text and "Try:" in text and "dropout" in text
    md = report._repr_markdown_()
    assert "**`overfitting`**" in md and "val_loss rose" in md and "<script" not in md
    assert "overfitting" in report and report["overfitting"].problem == "overfitting"
    assert len(report) == len(list(report)) == 1
    assert "Diagnosis(problems=['overfitting']" in repr(report)
    with pytest.raises(KeyError, match="not found"):
        report["nan"]


def test_every_finding_uses_the_vocabulary_and_has_evidence_with_numbers():
    hist = {"loss": [2.3, 1.4, 1.0, 6.0, 80.0, math.nan], "val_loss": [2.0, 1.5, 1.2, 5.0, 60.0, math.nan]}
    for finding in diagnose(hist):
        assert finding.problem in VOCABULARY and finding.severity in SEVERITIES
        assert any(ch.isdigit() for ch in finding.evidence)
        assert len(finding.remedies) >= 2


def test_a_keras_history_is_read_with_its_epoch_numbers():
    class FakeHistory:  # what keras.callbacks.History offers: .history and .epoch
        history = {"loss": [1.0, 0.6, 0.4, 0.3, 0.2, 0.15, 0.1, 0.08], "val_loss": [1.0, 0.7, 0.55, 0.5, 0.56, 0.62, 0.68, 0.72]}
        epoch = list(range(10, 18))  # resumed at epoch 10

    assert "(0.5 at epoch 14;" in diagnose(FakeHistory())["overfitting"].evidence


# Bad input ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "history,error,match",
    [
        ({}, ValueError, "empty"),
        ({"val_loss": [1.0, 0.5]}, ValueError, "no 'loss' key"),
        # 2 val_loss values for 3 epochs: no validation_freq writes that (k=2 gives 1, k=1 gives 3)
        ({"loss": [1.0, 0.5, 0.4], "val_loss": [1.0, 0.5]}, ValueError, "no fit\\(validation_freq=k\\) writes"),
        ({"loss": [1.0, 0.5, 0.4], "accuracy": [0.5, 0.6]}, ValueError, "one value per epoch"),
        ([1.0, 0.5], TypeError, "History or a dict"),
        ("history.csv", ValueError, "not a file"),  # a string is the path of a CSVLogger/JSON file
        (None, TypeError, "History or a dict"),
        ({"loss": []}, ValueError, "empty"),
        ({"loss": [[1.0, 2.0]]}, ValueError, "flat list"),
        ({"loss": 0.5}, TypeError, "list of per-epoch values"),
        ({"loss": ["a", "b"]}, TypeError, "must hold numbers"),
    ],
)
def test_bad_histories_get_clear_errors(history, error, match):
    with pytest.raises(error, match=match):
        diagnose(history)


@pytest.mark.parametrize(
    "confusion,error,match",
    [
        (np.ones((3, 4)), ValueError, "square"),
        (np.ones(4), ValueError, "dimension"),
        ([[5]], ValueError, "at least 2 classes"),
        ([[1, -1], [0, 3]], ValueError, ">= 0"),
        ([[0, 0], [0, 0]], ValueError, "all zeros"),
        ([[1, np.nan], [0, 3]], ValueError, "NaN"),
        ("matrix", TypeError, "array-like"),
    ],
)
def test_bad_confusion_matrices_get_clear_errors(confusion, error, match):
    with pytest.raises(error, match=match):
        diagnose(HEALTHY, confusion=confusion)


def test_bad_num_classes_get_clear_errors():
    with pytest.raises(ValueError, match="num_classes"):
        diagnose(HEALTHY, num_classes=1)
    with pytest.raises(TypeError, match="num_classes"):
        diagnose(HEALTHY, num_classes=2.5)
    with pytest.raises(ValueError, match="match"):
        diagnose(HEALTHY, confusion=np.eye(3), num_classes=4)


# Confusion matrices -----------------------------------------------------------------------------------


def _row(k, i, recall, to=None):
    """A row of probabilities: ``recall`` on the diagonal, the rest spread (or all on class ``to``)."""
    p = np.full(k, (1 - recall) / (k - 1))
    if to is not None:
        p[:] = 0.0
        p[to] = 1 - recall
    p[i] = recall
    return p


def _matrix(k, rows, n=100, seed=0):
    rng = np.random.default_rng(seed)
    return np.stack([rng.multinomial(n if not isinstance(n, dict) else n.get(i, 100), rows.get(i, _row(k, i, 0.96)))
                     for i in range(k)]).astype(float)


@pytest.mark.parametrize("k,seed", list(itertools.product((2, 4, 10), (0, 1, 2))))
def test_a_strong_diagonal_is_healthy(k, seed):
    cm = _matrix(k, {}, seed=seed)
    assert confusion_rules.read_confusion(cm) == []
    assert diagnose(HEALTHY, confusion=cm).problems == ["healthy"]


@pytest.mark.parametrize("k,seed", list(itertools.product((3, 4, 10), (0, 1, 2))))
def test_a_near_uniform_matrix_is_underfitting(k, seed):
    cm = _matrix(k, {i: np.full(k, 1 / k) for i in range(k)}, seed=seed)
    report = diagnose(HEALTHY, confusion=cm)
    assert report.problems == ["underfitting"], str(report)
    assert "near-uniform" in report["underfitting"].evidence


@pytest.mark.parametrize("k,i,j,rate", [(4, 2, 3, 0.45), (10, 4, 9, 0.3), (10, 3, 8, 0.4), (3, 0, 1, 0.35)])
@pytest.mark.parametrize("seed", (0, 1))
def test_two_classes_mistaken_for_each_other_are_class_confusion(k, i, j, rate, seed):
    cm = _matrix(k, {i: _row(k, i, 1 - rate, to=j), j: _row(k, j, 1 - rate, to=i)}, seed=seed)
    report = diagnose(HEALTHY, confusion=cm)
    assert report.problems == ["class_confusion"], str(report)
    assert f"classes {i} and {j}" in report["class_confusion"].evidence


def test_a_hard_class_with_spread_errors_is_not_confusion_nor_imbalance():
    k = 10
    # class 5 is hard (recall 0.8) and other classes are often predicted as 5 too: no pair, not avoided
    rows = {5: _row(k, 5, 0.8)}
    rows.update({c: _row(k, c, 0.95, to=5) for c in (1, 2, 3)})
    assert confusion_rules.read_confusion(_matrix(k, rows)) == []


@pytest.mark.parametrize("k,c", [(10, 3), (10, 8), (4, 0)])
@pytest.mark.parametrize("seed", (0, 1))
def test_a_rare_class_with_low_recall_is_class_imbalance(k, c, seed):
    cm = _matrix(k, {c: _row(k, c, 0.3)}, n={c: 12}, seed=seed)
    report = diagnose(HEALTHY, confusion=cm)
    assert "class_imbalance" in report, str(report)
    assert f"class {c} has recall" in report["class_imbalance"].evidence


@pytest.mark.parametrize("recall", (0.2, 0.4, 0.55))
def test_a_class_the_model_avoids_is_class_imbalance_even_in_a_balanced_matrix(recall):
    k = 10
    cm = _matrix(k, {8: _row(k, 8, recall)})  # errors spread over the others: class 8 is rarely predicted
    report = diagnose(HEALTHY, confusion=cm)
    assert report.problems == ["class_imbalance"], str(report)
    assert "predicted only" in report["class_imbalance"].evidence


def test_a_rare_class_that_is_recognised_is_not_imbalance():
    k = 10
    assert "class_imbalance" not in diagnose(HEALTHY, confusion=_matrix(k, {3: _row(k, 3, 0.95)}, n={3: 10}))


def test_the_lectures_confusion_matrices():
    assert diagnose(HEALTHY, confusion=LECTURE_IDEAL).problems == ["healthy"]
    assert diagnose(HEALTHY, confusion=LECTURE_UNIFORM).problems == ["underfitting"]
    pair = diagnose(HEALTHY, confusion=LECTURE_PAIR)
    assert pair.problems == ["class_confusion"]
    assert "classes 2 and 3" in pair["class_confusion"].evidence  # C and D of the slide
    assert diagnose(HEALTHY, confusion=LECTURE_EXAMPLE).problems == ["healthy"]


@pytest.mark.parametrize("present", (1, 3))
def test_classes_missing_from_the_matrix_are_a_mismatch_not_underfitting(present):
    cm = np.zeros((4, 4))
    cm[range(present), range(present)] = 100  # every sample right, but classes are missing
    for report in (diagnose(HEALTHY, confusion=cm), diagnose_confusion(cm)):
        assert report.problems == ["train_val_mismatch"], str(report)
        assert report["train_val_mismatch"].severity == ("high" if present == 1 else "medium")
        assert f"{present} of 4 classes present" in report["train_val_mismatch"].evidence


def test_a_confusion_matrix_is_read_alone():
    assert diagnose_confusion(LECTURE_IDEAL).problems == ["healthy"]
    assert str(diagnose_confusion(LECTURE_IDEAL)).startswith("Training doctor: healthy\n")
    assert diagnose_confusion(LECTURE_UNIFORM).problems == ["underfitting"]
    assert diagnose_confusion(LECTURE_PAIR).problems == ["class_confusion"]
    with pytest.raises(ValueError, match="square"):
        diagnose_confusion(np.ones((2, 3)))


def test_kappa_matches_scikit_learn():
    from sklearn.metrics import cohen_kappa_score

    cm = LECTURE_PAIR
    y_true = np.repeat(np.arange(4), cm.sum(axis=1))
    y_pred = np.concatenate([np.repeat(np.arange(4), row) for row in cm])
    assert confusion_rules.kappa(cm.astype(float)) == pytest.approx(cohen_kappa_score(y_true, y_pred))


def test_confusion_gives_the_number_of_classes():
    hist = {"loss": [1.4, 1.39, 1.4, 1.39, 1.4], "accuracy": [0.25, 0.26, 0.25, 0.25, 0.26]}
    report = diagnose(hist, confusion=LECTURE_UNIFORM)  # 4 classes: chance 0.25, ln 4 = 1.39
    assert "chance 0.25" in report["underfitting"].evidence


def test_per_class_rules_wait_until_the_model_fits_its_training_data():
    hist = {"loss": [2.3, 2.0, 1.9, 1.85, 1.84, 1.84], "accuracy": [0.1, 0.2, 0.25, 0.26, 0.26, 0.26]}
    report = diagnose(hist, confusion=LECTURE_PAIR)  # a pair is confused, but the model fits nothing yet
    assert report.problems == ["underfitting"]
    assert any("per-class rules" in note for note in report.notes)


# Monitors: gradients and dead units -------------------------------------------------------------------


def _monitored(n=6, *, first=0.1, last=0.2, growth=1.0, dead=0.0, every=1, names=("dense", "dense_1", "dense_2", "output")):
    hist = dict(HEALTHY) if n == 6 else {"loss": list(np.linspace(2, 0.3, n))}
    for idx, name in enumerate(names):
        norm = first * (last / first) ** (idx / (len(names) - 1))
        values = norm * growth ** (np.arange(n) / max(n - 1, 1))
        values = np.where(np.arange(n) % every == every - 1, values, np.nan)
        hist[f"grad_norm/{name}"] = values
        if name != "output":
            hist[f"dead_fraction/{name}"] = np.where(np.arange(n) % every == every - 1, dead if idx == 1 else 0.0, np.nan)
            hist[f"act_std/{name}"] = np.full(n, 0.5)
    return hist


@pytest.mark.parametrize("ratio", (1e-2, 1e-3, 1e-6, 1e-11))
@pytest.mark.parametrize("every", (1, 2))
def test_first_layer_gradients_orders_below_the_last_are_vanishing(ratio, every):
    report = diagnose(_monitored(first=0.2 * ratio, last=0.2, every=every))
    assert "vanishing_gradients" in report, str(report)
    assert report["vanishing_gradients"].severity == ("high" if ratio <= layers.VANISHING_SEVERE else "medium")
    assert "'dense'" in report["vanishing_gradients"].evidence and "'output'" in report["vanishing_gradients"].evidence


@pytest.mark.parametrize("first,last", [(0.1, 0.2), (0.05, 0.3), (0.4, 0.1), (0.003, 0.2)])
def test_gradients_within_an_order_or_two_are_not_vanishing_nor_exploding(first, last):
    report = diagnose(_monitored(first=first, last=last))
    assert "vanishing_gradients" not in report and "exploding_gradients" not in report


@pytest.mark.parametrize("growth", (1e2, 1e4, 1e8))
def test_gradient_norms_growing_by_orders_of_magnitude_are_exploding(growth):
    report = diagnose(_monitored(growth=growth, n=8))
    assert "exploding_gradients" in report, str(report)
    assert "grew" in report["exploding_gradients"].evidence


@pytest.mark.parametrize("growth", (0.01, 0.5, 3.0, 20.0))
def test_gradient_norms_that_drift_are_not_exploding(growth):
    assert "exploding_gradients" not in diagnose(_monitored(growth=growth, n=8))


def test_gradients_growing_towards_the_input_or_overflowing_are_exploding():
    assert "exploding_gradients" in diagnose(_monitored(first=50.0, last=0.1))
    hist = _monitored()
    hist["grad_norm/dense"] = [0.1, 0.2, 1.0, 10.0, np.inf, np.inf]
    report = diagnose(hist)
    assert "exploding_gradients" in report and "inf" in report["exploding_gradients"].evidence


@pytest.mark.parametrize("dead,severity", [(0.55, "medium"), (0.8, "medium"), (0.95, "high"), (1.0, "high")])
def test_most_units_dead_is_dead_units(dead, severity):
    report = diagnose(_monitored(dead=dead, every=2))
    assert "dead_units" in report and report["dead_units"].severity == severity
    assert f"{100 * dead:.0f}% of 'dense_1'" in report["dead_units"].evidence


@pytest.mark.parametrize("dead", (0.0, 0.1, 0.5))
def test_a_few_dead_units_are_fine(dead):
    assert diagnose(_monitored(dead=dead)).problems == ["healthy"]


def test_csv_column_order_is_read_naturally():
    names = ["dense", "dense_1", "dense_10", "dense_2"]  # sorted as CSVLogger writes them
    assert layers._order(names) == ["dense", "dense_1", "dense_2", "dense_10"]
    assert layers._order(["output", "dense"]) == ["output", "dense"]  # model order is kept


# The CSV reader and the command line --------------------------------------------------------------------


def _write_csv(path, history):
    keys = sorted(history)
    with open(path, "w", newline="") as handle:  # the format of keras.callbacks.CSVLogger
        writer = csv.writer(handle)
        writer.writerow(["epoch", *keys])
        for i in range(len(history["loss"])):
            writer.writerow([i, *(history[k][i] for k in keys)])


def test_read_history_csv_reads_what_csvlogger_writes(tmp_path):
    import keras

    path = tmp_path / "history.csv"
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    x = np.arange(16, dtype="float32").reshape(8, 2) / 16
    model.fit(x, x[:, :1], epochs=3, verbose=0, validation_split=0.25, callbacks=[keras.callbacks.CSVLogger(str(path))])
    history = read_history_csv(path)
    assert history.epochs.tolist() == [1, 2, 3]
    assert len(history["loss"]) == len(history["val_loss"]) == 3
    assert diagnose(history).epochs == 3


def test_read_history_csv_keeps_nan_and_refuses_bad_files(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("epoch,loss\n0,2.3\n1,nan\n")
    assert math.isnan(read_history_csv(path)["loss"][1])
    with pytest.raises(ValueError, match="not a file"):
        read_history_csv(tmp_path / "missing.csv")
    with pytest.raises(TypeError, match="file path"):
        read_history_csv(3)
    (tmp_path / "empty.csv").write_text("epoch,loss\n")
    with pytest.raises(ValueError, match="no epochs"):
        read_history_csv(tmp_path / "empty.csv")
    (tmp_path / "bad.csv").write_text("epoch,loss\n0,abc\n")
    with pytest.raises(ValueError, match="not a number"):
        read_history_csv(tmp_path / "bad.csv")
    (tmp_path / "ragged.csv").write_text("epoch,loss\n0,1.0,2.0\n")
    with pytest.raises(ValueError, match="2 columns"):
        read_history_csv(tmp_path / "ragged.csv")


def test_the_doctor_command_prints_the_diagnosis(tmp_path, capsys):
    from toolkit.__main__ import main

    path = tmp_path / "history.csv"
    _write_csv(path, {"loss": [1.0, 0.6, 0.4, 0.3, 0.2, 0.15, 0.1, 0.08], "val_loss": [1.0, 0.7, 0.55, 0.5, 0.56, 0.62, 0.68, 0.72]})
    assert main(["doctor", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Training doctor: overfitting" in out and "val_loss rose" in out


def test_the_doctor_command_reports_bad_input(tmp_path, capsys):
    from toolkit.__main__ import main

    assert main(["doctor", str(tmp_path / "missing.csv")]) == 2
    assert "not a file" in capsys.readouterr().err
    path = tmp_path / "h.csv"
    _write_csv(path, {"loss": [2.3, 2.3, 2.29, 2.3, 2.29]})
    assert main(["doctor", str(path), "--num-classes", "1"]) == 2
    assert "num_classes" in capsys.readouterr().err


def test_the_doctor_command_runs_as_a_module_without_tensorflow(tmp_path):
    path = tmp_path / "history.csv"
    _write_csv(path, {"loss": [2.3, 2.3, 2.29, 2.3, 2.29]})
    code = (
        "import sys; from toolkit.__main__ import main; rc = main(['doctor', sys.argv[1], '--num-classes', '10']); "
        "assert 'tensorflow' not in sys.modules, 'the doctor CLI must not import TensorFlow'; sys.exit(rc)"
    )
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "underfitting" in done.stdout


def test_weak_evidence_reads_as_possible_at_low_severity(tmp_path, capsys):
    """A short run whose val_loss rose 3 epochs in a row by 17%: "possible overfitting", in every rendering."""
    from toolkit.__main__ import main

    hist = {"loss": [1.0, 0.7, 0.5, 0.4, 0.33, 0.28, 0.24], "val_loss": [0.9, 0.7, 0.6, 0.55, 0.58, 0.61, 0.645]}
    report = diagnose(hist)
    finding = report["overfitting"]
    assert finding.severity == "low" and finding.label == "possible overfitting"
    # the run's own numbers: its minimum 0.55 at epoch 4, its last value 0.645, (0.645 - 0.55) / 0.55 = 17%
    assert "3 of the 3 validations" in finding.evidence and "0.55 at epoch 4" in finding.evidence
    assert "0.645 (17% above)" in finding.evidence
    assert str(finding).startswith("possible overfitting (low): val_loss rose")
    assert str(report).startswith("Training doctor: possible overfitting (7 epochs)\n🟡 possible overfitting [low]:")
    assert "🟡 possible **`overfitting`** (low):" in report._repr_markdown_()
    path = tmp_path / "short.csv"
    _write_csv(path, hist)
    assert main(["doctor", str(path)]) == 0
    assert "possible overfitting [low]" in capsys.readouterr().out
    # a confident finding keeps its plain name
    medium = Finding("overfitting", "medium", "val_loss rose 41%", REMEDIES["overfitting"])
    assert medium.label == "overfitting" and "possible" not in str(Diagnosis([medium]))
