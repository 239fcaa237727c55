"""benchmarks/prescribe: its build_model expresses each model remedy (and only it), and its summary counts right."""

import importlib.util
import os

import numpy as np
import pytest

keras = pytest.importorskip("keras")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
spec = importlib.util.spec_from_file_location("bench_prescribe",
                                              os.path.join(ROOT, "benchmarks", "prescribe", "bench_prescribe.py"))
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)

from toolkit.diagnose.remedy_trials import CATALOGUE, shows  # noqa: E402

MODEL_REMEDIES = [key for key, remedy in CATALOGUE.items() if remedy.kind == "model"]


@pytest.mark.parametrize("key", MODEL_REMEDIES)
def test_each_keyword_builds_its_change_into_the_planted_model_and_keeps_the_fault(key):
    config = bench.make_planted.FAULTS["relu_negative_bias"][1]
    build = bench.builder(config, (64,))
    name, value = CATALOGUE[key].keyword
    model = build(**{name: value})
    assert shows(key, model) and not shows(key, build())
    assert {k for k in MODEL_REMEDIES if shows(k, model)} == {key}, "one keyword, one change"
    hidden = [la for la in model.layers if isinstance(la, keras.layers.Dense)][:-1]
    biases = [float(np.mean(keras.ops.convert_to_numpy(la.bias))) for la in hidden]
    assert biases == [-3.0] * len(hidden), "the planted bias -3 stays: the remedy alone is tried"
    assert model.optimizer is not None and model.count_params() > 0


def test_the_summary_counts_cases_by_hand():
    cases = [
        {"fault": "lr_high", "seed": 0, "cured_first": True, "within_budget": True, "baseline_shows_fault": True,
         "top": "lr_down", "top_status": "cure", "seconds": 50.0, "cpu_seconds": 20.0},
        {"fault": "lr_low", "seed": 0, "cured_first": False, "within_budget": True, "baseline_shows_fault": False,
         "top": "lr_up", "top_status": "helps", "seconds": 61.0, "cpu_seconds": 25.0},
        {"fault": "tiny_data_big_model", "seed": 1, "cured_first": True, "within_budget": False,
         "baseline_shows_fault": True, "top": "early_stopping", "top_status": "cure", "seconds": 80.0,
         "cpu_seconds": 30.0},
    ]
    result = bench.summary(cases, 60.0)
    assert (result["cases"], result["cured_first"], result["share_cured_first"]) == (3, 2, 0.667)
    assert result["met"] is False and result["within_budget"] == 2 and result["seconds_per_case_max"] == 80.0
    assert result["baseline_missed_fault"] == ["lr_low_s0"]
    assert result["not_cured_first"] == ["lr_low_s0: top lr_up (helps)"]
    assert set(bench.IN_SCOPE).isdisjoint(bench.OUT_OF_SCOPE)
    assert set(bench.IN_SCOPE) | set(bench.OUT_OF_SCOPE) == set(bench.make_planted.FAULTS)
