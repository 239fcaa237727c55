"""`make bench` reports each notebook's time in reference units (issue 19 s.6): the arithmetic, not the timing."""

import importlib.util
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _bench():
    spec = importlib.util.spec_from_file_location("bench", ROOT / "benchmarks" / "bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _bench()


def test_the_unit_is_the_mean_of_every_epoch_measured_through_the_run():
    before = {"seconds": [2.0, 2.0, 2.6], "median": 2.0}
    after = {"seconds": [2.4, 2.2, 2.2], "median": 2.2}
    ref = bench.reference_unit(before, after)
    assert ref["unit_seconds"] == pytest.approx(13.4 / 6, abs=1e-3)  # (2.0 + 2.0 + 2.6 + 2.4 + 2.2 + 2.2) / 6, by hand
    assert ref["drift"] == pytest.approx(1.1)  # median after / median before: 2.2 / 2.0
    assert ref["spread"] == [2.0, 2.6] and ref["epochs"] == 6
    alone = bench.reference_unit(before)  # before the first notebook only (an interrupted bench)
    assert alone["unit_seconds"] == pytest.approx(6.6 / 3, abs=1e-3) and alone["drift"] is None
    bimodal = bench.reference_unit(*({"seconds": [0.7, 1.3, 1.3], "median": 1.3} for _ in range(3)))
    assert bimodal["unit_seconds"] == pytest.approx(1.1)  # the mean, not the median (1.3) of a two-state machine


def test_notebook_times_are_divided_by_the_unit():
    units = bench.in_reference_units({"01_perceptron": 11.0, "02_mnist_cnn": 44.0}, 2.2)
    assert units == {"01_perceptron": 5.0, "02_mnist_cnn": 20.0}
    with pytest.raises(ValueError, match="unit_seconds"):
        bench.in_reference_units({"01_perceptron": 11.0}, 0.0)
    with pytest.raises(ValueError, match="positive epoch times"):
        bench.reference_unit({"seconds": [0.0], "median": 0.0})


def test_the_tables_show_the_units():
    data = {
        "notebooks": {"01_perceptron": 11.0}, "notebooks_cpu_seconds": {"01_perceptron": 9.0},
        "notebooks_status": {"01_perceptron": "ok"}, "notebooks_reference_units": {"01_perceptron": 5.0},
        "reference": bench.reference_unit({"seconds": [2.0], "median": 2.0}, {"seconds": [2.4], "median": 2.4}),
    }
    text = bench.table(data)
    row = next(line for line in text.splitlines() if line.startswith("01_perceptron"))
    assert row.split()[1:4] == ["11.0", "9.0", "5.0"]
    assert "2.2 s" in text
    assert "| 01_perceptron | 11 | 5.0 |" in bench.markdown(data)
