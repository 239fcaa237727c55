"""DecisionBoundaryDisplay: the regions a 2-D classifier assigns to each class."""

from __future__ import annotations

import inspect

import numpy as np
from sklearn.inspection import DecisionBoundaryDisplay as _SklearnDisplay

from toolkit.labels import class_indices
from toolkit.plots._figure import OKABE_ITO, Display, axes_or_new, colour
from toolkit.validation import (
    check_array,
    check_float,
    check_int,
    check_same_length,
    fits_input_shape,
    model_input_shape,
    received,
)


def _model_from_logits(model) -> bool:
    """True when the model was compiled with a loss that says ``from_logits=True``."""
    return bool(getattr(getattr(model, "loss", None), "from_logits", False))


def _predict_classes(model_or_fn, grid: np.ndarray, from_logits, threshold) -> np.ndarray:
    """Class indices for the grid points, from a Keras model or a NumPy function (read by toolkit.labels)."""
    import keras

    if isinstance(model_or_fn, keras.Model):
        out = model_or_fn.predict(grid, verbose=0, batch_size=4096)
        if from_logits is None:
            from_logits = _model_from_logits(model_or_fn)
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
    return class_indices(out, name="model_or_fn(grid)", scores=True, from_logits=bool(from_logits),
                         threshold=threshold)


class DecisionBoundaryDisplay(Display, _SklearnDisplay):
    """scikit-learn's ``DecisionBoundaryDisplay`` for Keras models and plain functions, with the data on top.

    ``response`` holds the predicted class index of each grid point;
    ``x``/``y`` are the points scattered on it, coloured by their true class.
    Besides scikit-learn's ``surface_``, ``ax_`` and ``figure_`` it has
    ``axes_`` and ``scatter_``.

    Example:

    >>> display = DecisionBoundaryDisplay.from_model(model, x, y)
    >>> display.response.mean()   # the share of the plane called class 1
    """

    def __init__(self, *, xx0, xx1, response, x, y, n_classes: int):
        colours = [colour(i) for i in range(n_classes)] if n_classes <= len(OKABE_ITO) else "viridis"
        # scikit-learn added n_classes and multiclass_colors to the constructor only in 1.7/1.9: pass what this
        # version takes and set the rest ourselves, so the display works from scikit-learn 1.6 on.
        accepted = inspect.signature(_SklearnDisplay.__init__).parameters
        extra = {"n_classes": n_classes, "multiclass_colors": colours}
        super().__init__(xx0=xx0, xx1=xx1, response=response, xlabel="$x_1$", ylabel="$x_2$",
                         **{k: v for k, v in extra.items() if k in accepted})
        self.n_classes, self.multiclass_colors = n_classes, colours
        self.x, self.y = x, y

    @classmethod
    def from_model(cls, model_or_fn, x, y, *, resolution: int = 200, padding: float = 0.5, from_logits=None,
                   threshold=None, ax=None):
        """Evaluate the classifier on a grid around ``x`` and plot (see :func:`plot_decision_boundary`)."""
        import keras

        if not (isinstance(model_or_fn, keras.Model) or callable(model_or_fn)):
            raise TypeError(f"`model_or_fn` must be a Keras model or a function. {received('model_or_fn', model_or_fn)}")
        if from_logits is not None and not isinstance(from_logits, bool):
            raise TypeError(f"`from_logits` must be None, True or False. {received('from_logits', from_logits)}")
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
        y = class_indices(y, name="y")
        check_same_length(x=x, y=y)
        resolution = check_int("resolution", resolution, minimum=2)
        padding = check_float("padding", padding, low=0.0)
        lo, hi = x.min(axis=0) - padding, x.max(axis=0) + padding
        g0, g1 = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
        grid = np.c_[g0.ravel(), g1.ravel()].astype(np.float32)
        response = _predict_classes(model_or_fn, grid, from_logits, threshold).reshape(g0.shape)
        k = max(int(max(response.max(), y.max())) + 1, 2)
        return cls(xx0=g0, xx1=g1, response=response, x=x, y=y, n_classes=k).plot(ax=ax)

    def plot(self, *, ax=None, alpha: float = 0.3, **kwargs):
        """Fill each class region, scatter the points on top; return self."""
        from matplotlib.colors import ListedColormap

        (axis,) = axes_or_new(ax, 1, size=(4.5, 4.0))
        k = self.n_classes
        if isinstance(self.multiclass_colors, str):
            import matplotlib

            cmap = matplotlib.colormaps[self.multiclass_colors].resampled(k)
        else:
            cmap = ListedColormap(self.multiclass_colors)
        if k == 2:  # scikit-learn colours two classes with `cmap`, more with `multiclass_colors`
            kwargs = {"cmap": cmap, **kwargs}
        _SklearnDisplay.plot(self, plot_method="contourf", ax=axis, levels=np.arange(-0.5, k), alpha=alpha, **kwargs)
        self.scatter_ = axis.scatter(self.x[:, 0], self.x[:, 1], c=self.y, cmap=cmap, vmin=-0.5, vmax=k - 0.5, s=14,
                                     edgecolors="k", linewidths=0.3)
        axis.set_title("shaded: predicted class; dots: true class", fontsize=9)
        self._drawn_on([axis])
        return self


def plot_decision_boundary(model_or_fn, x, y, *, ax=None, resolution: int = 200, padding: float = 0.5,
                           from_logits=None, threshold=None) -> DecisionBoundaryDisplay:
    """Colour the plane by the class a classifier predicts, and scatter the data on it.

    Args:
        model_or_fn: a Keras model taking 2 features (its ``predict`` is
            called), or a function mapping an ``(m, 2)`` array to labels, to
            one column of scores of class 1 ``(m,)``/``(m, 1)``, or to
            per-class scores ``(m, k)``. Outputs are read by
            :func:`toolkit.labels.class_indices`.
        x: ``(n, 2)`` points.
        y: their labels, ``(n,)`` or ``(n, 1)`` or one-hot.
        ax: the Axes to draw on; a figure is created only when none is given.
        resolution: grid points per axis (the classifier sees ``resolution**2`` points).
        padding: margin around the data, in data units.
        from_logits: one-column outputs are logits (threshold 0). None: read
            it from a Keras model's compiled loss (``from_logits`` of e.g.
            ``BinaryCrossentropy``), else False.
        threshold: the cut for one-column scores (default 0.5, or 0 for logits).

    Returns:
        The :class:`DecisionBoundaryDisplay`: a filled contour of the
        predicted class (``surface_``), then a scatter of the points
        coloured by their true class (``scatter_``).

    Example:

    >>> x, y = make_linear(200)
    >>> plot_decision_boundary(lambda g: (g.sum(axis=1) > 9).astype(int), x, y)
    """
    return DecisionBoundaryDisplay.from_model(model_or_fn, x, y, resolution=resolution, padding=padding,
                                              from_logits=from_logits, threshold=threshold, ax=ax)
