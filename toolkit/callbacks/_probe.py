"""What GradientMonitor and ActivationMonitor share: the probe batch, when the
probe is (re)built, and the layers they watch (nested models opened up, in
both). Private to the monitors."""

from __future__ import annotations

import math

import keras
import numpy as np

from toolkit.validation import (
    check_array,
    is_text,
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


def _check_one(name: str, value, ndim, text_ok: bool):
    return check_array(name, value, ndim=ndim, numeric=not (text_ok and is_text(value)))


def _check_part(name: str, value, *, ndim=(1, 2, 3, 4, 5), text_ok: bool = False):
    """One part of a probe (``x`` or ``y``): an array, or for several inputs/outputs a dict/list of arrays.

    ``x`` may hold strings, for models that take text (a ``TextVectorization`` layer inside the model).
    """
    if isinstance(value, dict):
        return {key: _check_one(f"{name}[{key!r}]", item, (1, 2, 3, 4, 5), text_ok) for key, item in value.items()}
    if isinstance(value, (list, tuple)) and value and all(hasattr(item, "shape") for item in value):
        return [_check_one(f"{name}[{i}]", item, (1, 2, 3, 4, 5), text_ok) for i, item in enumerate(value)]
    return _check_one(name, value, ndim if not (text_ok and is_text(value)) else (1, 2, 3, 4, 5), text_ok)


def _leaves(part):
    return keras.tree.flatten(part) if part is not None else []


def check_probe_batch(batch, *, labels_required: bool = True):
    """Return ``(x, y)`` as NumPy arrays (or Keras structures of them) from a probe batch.

    ``batch`` is a pair ``(x, y)``. For a model with several inputs ``x`` is a
    dict (keyed by input name) or a list of arrays; for several outputs ``y``
    is a dict (keyed by output name) or a list. Every array has the same
    number of samples. When labels are not required, a bare array or dict
    ``x`` is accepted too and ``y`` is None. A probe holding NaN/inf (in
    ``x``, or in ``y`` when labels are required) is refused: every probed
    value would be NaN.
    """
    if isinstance(batch, (tuple, list)):
        if len(batch) != 2:
            raise ValueError(
                f"`batch` must be a pair (x, y) of arrays of the same length, got {len(batch)} item(s). "
                f"{received('batch', batch)}"
            )
        x = _check_part("batch[0] (x)", batch[0], ndim=(2, 3, 4, 5), text_ok=True)
        y = None if batch[1] is None and not labels_required else _check_part("batch[1] (y)", batch[1])
    elif not labels_required and (isinstance(batch, dict) or hasattr(batch, "shape")):
        x, y = _check_part("batch", batch, ndim=(2, 3, 4, 5), text_ok=True), None
    else:
        want = "a pair (x, y) of arrays" + ("" if labels_required else ", or an array (or dict of arrays) x")
        raise TypeError(f"`batch` must be {want}. {received('batch', batch)}")
    arrays = _leaves(x) + _leaves(y)
    if isinstance(x, np.ndarray) and isinstance(y, np.ndarray):
        check_same_length(x=x, y=y)
    if len({len(a) for a in arrays}) > 1:
        raise ValueError(
            "`batch`: `x` and `y` must have the same length (the same number of samples in every array), got "
            f"lengths {[len(a) for a in arrays]}. {received('batch', batch)}"
        )
    if len(arrays[0]) > LARGE_PROBE:
        raise ValueError(
            f"`batch` is a probe run at every epoch end and must be small (<= {LARGE_PROBE} samples), "
            f"got {len(arrays[0])}. Pass a slice, e.g. (x_val[:256], y_val[:256]). {received('batch', batch)}"
        )
    for part, value in (("x", x), ("y", y if labels_required else None)):
        for arr in _leaves(value):
            if np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
                raise ValueError(
                    f"`batch` holds NaN/inf in its {part} ({np.count_nonzero(~np.isfinite(arr))} value(s)): "
                    f"every probed value would be NaN. Pass finite data. {received('batch', batch)}"
                )
    floatx = keras.backend.floatx()
    x = keras.tree.map_structure(
        lambda a: a.astype(floatx, copy=False) if np.issubdtype(a.dtype, np.floating) else a, x
    )
    return x, y


def check_probe_fits(model, x) -> None:
    """Refuse a probe ``x`` the model cannot take, before any epoch runs.

    Called when the probe is built: without it the mismatch surfaces inside
    the probe's ``tf.function`` at the first epoch end, after a wasted epoch.
    Only single-input models of known input shape are checked.
    """
    try:
        inputs = list(model.inputs or [])
    except (AttributeError, ValueError):
        inputs = []
    if len(inputs) > 1 and isinstance(x, np.ndarray):
        names = [getattr(t, "name", "?") for t in inputs]
        raise ValueError(
            f"`batch`: model {model.name!r} has {len(inputs)} inputs ({names}), but the probe x is one array "
            f"of shape {x.shape}. Pass x as a dict keyed by input name or a list with one array per input."
        )
    for tensor, part in zip(inputs, keras.tree.flatten(x) if len(inputs) > 1 else [x]):
        takes_text = "string" in str(getattr(tensor, "dtype", ""))
        if is_text(part) and not takes_text:
            raise ValueError(
                f"`batch`: the probe x holds strings, but model {model.name!r} takes numbers (input "
                f"{getattr(tensor, 'name', '?')!r}, dtype {getattr(tensor, 'dtype', '?')}). Pass the numbers the model "
                "takes, or put the TextVectorization layer inside the model (keras.Input(shape=(1,), dtype='string'))."
            )
    expected = model_input_shape(model)
    if expected is None:
        return
    if not isinstance(x, np.ndarray):
        raise ValueError(
            f"`batch`: model {model.name!r} has one input of shape {expected}, but the probe x is a "
            f"{type(x).__name__} of {len(_leaves(x))} arrays. Pass one array x."
        )
    if not fits_input_shape(x.shape, expected):
        raise ValueError(
            f"`batch` does not fit model {model.name!r}: the probe x has shape {x.shape}, the model expects "
            f"inputs of shape {expected} (None = any size). Probe with data shaped like the training data."
        )


class ProbeMonitor(keras.callbacks.Callback):
    """The life cycle both monitors share: a probe rebuilt whenever what it depends on changes.

    A subclass sets ``_x`` (the probe's inputs), ``_probe = None`` and
    ``_probe_key = None`` in ``__init__``, implements ``_key()`` (the objects
    the probe depends on: compared by identity) and ``_build_probe()``, and
    calls ``_ensure_probe()`` before probing.
    """

    def on_train_begin(self, logs=None):
        self.last = {}
        self._check_model()  # what is refused is refused now, not at the first epoch end
        # A Sequential without keras.Input is built by its first batch: its probe waits for the first epoch end.
        if self.model.built:
            self._ensure_probe()

    def _check_model(self) -> None:
        """Refuse a model the monitor cannot watch (a subclass overrides this)."""

    def _key(self) -> tuple:
        return (self.model,)

    def _ensure_probe(self):
        """Build the probe unless one exists for this model in this state (a new compile, an unfrozen layer)."""
        key = self._key()
        current = self._probe_key
        if self._probe is None or current is None or len(current) != len(key) or any(
            a is not b for a, b in zip(current, key)
        ):
            check_probe_fits(self.model, self._x)  # at fit's start, not inside the probe after a wasted epoch
            self._build_probe()
            self._probe_key = key


def check_every(every) -> int:
    return check_int("every", every, minimum=1)


def is_due(epoch: int, every: int) -> bool:
    """Probe at epochs every-1, 2*every-1, ... (absolute epochs, so a resumed fit keeps the rhythm)."""
    return (epoch + 1) % every == 0


def flat_layers(model):
    """The model's layers in order, nested models opened up (both monitors watch these)."""
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
