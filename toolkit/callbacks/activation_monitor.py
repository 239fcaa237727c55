"""ActivationMonitor: the spread of each layer's output and its dead units, in the logs."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from toolkit.callbacks._probe import (
    NOT_MEASURED,
    ProbeMonitor,
    activation_name,
    check_every,
    check_probe_batch,
    is_due,
)
from toolkit.validation import received

#: Layer types whose output is watched (the Activation and ReLU layers too).
_WATCHED = (
    keras.layers.Dense,
    keras.layers.EinsumDense,
    keras.layers.Activation,
    keras.layers.ReLU,
    keras.layers.LeakyReLU,
    keras.layers.ELU,
    keras.layers.PReLU,
)
#: Activations with no hard zero to die in: no dead-unit share is written for them.
_NO_DEAD_UNITS = (None, "linear")


def _watched(layer) -> bool:
    if isinstance(layer, _WATCHED):
        return True
    # Conv1D/2D/3D and their transposed and separable kinds share these attributes.
    return getattr(layer, "kernel_size", None) is not None and getattr(layer, "filters", None) is not None


def _symbolic_inputs(model) -> list:
    try:
        return list(model.inputs or [])
    except (AttributeError, ValueError):
        return []


def _input_structure(model):
    """The model's inputs as it is called: one tensor, or the dict/list it was built from."""
    graph = getattr(model, "_functional", None) or model  # a Sequential keeps its graph inside
    structure = getattr(graph, "_inputs_struct", None)
    if structure is None:
        structure = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    return structure


def _node_in(graph_model, layer):
    """The node where ``layer`` is called inside ``graph_model``'s graph (a layer may be called in several)."""
    nodes = layer._inbound_nodes
    if len(nodes) == 1:
        return nodes[0]
    graph = getattr(graph_model, "_functional", None) or graph_model  # a Sequential keeps its graph inside
    keys = getattr(graph, "_nodes", ())
    found = [node for i, node in enumerate(nodes) if f"{id(layer)}_ib-{i}" in keys]
    if len(found) != 1:
        raise ValueError(
            f"ActivationMonitor cannot tell which call of layer {layer.name!r} belongs to model "
            f"{graph_model.name!r} ({len(nodes)} calls): watch a model that calls each layer once."
        )
    return found[0]


def _watched_outputs(model):
    """The watched layers of ``model`` (in ``flat_layers`` order) and their outputs in ``model``'s graph.

    A nested Functional model (a backbone) is opened: a sub-model of its own
    watched outputs is called on the tensors that feed it in ``model``, so
    every output is reachable from ``model.inputs``. A nested model without
    symbolic inputs (a subclassed one) cannot be opened and is skipped.
    """
    layers, outputs = [], []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            if not _symbolic_inputs(layer):
                continue
            inner_layers, inner_outputs = _watched_outputs(layer)
            if not inner_layers:
                continue
            tap = keras.Model(_input_structure(layer), inner_outputs, name=f"{layer.name}_activations")
            fed = _node_in(model, layer).input_tensors
            layers += inner_layers
            outputs += keras.tree.flatten(tap(fed[0] if len(fed) == 1 else fed))
        elif _watched(layer):
            layers.append(layer)
            outputs.append(_node_in(model, layer).output_tensors[0])
    return layers, outputs


