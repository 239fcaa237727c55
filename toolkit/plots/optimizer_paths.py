"""OptimizerPathsDisplay: how optimizers walk across a 2-D loss surface."""

from __future__ import annotations

import numpy as np

from toolkit.plots._figure import Display, axes_or_new, colour, fit_layout, legend_outside
from toolkit.validation import check_array, check_int, received


def _check_paths(paths) -> dict[str, np.ndarray]:
    if not isinstance(paths, dict) or not paths:
        raise TypeError(
            "`paths` must be a non-empty dict {optimizer name: (steps, 2) array of positions}. "
            f"{received('paths', paths)}"
        )
    out = {}
    for name, path in paths.items():
        if not isinstance(name, str):
            raise TypeError(f"`paths` keys must be optimizer names (str). Received key {name!r}")
        arr = check_array(f"paths[{name!r}]", path, ndim=2).astype(float)
        if arr.shape[1] != 2:
            raise ValueError(f"`paths[{name!r}]` must have shape (steps, 2), got {arr.shape}.")
        if not np.all(np.isfinite(arr[0])):
            raise ValueError(f"`paths[{name!r}]` must start at a finite point, got {arr[0].tolist()}.")
        out[name] = arr
    return out


def _limits(points: np.ndarray, given, name: str):
    if given is not None:
        lim = check_array(name, given, ndim=1, finite=True)
        if lim.shape != (2,) or not lim[0] < lim[1]:
            raise ValueError(f"`{name}` must be (low, high) with low < high. {received(name, given)}")
        return float(lim[0]), float(lim[1])
    low, high = float(points.min()), float(points.max())
    pad = 0.15 * max(high - low, 1e-3)
    return low - pad, high + pad


def _surface(loss_fn, gx, gy) -> np.ndarray:
    """Evaluate ``loss_fn(x, y)`` on the grid: vectorised when it can, point by point otherwise."""
    try:
        z = np.asarray(loss_fn(gx, gy), dtype=float)
        if z.shape == gx.shape:
            return z
    except Exception:  # a loss written for scalars or tensors: fall back to one point at a time
        pass
    return np.vectorize(lambda a, b: float(np.asarray(loss_fn(a, b))))(gx, gy)


