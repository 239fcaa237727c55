"""The last good state of a model: its weights and its optimizer's, to go back to after a blow-up."""

from __future__ import annotations

import keras
import numpy as np


def _optimizer_variables(model):
    optimizer = getattr(model, "optimizer", None)
    return list(getattr(optimizer, "variables", None) or [])


class Snapshot:
    """A copy of a model's weights and optimizer state at one moment.

    ``get_weights()`` alone misses the optimizer's slots (Adam's moments) and
    its step counter (DESIGN §6); after a NaN those slots hold NaN too, and
    the next ``fit`` would blow up at once. A snapshot keeps both. Slots the
    optimizer creates after the snapshot (it builds them at the first step)
    are reset to zero on restore: the state of a fresh optimizer.

    The copies stay where the variables live (``keras.ops.copy``, on the GPU
    when training runs there): taking a snapshot at every improving epoch
    costs a device-side copy, not a transfer of every weight to the host.

    Example:

    >>> good = Snapshot(model)
    >>> ...  # training goes wrong
    >>> good.restore(model)
    """

    def __init__(self, model):
        self.weights = [(v, keras.ops.copy(v.value)) for v in model.weights]
        self.optimizer = {v.path: keras.ops.copy(v.value) for v in _optimizer_variables(model)}

    def restore(self, model) -> None:
        for variable, saved in self.weights:
            variable.assign(saved)
        for variable in _optimizer_variables(model):
            saved = self.optimizer.get(variable.path)
            if saved is not None and tuple(saved.shape) == tuple(variable.shape):
                variable.assign(saved)
            else:
                variable.assign(np.zeros(tuple(variable.shape), dtype=keras.backend.standardize_dtype(variable.dtype)))


def _float_weights(model):
    return [w for w in model.weights if "float" in keras.backend.standardize_dtype(w.dtype)]


def all_finite(model) -> bool:
    """True when no weight holds NaN or inf: one reduction on the device and a single bool back to the host."""
    weights = _float_weights(model)
    if not weights:
        return True
    flags = keras.ops.stack([keras.ops.all(keras.ops.isfinite(w.value)) for w in weights])
    return bool(keras.ops.convert_to_numpy(keras.ops.all(flags)))


def non_finite_layer(model) -> str | None:
    """The name of the first layer whose weights hold NaN or inf, or None."""
    for layer in model.layers:
        for weight in layer.weights:
            if not np.all(np.isfinite(keras.ops.convert_to_numpy(weight))):
                return layer.name
    return None
