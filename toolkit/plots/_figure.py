"""Figure handling shared by the plot functions: draw on the axes given, or
create a figure only when none is given (scikit-learn's Display idiom)."""

from __future__ import annotations

import numpy as np

from toolkit.validation import received


def axes_or_new(ax, n: int = 1, *, ncols: int | None = None, size=(5.0, 3.6), name: str = "ax"):
    """Return a flat array of ``n`` axes: ``ax`` itself, or a new figure's."""
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes

    if ax is None:
        ncols = ncols or n
        nrows = int(np.ceil(n / ncols))
        fig, axes = plt.subplots(nrows, ncols, figsize=(size[0] * ncols, size[1] * nrows), squeeze=False)
        axes = axes.ravel()
        for extra in axes[n:]:
            extra.set_visible(False)
        return axes[:n]
    axes = np.atleast_1d(np.asarray(ax, dtype=object)).ravel()
    if not all(isinstance(a, Axes) for a in axes):
        raise TypeError(f"`{name}` must be a matplotlib Axes or an array of them. {received(name, ax)}")
    if len(axes) != n:
        raise ValueError(f"`{name}` must hold {n} axes for this plot, got {len(axes)}. {received(name, ax)}")
    return axes


def single(axes):
    """Return one Axes when there is one, else the array."""
    return axes[0] if len(axes) == 1 else axes
