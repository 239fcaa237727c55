"""LRFinderDisplay and ScheduleDisplay: the learning rate, seen."""

from __future__ import annotations

import numbers

import numpy as np

from toolkit.plots._figure import WRONG_COLOUR, Display, axes_or_new, colour, fit_layout, integer_ticks, legend_outside
from toolkit.validation import check_array, received


class LRFinderDisplay(Display):
    """An LR finder's smoothed loss against the learning rate (log x), the suggestion marked.

    Attributes:
        lrs, losses: the recorded curve. suggestion: the suggested rate or None.
        line_: the curve's Line2D. axes_: the one Axes.

    Example:

    >>> LRFinderDisplay.from_finder(finder).suggestion
    """

    def __init__(self, lrs, losses, suggestion=None):
        self.lrs, self.losses, self.suggestion = lrs, losses, suggestion

    @classmethod
    def from_finder(cls, finder, *, ax=None):
        """Read ``finder.lrs``, ``finder.losses`` and ``finder.suggestion``, then plot."""
        if not hasattr(finder, "lrs") or not hasattr(finder, "losses"):
            raise TypeError(f"`finder` must be an LRFinder (with lrs and losses). {received('finder', finder)}")
        if len(finder.lrs) == 0:
            raise ValueError("`finder` has recorded nothing: run model.fit(..., callbacks=[finder]) first.")
        lrs = check_array("finder.lrs", finder.lrs, ndim=1, finite=True)
        losses = check_array("finder.losses", finder.losses, ndim=1, finite=True)
        if len(lrs) != len(losses):
            raise ValueError(f"`finder.lrs` and `finder.losses` differ in length: {len(lrs)} and {len(losses)}")
        return cls(lrs, losses, getattr(finder, "suggestion", None)).plot(ax=ax)

    def plot(self, *, ax=None):
        """Draw on ``ax`` (a new figure when None) and return self."""
        (axis,) = axes_or_new(ax, 1, size=(6.0, 3.6))
        (self.line_,) = axis.plot(self.lrs, self.losses, "-", color=colour(0), label="smoothed loss")
        if self.suggestion is not None:
            suggestion = self.suggestion
            loss_at = float(np.interp(np.log(suggestion), np.log(self.lrs), self.losses))
            axis.axvline(suggestion, color=WRONG_COLOUR, linestyle="--", linewidth=1)
            axis.plot([suggestion], [loss_at], "o", color=WRONG_COLOUR, label=f"suggested lr = {suggestion:.2g}")
            axis.annotate(
                f"suggested lr = {suggestion:.2g}", (suggestion, loss_at), textcoords="offset points",
                xytext=(6, 8), fontsize=9, color=WRONG_COLOUR,
            )
        axis.set_xscale("log")
        axis.set_xlabel("learning rate (log scale)")
        axis.set_ylabel("loss (smoothed)")
        axis.set_title("LR finder: pick a rate on the falling slope (marked)" if self.suggestion is not None
                       else "LR finder: the useful rates are where the loss falls")
        axis.grid(alpha=0.3, which="both")
        legend_outside(axis)
        fit_layout(axis.figure)
        self._drawn_on([axis])
        return self


def plot_lr_finder(finder, *, ax=None) -> LRFinderDisplay:
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
        The :class:`LRFinderDisplay`.

    Example:

    >>> model.fit(x, y, epochs=1, verbose=0, callbacks=[finder])
    >>> plot_lr_finder(finder)
    """
    return LRFinderDisplay.from_finder(finder, ax=ax)


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


class ScheduleDisplay(Display):
    """A learning-rate schedule against the optimizer step; draw several on one Axes to compare.

    Attributes:
        steps, values: the steps and the learning rate at each. label: the line's name.
        line_: its Line2D. axes_: the one Axes.

    Example:

    >>> first = ScheduleDisplay.from_schedule(cosine, 500, label="cosine")
    >>> ScheduleDisplay.from_schedule(one_cycle, 500, label="one-cycle", ax=first.ax_)
    """

    def __init__(self, steps, values, label: str):
        self.steps, self.values, self.label = steps, values, label

    @classmethod
    def from_schedule(cls, schedule, steps, *, label=None, ax=None):
        """Evaluate ``schedule`` at each step, then plot (see :func:`plot_schedule`)."""
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
        name = label or getattr(schedule, "name", None) or getattr(schedule, "__name__", None) or type(schedule).__name__
        if name == "<lambda>":
            name = "schedule"
        return cls(steps, _evaluate(schedule, steps), name).plot(ax=ax)

    def plot(self, *, ax=None):
        """Add this schedule's line to ``ax`` (a new figure when None) and return self."""
        (axis,) = axes_or_new(ax, 1, size=(6.0, 3.6))
        (self.line_,) = axis.plot(self.steps, self.values, "-", color=colour(len(axis.get_lines())), label=self.label)
        axis.set_xlabel("step (batches seen)")
        axis.set_ylabel("learning rate")
        integer_ticks(axis)
        title = axis.get_title()
        axis.set_title(self.label if not title or title == self.label else "learning-rate schedules")
        axis.grid(alpha=0.3)
        legend_outside(axis)
        fit_layout(axis.figure)
        self._drawn_on([axis])
        return self


def plot_schedule(schedule, steps, *, label=None, ax=None) -> ScheduleDisplay:
    """Plot a learning-rate schedule against the optimizer step.

    Args:
        schedule: a ``keras.optimizers.schedules.LearningRateSchedule``
            (ExponentialDecay, CosineDecay, :class:`toolkit.schedules.OneCycle`,
            ...) or any callable ``step -> learning rate``.
        steps: the number of steps to draw (an int: steps 0 .. steps-1), or
            an array of step numbers.
        label: the line's label (default: the schedule's class name).
        ax: a matplotlib Axes; a figure is created only when none is given.
            Pass the same ``ax`` again (``display.ax_``) to compare schedules.

    Returns:
        The :class:`ScheduleDisplay`.

    Example:

    >>> schedule = keras.optimizers.schedules.ExponentialDecay(0.1, 100, 0.1)
    >>> display = plot_schedule(schedule, 500)
    >>> plot_schedule(lambda step: 0.1 * 0.99**step, 500, label="by hand", ax=display.ax_)
    """
    return ScheduleDisplay.from_schedule(schedule, steps, label=label, ax=ax)
