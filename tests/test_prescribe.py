"""toolkit.diagnose.prescribe: verified prescriptions on real tiny Keras runs, and the verdict rules by hand."""

import math
import subprocess
import sys
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.diagnose import diagnose, prescribe
from toolkit.diagnose.prescription import Prescription, Trial, judge
from toolkit.diagnose.remedy_trials import CATALOGUE, TRIALS

keras = pytest.importorskip("keras")


def _data(n=512, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 8)).astype("float32")
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype("int64")
    return x[: 3 * n // 4], y[: 3 * n // 4], x[3 * n // 4:], y[3 * n // 4:]


def _builder(lr=0.05, optimizer="sgd", **fixed):
    """A build_model that takes no keywords (unless given **fixed, which it ignores)."""

    def build(**ignored):
        model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"),
                                  keras.layers.Dense(2, activation="softmax")])
        opt = keras.optimizers.SGD(lr) if optimizer == "sgd" else keras.optimizers.Adam(lr)
        model.compile(opt, "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    return build


# The verdict rules, against hand counts -------------------------------------------------------------


def test_judge_clear_only_beyond_the_seed_spread():
    # means 0.42 and 0.305: the difference 0.115 exceeds the larger range, 0.04
    effect = judge([0.40, 0.44], [0.30, 0.31])
    assert effect.clear and effect.better
    assert effect.delta == pytest.approx(-0.115) and effect.spread == pytest.approx(0.04)
    # means 0.42 and 0.42: noise
    assert not judge([0.40, 0.44], [0.41, 0.43]).clear
    # exactly the spread (0.25 = 0.25, binary-exact values) is not clear: the rule is "larger than"
    tie = judge([0.5, 0.75], [0.25, 0.5])
    assert tie.delta == -0.25 and tie.spread == 0.25 and not tie.clear
    # the trial's own spread counts too: ranges 0.0 and 0.5, difference 0.3
    assert not judge([1.0, 1.0], [0.5, 0.9]).clear
    # one seed each: no spread measured, nothing is clear, however large the difference
    single = judge([0.9], [0.1])
    assert not single.clear and math.isnan(single.spread) and "one seed" in single.why
    # a spread of almost nothing (two runs stuck at ln 10) does not make a change in the 4th digit clear
    stuck = judge([2.3026, 2.3031], [2.3010, 2.3012])
    assert stuck.spread == pytest.approx(0.0005) and abs(stuck.delta) > stuck.spread and not stuck.clear
    assert judge([2.3026, 2.3031], [2.20, 2.21]).better  # 4.4% lower: clear
    # higher is better (a recall): up is better, down is worse
    assert judge([0.2, 0.3], [0.7, 0.8], lower_is_better=False).better
    worse = judge([0.2, 0.3], [0.0, 0.05], lower_is_better=False)
    assert worse.clear and not worse.better


def test_judge_blown_up_runs():
    assert judge([math.inf, math.nan], [0.3, 0.4]).better  # NaN counts as inf: the worst value
    assert not judge([0.3, 0.4], [math.nan, math.inf]).better and judge([0.3, 0.4], [math.nan, math.inf]).clear
    assert not judge([math.nan, 0.3], [0.3, 0.4]).clear  # some seeds blew up: no clear reading
    assert not judge([math.nan], [0.3]).clear  # one seed each, blown up or not
    with pytest.raises(ValueError, match="baseline"):
        judge([], [0.3])


def _trial(values, baseline, gone, problem="overfitting", shown=("overfitting",), key="dropout", label="dropout 0.3"):
    t = Trial(key, label, (problem,), values=list(values), baseline=list(baseline),
              gone={problem: (gone, len(values))}, shown=shown)
    return t.settle()


def test_a_cure_needs_a_clear_gain_and_the_finding_gone_in_every_seed():
    assert _trial([0.30, 0.31], [0.40, 0.44], gone=2).status == "cure"
    assert _trial([0.30, 0.31], [0.40, 0.44], gone=1).status == "helps"
    noise = _trial([0.41, 0.43], [0.40, 0.44], gone=2)
    assert noise.status == "no clear effect"
    assert "no clear effect" in noise.verdict and "overfitting gone" in noise.verdict
    assert _trial([0.60, 0.61], [0.40, 0.44], gone=2).status == "worse"
    # a finding the baseline runs do not show cannot be cured: a gain is only "helps"
    assert _trial([0.30, 0.31], [0.40, 0.44], gone=2, shown=()).status == "helps"
    cure = _trial([0.30, 0.31], [0.40, 0.44], gone=2)
    assert cure.verdict == "dropout 0.3: val_loss 0.305 vs 0.42 (2 seeds, seed spread 0.04), overfitting gone"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0.01, 5.0), min_size=1, max_size=3), st.lists(st.floats(0.01, 5.0), min_size=1, max_size=3))
