"""Real-world training patterns (issue 15), each with every toolkit callback and helper attached.

Each pattern is a small, fast version of Keras code that keras.io and the
TensorFlow tutorials publish, on synthetic arrays of the right shapes. Every
number a callback or helper reports is checked against an independent
reference (see tests/patterns/checks.py); what a callback legitimately cannot
do is refused before training starts, with a ValueError that says so.
"""

import warnings

import keras
import matplotlib.pyplot as plt
import numpy as np
import pytest
import tensorflow as tf

from patterns import checks
from patterns.harness import ConfusionSpy, Pattern, classification_data, lr_search, run_pattern, split
from patterns.models import GAN, CustomStepModel, Distiller, SubclassedMLP
from toolkit.callbacks import (
    ActivationMonitor,
    EpochTimer,
    GradientMonitor,
    LearningRateLogger,
    LiveHistoryPlot,
    LRFinder,
    TrainingDoctor,
)
from toolkit.diagnose import diagnose, read_history_csv
from toolkit.metrics import classification_summary
from toolkit.plots import plot_history

SCE = keras.losses.SparseCategoricalCrossentropy()
BCE = keras.losses.BinaryCrossentropy()
MSE = keras.losses.MeanSquaredError()


def compiled(model, loss, lr=0.01, metrics=("accuracy",)):
    model.compile(keras.optimizers.Adam(lr), loss, metrics=list(metrics))
    return model


def mlp(classes, *, with_input=True, features=8):
    head = keras.layers.Dense(classes, activation="softmax" if classes > 1 else "sigmoid", name="out")
    layers = [keras.layers.Dense(16, activation="relu", name="hidden"),
              keras.layers.Dense(8, activation="tanh", name="mid"), head]
    return keras.Sequential(([keras.Input((features,))] if with_input else []) + layers)


def three_classes(**kwargs):
    return split(*classification_data(320, 8, 3, **kwargs), 96)


@pytest.mark.parametrize("with_input", [True, False], ids=["with_keras_Input", "without_keras_Input"])
def test_sequential(with_input, monkeypatch):
    def build():
        keras.utils.set_random_seed(0)
        return compiled(mlp(3, with_input=with_input), "sparse_categorical_crossentropy")

    train, val = three_classes()
    run_pattern(Pattern(build, train, val, lambda m, x, y, p: SCE(y, p), classes=3), monkeypatch)


def test_subclassed_model(monkeypatch):
    def build():
        keras.utils.set_random_seed(0)
        return compiled(SubclassedMLP(3), "sparse_categorical_crossentropy")

    train, val = three_classes()
    run_pattern(Pattern(build, train, val, lambda m, x, y, p: SCE(y, p), classes=3, activations_refused=True),
                monkeypatch)


def test_custom_train_step(monkeypatch):
    def build():
        keras.utils.set_random_seed(0)
        inputs = keras.Input((8,))
        hidden = keras.layers.Dense(16, activation="relu", name="hidden")(inputs)
        return compiled(CustomStepModel(inputs, keras.layers.Dense(3, activation="softmax", name="out")(hidden)),
                        "sparse_categorical_crossentropy")

    train, val = three_classes()
    run_pattern(Pattern(build, train, val, lambda m, x, y, p: SCE(y, p), classes=3), monkeypatch)


def test_compute_loss_override_without_training_argument(monkeypatch):
    """keras.io's Distiller: compute_loss(x, y, y_pred, sample_weight, allow_empty), no `training`."""

    def build():
        keras.utils.set_random_seed(0)
        teacher = keras.Sequential([keras.Input((8,)), keras.layers.Dense(32, activation="relu", name="t_hidden"),
                                    keras.layers.Dense(3, name="t_logits")], name="teacher")
        teacher.trainable = False
        student = keras.Sequential([keras.Input((8,)), keras.layers.Dense(8, activation="relu", name="s_hidden"),
                                    keras.layers.Dense(3, name="s_logits")], name="student")
        model = Distiller(student, teacher)
        model.compile(keras.optimizers.Adam(0.01), [keras.metrics.SparseCategoricalAccuracy()],
                      keras.losses.SparseCategoricalCrossentropy(from_logits=True), keras.losses.KLDivergence())
        return model

    train, val = three_classes()
    model, _ = run_pattern(Pattern(build, train, val, lambda m, x, y, p: m.distillation_loss(x, y, p), classes=3,
                                   activations_refused=True), monkeypatch)
    assert {layer.name for layer in checks.trainable_kernel_layers(model)} == {"s_hidden", "s_logits"}


