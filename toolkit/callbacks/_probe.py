"""What GradientMonitor and ActivationMonitor share: the probe batch, when the
probe is built, and the choice of layers to watch. Private to the monitors."""

from __future__ import annotations

import math

import keras
import numpy as np

from toolkit.validation import (
    check_array,
    check_int,
    check_same_length,
    fits_input_shape,
    model_input_shape,
    received,
)

#: A probe this large costs real time at every epoch end; a few hundred samples are plenty.
LARGE_PROBE = 2048

#: Value written on epochs a monitor skips (``every > 1``), so that every
#: History list keeps one entry per epoch.
NOT_MEASURED = math.nan


def check_probe_batch(batch, *, labels_required: bool = True):
    """Return ``(x, y)`` as NumPy arrays from a probe batch.

    ``batch`` is a tuple/list ``(x, y)`` of two arrays of the same length.
    When labels are not required, a bare array ``x`` is accepted too and
    ``y`` is None. A probe holding NaN/inf (in ``x``, or in ``y`` when labels
    are required) is refused: every probed value would be NaN.
    """
    if isinstance(batch, (tuple, list)):
        if len(batch) != 2:
            raise ValueError(
                f"`batch` must be a pair (x, y) of arrays of the same length, got {len(batch)} item(s). "
                f"{received('batch', batch)}"
            )
        x = check_array("batch[0] (x)", batch[0], ndim=(2, 3, 4, 5))
        y = check_array("batch[1] (y)", batch[1], ndim=(1, 2, 3, 4, 5))
        check_same_length(x=x, y=y)
    elif not labels_required and isinstance(batch, np.ndarray):
        x, y = check_array("batch", batch, ndim=(2, 3, 4, 5)), None
    else:
        want = "a pair (x, y) of arrays" + ("" if labels_required else ", or an array x")
        raise TypeError(f"`batch` must be {want}. {received('batch', batch)}")
    if len(x) > LARGE_PROBE:
        raise ValueError(
            f"`batch` is a probe run at every epoch end and must be small (<= {LARGE_PROBE} samples), "
            f"got {len(x)}. Pass a slice, e.g. (x_val[:256], y_val[:256]). {received('batch', batch)}"
        )
    for part, arr in (("x", x), ("y", y if labels_required else None)):
        if arr is not None and np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
            raise ValueError(
                f"`batch` holds NaN/inf in its {part} ({np.count_nonzero(~np.isfinite(arr))} value(s)): "
                f"every probed value would be NaN. Pass finite data. {received('batch', batch)}"
            )
    if np.issubdtype(x.dtype, np.floating):
        x = x.astype(keras.backend.floatx(), copy=False)
    return x, y


def check_probe_fits(model, x) -> None:
    """Refuse a probe ``x`` the model cannot take, before any epoch runs.

    Called from the monitors' ``on_train_begin``: without it the mismatch
    surfaces inside the probe's ``tf.function`` at the first epoch end, after
    a wasted epoch. Models whose input shape is unknown are not checked.
    """
    expected = model_input_shape(model)
    if expected is not None and not fits_input_shape(x.shape, expected):
        raise ValueError(
            f"`batch` does not fit model {model.name!r}: the probe x has shape {x.shape}, the model expects "
            f"inputs of shape {expected} (None = any size). Probe with data shaped like the training data."
        )


class ProbeMonitor(keras.callbacks.Callback):
    """The life cycle both monitors share: one probe per model, checked before the first epoch.

    A subclass sets ``_x`` (the probe's inputs), ``_probe = None`` and
    ``_probe_model = None`` in ``__init__``, implements ``_build_probe()``
    (which sets both) and calls ``_ensure_probe()`` before probing.
    """

    def on_train_begin(self, logs=None):
        self.last = {}
        # A Sequential without keras.Input is built by its first batch: its probe waits for the first epoch end.
        if self.model.built:
            self._ensure_probe()

    def _ensure_probe(self):
        """Build the probe unless it exists for this model (once per model, not per epoch)."""
        if self._probe is None or self._probe_model is not self.model:
            check_probe_fits(self.model, self._x)  # at fit's start, not inside the probe after a wasted epoch
            self._build_probe()


def check_every(every) -> int:
    return check_int("every", every, minimum=1)


def is_due(epoch: int, every: int) -> bool:
    """Probe at epochs every-1, 2*every-1, ... (absolute epochs, so a resumed fit keeps the rhythm)."""
    return (epoch + 1) % every == 0


def flat_layers(model):
    """The model's layers in order, nested models opened up."""
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from flat_layers(layer)
        else:
            yield layer


#: Layers that are an activation function by themselves (besides Activation and ReLU).
_ACTIVATION_LAYERS = (keras.layers.LeakyReLU, keras.layers.ELU, keras.layers.PReLU, keras.layers.Softmax)


def activation_name(layer) -> str | None:
    """The name of a layer's activation (``"relu"``, ``"tanh"``, ...), or None."""
    if isinstance(layer, keras.layers.ReLU):
        slope = float(getattr(layer, "negative_slope", 0.0) or 0.0)
        return "relu" if slope == 0.0 else "leaky_relu"
    if isinstance(layer, _ACTIVATION_LAYERS):
        return type(layer).__name__.lower()
    fn = getattr(layer, "activation", None)
    if fn is None:
        return None
    return getattr(fn, "__name__", type(fn).__name__)
