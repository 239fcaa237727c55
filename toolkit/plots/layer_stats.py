"""LayerStatsDisplay: a per-layer statistic through depth, for several runs."""

from __future__ import annotations

import numpy as np

from toolkit.plots._figure import Display, axes_or_new, colour, fit_layout, integer_ticks, legend_outside
from toolkit.validation import check_array, received


def _check_stats(stats) -> dict[str, np.ndarray]:
    if not isinstance(stats, dict) or not stats:
        raise TypeError(
            "`stats` must be a non-empty dict {run name: per-layer values}, e.g. "
            f"{{'He + ReLU': [0.8, 0.7, ...]}}. {received('stats', stats)}"
        )
    out = {}
    for name, values in stats.items():
        if not isinstance(name, str):
            raise TypeError(f"`stats` keys must be run names (str). Received key {name!r}")
        arr = check_array(f"stats[{name!r}]", values, ndim=1).astype(float)
        if np.any(np.isnan(arr)):
            raise ValueError(f"`stats[{name!r}]` holds NaN: the statistic must be a number for every layer.")
        out[name] = arr
    return out


class LayerStatsDisplay(Display):
    """A per-layer statistic against depth, one line per run.

    Attributes:
        stats: ``{run name: per-layer values}``. ylabel, title, logy: as drawn.
        lines_: ``{run name: Line2D}``. axes_: the one Axes.

    Example:

    >>> LayerStatsDisplay.from_stats({"He + ReLU": [0.9, 0.85, 0.8]}).lines_["He + ReLU"]
    """

    def __init__(self, stats, *, ylabel: str = "activation std", title: str | None = None, logy: bool = True):
        self.stats, self.ylabel, self.title, self.logy = stats, ylabel, title, logy

    @classmethod
    def from_stats(cls, stats, *, ylabel: str = "activation std", title: str | None = None, logy: bool = True,
                   ax=None):
        """Check the statistics, then plot (see :func:`plot_layer_stats`)."""
        runs = _check_stats(stats)
        if not isinstance(ylabel, str):
            raise TypeError(f"`ylabel` must be a string. {received('ylabel', ylabel)}")
        if title is not None and not isinstance(title, str):
            raise TypeError(f"`title` must be a string or None. {received('title', title)}")
        if not isinstance(logy, bool):
            raise TypeError(f"`logy` must be True or False. {received('logy', logy)}")
        if logy and any(np.any(v < 0) for v in runs.values()):
            raise ValueError("`stats` holds negative values, which a log y-axis cannot show; pass logy=False.")
        return cls(runs, ylabel=ylabel, title=title, logy=logy).plot(ax=ax)

    def plot(self, *, ax=None):
        """Draw on ``ax`` (a new figure when None) and return self."""
        (axis,) = axes_or_new(ax, 1, size=(6.4, 4.0))
        self.lines_ = {}
        for i, (name, values) in enumerate(self.stats.items()):
            label = name
            shown = values.copy()
            if self.logy:
                zero = np.flatnonzero(values == 0)
                if zero.size:
                    label = f"{name} (0 from layer {zero[0] + 1})"
                    shown[values == 0] = np.nan
            (self.lines_[name],) = axis.plot(np.arange(1, len(values) + 1), shown, color=colour(i),
                                             marker="." if len(values) <= 60 else None, label=label)
        if self.logy:
            axis.set_yscale("log")
        axis.set_xlabel("layer")
        integer_ticks(axis)
        axis.set_ylabel(self.ylabel)
        axis.set_title(self.title if self.title is not None else f"{self.ylabel} through depth")
        axis.grid(alpha=0.3, which="both" if self.logy else "major")
        legend_outside(axis)
        fit_layout(axis.figure)
        self._drawn_on([axis])
        return self


def plot_layer_stats(stats, *, ax=None, ylabel: str = "activation std", title: str | None = None,
                     logy: bool = True) -> LayerStatsDisplay:
    """Plot a per-layer statistic (activation std, gradient norm, ...) against depth.

    One line per run, layer index (1 = first layer) on the x-axis. With the
    default log y-axis a signal that vanishes or explodes through depth is
    a straight line sloping down or up. Values of exactly 0 (a signal that
    underflowed) cannot sit on a log axis: the line stops there and its
    legend entry says from which layer the statistic is 0.

    Args:
        stats: a dict ``{run name: sequence of per-layer values}``; runs may
            have different depths.
        ax: a matplotlib Axes; a figure is created only when none is given.
        ylabel: the y-axis label (what the statistic is).
        title: the plot's title (default: ``"<ylabel> through depth"``).
        logy: use a log y-axis.

    Returns:
        The :class:`LayerStatsDisplay`.

    Example:

    >>> stds = {"N(0, 1)": [1.0, 0.99, 0.99], "He + ReLU": [0.9, 0.85, 0.8]}
    >>> plot_layer_stats(stds)
    """
    return LayerStatsDisplay.from_stats(stats, ylabel=ylabel, title=title, logy=logy, ax=ax)