def test_an_effect_within_the_seed_spread_is_never_a_cure(baseline, values):
    trial = _trial(values, baseline, gone=len(values))
    spread = max(max(baseline) - min(baseline), max(values) - min(values))
    if abs(np.mean(values) - np.mean(baseline)) <= spread or (len(values) == len(baseline) == 1):
        assert trial.status not in ("cure", "helps")


def test_the_ranking_puts_cures_first_and_the_table_is_escaped():
    diagnosis = diagnose({"loss": [1.0, 0.6, 0.3, 0.15, 0.08, 0.04, 0.02, 0.01],
                          "val_loss": [1.0, 0.7, 0.6, 0.65, 0.75, 0.9, 1.1, 1.3]})
    assert "overfitting" in diagnosis
    trials = [_trial([0.41, 0.43], [0.40, 0.44], gone=2), _trial([0.60, 0.61], [0.40, 0.44], gone=0),
              Trial("l2", "L2 <1e-4>", ("overfitting",), reason="build_model takes no `l2=` keyword"),
              _trial([0.20, 0.21], [0.40, 0.44], gone=2, key="early_stopping", label="early stopping")]
    report = Prescription(trials, diagnosis=diagnosis, baseline=[0.40, 0.44], seeds=[0, 1], seconds=3, budget_s=10)
    assert [t.status for t in report.trials] == ["cure", "no clear effect", "worse", "not tried"]
    assert report.best.key == "early_stopping" and report.ranking == ["early_stopping", "dropout", "dropout"]
    page = report._repr_html_()
    assert "L2 &lt;1e-4&gt;" in page and "<1e-4>" not in page and page.count("<tr>") == 5
    text = str(report)
    assert "1. [cure] early stopping: val_loss 0.205 vs 0.42" in text and "not tried: build_model takes no" in text


# Real tiny runs ----------------------------------------------------------------------------------


def test_a_learning_rate_far_too_high_is_cured_by_lowering_it_first():
    # SGD at 20 on a 2-class problem: the loss overflows to NaN in epoch 2-3 (seeds 0 and 1); at 2 it trains
    report = prescribe(_builder(lr=20.0), _data(), budget_s=120, epochs=5, max_seeds=2, progress=False)
    assert report.diagnosis.problems[0] in ("nan", "diverging"), report.diagnosis
    top = report.trials[0]
    assert top.key == "lr_down" and top.status == "cure", str(report)
    assert all(math.isfinite(v) for v in top.values) and not any(map(math.isfinite, report.baseline))
    assert report.seconds <= 120 * 1.2 and not report.partial
    assert "nan gone" in top.verdict and len(top.values) == 2, top.verdict


def test_the_budget_is_respected_and_the_global_random_state_does_not_depend_on_it():
    import random

    np.random.seed(123)
    random.seed(5)
    start = time.perf_counter()
    report = prescribe(_builder(lr=20.0), _data(256), budget_s=15, epochs=4, progress=False)
    elapsed = time.perf_counter() - start
    assert elapsed <= 15 * 1.2, f"prescribe took {elapsed:.1f} s of a 15 s budget:\n{report}"
    assert report.seconds <= elapsed
    after = (np.random.random(), random.random(), float(keras.random.uniform(())))
    # NumPy's and Python's generators are put back; TensorFlow's and Keras's are reseeded from a draw of the
    # state found, however many runs the budget allowed
    np.random.seed(123)
    keras.utils.set_random_seed(int(np.random.randint(2**31 - 1)))
    np.random.seed(123)
    random.seed(5)
    assert after == (np.random.random(), random.random(), float(keras.random.uniform(())))


def test_an_interrupt_returns_the_partial_report():
    class Interrupt(keras.callbacks.Callback):
        fits = 0

        def on_train_begin(self, logs=None):
            Interrupt.fits += 1
            if Interrupt.fits == 3:  # the baseline's two seeds are done; the first remedy starts
                raise KeyboardInterrupt

    report = prescribe(_builder(lr=20.0), _data(256), budget_s=300, epochs=4, callbacks=[Interrupt()], progress=False)
    assert report.partial and "PARTIAL" in str(report) and len(report.baseline) == 2
    assert all(t.status == "not tried" and not t.values for t in report.trials)
    interrupted = [t.key for t in report.trials if t.reason == "interrupted before it ran"]
    assert {"lr_down", "clipnorm", "warmup"} <= set(interrupted), str(report)


