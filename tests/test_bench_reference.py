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


def test_the_unit_is_the_mean_of_the_medians_before_and_after():
    before = {"seconds": [2.1, 1.9, 2.0], "median": 2.0}
    after = {"seconds": [2.5, 2.4, 2.3], "median": 2.4}
    ref = bench.reference_unit(before, after)
    assert ref["unit_seconds"] == pytest.approx(2.2)  # (2.0 + 2.4) / 2, by hand
    assert ref["drift"] == pytest.approx(1.2)  # 2.4 / 2.0
    alone = bench.reference_unit(before)  # before the notebooks only (an interrupted bench)
    assert alone["unit_seconds"] == pytest.approx(2.0) and alone["drift"] is None


def test_notebook_times_are_divided_by_the_unit():
    units = bench.in_reference_units({"01_perceptron": 11.0, "02_mnist_cnn": 44.0}, 2.2)
    assert units == {"01_perceptron": 5.0, "02_mnist_cnn": 20.0}
    with pytest.raises(ValueError, match="unit_seconds"):
        bench.in_reference_units({"01_perceptron": 11.0}, 0.0)
    with pytest.raises(ValueError, match="positive median"):
        bench.reference_unit({"median": 0.0})


def test_the_tables_show_the_units():
    data = {
        "notebooks": {"01_perceptron": 11.0}, "notebooks_cpu_seconds": {"01_perceptron": 9.0},
        "notebooks_status": {"01_perceptron": "ok"}, "notebooks_reference_units": {"01_perceptron": 5.0},
        "reference": bench.reference_unit({"median": 2.0}, {"median": 2.4}),
    }
    text = bench.table(data)
    row = next(line for line in text.splitlines() if line.startswith("01_perceptron"))
    assert row.split()[1:4] == ["11.0", "9.0", "5.0"]
    assert "2.2 s" in text
    assert "| 01_perceptron | 11 | 5.0 |" in bench.markdown(data)
