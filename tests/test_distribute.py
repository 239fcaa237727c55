"""Every toolkit callback and schedule inside a ``tf.distribute.MirroredStrategy``.

The CPU is split into two logical devices with
``tf.config.set_logical_device_configuration``, which must happen before
TensorFlow initialises its devices. The pytest process has long initialised
them (other tests imported TensorFlow), so the training runs in a fresh
Python subprocess: this very file, run as a script. The script trains a small
CNN on the real 8x8 digits under ``MirroredStrategy(["/cpu:0", "/cpu:1"])``
with all the callbacks attached and an optimizer driven by ``OneCycle``,
runs an LR search under the same strategy, and writes what it saw to a JSON
file. The tests below read that file once and check each callback's facts.

A failure inside the strategy is reported per callback: when the combined
``fit`` raises, the script fits once more with each callback alone, so the
culprit is named.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import traceback

import numpy as np
import pytest

EPOCHS = 4
BATCH = 64  # global batch: 32 per replica
N_TRAIN = 1024
N_VAL = 256
MAX_LR = 0.05
PROBE = 64
CHILD_TIMEOUT = 300


# --------------------------------------------------------------------------------------------
# The child: runs in a fresh interpreter (python tests/test_distribute.py OUT.json).
# --------------------------------------------------------------------------------------------


def _child(out_path: str) -> None:  # pragma: no cover - runs in the subprocess
    import tensorflow as tf

    cpus = tf.config.list_physical_devices("CPU")
    tf.config.set_logical_device_configuration(
        cpus[0], [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
    )
    import keras

    from toolkit.data import load_digits

    report: dict = {"errors": {}}

    def save():
        with open(out_path, "w") as fh:
            json.dump(report, fh, default=float)

    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    report["logical_cpus"] = len(tf.config.list_logical_devices("CPU"))
    report["replicas"] = strategy.num_replicas_in_sync
    save()

    images, labels = load_digits()
    rng = np.random.default_rng(0)
    order = rng.permutation(len(images))
    x = images[order][..., None].astype("float32")
    y = labels[order].astype("int64")
    x_train, y_train = x[:N_TRAIN], y[:N_TRAIN]
    x_val, y_val = x[N_TRAIN : N_TRAIN + N_VAL], y[N_TRAIN : N_TRAIN + N_VAL]
    steps_per_epoch = math.ceil(N_TRAIN / BATCH)
    total_steps = steps_per_epoch * EPOCHS

    def build(optimizer):
        keras.utils.set_random_seed(0)
        with strategy.scope():
            model = keras.Sequential(
                [
                    keras.Input((8, 8, 1)),
                    keras.layers.Conv2D(16, 3, padding="same", use_bias=False, name="conv"),
                    keras.layers.BatchNormalization(momentum=0.9, name="bn"),
                    keras.layers.ReLU(name="relu"),
                    keras.layers.Flatten(name="flatten"),
                    keras.layers.Dense(32, activation="relu", name="hidden"),
                    keras.layers.Dense(10, activation="softmax", name="output"),
                ],
                name="digits_cnn",
            )
            model.compile(optimizer(), "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    from toolkit.callbacks import (
        ActivationMonitor,
        EpochTimer,
        GradientMonitor,
        LearningRateLogger,
        LiveHistoryPlot,
        LRFinder,
    )
    from toolkit.schedules import OneCycle

    try:
        from toolkit.callbacks import TrainingDoctor
    except ImportError as exc:
        report["errors"]["TrainingDoctor_import"] = f"not importable from toolkit.callbacks: {exc}"
        try:  # still check how it behaves under the strategy
            from toolkit.diagnose import TrainingDoctor
        except ImportError:
            TrainingDoctor = None

    report["steps_per_epoch"] = steps_per_epoch
    try:
        schedule = OneCycle(MAX_LR, total_steps)
        report["onecycle_expected"] = [float(keras.ops.convert_to_numpy(schedule(s))) for s in range(total_steps + 1)]
    except Exception:
        report["errors"]["OneCycle"] = traceback.format_exc(limit=-6)

    def one_cycle_optimizer():
        return keras.optimizers.SGD(OneCycle(MAX_LR, total_steps), momentum=0.9)

    def make_callbacks():
        cbs = {
            "GradientMonitor": GradientMonitor((x_val[:PROBE], y_val[:PROBE])),
            "ActivationMonitor": ActivationMonitor(x_val[:PROBE]),
            "LearningRateLogger": LearningRateLogger(per_batch=True),
            "EpochTimer": EpochTimer(),
        }
        if TrainingDoctor is not None:
            cbs["TrainingDoctor"] = TrainingDoctor(validation_data=(x_val, y_val), verbose=False)
        cbs["LiveHistoryPlot"] = LiveHistoryPlot()  # last: it sees every key the others wrote
        return cbs

    def fit(model, callbacks):
        return model.fit(
            x_train,
            y_train,
            validation_data=(x_val, y_val),
            epochs=EPOCHS,
            batch_size=BATCH,
            shuffle=False,
            verbose=0,
            callbacks=list(callbacks),
        )

    # 1. One fit with every callback attached and a OneCycle optimizer. ----------------
    model = build(one_cycle_optimizer)
    callbacks = make_callbacks()
    try:
        history = fit(model, callbacks.values())
        report["combined_fit"] = "ok"
    except Exception:
        report["combined_fit"] = traceback.format_exc(limit=-6)
        history = None
    save()

    if history is None:
        # Name the culprit(s): fit once with each callback alone.
        for name in make_callbacks():
            try:
                fit(build(one_cycle_optimizer), [make_callbacks()[name]])
            except Exception:
                report["errors"][name] = traceback.format_exc(limit=-6)
        save()
    else:
        report["history"] = {k: [float(v) for v in vals] for k, vals in history.history.items()}
        report["iterations"] = int(keras.ops.convert_to_numpy(model.optimizer.iterations))

        # GradientMonitor: compare its last norms with a plain, undistributed tape on the same weights.
        reference = keras.models.clone_model(model)
        reference.set_weights(model.get_weights())
        xp, yp = tf.constant(x_val[:PROBE]), tf.constant(y_val[:PROBE])
        kernels = {layer.name: layer.kernel for layer in reference.layers if getattr(layer, "kernel", None) is not None}
        with tf.GradientTape() as tape:
            loss = keras.losses.sparse_categorical_crossentropy(yp, reference(xp, training=False))
            loss = tf.reduce_mean(loss)
        grads = tape.gradient(loss, list(kernels.values()))
        report["reference_grad_norm"] = {n: float(tf.norm(g)) for n, g in zip(kernels, grads)}
        report["gradient_monitor_last"] = dict(callbacks["GradientMonitor"].last)

        # ActivationMonitor: the same outputs' spread from the undistributed copy.
        names = ["conv", "relu", "hidden"]
        probe = keras.Model(reference.inputs, [reference.get_layer(n).output for n in names])
        outs = probe(xp, training=False)
        report["reference_act_std"] = {n: float(np.std(np.asarray(o))) for n, o in zip(names, outs)}
        report["activation_monitor_last"] = dict(callbacks["ActivationMonitor"].last)

        report["lr_logger"] = {
            "lrs": [float(v) for v in callbacks["LearningRateLogger"].lrs],
            "batch_lrs": [float(v) for v in callbacks["LearningRateLogger"].batch_lrs],
        }
        report["epoch_timer"] = [float(t) for t in callbacks["EpochTimer"].times]

        plot = callbacks["LiveHistoryPlot"]
        figure = plot._figure
        report["live_plot"] = {
            "epochs": [int(e) for e in plot.epochs],
            "keys": sorted(plot.history),
            "drawn": figure is not None,
            "titles": [ax.get_title() for ax in figure.axes] if figure is not None else [],
            "lines": [len(ax.get_lines()) for ax in figure.axes] if figure is not None else [],
        }

        if "TrainingDoctor" in callbacks:
            doctor = callbacks["TrainingDoctor"]
            diagnosis = getattr(doctor, "diagnosis", None)
            report["doctor"] = {
                "diagnosis_type": type(diagnosis).__name__,
                "text": str(diagnosis) if diagnosis is not None else "",
                "problems": [getattr(f, "problem", None) for f in getattr(diagnosis, "findings", [])],
                "notes": [str(n) for n in getattr(diagnosis, "notes", [])],
                "stop_reason": doctor.stop_reason,
                "history_keys": sorted(getattr(doctor, "history", {}) or {}),
            }
        save()

    # 2. An LR search under the same strategy (a float LR: LRFinder sets it batch by batch). --
    try:
        model = build(lambda: keras.optimizers.SGD(0.01, momentum=0.9))
        # One epoch first: real optimizer state (momentum, iterations), so the restore has something to lose.
        model.fit(x_train, y_train, epochs=1, batch_size=BATCH, verbose=0)
        before_weights = [w.copy() for w in model.get_weights()]
        before_slots = [np.array(keras.ops.convert_to_numpy(v)) for v in model.optimizer.variables]
        before_lr = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
        finder = LRFinder(1e-4, 10.0, num_steps=steps_per_epoch)
        model.fit(x_train, y_train, epochs=1, batch_size=BATCH, verbose=0, callbacks=[finder])
        after_weights = model.get_weights()
        after_slots = [np.array(keras.ops.convert_to_numpy(v)) for v in model.optimizer.variables]
        report["lr_finder"] = {
            "lrs": [float(v) for v in finder.lrs],
            "losses": [float(v) for v in finder.losses],
            "suggestion": finder.suggestion,
            "weights_restored": all(np.array_equal(a, b) for a, b in zip(before_weights, after_weights)),
            "slots_restored": all(np.array_equal(a, b) for a, b in zip(before_slots, after_slots)),
            "lr_restored": math.isclose(float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)), before_lr),
        }
    except Exception:
        report["errors"]["LRFinder"] = traceback.format_exc(limit=-6)
    save()


if __name__ == "__main__":  # pragma: no cover
    try:
        _child(sys.argv[1])
    except Exception:
        # Keep what was measured and say where it broke.
        path = sys.argv[1]
        report = json.load(open(path)) if os.path.exists(path) else {"errors": {}}
        report["errors"]["script"] = traceback.format_exc(limit=-8)
        json.dump(report, open(path, "w"), default=float)
        raise


# --------------------------------------------------------------------------------------------
# The tests (pytest process).
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("distribute") / "report.json"
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="-1", TF_CPP_MIN_LOG_LEVEL="2", MPLBACKEND="Agg")
    proc = subprocess.run(
        [sys.executable, __file__, str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
    )
    if not out.exists():
        pytest.fail(f"the MirroredStrategy subprocess wrote no report (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    report = json.loads(out.read_text())
    report["_stderr"] = proc.stderr[-4000:]
    report["_returncode"] = proc.returncode
    return report


def _need_history(run):
    _check_callback(run, "OneCycle")
    if run.get("combined_fit") != "ok":
        pytest.fail(
            "fit under MirroredStrategy with every callback attached failed:\n"
            f"{run.get('combined_fit')}\nper-callback errors: {json.dumps(run['errors'], indent=1)}"
        )
    return run["history"]


def _check_callback(run, name):
    if "script" in run["errors"]:
        pytest.fail(f"the MirroredStrategy script broke:\n{run['errors']['script']}")
    if name in run["errors"]:
        pytest.fail(f"{name} fails under MirroredStrategy:\n{run['errors'][name]}")


def test_the_cpu_is_split_into_two_replicas(run):
    assert run["_returncode"] == 0, run["_stderr"]
    assert run["logical_cpus"] == 2, "the CPU should be split into 2 logical devices"
    assert run["replicas"] == 2, "MirroredStrategy should train on 2 replicas"


def test_fit_with_every_callback_learns(run):
    history = _need_history(run)
    assert len(history["loss"]) == EPOCHS
    assert history["loss"][-1] < history["loss"][0], "the distributed model should learn"
    assert history["val_accuracy"][-1] > 0.8, f"8x8 digits should be easy, got {history['val_accuracy'][-1]:.3f}"
    assert run["iterations"] == EPOCHS * run["steps_per_epoch"], "one optimizer step per global batch"


def test_gradient_monitor(run):
    _check_callback(run, "GradientMonitor")
    history = _need_history(run)
    for layer in ("conv", "hidden", "output"):
        values = history[f"grad_norm/{layer}"]
        assert len(values) == EPOCHS and all(math.isfinite(v) and v > 0 for v in values), (layer, values)
    # The probe runs on both replicas; its norm must equal an undistributed tape's on the same weights.
    for layer, reference in run["reference_grad_norm"].items():
        assert run["gradient_monitor_last"][layer] == pytest.approx(reference, rel=1e-3), layer


def test_activation_monitor(run):
    _check_callback(run, "ActivationMonitor")
    history = _need_history(run)
    assert len(history["act_std/hidden"]) == EPOCHS
    assert all(0.0 <= v <= 1.0 for v in history["dead_fraction/relu"])
    for layer, reference in run["reference_act_std"].items():
        assert run["activation_monitor_last"][f"act_std/{layer}"] == pytest.approx(reference, rel=1e-3), layer


def test_one_cycle_schedule_evaluates(run):
    _check_callback(run, "OneCycle")
    expected = run["onecycle_expected"]
    assert expected[0] == pytest.approx(MAX_LR / 25.0, rel=1e-4), "OneCycle starts at max_lr / div_factor"
    assert max(expected) == pytest.approx(MAX_LR, rel=1e-3)


def test_learning_rate_logger_follows_one_cycle(run):
    _check_callback(run, "OneCycle")
    _check_callback(run, "LearningRateLogger")
    history = _need_history(run)
    expected = run["onecycle_expected"]
    steps = run["steps_per_epoch"]
    assert history["learning_rate"] == pytest.approx([expected[e * steps] for e in range(EPOCHS)], rel=1e-4)
    batch_lrs = run["lr_logger"]["batch_lrs"]
    assert batch_lrs == pytest.approx(expected[: len(batch_lrs)], rel=1e-4)
    assert len(batch_lrs) == EPOCHS * steps
    peak = int(np.argmax(batch_lrs))
    assert 0 < peak < len(batch_lrs) - 1, "OneCycle should rise, then fall"
    assert max(batch_lrs) == pytest.approx(MAX_LR, rel=0.05)
    assert batch_lrs[-1] < MAX_LR / 100, "OneCycle should end far below its peak"


def test_epoch_timer(run):
    _check_callback(run, "EpochTimer")
    history = _need_history(run)
    assert history["epoch_seconds"] == pytest.approx(run["epoch_timer"])
    assert len(run["epoch_timer"]) == EPOCHS and all(t > 0 for t in run["epoch_timer"])


def test_live_history_plot(run):
    _check_callback(run, "LiveHistoryPlot")
    _need_history(run)
    live = run["live_plot"]
    assert live["epochs"] == list(range(EPOCHS))
    assert {"loss", "val_loss", "accuracy", "learning_rate", "epoch_seconds"} <= set(live["keys"])
    assert not any("/" in key for key in live["keys"]), "per-layer monitor keys are not curves"
    assert live["drawn"], "outside a notebook the plot is drawn once when training ends"
    assert live["lines"] and all(n >= 2 for n in live["lines"]), f"train and val curves expected: {live}"


def test_training_doctor(run):
    _check_callback(run, "TrainingDoctor_import")
    _check_callback(run, "TrainingDoctor")
    _need_history(run)
    doctor = run.get("doctor")
    assert doctor is not None, "TrainingDoctor was not attached"
    assert doctor["stop_reason"] is None, "a healthy distributed run must not be stopped"
    assert doctor["text"], "the TrainingDoctor should leave a diagnosis after fit"
    assert doctor["problems"], "a diagnosis lists at least one finding"
    assert not any("no confusion matrix" in n for n in doctor["notes"]), (
        "with validation_data the doctor should build a confusion matrix under the strategy too: "
        f"{doctor['notes']}"
    )
    assert {"loss", "val_loss", "grad_norm/hidden"} <= set(doctor["history_keys"]), "the doctor reads the monitors"


def test_lr_finder_restores_everything(run):
    _check_callback(run, "LRFinder")
    finder = run["lr_finder"]
    lrs = finder["lrs"]
    assert len(lrs) >= 10 and all(b > a for a, b in zip(lrs, lrs[1:])), "the LR must grow batch by batch"
    assert all(math.isfinite(v) for v in finder["losses"])
    assert finder["suggestion"] is not None and lrs[0] <= finder["suggestion"] <= lrs[-1]
    assert finder["weights_restored"], "the LR search must leave the weights as they were"
    assert finder["slots_restored"], "the LR search must restore the optimizer's slots and iterations"
    assert finder["lr_restored"], "the LR search must restore the learning rate"