def test_model_remedies_the_builder_cannot_express_are_not_faked_and_datasets_work():
    import tensorflow as tf

    x, y, xv, yv = _data(256)
    data = (tf.data.Dataset.from_tensor_slices((x, y)).batch(32),
            tf.data.Dataset.from_tensor_slices((xv, yv)).batch(64))
    overfit = diagnose({"loss": [1.0, 0.6, 0.3, 0.15, 0.08, 0.04, 0.02, 0.01],
                        "val_loss": [1.0, 0.7, 0.6, 0.65, 0.75, 0.9, 1.1, 1.3]})
    # build_model(**kwargs) swallows dropout=/l2= without using them: the built model is checked
    report = prescribe(_builder(lr=0.05, optimizer="sgd", swallow=True), data, diagnosis=overfit, budget_s=120,
                       epochs=4, max_seeds=1, progress=False)
    for key in ("dropout", "l2"):
        assert report[key].status == "not tried" and "does not use the" in report[key].reason, report[key]
    assert "tf.data dataset" in report["augment"].reason
    assert report["early_stopping"].values, "early stopping needs no keyword: it ran"
    assert len(report.baseline) == 2 and len(report["early_stopping"].values) == 1, "max_seeds=1: remedies on one seed"


def test_a_builder_without_keywords_lists_the_model_remedies_as_not_tried():
    from toolkit.diagnose.prescribing import _plan, read_data

    vanishing = diagnose({"loss": [2.3] * 6, "grad_norm/dense_1": [1e-7] * 6, "grad_norm/out": [1e-1] * 6})
    assert "vanishing_gradients" in vanishing

    def build():
        return _builder()()

    trials, _ = _plan(vanishing, build, build(), read_data(_data(64)), 3)
    reasons = {t.key: t.reason for t in trials}
    assert reasons["he_init"] == ("build_model takes no `kernel_initializer=` keyword "
                                  "(e.g. `build_model(kernel_initializer='he_normal')`)")
    assert "`batch_norm=`" in reasons["batch_norm"] and "`activation=`" in reasons["leaky_relu"]


# Bad inputs, and the user's model left alone -----------------------------------------------------


def test_bad_inputs_are_refused():
    model = _builder()()
    with pytest.raises(TypeError, match="not a model"):
        prescribe(model, _data())
    with pytest.raises(TypeError, match="Received: build_model="):
        prescribe("model.keras", _data())
    with pytest.raises(TypeError, match=r"Received: data="):
        prescribe(_builder(), _data()[:3])
    x, y, xv, yv = _data()
    with pytest.raises(ValueError, match="same length"):
        prescribe(_builder(), (x, y[:10], xv, yv))
    with pytest.raises(ValueError, match="budget_s"):
        prescribe(_builder(), _data(), budget_s=0)
    with pytest.raises(TypeError, match="diagnosis"):
        prescribe(_builder(), _data(), diagnosis=["overfitting"])
    with pytest.raises(ValueError, match="max_seeds"):
        prescribe(_builder(), _data(), max_seeds=5)

    def uncompiled():
        return keras.Sequential([keras.Input((8,)), keras.layers.Dense(2)])

    with pytest.raises(TypeError, match="compiled"):
        prescribe(uncompiled, _data())


def test_the_users_own_model_is_never_trained():
    x, y, xv, yv = _data()
    mine = _builder()()
    before = [w.copy() for w in mine.get_weights()]
    with pytest.raises(TypeError, match="same model object twice"):
        prescribe(lambda: mine, (x, y, xv, yv), budget_s=30)
    assert int(mine.optimizer.iterations) == 0
    assert all(np.array_equal(a, b) for a, b in zip(before, mine.get_weights())), "prescribe must not train it"
    mine.fit(x, y, epochs=1, verbose=0)
    with pytest.raises(TypeError, match="already trained"):
        prescribe(lambda: mine, (x, y, xv, yv))


def test_the_doctor_suggests_prescribe_for_remedies_it_can_try(capsys):
    from toolkit.callbacks import TrainingDoctor
    from toolkit.diagnose.remedy_trials import prescribe_hint

    diverging = diagnose({"loss": [1.0, 0.8, 2.0, 9.0, 40.0]}, num_classes=2)
    hint = prescribe_hint(diverging)
    assert hint.startswith("   To measure which remedy helps this run: toolkit.diagnose.prescribe(")
    assert "LR ÷10" in hint
    assert prescribe_hint(diagnose({"loss": [1.0, 0.5, 0.3, 0.2, 0.15]})) is None  # healthy
    x, y, xv, yv = _data(128)
    model = _builder(lr=20.0)()
    model.fit(x, y, epochs=3, batch_size=32, verbose=0, callbacks=[TrainingDoctor()])
    out = capsys.readouterr().out
    assert out.index("Training doctor:") < out.index("toolkit.diagnose.prescribe(build_model, data) tries")


