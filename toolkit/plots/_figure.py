"""What every plot of the toolkit shares: scikit-learn's Display pattern and readable defaults.

Each plot is a ``XxxDisplay`` object: a ``from_...`` classmethod computes what
to draw and calls ``plot(ax=...)``, which draws on the Axes given (or on a new
figure when none is given) and returns the Display itself. Every Display has

* ``axes_``: a NumPy array of the Axes drawn on (one per panel),
* ``ax_``: the first of them, and ``figure_``: their figure.

The ``plot_xxx(...)`` functions are the short entry points: each calls the
matching ``from_...`` and returns the Display. ``ConfusionMatrixDisplay`` and
``DecisionBoundaryDisplay`` build on scikit-learn's classes of the same name.

Colours come from the Okabe–Ito palette, which readers with any common form
of colour blindness can tell apart (matplotlib's default "tab10" is not safe).
"""

from __future__ import annotations

import numpy as np

from toolkit.validation import received

#: Okabe & Ito (2008), "Color Universal Design": 8 colours safe for colour-blind readers.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
#: The colour that marks a wrong prediction or a warning (vermillion, from the same palette).
WRONG_COLOUR = "#D55E00"


def colour(i: int) -> str:
    """The i-th colour of the Okabe–Ito palette (yellow, hard to see on white, comes last)."""
    order = (0, 1, 2, 3, 4, 5, 7, 6)
    return OKABE_ITO[order[i % len(order)]]


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


class Display:
    """Base of the toolkit's plot objects (scikit-learn's Display pattern).

    Attributes:
        axes_: NumPy array of the Axes drawn on, one per panel.
        ax_: the first Axes. figure_: the figure they belong to.

    Example:

    >>> display = plot_history(history)          # a HistoryDisplay
    >>> display.ax_.set_ylim(0, 1)
    >>> display.figure_.savefig("loss.png")
    """

    axes_ = ax_ = figure_ = None

    def _drawn_on(self, axes) -> None:
        axes = np.asarray(axes, dtype=object)
        self.axes_ = axes
        self.ax_ = axes.flat[0]
        self.figure_ = self.ax_.figure

    def plot(self, *, ax=None):  # pragma: no cover - every subclass draws
        raise NotImplementedError

    def __repr__(self) -> str:
        shown = "not drawn" if self.axes_ is None else f"{self.axes_.size} axes"
        return f"{type(self).__name__}({shown})"


def integer_ticks(axis, which: str = "x") -> None:
    """Put whole-number ticks only on an axis of epochs, layers or steps (no 1.5 epochs)."""
    from matplotlib.ticker import MaxNLocator

    getattr(axis, f"{which}axis").set_major_locator(MaxNLocator(integer=True))


def legend_outside(axis, **kwargs):
    """A legend to the right of the axes, where it can never cover data."""
    return axis.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, fontsize=8, **kwargs)


def single(axes):
    """Return one Axes when there is one, else the array."""
    return axes[0] if len(axes) == 1 else axes


def fit_layout(figure) -> None:
    """Make room for legends outside the axes: ``tight_layout``, unless the figure has its own layout engine."""
    import warnings

    from matplotlib.layout_engine import ConstrainedLayoutEngine

    if not isinstance(figure.get_layout_engine(), ConstrainedLayoutEngine):
        with warnings.catch_warnings():  # "not compatible with tight_layout" for odd grids: keep what we have
            warnings.simplefilter("ignore", UserWarning)
            figure.tight_layout()