@pytest.mark.parametrize("rnn", [keras.layers.LSTM, keras.layers.GRU], ids=["LSTM", "GRU"])
def test_embedding_and_recurrent_layer(rnn, monkeypatch):
    rng = np.random.default_rng(0)
    tokens = rng.integers(1, 50, size=(288, 12))
    labels = (np.isin(tokens, np.arange(1, 10)).sum(axis=1) > 2).astype("int64")  # "mentions a small word often"

    def build():
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((12,), dtype="int32"), keras.layers.Embedding(50, 8),
                                  rnn(8), keras.layers.Dense(1, activation="sigmoid", name="out")])
        return compiled(model, "binary_crossentropy")

    train, val = split(tokens, labels, 96)
    run_pattern(Pattern(build, train, val, lambda m, x, y, p: BCE(y, p), classes=2), monkeypatch)


def test_text_vectorization_inside_the_model(monkeypatch):
    rng = np.random.default_rng(0)
    words = np.array(["good", "great", "fine", "bad", "awful", "poor", "the", "a", "movie", "plot"])
    sentences = [" ".join(rng.choice(words, size=6)) for _ in range(288)]
    labels = np.array([sum(w in s.split() for w in words[:3]) >= sum(w in s.split() for w in words[3:6])
                       for s in sentences]).astype("int64")
    # (n, 1) strings, as keras.Input(shape=(1,), dtype="string") takes them; Keras reads strings from tensors only.
    text = tf.constant(np.array(sentences)[:, None])

    def build():
        keras.utils.set_random_seed(0)
        vectorize = keras.layers.TextVectorization(max_tokens=20, output_sequence_length=6)
        vectorize.adapt(text[:, 0])
        inputs = keras.Input((1,), dtype="string")
        h = keras.layers.GlobalAveragePooling1D()(keras.layers.Embedding(20, 8)(vectorize(inputs)))
        h = keras.layers.Dense(8, activation="relu", name="hidden")(h)
        return compiled(keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid", name="out")(h)),
                        "binary_crossentropy")

    train, val = split(text, labels, 96)
    run_pattern(Pattern(build, train, val, lambda m, x, y, p: BCE(y, p), classes=2), monkeypatch)


def test_regression_with_mse_and_a_regularizer(monkeypatch):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(320, 6)).astype("float32")
    y = (x @ rng.normal(size=6) + 0.1 * rng.normal(size=320)).astype("float32")

    def build():
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(16, activation="relu", name="hidden",
                                  kernel_regularizer=keras.regularizers.L2(1e-3)), keras.layers.Dense(1, name="out")])
        return compiled(model, "mse", metrics=["mae"])

    train, val = split(x, y, 96)
    run_pattern(Pattern(build, train, val, lambda m, x, y, p: MSE(y, p)), monkeypatch)


@pytest.mark.parametrize("label_shape", ["(n,)", "(n, 1)"])
def test_binary_sigmoid(label_shape, monkeypatch):
    x, y = classification_data(320, 8, 2)
    if label_shape == "(n, 1)":
        y = y[:, None]

    def build():
        keras.utils.set_random_seed(0)
        return compiled(mlp(1), "binary_crossentropy")

    train, val = split(x, y, 96)
    run_pattern(Pattern(build, train, val, lambda m, x, y, p: BCE(y, p), classes=2), monkeypatch)


@pytest.mark.parametrize("classes", [2, 3], ids=["binary_one_logit", "three_logits"])
def test_from_logits(classes, monkeypatch):
    x, y = classification_data(320, 8, classes)
    units = 1 if classes == 2 else classes
    loss = (keras.losses.BinaryCrossentropy(from_logits=True) if classes == 2
            else keras.losses.SparseCategoricalCrossentropy(from_logits=True))

    def build():
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu", name="hidden"),
                                  keras.layers.Dense(units, name="logits")])
        metric = keras.metrics.BinaryAccuracy(threshold=0.0) if classes == 2 else "accuracy"
        return compiled(model, loss, metrics=[metric])

    train, val = split(x, y, 96)
    model, _ = run_pattern(Pattern(build, train, val, lambda m, x, y, p: loss(y, p), classes=classes,
                                   from_logits=True), monkeypatch)
    if classes == 2:  # logits read as probabilities would be a silent wrong answer: refused instead
        with pytest.raises(ValueError, match="from_logits"):
            classification_summary(val[1], model.predict(val[0], verbose=0))


