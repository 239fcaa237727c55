"""Argument checks shared by every public function of the toolkit.

Each check raises a ``TypeError`` (wrong kind of object) or ``ValueError``
(right kind, wrong value) whose message names the argument, shows the value
received and says what was expected, in the style of Keras::

    ValueError: `fractions` must sum to 1. Received: fractions=(0.6, 0.2, 0.3)

so that a student sees the mistake in their own call, not a deep TensorFlow
traceback.
"""

from __future__ import annotations

import math
import numbers
import reprlib

import numpy as np

_repr = reprlib.Repr()
_repr.maxstring = 60
_repr.maxother = 60
_repr.maxlist = 6
_repr.maxtuple = 6


def received(name: str, value) -> str:
    """Return ``"Received: name=value"`` with a short repr of ``value``."""
    if isinstance(value, np.ndarray):
        shown = f"array of shape {value.shape} and dtype {value.dtype}"
    else:
        shown = _repr.repr(value)
    return f"Received: {name}={shown}"


def check_int(name: str, value, *, minimum: int | None = None) -> int:
    """Return ``value`` as an ``int``; bools and floats are refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be an integer. {received(name, value)}")
    if minimum is not None and value < minimum:
        raise ValueError(f"`{name}` must be >= {minimum}. {received(name, value)}")
    return int(value)


def check_float(
    name: str,
    value,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> float:
    """Return ``value`` as a finite ``float`` inside the given bounds."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a number. {received(name, value)}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"`{name}` must be finite. {received(name, value)}")
    if low is not None and (value < low or (value == low and not low_inclusive)):
        op = ">=" if low_inclusive else ">"
        raise ValueError(f"`{name}` must be {op} {low}. {received(name, value)}")
    if high is not None and (value > high or (value == high and not high_inclusive)):
        op = "<=" if high_inclusive else "<"
        raise ValueError(f"`{name}` must be {op} {high}. {received(name, value)}")
    return value


def check_one_of(name: str, value, options) -> object:
    """Refuse ``value`` unless it is one of ``options``."""
    if value not in options:
        raise ValueError(f"`{name}` must be one of {sorted(map(str, options))}. {received(name, value)}")
    return value


def check_array(
    name: str,
    value,
    *,
    ndim: int | tuple[int, ...] | None = None,
    numeric: bool = True,
    allow_empty: bool = False,
    finite: bool = False,
) -> np.ndarray:
    """Return ``value`` as a NumPy array after checking rank, kind and size."""
    if value is None or isinstance(value, (str, bytes, dict)):
        raise TypeError(f"`{name}` must be array-like. {received(name, value)}")
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as exc:  # ragged lists and the like
        raise ValueError(f"`{name}` could not be read as an array ({exc}). {received(name, value)}") from None
    if arr.ndim == 0:
        raise TypeError(f"`{name}` must be an array or a list, not a single value. {received(name, value)}")
    if numeric and not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"`{name}` must hold numbers, not {arr.dtype}. {received(name, value)}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(str(d) for d in allowed)
            raise ValueError(
                f"`{name}` must have {want} dimension(s), got shape {arr.shape}. {received(name, value)}"
            )
    if not allow_empty and arr.size == 0:
        raise ValueError(f"`{name}` must not be empty. {received(name, value)}")
    if finite and numeric and not np.all(np.isfinite(arr)):
        raise ValueError(f"`{name}` must not contain NaN or infinity. {received(name, value)}")
    return arr


def check_labels(name: str, value) -> np.ndarray:
    """Return integer class labels (1-D, >= 0); one-hot rows are argmax-ed."""
    arr = check_array(name, value, ndim=(1, 2), finite=True)
    if arr.ndim == 2:
        arr = arr.argmax(axis=1)
    if not np.all(np.equal(np.mod(arr, 1), 0)):
        raise ValueError(f"`{name}` must hold whole-number class labels. {received(name, value)}")
    arr = arr.astype(int)
    if arr.min() < 0:
        raise ValueError(
            f"`{name}` must hold class labels >= 0, found {arr.min()}. {received(name, value)}"
        )
    return arr


def check_same_length(**arrays) -> None:
    """Refuse arrays whose first dimensions differ, naming all of them."""
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"len({k})={v}" for k, v in lengths.items())
        raise ValueError(f"{', '.join(f'`{k}`' for k in lengths)} must have the same length. Received: {shown}")


def model_input_shape(model) -> tuple | None:
    """Return the input shape ``(None, ...)`` of a single-input Keras model, or None when unknown.

    Unknown means a subclassed model, a Sequential model not built yet, or a
    model with several inputs: callers then skip their shape check.
    """
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        return None
    if not isinstance(inputs, (list, tuple)) or len(inputs) != 1:
        return None
    return tuple(inputs[0].shape)


def fits_input_shape(shape, expected) -> bool:
    """True when an array of ``shape`` can be fed to a model input declared as ``expected``.

    The batch axis is not compared and None matches any size. As in Keras,
    a missing trailing axis of size 1 (or an extra one) is accepted.
    """
    shape, expected = tuple(shape)[1:], tuple(expected)[1:]
    if len(shape) == len(expected) - 1 and expected and expected[-1] == 1:
        shape = shape + (1,)
    elif len(shape) == len(expected) + 1 and shape and shape[-1] == 1:
        shape = shape[:-1]
    return len(shape) == len(expected) and all(e is None or e == s for s, e in zip(shape, expected))


def check_history(history, name: str = "history", *, require_loss: bool = True) -> dict[str, np.ndarray]:
    """Normalise a Keras ``History`` or a dict of per-epoch lists.

    Returns a dict of float arrays, all of the same length. NaN values are
    kept (a diverged run is still a run to look at); missing ``loss``, empty
    lists and keys of different lengths are refused.
    """
    raw = getattr(history, "history", history)
    if not isinstance(raw, dict):
        raise TypeError(
            f"`{name}` must be a keras History or a dict of per-epoch lists. {received(name, history)}"
        )
    if not raw:
        raise ValueError(f"`{name}` is empty: train for at least one epoch first. {received(name, history)}")
    out: dict[str, np.ndarray] = {}
    for key, values in raw.items():
        if not isinstance(key, str):
            raise TypeError(f"`{name}` keys must be metric names (str). Received key {key!r}")
        if np.isscalar(values):
            raise TypeError(f"`{name}[{key!r}]` must be a list of per-epoch values. {received(name + '[' + repr(key) + ']', values)}")
        try:
            arr = np.asarray(values, dtype=float)
        except (TypeError, ValueError):
            raise TypeError(f"`{name}[{key!r}]` must hold numbers. {received(name + '[' + repr(key) + ']', values)}") from None
        if arr.ndim != 1:
            raise ValueError(f"`{name}[{key!r}]` must be a flat list of per-epoch values, got shape {arr.shape}")
        if arr.size == 0:
            raise ValueError(f"`{name}[{key!r}]` is empty: train for at least one epoch first.")
        out[key] = arr
    lengths = {k: len(v) for k, v in out.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"All entries of `{name}` must have one value per epoch; got lengths {lengths}")
    if require_loss and "loss" not in out:
        raise ValueError(f"`{name}` has no 'loss' key; found keys {sorted(out)}")
    return out
