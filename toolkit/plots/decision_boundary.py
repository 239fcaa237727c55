"""plot_decision_boundary: the regions a 2-D classifier assigns to each class."""

from __future__ import annotations

import numpy as np

from toolkit.plots._figure import axes_or_new
from toolkit.validation import (
    check_array,
    check_float,
    check_int,
    check_labels,
    check_same_length,
    fits_input_shape,
    model_input_shape,
    received,
)


def _predict_labels(model_or_fn, grid: np.ndarray) -> np.ndarray:
    """Class labels for the grid points, from a Keras model or a NumPy function.

    The output may be labels ``(n,)``, probabilities of class 1 (``(n,)`` or
    ``(n, 1)``, thresholded at 0.5) or per-class scores ``(n, k)`` (argmax).
    """
    import keras

    if isinstance(model_or_fn, keras.Model):
        out = model_or_fn.predict(grid, verbose=0, batch_size=4096)
    else:
        out = model_or_fn(grid)
    try:
        out = np.asarray(out, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(
            f"`model_or_fn` must return numbers for each grid point. Received an output of type {type(out).__name__}"
        ) from None
    if out.ndim == 0 or out.shape[0] != len(grid) or out.ndim > 2:
        raise ValueError(
            f"`model_or_fn` must return one label, probability or score row per point: expected shape "
            f"({len(grid)},) or ({len(grid)}, k) for {len(grid)} grid points, got {out.shape}"
        )
    if not np.all(np.isfinite(out)):
        raise ValueError("`model_or_fn` returned NaN or infinity for some grid points.")
    if out.ndim == 2 and out.shape[1] > 1:
        return out.argmax(axis=1)
    out = out.reshape(len(grid))
    if np.all(out == np.round(out)) and out.min() >= 0:
        return out.astype(int)  # labels (0, 1, 2, ...)
    return (out > 0.5).astype(int)  # probabilities of class 1


def plot_decision_boundary(model_or_fn, x, y, *, ax=None, resolution: int = 200, padding: float = 0.5):
    """Colour the plane by the class a classifier predicts, and scatter the data on it.

    Args:
        model_or_fn: a Keras model taking 2 features (its ``predict`` is
            called; one output column is read as the probability of class 1,
            several as per-class scores), or a function mapping an ``(m, 2)``
            array to labels, to probabilities of class 1, or to per-class
            scores.
        x: ``(n, 2)`` points.
        y: their ``n`` integer labels.
        ax: the Axes to draw on; a figure is created only when none is given.
        resolution: grid points per axis (the classifier sees ``resolution**2`` points).
        padding: margin around the data, in data units.

    Returns:
        The Axes: a filled contour of the predicted class, then a scatter
        of the points coloured by their true class.

    Example:

    >>> x, y = make_linear(200)
    >>> plot_decision_boundary(lambda g: (g.sum(axis=1) > 9).astype(int), x, y)
    """
    import keras

    if not (isinstance(model_or_fn, keras.Model) or callable(model_or_fn)):
        raise TypeError(f"`model_or_fn` must be a Keras model or a function. {received('model_or_fn', model_or_fn)}")
    expected = model_input_shape(model_or_fn) if isinstance(model_or_fn, keras.Model) else None
    if expected is not None and not fits_input_shape((None, 2), expected):
        takes = f"{expected[-1]} features" if len(expected) == 2 else f"inputs of shape {expected}"
        raise ValueError(
            f"`model_or_fn` expects {takes}, but a decision boundary is drawn in the plane: the model must "
            f"take 2 features, shape (None, 2). {received('model_or_fn', model_or_fn)}"
        )
    x = check_array("x", x, ndim=2, finite=True)
    if x.shape[1] != 2:
        raise ValueError(f"`x` must have 2 features (one point per row), got shape {x.shape}. {received('x', x)}")
    y = check_labels("y", y)
    check_same_length(x=x, y=y)
    resolution = check_int("resolution", resolution, minimum=2)
    padding = check_float("padding", padding, low=0.0)
    lo, hi = x.min(axis=0) - padding, x.max(axis=0) + padding
    g0, g1 = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    grid = np.c_[g0.ravel(), g1.ravel()].astype(np.float32)
    labels = _predict_labels(model_or_fn, grid).reshape(g0.shape)
    (axis,) = axes_or_new(ax, 1, size=(4.5, 4.0))
    k = int(max(labels.max(), y.max())) + 1
    axis.contourf(g0, g1, labels, levels=np.arange(-0.5, k), cmap="coolwarm", alpha=0.25)
    axis.scatter(x[:, 0], x[:, 1], c=y, cmap="coolwarm", vmin=0, vmax=max(k - 1, 1), s=14, edgecolors="k", linewidths=0.3)
    axis.set_xlabel("$x_1$")
    axis.set_ylabel("$x_2$")
    return axis