@pytest.mark.parametrize("weighting", ["class_weight", "sample_weight"])
def test_class_and_sample_weights_on_imbalanced_classes(weighting, monkeypatch):
    x, y = classification_data(700, 8, 3, imbalance=[1.0, 0.35, 0.12])
    (x_train, y_train), val = split(x, y, 120)
    counts = np.bincount(y_train, minlength=3)
    assert counts.min() < counts.max() / 4  # really imbalanced
    weights = {c: float(len(y_train) / (3 * n)) for c, n in enumerate(counts)}
    fit_kwargs = ({"class_weight": weights} if weighting == "class_weight"
                  else {"sample_weight": np.array([weights[c] for c in y_train], dtype="float32")})

    def build():
        keras.utils.set_random_seed(0)
        return compiled(mlp(3), "sparse_categorical_crossentropy")

    # The probe has no weights: the monitor reports the gradient of the unweighted compiled loss.
    run_pattern(Pattern(build, (x_train, y_train), val, lambda m, x, y, p: SCE(y, p), classes=3,
                        fit_kwargs=fit_kwargs), monkeypatch)


@pytest.fixture
def mixed_float16():
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def test_mixed_float16(mixed_float16, monkeypatch):
    def build():
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu", name="hidden"),
                                  keras.layers.Dense(3, name="logits"),
                                  keras.layers.Activation("softmax", dtype="float32", name="probs")])
        return compiled(model, "sparse_categorical_crossentropy")

    train, val = three_classes()
    model, _ = run_pattern(Pattern(build, train, val, lambda m, x, y, p: SCE(y, p), classes=3, rel=2e-2),
                           monkeypatch)
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    assert model.get_layer("hidden").compute_dtype == "float16"


def test_mixed_float16_gradients_too_small_for_float16_are_not_lost(mixed_float16):
    """Tiny inputs: the first kernel's float16 gradient underflows to 0 unless the loss is scaled, as Keras does."""
    (x, y), _ = three_classes()
    x = x * 1e-7  # still representable in float16 (a subnormal), but x * upstream gradient is not
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu", name="hidden"),
                              keras.layers.Dense(3, name="logits"),
                              keras.layers.Activation("softmax", dtype="float32", name="probs")])
    compiled(model, "sparse_categorical_crossentropy")
    monitor = GradientMonitor((x[:64], y[:64]))
    hist = model.fit(x, y, epochs=1, batch_size=32, verbose=0, callbacks=[monitor])
    kernel, scale = model.get_layer("hidden").kernel, float(model.optimizer.dynamic_scale)
    with tf.GradientTape(persistent=True) as tape:
        loss = SCE(y[:64], model(x[:64], training=False))
        scaled = loss * scale
    unscaled, rescued = tape.gradient(loss, kernel).numpy(), tape.gradient(scaled, kernel).numpy()
    # The case really bites: without scaling most of the float16 gradient underflows to 0.
    assert np.count_nonzero(unscaled) < 0.5 * np.count_nonzero(rescued)
    checks.check_gradient_norms(model, monitor, hist.history, x[:64], y[:64], SCE, rel=2e-2)


# Patterns that need more than the standard run ------------------------------------------------------