def test_the_catalogue_covers_the_issue_list():
    assert set(TRIALS["overfitting"]) >= {"dropout", "l2", "early_stopping", "augment"}
    assert set(TRIALS["diverging"]) >= {"lr_down", "clipnorm", "warmup"}
    assert set(TRIALS["lr_too_low"]) == {"lr_up", "lr_finder"}
    assert set(TRIALS["vanishing_gradients"]) == {"he_init", "batch_norm", "leaky_relu"}
    assert set(TRIALS["dead_units"]) == {"leaky_relu", "he_init", "lr_down"}
    assert TRIALS["class_imbalance"][0] == "class_weight"
    assert all(key in CATALOGUE for keys in TRIALS.values() for key in keys)


def test_importing_the_doctor_does_not_import_tensorflow_and_prescribe_is_the_function():
    lazy = "import sys, toolkit.diagnose; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", lazy], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
    # the implementation module imported first must not shadow the function (a submodule named like it would)
    late = ("import toolkit.diagnose.prescribing, toolkit.diagnose as d; from toolkit.diagnose import prescribe; "
            "print(type(prescribe).__name__, type(d.prescribe).__name__)")
    out = subprocess.run([sys.executable, "-c", late], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["function", "function"]


def test_runs_that_leave_the_model_alone_share_one_model_and_compute_what_a_fresh_model_computes():
    # class weights and over-sampling change the fit and the data, early stopping the callbacks: one model,
    # started over from each seed's initial weights, serves them and the baseline; one compile, one trace
    built = []
    plain = _builder(lr=0.05)

    def build(**keywords):
        built.append(keywords)
        return plain(**keywords)

    x, y, xv, yv = _data()
    history = {"loss": list(np.linspace(1, 0.3, 8)), "val_loss": list(np.linspace(1, 0.35, 8))}
    imbalance = diagnose(history, confusion=np.array([[90, 0, 0], [5, 85, 0], [18, 0, 2]]))
    assert imbalance.problems == ["class_imbalance"]
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = prescribe(build, (x, y, xv, yv), diagnosis=imbalance, budget_s=300, epochs=4, max_seeds=2,
                           remedies_per_problem=2, also_try=("early_stopping",), progress=False)
    assert not [w for w in caught if "shuffle" in str(w.message)], "the runs' own pipelines shuffle: no Keras warning"
    assert {t.key for t in report.trials if t.values} == {"class_weight", "oversample", "early_stopping"}, str(report)
    assert len(report.baseline) == 2 and all(len(t.values) == 2 for t in report.trials if t.values), str(report)
    assert len(built) == 2, f"a probe model and one model for all 8 runs, got {len(built)} builds"
    # the validation loss falls through all 4 epochs: early stopping never stops, so every seed's run repeats
    # the baseline's (same initial weights, same data order)
    np.testing.assert_allclose(report["early_stopping"].values, report.baseline, rtol=1e-5)
    # ... and the first seed's baseline is what a fresh model computes on the pipeline prescribe feeds arrays
    # through (cached, reshuffled every epoch with the run's seed, batches of batch_size=32)
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    fresh = plain()
    train = tf.data.Dataset.from_tensor_slices((x, y)).cache().shuffle(len(x), seed=0).batch(32)
    fresh.fit(train, epochs=4, verbose=0)
    loss = float(np.mean(keras.losses.sparse_categorical_crossentropy(yv, fresh(xv, training=False))))
    assert report.baseline[0] == pytest.approx(loss, rel=1e-5)


def test_an_early_stopped_run_is_read_up_to_the_epoch_whose_weights_it_kept():
    from toolkit.diagnose.experiment import _kept

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(24, 8)).astype("float32"), rng.integers(0, 2, 24)  # random labels: memorized fast
    xv, yv = rng.normal(size=(200, 8)).astype("float32"), rng.integers(0, 2, 200)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(256, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy")
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    history = model.fit(x, y, validation_data=(xv, yv), epochs=60, verbose=0, callbacks=[stop]).history
    assert stop.stopped_epoch > 0 and len(history["val_loss"]) == stop.stopped_epoch + 1
    kept = _kept(history, [stop])
    assert len(kept["val_loss"]) == len(kept["loss"]) == stop.best_epoch + 1
    assert kept["val_loss"][-1] == min(history["val_loss"])  # the restored epoch ends what is read
    restored = float(model.evaluate(xv, yv, verbose=0))
    assert restored == pytest.approx(kept["val_loss"][-1], rel=1e-4)  # ... and it is the model kept
    assert _kept(history, []) is history
    assert _kept(history, [keras.callbacks.EarlyStopping(restore_best_weights=False)]) is history
