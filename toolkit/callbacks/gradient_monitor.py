"""GradientMonitor: the gradient norm of every layer's kernel, in the logs."""

from __future__ import annotations

import inspect
import warnings

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from toolkit.callbacks._probe import (
    NOT_MEASURED,
    ProbeMonitor,
    check_every,
    check_probe_batch,
    flat_layers,
    is_due,
)
from toolkit.validation import received


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
    ``compute_loss`` is probed with its own loss; as in Keras's trainer,
    ``training=False`` is passed only when the override takes it). Under
    ``mixed_float16`` the scaled loss is differentiated, as ``train_step``
    does (``optimizer.scale_loss``), and the norms are unscaled. The probe is
    rebuilt when its inputs change: a new ``compile()`` (loss, optimizer), a
    layer frozen or unfrozen. Nested models (a
    pretrained backbone) are opened, as ActivationMonitor opens them. A
    kernel the loss does not reach has no gradient: its norm is logged as
    NaN (not measured, never 0, which would read as vanishing), with one
    warning naming the layers.

    Args:
        batch: a small probe batch ``(x, y)``: two arrays of the same length
            (a few hundred samples is plenty; at most 2048). For several
            inputs ``x`` is a dict keyed by input name or a list of arrays;
            for several outputs ``y`` is a dict keyed by output name or a
            list, as given to ``fit``. Finite (no
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
        self._probe_key = None
        self._inputs = None

    # Building -----------------------------------------------------------------

    def _kernels(self):
        return [
            layer
            for layer in flat_layers(self.model)
            if getattr(layer, "kernel", None) is not None and layer.kernel.trainable
        ]

    def _key(self):
        # Rebuilt after a new compile (new loss or optimizer) or an unfrozen layer.
        model = self.model
        return (
            model,
            getattr(model, "_compile_loss", None),
            getattr(model, "loss", None),
            model.optimizer,
            *(layer.kernel for layer in self._kernels()),
        )

    def _check_model(self):
        model = self.model
        if getattr(model, "loss", None) is None and type(model).compute_loss is keras.Model.compute_loss:
            raise ValueError(
                "GradientMonitor probes the compiled loss: compile the model with a `loss` "
                "(or override `compute_loss`) before fitting with it. A model whose custom train_step computes "
                "its own losses (a GAN's d_loss/g_loss) has no loss to probe and is not supported. "
                f"{received('model.loss', getattr(model, 'loss', None))}"
            )

    def _build_probe(self):
        model = self.model
        self._check_model()
        layers = self._kernels()
        if not layers:
            raise ValueError(
                f"GradientMonitor found no layer with a trainable kernel in model {model.name!r}: "
                "it watches Dense/Conv-like layers."
            )
        self.layer_names = [layer.name for layer in layers]
        kernels = [layer.kernel for layer in layers]
        # As Keras's trainer does: an override of compute_loss may predate its `training` argument.
        loss_takes_training = "training" in inspect.signature(model.compute_loss).parameters
        optimizer = model.optimizer
        strategy = model.distribute_strategy

        def replica_probe(x, y):
            with tf.GradientTape() as tape:
                y_pred = model(x, training=False)
                if loss_takes_training:
                    loss = model.compute_loss(x=x, y=y, y_pred=y_pred, training=False)
                else:
                    loss = model.compute_loss(x=x, y=y, y_pred=y_pred)
                # Under a strategy Keras divides the loss by the number of replicas
                # (each sees a share of the batch); every replica probes the whole batch.
                loss = loss * tf.distribute.get_strategy().num_replicas_in_sync
                # As train_step does: scale (a LossScaleOptimizer under mixed_float16), or fp16 gradients underflow.
                scale = ops.ones(()) if optimizer is None else ops.cast(optimizer.scale_loss(ops.ones(())), "float32")
                scaled = loss if optimizer is None else optimizer.scale_loss(loss)
            grads = tape.gradient(scaled, kernels)
            missing = ops.convert_to_tensor([g is None for g in grads])
            norms = ops.stack(
                [
                    ops.sqrt(ops.sum(ops.square(ops.cast(g, "float32")))) / scale if g is not None else ops.zeros(())
                    for g in grads
                ]
            )
            return norms, missing

        @tf.function(reduce_retracing=True)
        def probe(x, y):
            # Gradients of mirrored variables exist only in a replica context.
            per_replica = strategy.run(replica_probe, args=(x, y))
            return tf.nest.map_structure(lambda t: strategy.experimental_local_results(t)[0], per_replica)

        self._probe = probe
        self._inputs = keras.tree.map_structure(tf.constant, (self._x, self._y))
        self._warned_missing = False

    # Keras hooks ----------------------------------------------------------------

    def on_epoch_end(self, epoch, logs=None):
        self._ensure_probe()  # not built yet when fit started (a Sequential without keras.Input), or outside fit
        if is_due(epoch, self.every):
            norms, missing = self._probe(*self._inputs)
            norms, missing = np.asarray(norms, dtype=float), np.asarray(missing, dtype=bool)
            norms[missing] = NOT_MEASURED
            if missing.any() and not self._warned_missing:
                self._warned_missing = True
                names = [name for name, gone in zip(self.layer_names, missing) if gone]
                warnings.warn(
                    f"GradientMonitor: the loss does not depend on the kernel of layer(s) {names} (no gradient "
                    "flows to them from the compiled loss on the probe batch), so their grad_norm is logged as "
                    "NaN (not measured), not 0 (which would read as vanishing).",
                    stacklevel=2,
                )
            self.last = dict(zip(self.layer_names, norms.tolist()))
            values = norms
        else:
            values = [NOT_MEASURED] * len(self.layer_names)
        if logs is not None:
            for name, value in zip(self.layer_names, values):
                logs[f"grad_norm/{name}"] = float(value)