def test_functional_multi_input_multi_output(monkeypatch):
    """Two named inputs, a classifier head and a regression head; compile with a loss per output."""
    a, cls = classification_data(320, 8, 3)
    b = np.random.default_rng(1).normal(size=(320, 4)).astype("float32")
    reg = (b.sum(axis=1) + a[:, 0]).astype("float32")
    x = {"a": a[:224], "b": b[:224]}
    y = {"cls": cls[:224], "reg": reg[:224]}
    x_val, y_val = {"a": a[224:], "b": b[224:]}, {"cls": cls[224:], "reg": reg[224:]}

    def build():
        keras.utils.set_random_seed(0)
        in_a, in_b = keras.Input((8,), name="a"), keras.Input((4,), name="b")
        h = keras.layers.Dense(16, activation="relu", name="hidden")(keras.layers.Concatenate()([in_a, in_b]))
        outputs = {"cls": keras.layers.Dense(3, activation="softmax", name="cls")(h),
                   "reg": keras.layers.Dense(1, name="reg")(h)}
        model = keras.Model({"a": in_a, "b": in_b}, outputs)
        model.compile(keras.optimizers.Adam(0.01), loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"},
                      metrics={"cls": ["accuracy"]})
        return model

    probe_x, probe_y = {k: v[:64] for k, v in x.items()}, {k: v[:64] for k, v in y.items()}
    spy = ConfusionSpy(monkeypatch)
    model = build()
    # Supported, or refused at construction in words: never a crash inside fit.
    monitors = []
    for make in (lambda: GradientMonitor((probe_x, probe_y)), lambda: ActivationMonitor(probe_x)):
        try:
            monitors.append(make())
        except (TypeError, ValueError) as error:
            assert "multi" in str(error).lower(), f"the refusal must say multi-input/output is not supported: {error}"
    try:
        doctor = TrainingDoctor(validation_data=(x_val, y_val["cls"]), verbose=False)
    except (TypeError, ValueError) as error:  # a dict of inputs refused at construction, in words
        assert "validation_data" in str(error), error
        doctor = TrainingDoctor(verbose=False)
    state = checks.fresh_state(build, {k: v[:2] for k, v in x.items()})
    finder, lr_logger = LRFinder(1e-4, 1.0), LearningRateLogger(per_batch=True)
    model.fit(x, y, epochs=1, batch_size=32, verbose=0, callbacks=[finder, lr_logger])
    checks.check_restored(model, state)
    checks.check_lr_search(finder, lr_logger)
    timer = EpochTimer()
    hist = model.fit(x, y, validation_data=(x_val, y_val), epochs=3, batch_size=32, verbose=0,
                     callbacks=[*monitors, LearningRateLogger(), LiveHistoryPlot(), timer, doctor])
    assert hist.epoch == [0, 1, 2] and doctor.stopped_epoch is None
    for monitor in monitors:
        if isinstance(monitor, GradientMonitor):
            checks.check_gradient_norms(model, monitor, hist.history, probe_x, probe_y,
                                        lambda yt, yp: SCE(yt["cls"], yp["cls"]) + MSE(yt["reg"], yp["reg"]))
        else:
            checks.check_activations(model, hist.history, probe_x)
    scores = model.predict(x_val, verbose=0)["cls"]
    summary = classification_summary(y_val["cls"], scores)
    assert summary.accuracy == pytest.approx(np.mean(scores.argmax(axis=1) == y_val["cls"]))
    if spy.matrices:  # the doctor read the classifier output ...
        checks.check_confusion(spy.matrices[-1], y_val["cls"], scores, 3)
    else:  # ... or said in one note why it built no confusion matrix
        assert any("confusion" in note for note in doctor.diagnosis.notes)


def _windows(series, start, stop, shuffle=False):
    """keras.io's time-series recipe: 24-step windows, the next value as the target, unshuffled by default."""
    data = series[start:stop]
    return keras.utils.timeseries_dataset_from_array(data[:-24], data[24:, 0], sequence_length=24, batch_size=32,
                                                     shuffle=shuffle)