class OptimizerPathsDisplay(Display):
    """A 2-D loss as contours, and the path each optimizer took across it.

    Attributes:
        xx, yy, zz: the grid and the loss on it. paths: ``{name: (steps, 2)}``.
        minimum: the marked optimum or None. lines_: ``{name: Line2D}``.

    Example:

    >>> OptimizerPathsDisplay.from_paths(bowl, {"SGD": sgd_path}, minimum=(0, 0)).lines_["SGD"]
    """

    def __init__(self, xx, yy, zz, paths, *, x_range, y_range, levels: int = 30, minimum=None, title=None):
        self.xx, self.yy, self.zz, self.paths = xx, yy, zz, paths
        self.x_range, self.y_range, self.levels, self.minimum, self.title = x_range, y_range, levels, minimum, title

    @classmethod
    def from_paths(cls, loss_fn, paths, *, xlim=None, ylim=None, levels: int = 30, minimum=None,
                   title: str | None = None, ax=None):
        """Evaluate the loss around the paths, then plot (see :func:`plot_optimizer_paths`)."""
        if not callable(loss_fn):
            raise TypeError(f"`loss_fn` must be a function loss_fn(x, y). {received('loss_fn', loss_fn)}")
        runs = _check_paths(paths)
        levels = check_int("levels", levels, minimum=2)
        if minimum is not None:
            minimum = check_array("minimum", minimum, ndim=1, finite=True)
            if minimum.shape != (2,):
                raise ValueError(f"`minimum` must be a point (x, y). {received('minimum', minimum)}")
        if title is not None and not isinstance(title, str):
            raise TypeError(f"`title` must be a string or None. {received('title', title)}")
        finite = np.concatenate([p[np.all(np.isfinite(p), axis=1)] for p in runs.values()])
        if minimum is not None:
            finite = np.vstack([finite, minimum[None]])
        x_range = _limits(finite[:, 0], xlim, "xlim")
        y_range = _limits(finite[:, 1], ylim, "ylim")
        gx, gy = np.meshgrid(np.linspace(*x_range, 160), np.linspace(*y_range, 160))
        z = _surface(loss_fn, gx, gy)
        return cls(gx, gy, z, runs, x_range=x_range, y_range=y_range, levels=levels, minimum=minimum,
                   title=title).plot(ax=ax)

    def plot(self, *, ax=None):
        """Draw on ``ax`` (a new figure when None) and return self."""
        (axis,) = axes_or_new(ax, 1, size=(6.4, 4.8))
        z = self.zz
        z_low, z_high = np.nanmin(z), np.nanmax(z)
        if z_low >= 0 and z_high > 0 and z_high / max(z_low, z_high * 1e-6) > 100:
            contour_levels = np.geomspace(max(z_low, z_high * 1e-6), z_high, self.levels)
        else:
            contour_levels = np.linspace(z_low, z_high, self.levels)
        axis.contour(self.xx, self.yy, z, levels=np.unique(contour_levels), colors="0.7", linewidths=0.6)
        self.lines_ = {}
        for i, (name, path) in enumerate(self.paths.items()):
            ok = np.all(np.isfinite(path), axis=1)
            last = len(path) if ok.all() else int(np.argmin(ok))
            shown = path[:last]
            label = name if ok.all() else f"{name} (diverged)"
            (line,) = axis.plot(shown[:, 0], shown[:, 1], "-", color=colour(i), marker=".", markersize=3,
                                linewidth=1.2, label=label)
            self.lines_[name] = line
            axis.plot(*shown[0], "o", color=line.get_color(), markersize=7, markerfacecolor="none")
            axis.plot(*shown[-1], "X" if ok.all() else "x", color=line.get_color(), markersize=8)
        if self.minimum is not None:
            axis.plot(*self.minimum, "*", color="gold", markeredgecolor="black", markersize=14, label="minimum")
        axis.set_xlim(*self.x_range)
        axis.set_ylim(*self.y_range)
        axis.set_xlabel("x")
        axis.set_ylabel("y")
        axis.set_title(self.title if self.title is not None else "optimizer paths (o start, X end)")
        legend_outside(axis)
        fit_layout(axis.figure)
        self._drawn_on([axis])
        return self


def plot_optimizer_paths(
    loss_fn, paths, *, ax=None, xlim=None, ylim=None, levels: int = 30, minimum=None, title: str | None = None
) -> OptimizerPathsDisplay:
    """Draw a 2-D loss as contours and the path each optimizer took across it.

    Args:
        loss_fn: the loss as a function ``loss_fn(x, y)`` of the two
            coordinates. It is called with NumPy grids (and point by point
            when it cannot take arrays).
        paths: a dict ``{optimizer name: (steps, 2) array}`` of positions,
            the start first. A path that diverged to NaN/inf is drawn up to
            its last finite point and marked "diverged".
        ax: a matplotlib Axes; a figure is created only when none is given.
        xlim, ylim: ``(low, high)`` of the view; default: the paths' extent.
        levels: the number of contour levels (log-spaced when the loss
            spans several orders of magnitude, as Rosenbrock's does).
        minimum: the optimum ``(x, y)`` to mark with a star, if known.
        title: the plot's title.

    Returns:
        The :class:`OptimizerPathsDisplay`.

    Example:

    >>> bowl = lambda x, y: x**2 + 10 * y**2
    >>> plot_optimizer_paths(bowl, {"SGD": sgd_path, "Adam": adam_path}, minimum=(0, 0))
    """
    return OptimizerPathsDisplay.from_paths(loss_fn, paths, xlim=xlim, ylim=ylim, levels=levels, minimum=minimum,
                                            title=title, ax=ax)
