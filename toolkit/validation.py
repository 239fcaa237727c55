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


def is_text(value) -> bool:
    """True for an array of strings (a text model's input): NumPy reads them as str, bytes or object arrays."""
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):
        return False
    if arr.dtype.kind in "US":
        return True
    return arr.dtype == object and arr.size > 0 and all(isinstance(v, (str, bytes)) for v in arr.ravel()[:64])


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


def check_labels(name: str, value, **kwargs) -> np.ndarray:
    """Return true class labels as a 1-D int array: :func:`toolkit.labels.class_indices`.

    Kept for callers of the old name; the rules ((n,), (n, 1) and one-hot
    (n, k) labels, and the range check) live in :mod:`toolkit.labels`.
    """
    from toolkit.labels import class_indices  # labels.py builds on this module

    return class_indices(value, name=name, **kwargs)


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
