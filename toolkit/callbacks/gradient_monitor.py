"""GradientMonitor: the gradient norm of every layer's kernel, in the logs."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from toolkit.callbacks._probe import (
    NOT_MEASURED,
    ProbeMonitor,
    check_every,
    check_probe_batch,
    flat_layers,
    is_due,
)


class GradientMonitor(ProbeMonitor):
    """Write the L2 norm of each layer's kernel gradient into the epoch logs.

    At the end of every ``every``-th epoch the monitor computes the gradient
    of the model's compiled loss on a small fixed probe batch, with a
    ``tf.GradientTape`` and ``training=False`` (dropout off, BatchNorm in
    inference mode, nothing updated), and writes ``grad_norm/<layer name>``
    for every layer that has a trainable ``kernel`` (Dense, Conv, ...).
    History, CSVLogger and the plots then see the norms like any metric.
    Vanishing gradients show as first-layer norms orders of magnitude below
    the last layer's; exploding ones as norms that grow without bound.

    The monitor only reads: it changes no weight, no optimizer slot and no
    metric, so ``fit`` gives the same results with or without it. The probe
    is a ``tf.function`` built once per model, so it costs one small forward
    and backward pass per probed epoch. On epochs it skips (``every > 1``)
    it writes NaN, so that every History list keeps one value per epoch.
    It works under ``tf.distribute`` strategies (the probe runs on the
    model's variables in cross-replica context) and after resuming with
    ``initial_epoch > 0``.

    The loss is the one given to ``compile()`` plus regularization losses,
    computed by ``model.compute_loss`` (a model that overrides
    ``compute_loss`` is probed with its own loss).

    Args:
        batch: a small probe batch ``(x, y)``: two arrays of the same length
            (a few hundred samples is plenty; at most 2048), finite (no
            NaN/inf), ``x`` shaped as the model's input (checked when ``fit``
            starts, before the first epoch).
        every: probe every ``every`` epochs (1 = each epoch).

    Example:

    >>> monitor = GradientMonitor((x_val[:256], y_val[:256]))
    >>> hist = model.fit(x, y, epochs=5, verbose=0, callbacks=[monitor])
    >>> hist.history["grad_norm/dense_1"]  # one value per epoch
    """

    def __init__(self, batch, *, every: int = 1):
        super().__init__()
        self._x, self._y = check_probe_batch(batch)
        self.every = check_every(every)
        self.layer_names: list[str] = []
        self.last: dict[str, float] = {}
        self._probe = None
        self._probe_model = None
        self._inputs = None

    # Building -----------------------------------------------------------------

    def _build_probe(self):
        model = self.model
        layers = [
            layer
            for layer in flat_layers(model)
            if getattr(layer, "kernel", None) is not None and layer.kernel.trainable
        ]
        if not layers:
            raise ValueError(
                f"GradientMonitor found no layer with a trainable kernel in model {model.name!r}: "
                "it watches Dense/Conv-like layers."
            )
        if getattr(model, "loss", None) is None and type(model).compute_loss is keras.Model.compute_loss:
            raise ValueError(
                "GradientMonitor probes the compiled loss: compile the model with a `loss` "
                "(or override `compute_loss`) before fitting with it."
            )
        self.layer_names = [layer.name for layer in layers]
        kernels = [layer.kernel for layer in layers]

        strategy = model.distribute_strategy

        def replica_probe(x, y):
            with tf.GradientTape() as tape:
                y_pred = model(x, training=False)
                loss = model.compute_loss(x=x, y=y, y_pred=y_pred, training=False)
                # Under a strategy Keras divides the loss by the number of replicas
                # (each sees a share of the batch); every replica probes the whole batch.
                loss = loss * tf.distribute.get_strategy().num_replicas_in_sync
            grads = tape.gradient(loss, kernels)
            return tf.stack(
                [tf.norm(tf.cast(g, tf.float32)) if g is not None else tf.constant(0.0) for g in grads]
            )

        @tf.function(reduce_retracing=True)
        def probe(x, y):
            # Gradients of mirrored variables exist only in a replica context.
            per_replica = strategy.run(replica_probe, args=(x, y))
            return strategy.experimental_local_results(per_replica)[0]

        self._probe = probe
        self._probe_model = model
        self._inputs = (tf.constant(self._x), tf.constant(self._y))

    # Keras hooks ----------------------------------------------------------------

    def on_epoch_end(self, epoch, logs=None):
        self._ensure_probe()  # not built yet when fit started (a Sequential without keras.Input), or outside fit
        if is_due(epoch, self.every):
            norms = np.asarray(self._probe(*self._inputs), dtype=float)
            self.last = dict(zip(self.layer_names, norms.tolist()))
            values = norms
        else:
            values = [NOT_MEASURED] * len(self.layer_names)
        if logs is not None:
            for name, value in zip(self.layer_names, values):
                logs[f"grad_norm/{name}"] = float(value)