def test_conv1d_on_a_time_series():
    t = np.arange(1400, dtype="float32")
    series = (np.sin(t / 20) + 0.5 * np.sin(t / 7) + 0.05 * np.random.default_rng(0).normal(size=t.shape))[:, None]
    train, val = _windows(series.astype("float32"), 0, 1100), _windows(series.astype("float32"), 1100, 1400)
    probe_x, probe_y = (np.asarray(t) for t in next(iter(train)))

    def build():
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((24, 1)), keras.layers.Conv1D(8, 5, activation="relu", name="conv"),
                                  keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(1, name="out")])
        return compiled(model, "mse", lr=0.005, metrics=["mae"])

    model = build()
    state = checks.fresh_state(build, probe_x[:2])
    finder = LRFinder(1e-5, 1.0)
    model.fit(train, epochs=1, verbose=0, callbacks=[finder])
    checks.check_restored(model, state)
    # Unshuffled windows: neighbouring batches differ a lot, which is not divergence at a tiny learning rate.
    assert max(finder.lrs) > 1e-3, f"the search stopped after {len(finder.lrs)} batches, at lr {max(finder.lrs):.2g}"

    grad, timer = GradientMonitor((probe_x, probe_y)), EpochTimer()
    doctor = TrainingDoctor(verbose=False)
    hist = model.fit(train, validation_data=val, epochs=3, verbose=0,
                     callbacks=[grad, ActivationMonitor(probe_x), LearningRateLogger(), LiveHistoryPlot(), timer,
                                doctor])
    assert hist.epoch == [0, 1, 2] and doctor.stopped_epoch is None
    checks.check_gradient_norms(model, grad, hist.history, probe_x, probe_y, MSE)
    assert "conv" in checks.check_activations(model, hist.history, probe_x)
    assert hist.history["learning_rate"] == pytest.approx([0.005] * 3)
    assert "nan" not in diagnose(hist).problems


def test_tf_data_with_steps_per_epoch_and_a_schedule():
    (x, y), (x_val, y_val) = three_classes()
    train = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(224, seed=0).batch(32).repeat()
    val = tf.data.Dataset.from_tensor_slices((x_val, y_val)).batch(32)
    schedule = keras.optimizers.schedules.ExponentialDecay(0.02, decay_steps=6, decay_rate=0.5)

    def build(lr=0.01):
        keras.utils.set_random_seed(0)
        return compiled(mlp(3), "sparse_categorical_crossentropy", lr=lr)

    model = build()
    state = checks.fresh_state(build, x[:2])
    finder, lr_logger = LRFinder(1e-4, 0.05), LearningRateLogger(per_batch=True)  # too low to diverge in 12 steps
    model.fit(train, steps_per_epoch=6, epochs=2, verbose=0, callbacks=[finder, lr_logger])
    checks.check_restored(model, state)
    checks.check_lr_search(finder, lr_logger)
    assert len(finder.lrs) == 12  # the ramp spans steps_per_epoch * epochs batches

    # Keras does not let anyone set a schedule's learning rate: refused before training, in words.
    counter = checks.BatchCounter()
    with pytest.raises((TypeError, ValueError), match="schedule"):
        build(schedule).fit(train, steps_per_epoch=6, epochs=1, verbose=0, callbacks=[counter, LRFinder()])
    assert counter.batches == 0

    model = build(schedule)
    grad, timer, lr_logger = GradientMonitor((x[:64], y[:64])), EpochTimer(), LearningRateLogger()
    doctor = TrainingDoctor(validation_data=(x_val, y_val), verbose=False)
    hist = model.fit(train, steps_per_epoch=6, validation_data=val, validation_steps=2, epochs=3, verbose=0,
                     callbacks=[grad, ActivationMonitor(x[:64]), lr_logger, LiveHistoryPlot(), timer, doctor])
    assert hist.epoch == [0, 1, 2] and doctor.stopped_epoch is None
    assert hist.history["learning_rate"] == pytest.approx([float(schedule(6 * e)) for e in range(3)], rel=1e-6)
    assert int(model.optimizer.iterations) == 18
    checks.check_gradient_norms(model, grad, hist.history, x[:64], y[:64], SCE)
    checks.check_activations(model, hist.history, x[:64])