class ActivationMonitor(ProbeMonitor):
    """Write each layer's activation spread and share of dead units into the logs.

    At the end of every ``every``-th epoch the monitor runs a small fixed
    probe batch through the model (``training=False``) and writes, for each
    Dense, Conv and Activation layer:

    * ``act_std/<layer name>``: the standard deviation of the layer's output
      over the probe batch. It collapses towards 0 when signals vanish with
      depth and grows when they explode.
    * ``dead_fraction/<layer name>``: the share of the layer's units (output
      features; channels for a Conv layer) that output exactly 0 for *every*
      probe sample. A ReLU unit like that gets no gradient and can never
      recover: it is dead. Written for layers with a non-linear activation;
      leaky ReLU and ELU have no hard zero, so their units read 0.

    The outputs come from ``keras.Model(model.inputs, [layer.output ...])``,
    built once per model and wrapped in a ``tf.function``. A Sequential
    without ``keras.Input`` gets its inputs at the first batch, so its probe
    is built at the first epoch end, and it is rebuilt when the model
    changes. Subclassed models are refused. Nested Functional models (a
    pretrained backbone) are opened, as GradientMonitor opens them: their
    layers are watched under their own names. The monitor only reads, so ``fit``
    gives the same results with or without it. On epochs it skips (``every > 1``)
    it writes NaN, so that every History list keeps one value per epoch.

    Args:
        batch: a small probe batch: an array ``x``, or ``(x, y)`` (``y`` is
            not used, it may be None). For a model with several inputs ``x``
            is a dict keyed by input name or a list of arrays. At most 2048
            samples, finite (no NaN/inf), ``x``
            shaped as the model's input (checked when ``fit`` starts, before
            the first epoch).
        every: probe every ``every`` epochs (1 = each epoch).

    Example:

    >>> monitor = ActivationMonitor(x_val[:256])
    >>> hist = model.fit(x, y, epochs=5, verbose=0, callbacks=[monitor])
    >>> hist.history["dead_fraction/dense_1"][-1]  # e.g. 0.0 when healthy
    """

    def __init__(self, batch, *, every: int = 1):
        super().__init__()
        self._x, _ = check_probe_batch(batch, labels_required=False)
        self.every = check_every(every)
        self.layer_names: list[str] = []
        self.dead_names: list[str] = []
        self.last: dict[str, float] = {}
        self._probe = None
        self._probe_key = None
        self._input = None

    def _check_model(self):
        model = self.model
        if not isinstance(model, keras.Sequential) and not _symbolic_inputs(model):
            raise ValueError(
                f"ActivationMonitor needs a Sequential or Functional model (one with symbolic inputs); "
                f"model {model.name!r} has none, so its layers' outputs cannot be read "
                "(subclassed models are not supported). "
                f"Build it from keras.Input. {received('model', type(model).__name__)}"
            )

    def _build_probe(self):
        model = self.model
        self._check_model()
        layers, outputs = _watched_outputs(model)
        if not layers:
            raise ValueError(f"ActivationMonitor found no Dense, Conv or Activation layer in model {model.name!r}.")
        outputs_model = keras.Model(_input_structure(model), outputs, name=f"{model.name}_activations")
        self.layer_names = [layer.name for layer in layers]
        has_zero = [activation_name(layer) not in _NO_DEAD_UNITS for layer in layers]
        self.dead_names = [name for name, flag in zip(self.layer_names, has_zero) if flag]

        strategy = model.distribute_strategy

        def replica_probe(x):
            # One watched layer gives a bare tensor (a one-output model), several a list: flatten both.
            outputs = keras.tree.flatten(outputs_model(x, training=False))
            stds, dead = [], []
            for out, flag in zip(outputs, has_zero):
                out = ops.cast(out, "float32")
                stds.append(ops.std(out))
                if flag:
                    # A unit is one output feature (the last axis); dead = 0 for every sample and position.
                    per_unit = ops.reshape(ops.abs(out), (-1, ops.shape(out)[-1]))
                    silent = ops.max(per_unit, axis=0) == 0.0
                    dead.append(ops.mean(ops.cast(silent, "float32")))
            return ops.stack(stds), (ops.stack(dead) if dead else ops.zeros((0,)))

        @tf.function(reduce_retracing=True)
        def probe(x):
            # Run where the train step runs (a replica context), and read one replica's answer.
            per_replica = strategy.run(replica_probe, args=(x,))
            return tf.nest.map_structure(lambda t: strategy.experimental_local_results(t)[0], per_replica)

        self._probe = probe
        self._input = keras.tree.map_structure(tf.constant, self._x)

    def on_epoch_end(self, epoch, logs=None):
        self._ensure_probe()  # not built yet when fit started (a Sequential without keras.Input), or outside fit
        if is_due(epoch, self.every):
            stds, dead = (np.asarray(t, dtype=float) for t in self._probe(self._input))
        else:
            stds = [NOT_MEASURED] * len(self.layer_names)
            dead = [NOT_MEASURED] * len(self.dead_names)
        values = {f"act_std/{n}": float(v) for n, v in zip(self.layer_names, stds)}
        values.update({f"dead_fraction/{n}": float(v) for n, v in zip(self.dead_names, dead)})
        if is_due(epoch, self.every):
            self.last = values
        if logs is not None:
            logs.update(values)
