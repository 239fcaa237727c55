"""plot_lr_finder and plot_schedule: the learning rate, seen."""

from __future__ import annotations

import numbers

import numpy as np

from toolkit.plots._figure import axes_or_new
from toolkit.validation import check_array, received


def plot_lr_finder(finder, *, ax=None):
    """Plot an LR finder's smoothed loss against the learning rate (log x).

    The suggested learning rate is marked with a dot and a dashed vertical
    line, and labelled. Read the curve from the left: flat (too small to
    learn), falling (the useful range), the minimum, then the blow-up.

    Args:
        finder: a :class:`toolkit.callbacks.LRFinder` after its ``fit``, or
            anything with ``lrs`` and ``losses`` lists (and optionally
            ``suggestion``).
        ax: a matplotlib Axes; a figure is created only when none is given.

    Returns:
        The Axes.

    Example:

    >>> model.fit(x, y, epochs=1, verbose=0, callbacks=[finder])
    >>> plot_lr_finder(finder)
    """
    if not hasattr(finder, "lrs") or not hasattr(finder, "losses"):
        raise TypeError(f"`finder` must be an LRFinder (with lrs and losses). {received('finder', finder)}")
    if len(finder.lrs) == 0:
        raise ValueError("`finder` has recorded nothing: run model.fit(..., callbacks=[finder]) first.")
    lrs = check_array("finder.lrs", finder.lrs, ndim=1, finite=True)
    losses = check_array("finder.losses", finder.losses, ndim=1, finite=True)
    if len(lrs) != len(losses):
        raise ValueError(f"`finder.lrs` and `finder.losses` differ in length: {len(lrs)} and {len(losses)}")
    (axis,) = axes_or_new(ax, 1)
    axis.plot(lrs, losses, "-", label="smoothed loss")
    suggestion = getattr(finder, "suggestion", None)
    if suggestion is not None:
        loss_at = float(np.interp(np.log(suggestion), np.log(lrs), losses))
        axis.axvline(suggestion, color="tab:red", linestyle="--", linewidth=1)
        axis.plot([suggestion], [loss_at], "o", color="tab:red", label=f"suggested lr = {suggestion:.2g}")
        axis.annotate(
            f"suggested lr = {suggestion:.2g}", (suggestion, loss_at), textcoords="offset points",
            xytext=(6, 8), fontsize=9, color="tab:red",
        )
    axis.set_xscale("log")
    axis.set_xlabel("learning rate (log scale)")
    axis.set_ylabel("loss (smoothed)")
    axis.set_title("LR finder")
    axis.grid(alpha=0.3, which="both")
    axis.legend(fontsize=8)
    return axis


def _evaluate(schedule, steps: np.ndarray) -> np.ndarray:
    """The schedule's learning rate at each step, as floats."""
    import keras

    if isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule):
        try:  # Keras's schedules are made of ops: one vectorised call
            values = keras.ops.convert_to_numpy(schedule(keras.ops.convert_to_tensor(steps, "float32")))
            values = np.asarray(values, dtype=float)
            if values.shape == steps.shape:
                return values
        except Exception:  # a schedule written for scalar steps only
            pass
        return np.array([float(keras.ops.convert_to_numpy(schedule(int(s)))) for s in steps])
    return np.array([float(schedule(int(s))) for s in steps])


def plot_schedule(schedule, steps, *, label=None, ax=None):
    """Plot a learning-rate schedule against the optimizer step.

    Args:
        schedule: a ``keras.optimizers.schedules.LearningRateSchedule``
            (ExponentialDecay, CosineDecay, :class:`toolkit.schedules.OneCycle`,
            ...) or any callable ``step -> learning rate``.
        steps: the number of steps to draw (an int: steps 0 .. steps-1), or
            an array of step numbers.
        label: the line's label (default: the schedule's class name).
        ax: a matplotlib Axes; a figure is created only when none is given.
            Call again with the same ``ax`` to compare schedules.

    Returns:
        The Axes.

    Example:

    >>> schedule = keras.optimizers.schedules.ExponentialDecay(0.1, 100, 0.1)
    >>> plot_schedule(schedule, 500)
    """
    if not callable(schedule):
        raise TypeError(
            "`schedule` must be a keras LearningRateSchedule or a callable step -> lr. "
            f"{received('schedule', schedule)}"
        )
    if isinstance(steps, numbers.Integral) and not isinstance(steps, bool):
        if steps < 1:
            raise ValueError(f"`steps` must be >= 1. {received('steps', steps)}")
        steps = np.arange(int(steps))
    else:
        steps = check_array("steps", steps, ndim=1, finite=True)
        if np.any(steps < 0):
            raise ValueError(f"`steps` must be non-negative step numbers. {received('steps', steps)}")
    if label is not None and not isinstance(label, str):
        raise TypeError(f"`label` must be a string. {received('label', label)}")
    values = _evaluate(schedule, steps)
    (axis,) = axes_or_new(ax, 1)
    name = label or getattr(schedule, "name", None) or getattr(schedule, "__name__", None) or type(schedule).__name__
    if name == "<lambda>":
        name = "schedule"
    axis.plot(steps, values, "-", label=name)
    axis.set_xlabel("step (batches seen)")
    axis.set_ylabel("learning rate")
    title = axis.get_title()
    axis.set_title(name if not title or title == name else "learning-rate schedules")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    return axis
