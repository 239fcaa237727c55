"""The independent references every training pattern is checked against.

Each function recomputes what a toolkit callback or helper reported, without
the toolkit: gradient norms with a fresh ``tf.GradientTape``, activation
statistics with a sub-model ``keras.Model(inputs, layer.output)``, the state
an LRFinder must leave behind from an untouched twin model, confusion matrices
and accuracies with scikit-learn and ``np.bincount``/``np.mean``.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.metrics import confusion_matrix


class BatchCounter(keras.callbacks.Callback):
    """Counts the training batches that ran: 0 proves a refusal came before any training."""

    def __init__(self):
        super().__init__()
        self.batches = 0

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1


def refused_before_training(model, fit_kwargs, callback, match):
    """Fit with ``callback`` and check it refuses with a ValueError before the first batch runs."""
    counter = BatchCounter()
    with pytest.raises(ValueError, match=match) as info:
        model.fit(**fit_kwargs, callbacks=[counter, callback], verbose=0)
    assert counter.batches == 0, f"refused only after {counter.batches} batch(es), not at on_train_begin"
    return info.value


def flat_layers(model):
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from flat_layers(layer)
        else:
            yield layer


def layer_named(model, name):
    """The layer called ``name`` and the (possibly nested) model that holds it."""
    for layer in model.layers:
        if layer.name == name:
            return layer, model
        if isinstance(layer, keras.Model):
            try:
                return layer_named(layer, name)
            except KeyError:
                pass
    raise KeyError(name)


def trainable_kernel_layers(model):
    """The layers whose ``kernel`` training updates (it is one of the model's trainable variables)."""
    trainable = {id(v) for v in model.trainable_variables}
    return [layer for layer in flat_layers(model) if id(getattr(layer, "kernel", None)) in trainable]


def check_gradient_norms(model, monitor, history, x, y, loss_of, *, rel=1e-4):
    """GradientMonitor's last norms against a tape on the probe batch (training=False).

    ``loss_of(y, y_pred)`` is the pattern's loss written out independently;
    regularization losses are added as Keras's ``compute_loss`` does. Under a
    LossScaleOptimizer the scaled loss is differentiated and the gradients unscaled.
    """
    names = sorted(layer.name for layer in trainable_kernel_layers(model))
    assert names, "the pattern has no trainable kernel: nothing to check"
    assert sorted(monitor.last) == names, "GradientMonitor must watch exactly the trainable kernels"
    kernels = [layer_named(model, n)[0].kernel for n in names]
    optimizer = model.optimizer
    scale = float(optimizer.dynamic_scale) if isinstance(optimizer, keras.optimizers.LossScaleOptimizer) else 1.0
    with tf.GradientTape() as tape:
        y_pred = model(x, training=False)
        loss = tf.cast(loss_of(y, y_pred), tf.float32)
        if model.losses:
            loss += tf.add_n([tf.cast(term, tf.float32) for term in model.losses])
        scaled = loss * scale
    grads = tape.gradient(scaled, kernels)
    for name, grad in zip(names, grads):
        expected = float(tf.norm(tf.cast(grad, tf.float32))) / scale
        assert monitor.last[name] == pytest.approx(expected, rel=rel, abs=1e-7), name
        assert history[f"grad_norm/{name}"][-1] == pytest.approx(monitor.last[name], rel=1e-6), name
    return names


def check_activations(model, history, x, *, rel=1e-4, limit=None):
    """ActivationMonitor's last statistics against ``keras.Model(owner.inputs, layer.output)``.

    A layer of a nested model is read through a sub-model of that nested model;
    in these patterns every nested model is applied straight to the model's input.
    With ``limit``, that many layers spread evenly (first and last included) are
    recomputed, for a backbone of a hundred layers. Returns every logged layer name.
    """
    names = [k.split("/", 1)[1] for k in history if k.startswith("act_std/")]
    assert names, "ActivationMonitor logged no layer"
    chosen = names if limit is None or len(names) <= limit else [
        names[i] for i in sorted(set(np.linspace(0, len(names) - 1, limit).round().astype(int)))]
    for name in chosen:
        layer, owner = layer_named(model, name)
        inputs = owner.inputs[0] if len(owner.inputs) == 1 else owner.inputs  # called with a bare tensor
        sub = keras.Model(inputs, layer.output)
        out = keras.ops.convert_to_numpy(sub(x, training=False)).astype("float32")
        assert history[f"act_std/{name}"][-1] == pytest.approx(float(out.std()), rel=rel, abs=1e-6), name
        dead_key = f"dead_fraction/{name}"
        if dead_key in history:
            silent = np.abs(out).reshape(-1, out.shape[-1]).max(axis=0) == 0.0
            assert history[dead_key][-1] == pytest.approx(float(silent.mean()), abs=1e-6), name
    return names


def fresh_state(build, x_sample):
    """Weights, optimizer variables and learning rate of an untouched twin (same seed, same builder)."""
    twin = build()
    twin(x_sample, training=False)  # creates the variables, as the first batch of fit does
    twin.optimizer.build(twin.trainable_variables)
    return (
        [np.array(w) for w in twin.get_weights()],
        [np.array(keras.ops.convert_to_numpy(v)) for v in twin.optimizer.variables],
        float(keras.ops.convert_to_numpy(twin.optimizer.learning_rate)),
    )


def check_restored(model, state):
    """After an LRFinder search the model is in exactly the twin's state: weights, slots, iterations, LR."""
    weights, optimizer_values, lr = state
    now = model.get_weights()
    assert len(now) == len(weights)
    for a, b in zip(now, weights):
        np.testing.assert_array_equal(a, b)
    optimizer = model.optimizer
    values = [keras.ops.convert_to_numpy(v) for v in optimizer.variables]
    assert [v.shape for v in values] == [v.shape for v in optimizer_values], "the optimizer's slots differ"
    for a, b in zip(values, optimizer_values):
        np.testing.assert_array_equal(a, b)
    assert int(keras.ops.convert_to_numpy(optimizer.iterations)) == 0
    assert float(keras.ops.convert_to_numpy(optimizer.learning_rate)) == pytest.approx(lr, rel=1e-6)


def check_lr_search(finder, lr_logger):
    """The ramp grows, the per-batch losses are numbers, and LearningRateLogger saw the same LRs."""
    assert len(finder.lrs) >= 2
    assert np.all(np.diff(finder.lrs) > 0)
    assert np.isfinite(finder.batch_losses).all()
    # The logger saw every batch's rate; the finder's ramp is a contiguous run of them (a finder may spend
    # the first batch of an unbuilt model on building it, unrecorded).
    seen = np.asarray(lr_logger.batch_lrs)
    start = int(np.flatnonzero(np.isclose(seen, finder.lrs[0], rtol=1e-5))[0])
    assert start <= 1, f"the ramp started at batch {start + 1}"
    assert seen[start:start + len(finder.lrs)] == pytest.approx(finder.lrs, rel=1e-5)


def predicted_classes(scores, *, from_logits=False):
    scores = np.asarray(scores)
    if scores.ndim == 2 and scores.shape[1] > 1:
        return scores.argmax(axis=1)
    return (scores.reshape(-1) > (0.0 if from_logits else 0.5)).astype(int)


def check_confusion(cm, y_true, scores, k, *, from_logits=False):
    """A confusion matrix against the label counts and against scikit-learn."""
    y = np.asarray(y_true).reshape(-1).astype(int)
    cm = np.asarray(cm)
    assert cm.shape == (k, k)
    np.testing.assert_array_equal(cm.sum(axis=1), np.bincount(y, minlength=k))
    expected = confusion_matrix(y, predicted_classes(scores, from_logits=from_logits), labels=np.arange(k))
    np.testing.assert_array_equal(cm, expected)


def check_epoch_timer(timer, history, epochs, wall_seconds):
    assert len(history["epoch_seconds"]) == epochs
    assert all(s > 0 for s in history["epoch_seconds"])
    assert sum(history["epoch_seconds"]) <= wall_seconds
    assert timer.times == pytest.approx(history["epoch_seconds"])


def curves_of(ax):
    """The curves plot_history drew on an Axes: ``{"train": (x, y), "val": (x, y)}`` (solid = train, dashed = val)."""
    found = {}
    for line in ax.get_lines():
        kind = {"-": "train", "--": "val"}.get(line.get_linestyle())
        if kind and kind not in found:  # one run per Axes here: its first solid and dashed lines
            found[kind] = (np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float))
    return found


def check_history_plot(ax, history, metric, epochs, val_epochs=None):
    """plot_history's curves sit at the (1-based) epochs that measured them, with the History's values."""
    curves = curves_of(ax)
    x, y = curves["train"]
    np.testing.assert_array_equal(x, epochs)
    np.testing.assert_allclose(y, history[metric], rtol=1e-6)
    if val_epochs is not None:
        x, y = curves["val"]
        np.testing.assert_array_equal(x, val_epochs)
        np.testing.assert_allclose(y, history[f"val_{metric}"], rtol=1e-6)
