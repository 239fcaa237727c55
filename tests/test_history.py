"""toolkit.history: one per-epoch data model, checked against what Keras 3 really writes.

The histories here come from real ``fit`` calls (a tiny model on synthetic
arrays) and the files from a real ``keras.callbacks.CSVLogger``: the shorter
``val_*`` lists of ``validation_freq``, the ``NA`` cells, an appended second
run and a resumed one are Keras's own, not hand-made fixtures.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import keras
import numpy as np
import pandas as pd
import pytest

from toolkit.diagnose import diagnose
from toolkit.diagnose.run import make_run
from toolkit.history import MAX_FILE_BYTES, EpochHistory, from_epoch_logs, read_history, read_runs

ROOT = pathlib.Path(__file__).resolve().parents[1]
#: The real CSVLogger files of public repositories, copied with their provenance into the doctor's benchmark.
REAL_RUNS = ROOT / "benchmarks" / "doctor" / "real_runs" / "runs"


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    return x, (x @ np.array([1.0, -2.0, 0.5, 0.0], dtype="float32"))[:, None]


def _model(seed=0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.05), "mse", metrics=["mae"])
    return model


def _fit(model=None, **kwargs):
    x, y = _data()
    model = model or _model()
    return model.fit(x, y, validation_data=(x[:16], y[:16]), batch_size=16, verbose=0, **kwargs)


# validation_freq: where Keras puts the val_* values ------------------------------------------------------


@pytest.mark.parametrize("freq,epochs,validated", [(2, 5, [2, 4]), (3, 7, [3, 6]), (2, 8, [2, 4, 6, 8])])
def test_a_real_validation_freq_history_is_aligned_to_the_epochs_keras_validated(freq, epochs, validated):
    """Keras 3 validates at 1-based epochs e with e % freq == 0 (Trainer._should_eval), not also at the last one."""
    seen = []

    class Watch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if "val_loss" in logs:
                seen.append(epoch + 1)

    hist = _fit(validation_freq=freq, epochs=epochs, callbacks=[Watch()])
    assert seen == validated, "the reference: the epochs whose logs hold val_loss"
    h = read_history(hist)
    assert len(h) == epochs and h.epochs.tolist() == list(range(1, epochs + 1))
    got_epochs, got = h.at("val_loss")
    assert got_epochs.tolist() == validated
    assert got.tolist() == pytest.approx(hist.history["val_loss"])
    assert h.measured["val_mae"].tolist() == [e in validated for e in range(1, epochs + 1)]
    assert np.isnan(h["val_loss"][~h.measured["val_loss"]]).all() and h.measured["loss"].all()


def test_a_resumed_fit_with_validation_freq_counts_from_initial_epoch():
    """fit(initial_epoch=3, epochs=9, validation_freq=2) validates at epochs 4, 6, 8 (absolute numbers)."""
    model = _model()
    _fit(model, epochs=3)
    hist = _fit(model, initial_epoch=3, epochs=9, validation_freq=2)
    h = read_history(hist)
    assert h.epochs.tolist() == [4, 5, 6, 7, 8, 9]
    assert h.at("val_loss")[0].tolist() == [4, 6, 8]


def test_diagnose_reads_a_validation_freq_run_without_nan_and_pairs_the_validated_epochs():
    hist = _fit(validation_freq=2, epochs=8)
    report = diagnose(hist)
    assert "nan" not in report.problems
    run = make_run(hist)
    assert run.val_labels.tolist() == [2, 4, 6, 8] and run.val_index.tolist() == [1, 3, 5, 7]
    assert run.val_loss.tolist() == pytest.approx(hist.history["val_loss"])
    assert run.at_val(run.loss).tolist() == pytest.approx(np.asarray(hist.history["loss"])[[1, 3, 5, 7]])
    assert run.val_epoch(0) == 2 and len(run.loss) == 8


def test_an_ambiguous_shorter_list_is_refused_in_words_and_validation_freq_settles_it():
    """11 epochs with 2 validations: validation_freq=4 (epochs 4, 8) or 5 (5, 10) both write that."""
    raw = {"loss": list(np.linspace(1, 0.5, 11)), "val_loss": [0.8, 0.6]}
    with pytest.raises(ValueError, match=r"k=4: epochs 4, 8; k=5: epochs 5, 10.*validation_freq=k"):
        read_history(raw)
    assert read_history(raw, validation_freq=5).at("val_loss")[0].tolist() == [5, 10]
    assert read_history(raw, validation_freq=[3, 11]).at("val_loss")[0].tolist() == [3, 11]
    with pytest.raises(ValueError, match="validates 3"):
        read_history(raw, validation_freq=3)
    with pytest.raises(TypeError, match="validation_freq"):
        read_history(raw, validation_freq=0)


# Not measured vs measured NaN ------------------------------------------------------------------------------


def test_a_measured_nan_is_a_value_and_none_is_not_measured():
    h = read_history({"loss": [1.0, float("nan"), None]})
    assert h.measured["loss"].tolist() == [True, True, False]
    assert diagnose({"loss": [1.0, 0.9, float("nan"), 0.8]}).problems[0] == "nan"


def test_the_printed_zero_of_an_unvalidated_epoch_is_not_measured(tmp_path):
    """TensorFlow prints val_loss 0.0000e+00 where it did not validate; next to an NA that is no measurement."""
    path = tmp_path / "printed.csv"
    path.write_text("epoch,loss,val_loss,accuracy,val_accuracy\n"
                    "0,1.0,0.0000e+00,0.5,NA\n1,0.8,0.7,0.6,0.6\n2,0.7,0.0000e+00,0.65,0.0000e+00\n")
    h = read_history(path)
    assert h.at("val_loss")[0].tolist() == [2] and h.at("val_accuracy")[0].tolist() == [2]
    assert any("0.0000e+00" in note for note in h.notes)
    # A measured 0 accuracy next to a measured NaN loss (a diverged run) stays measured.
    path.write_text("epoch,loss,val_loss,accuracy,val_accuracy\n0,0.6,0.5,0.6,0.7\n1,nan,nan,0.4,0.0000e+00\n")
    h = read_history(path)
    assert h.measured["val_accuracy"].all() and h["val_accuracy"][1] == 0.0 and h.measured["val_loss"].all()


# CSVLogger files written by real fits -----------------------------------------------------------------------


def test_a_csvlogger_file_of_a_validation_freq_run_has_na_cells_read_as_not_measured(tmp_path):
    path = tmp_path / "h.csv"
    hist = _fit(validation_freq=2, epochs=5, callbacks=[keras.callbacks.CSVLogger(str(path))])
    assert "NA" in path.read_text(), "the reference: Keras's CSVLogger writes NA where it did not validate"
    h = read_history(path)
    assert h.epochs.tolist() == [1, 2, 3, 4, 5]
    assert h.at("val_loss")[0].tolist() == [2, 4]
    assert h.at("val_loss")[1].tolist() == pytest.approx(hist.history["val_loss"])
    assert h["loss"].tolist() == pytest.approx(hist.history["loss"])
    assert "nan" not in diagnose(path).problems


def test_two_fits_appended_to_one_csvlogger_file_are_two_runs(tmp_path):
    path = tmp_path / "h.csv"
    first = _fit(epochs=3, callbacks=[keras.callbacks.CSVLogger(str(path), append=True)])
    second = _fit(_model(seed=1), epochs=2, callbacks=[keras.callbacks.CSVLogger(str(path), append=True)])
    assert path.read_text().count("epoch") == 1, "the reference: append=True writes no second header"
    runs = read_runs(path)
    assert [r.epochs.tolist() for r in runs] == [[1, 2, 3], [1, 2]]
    assert runs[0]["loss"].tolist() == pytest.approx(first.history["loss"])
    assert runs[1]["loss"].tolist() == pytest.approx(second.history["loss"])
    with pytest.warns(UserWarning, match="holds 2 runs.*reading the last one"):
        last = read_history(path)
    assert last["loss"].tolist() == pytest.approx(second.history["loss"])


def test_a_resumed_fit_appended_to_its_file_is_one_run_with_its_epoch_numbers(tmp_path):
    path = tmp_path / "h.csv"
    model = _model()
    _fit(model, epochs=3, callbacks=[keras.callbacks.CSVLogger(str(path), append=True)])
    _fit(model, initial_epoch=3, epochs=5, callbacks=[keras.callbacks.CSVLogger(str(path), append=True)])
    runs = read_runs(path)
    assert len(runs) == 1 and runs[0].epochs.tolist() == [1, 2, 3, 4, 5]


def test_a_run_without_validation_has_all_na_val_columns_and_no_val_curve(tmp_path):
    """CSVLogger adds val_* columns full of NA when the first epoch logged none."""
    path = tmp_path / "h.csv"
    x, y = _data()
    _model().fit(x, y, epochs=5, verbose=0, callbacks=[keras.callbacks.CSVLogger(str(path))])
    h = read_history(path)
    assert "val_loss" in h and not h.measured["val_loss"].any()
    assert make_run(path).val_loss is None


# JSON dumps, DataFrames, callbacks' logs --------------------------------------------------------------------


def test_a_json_dump_of_history_history_reads_like_the_history(tmp_path):
    hist = _fit(validation_freq=2, epochs=5)
    path = tmp_path / "h.json"
    path.write_text(json.dumps(hist.history))
    h, ref = read_history(path), read_history(hist)
    assert h.epochs.tolist() == ref.epochs.tolist()
    for key in ref.keys:
        assert h.measured[key].tolist() == ref.measured[key].tolist()
        np.testing.assert_allclose(h[key], ref[key])


def test_a_dataframe_round_trips_and_keeps_not_measured_apart_from_nan():
    h = read_history({"loss": [1.0, float("nan"), 0.7, 0.6], "val_loss": [0.9, 0.8]})
    frame = h.to_frame()
    assert frame["epoch"].tolist() == [0, 1, 2, 3] and str(frame["val_loss"].dtype) == "Float64"
    assert frame["val_loss"].isna().tolist() == [True, False, True, False]
    back = read_history(frame)
    assert back.measured["loss"].all() and np.isnan(back["loss"][1]), "a measured NaN stays a measured NaN"
    assert back.measured["val_loss"].tolist() == [False, True, False, True]
    plain = read_history(pd.DataFrame({"loss": [1.0, np.nan]}))  # float64: NaN is a value, as in history.history
    assert plain.measured["loss"].all()


def test_from_epoch_logs_reads_a_missing_key_as_not_measured():
    h = from_epoch_logs([4, 5, 6], [{"loss": 1.0}, {"loss": 0.8, "val_loss": 0.9}, {"loss": 0.7}])
    assert h.epochs.tolist() == [5, 6, 7] and h.at("val_loss")[0].tolist() == [6]
    assert h.to_dict() == {"loss": [1.0, 0.8, 0.7], "val_loss": [0.9]}


# Bad files: one clear error naming the file ---------------------------------------------------------------


def test_utf16_with_a_byte_order_mark_is_decoded(tmp_path):
    path = tmp_path / "u16.csv"
    path.write_bytes("epoch,loss,val_loss\n0,1.0,0.9\n1,0.8,NA\n".encode("utf-16"))
    h = read_history(path)
    assert h["loss"].tolist() == [1.0, 0.8] and h.measured["val_loss"].tolist() == [True, False]


@pytest.mark.parametrize("content,match", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a text file"),
    ("epoch,loss\n0,1.0\n".encode("utf-16-le"), "not a text file"),  # UTF-16 without a BOM
    (b"epoch,loss\n0,abc\n", r"line 2 of .*'loss'.* holds 'abc', not a number"),
    (b"epoch,accuracy\n0,0.5\n", "no 'loss' key"),
    (b"0,1.0\n1,0.8\n", "no header line"),
    (b"", "is empty"),
    (b'{"loss": [1.0, ', "not valid JSON"),
    (b"epoch,loss\n0,1.0,2.0\n", "2 columns"),
])
def test_bad_files_get_one_clear_error_naming_the_file(tmp_path, content, match):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=match) as info:
        read_history(path)
    assert "bad.csv" in str(info.value)


def test_a_huge_file_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "huge.csv"
    with open(path, "wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: nothing is written, the size is what counts
    with pytest.raises(ValueError, match=r"huge.csv' is 50 MB, more than the 50 MB"):
        read_history(path)


def test_anything_else_is_refused_naming_the_argument():
    with pytest.raises(TypeError, match="`history` must be a keras History or a dict"):
        read_history(42)
    assert isinstance(read_history(read_history({"loss": [1.0]})), EpochHistory)


# The doctor CLI on real files --------------------------------------------------------------------------------


def _doctor(*files):
    return subprocess.run([sys.executable, "-m", "toolkit", "doctor", *map(str, files)], capture_output=True,
                          text=True, timeout=120, cwd=ROOT, env={"PATH": "/usr/bin:/bin", "TOOLKIT_OFFLINE": "1"})


def test_the_doctor_cli_reads_every_real_run():
    files = sorted(REAL_RUNS.glob("*.csv"))
    assert len(files) >= 30, f"the real runs are missing from {REAL_RUNS}"
    done = _doctor(*files)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert done.stdout.count("Training doctor:") == len(files)


def test_the_doctor_cli_reports_appended_runs_and_refuses_bad_files_in_one_line_each(tmp_path):
    good = tmp_path / "appended.csv"
    _fit(epochs=3, callbacks=[keras.callbacks.CSVLogger(str(good), append=True)])
    _fit(epochs=2, callbacks=[keras.callbacks.CSVLogger(str(good), append=True)])
    (tmp_path / "binary.csv").write_bytes(bytes(range(256)))
    (tmp_path / "garbage.txt").write_text("hello world\nthis is no history\n")
    (tmp_path / "u16.csv").write_bytes("epoch,loss\n0,1.0\n".encode("utf-16-le"))
    with open(tmp_path / "huge.csv", "wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)
    bad = ["binary.csv", "garbage.txt", "u16.csv", "huge.csv", "missing.csv"]
    done = _doctor(good, *(tmp_path / name for name in bad))
    assert done.returncode == 2
    assert "2 runs appended to one file" in done.stdout and done.stdout.count("Training doctor:") == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == len(bad) and "Traceback" not in done.stderr
    for name, line in zip(bad, lines):
        assert name in line, line
    assert _doctor(good).returncode == 0