def test_validation_freq_2(monkeypatch, tmp_path):
    """Keras validates at epochs 2, 4, 6 only: val_* lists are shorter, never padded with NaN."""
    (x, y), (x_val, y_val) = three_classes()
    keras.utils.set_random_seed(0)
    model = compiled(mlp(3), "sparse_categorical_crossentropy", lr=0.005)
    spy = ConfusionSpy(monkeypatch)
    grad, doctor = GradientMonitor((x[:64], y[:64])), TrainingDoctor(validation_data=(x_val, y_val), verbose=False)
    csv = tmp_path / "log.csv"
    hist = model.fit(x, y, validation_data=(x_val, y_val), validation_freq=2, epochs=6, batch_size=32, verbose=0,
                     callbacks=[grad, ActivationMonitor(x[:64]), LearningRateLogger(), LiveHistoryPlot(), EpochTimer(),
                                doctor, keras.callbacks.CSVLogger(str(csv))])
    h = hist.history
    assert hist.epoch == list(range(6)) and doctor.stopped_epoch is None, f"stopped: {doctor.stop_reason}"
    assert len(h["loss"]) == 6 and len(h["val_loss"]) == 3  # what Keras really writes
    assert not {"nan", "diverging"} & set(doctor.diagnosis.problems)
    checks.check_gradient_norms(model, grad, h, x[:64], y[:64], SCE)
    checks.check_activations(model, h, x[:64])

    _, ax = plt.subplots()
    plot_history(hist, metrics=["loss"], ax=ax)
    checks.check_history_plot(ax, h, "loss", np.arange(1, 7), val_epochs=np.array([2, 4, 6]))
    from toolkit.history import read_history  # what diagnose and the doctor read a run with

    for source in (hist, csv):  # the History and the CSVLogger file (NA cells): val at epochs 2, 4, 6
        epochs, values = read_history(source).at("val_loss")
        np.testing.assert_array_equal(epochs, [2, 4, 6])
        np.testing.assert_allclose(values, h["val_loss"], rtol=1e-6)
    report = diagnose(hist)
    assert "nan" not in report.problems
    assert diagnose(read_history_csv(csv)).problems == report.problems  # the same run, from the file
    scores = model.predict(x_val, verbose=0)
    checks.check_confusion(spy.matrices[-1], y_val, scores, 3)


