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

    Example:

    >>> good = Snapshot(model)
    >>> ...  # training goes wrong
    >>> good.restore(model)
    """

    def __init__(self, model):
        self.weights = model.get_weights()
        self.optimizer = {v.path: keras.ops.convert_to_numpy(v) for v in _optimizer_variables(model)}

    def restore(self, model) -> None:
        model.set_weights(self.weights)
        for variable in _optimizer_variables(model):
            saved = self.optimizer.get(variable.path)
            if saved is not None and saved.shape == tuple(variable.shape):
                variable.assign(saved)
            else:
                variable.assign(np.zeros(tuple(variable.shape), dtype=keras.backend.standardize_dtype(variable.dtype)))


def non_finite_layer(model) -> str | None:
    """The name of the first layer whose weights hold NaN or inf, or None."""
    for layer in model.layers:
        for weight in layer.weights:
            if not np.all(np.isfinite(keras.ops.convert_to_numpy(weight))):
                return layer.name
    return None