def test_frozen_backbone_then_fine_tuned_with_initial_epoch(monkeypatch):
    """keras.io's transfer-learning guide: a frozen MobileNetV2 with a new head, then unfrozen and recompiled."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=96)
    x = (rng.normal(size=(96, 32, 32, 3)) * 0.3 + np.eye(3)[y][:, None, None, :]).astype("float32")
    (x_train, y_train), (x_val, y_val) = (x[:64], y[:64]), (x[64:], y[64:])
    probe_x, probe_y = x_train[:32], y_train[:32]

    def build():
        keras.utils.set_random_seed(0)
        backbone = keras.applications.MobileNetV2(weights=None, include_top=False, input_shape=(32, 32, 3), alpha=0.35)
        backbone.trainable = False
        inputs = keras.Input((32, 32, 3))
        features = keras.layers.GlobalAveragePooling2D()(backbone(inputs, training=False))  # BatchNorm stays frozen
        model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="head")(features))
        return compiled(model, "sparse_categorical_crossentropy", lr=0.01)

    model = build()
    backbone = model.layers[1]
    lr_search(Pattern(build, (x_train, y_train), (x_val, y_val), None), model)

    spy = ConfusionSpy(monkeypatch)
    grad, act, live = GradientMonitor((probe_x, probe_y)), ActivationMonitor(probe_x), LiveHistoryPlot()
    lr_logger, doctor = LearningRateLogger(), TrainingDoctor(validation_data=(x_val, y_val), verbose=False)
    callbacks = [grad, act, lr_logger, live, EpochTimer(), doctor]
    hist = model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=2, batch_size=16, verbose=0,
                     callbacks=callbacks)
    assert doctor.stopped_epoch is None
    assert checks.check_gradient_norms(model, grad, hist.history, probe_x, probe_y, SCE) == ["head"]
    inner = {layer.name for layer in backbone.layers}
    watched = checks.check_activations(model, hist.history, probe_x, limit=12)
    assert inner & set(watched), "ActivationMonitor must open nested models, as GradientMonitor does"

    backbone.trainable = True  # fine-tune: trainability is fixed at compile(), so recompile
    model.compile(keras.optimizers.Adam(1e-4), "sparse_categorical_crossentropy", metrics=["accuracy"])
    tuned = model.fit(x_train, y_train, validation_data=(x_val, y_val), initial_epoch=2, epochs=4, batch_size=16,
                      verbose=0, callbacks=callbacks)
    assert tuned.epoch == [2, 3] and doctor.stopped_epoch is None
    names = checks.check_gradient_norms(model, grad, tuned.history, probe_x, probe_y, SCE, rel=1e-3)
    assert len(names) > 10 and inner & set(names), "the unfrozen backbone's kernels must be watched after recompiling"
    checks.check_activations(model, tuned.history, probe_x, rel=1e-3, limit=12)
    assert tuned.history["learning_rate"] == pytest.approx([1e-4, 1e-4])
    assert live.epochs == [0, 1, 2, 3]  # the live curve continues instead of restarting
    _, ax = plt.subplots()
    plot_history(tuned, metrics=["loss"], ax=ax)
    checks.check_history_plot(ax, tuned.history, "loss", np.array([3, 4]), val_epochs=np.array([3, 4]))
    checks.check_confusion(spy.matrices[-1], y_val, model.predict(x_val, verbose=0), 3)


def test_gan_with_two_optimizers(capsys):
    """keras.io's DCGAN shrunk: a custom train_step, two optimizers, d_loss/g_loss and no `loss` in the logs."""
    real = np.random.default_rng(0).normal(loc=2.0, size=(256, 8)).astype("float32")
    data = tf.data.Dataset.from_tensor_slices(real).batch(32)

    def build():
        keras.utils.set_random_seed(0)
        generator = keras.Sequential([keras.Input((4,)), keras.layers.Dense(16, activation="relu", name="g_hidden"),
                                      keras.layers.Dense(8, name="g_out")], name="generator")
        discriminator = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu", name="d_hidden"),
                                          keras.layers.Dense(1, name="d_logit")], name="discriminator")
        gan = GAN(discriminator, generator, latent_dim=4)
        gan.compile(keras.optimizers.Adam(2e-4), keras.optimizers.Adam(3e-4),
                    keras.losses.BinaryCrossentropy(from_logits=True))
        return gan

    fit = dict(x=data, epochs=1)
    # There is no compiled loss to differentiate, no symbolic inputs, and two optimizers: refused, in words.
    checks.refused_before_training(build(), fit, GradientMonitor((real[:32], np.zeros(32))), r"(?i)loss")
    checks.refused_before_training(build(), fit, ActivationMonitor(real[:32]), r"(?i)functional|sequential|subclass")
    checks.refused_before_training(build(), fit, LRFinder(), r"(?i)optimizer|loss")

    counter, lr_logger = checks.BatchCounter(), LearningRateLogger()
    try:  # the rates of the optimizers that really step, or a refusal before training
        hist = build().fit(data, epochs=1, verbose=0, callbacks=[counter, lr_logger])
        logged = sorted(v[0] for k, v in hist.history.items() if k.startswith("learning_rate"))
        assert logged == pytest.approx([2e-4, 3e-4]), hist.history
    except ValueError as error:
        assert counter.batches == 0 and "optimizer" in str(error), error

    gan = build()
    g_before = [np.array(w) for w in gan.generator.get_weights()]
    timer, doctor = EpochTimer(), TrainingDoctor()
    capsys.readouterr()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        hist = gan.fit(data, epochs=2, verbose=0, callbacks=[LiveHistoryPlot(), timer, doctor])
    said = [line for line in capsys.readouterr().out.splitlines() if "loss" in line]  # printed, or warned:
    said += [str(w.message) for w in caught if "TrainingDoctor" in str(w.message) and "loss" in str(w.message)]
    h = hist.history
    assert sorted(h) == ["d_loss", "epoch_seconds", "g_loss"] and len(h["d_loss"]) == 2
    assert np.isfinite(h["d_loss"]).all() and np.isfinite(h["g_loss"]).all()
    assert int(gan.d_optimizer.iterations) == int(gan.g_optimizer.iterations) == 16  # both really trained
    assert any(not np.array_equal(a, b) for a, b in zip(g_before, gan.generator.get_weights()))
    assert doctor.stopped_epoch is None
    assert doctor.diagnosis is not None or len(said) == 1, "the doctor must read the run, or say once what it cannot"
    checks.check_epoch_timer(timer, h, 2, float("inf"))

    _, axes = plt.subplots(1, 2)
    plot_history(hist, metrics=["d_loss", "g_loss"], ax=axes)
    for ax, metric in zip(axes, ["d_loss", "g_loss"]):
        checks.check_history_plot(ax, h, metric, np.array([1, 2]))
    with pytest.raises(ValueError, match="loss"):
        diagnose(hist)  # the doctor's rules read a `loss` curve; this run has none
