"""HistoryDisplay: training curves of one run or a comparison of runs."""

from __future__ import annotations

import warnings

import numpy as np

from toolkit.plots._figure import Display, axes_or_new, colour, fit_layout, integer_ticks, legend_outside
from toolkit.history import EpochHistory, read_history, read_runs
from toolkit.validation import received

#: Metrics where larger is better; the best epoch of any other metric is its minimum.
_HIGHER_IS_BETTER = ("acc", "auc", "precision", "recall", "f1", "iou")
#: Keys written by the toolkit's monitors and loggers, not curves to compare by default.
_NOT_A_CURVE = ("learning_rate", "lr", "epoch_seconds")


def higher_is_better(metric: str) -> bool:
    """True for accuracy-like metrics (best = max), False for losses (best = min)."""
    return any(tag in metric.lower() for tag in _HIGHER_IS_BETTER)


def _runs(history) -> dict[str, EpochHistory]:
    """``{run name: EpochHistory}`` from anything :func:`toolkit.history.read_history` reads, or a dict of those.

    Epochs are drawn at their real numbers (a resumed run, ``History.epoch``,
    an ``epoch`` entry); a value that was not measured (an epoch without
    validation) is no point at all, not a NaN. A file holding several
    appended runs is drawn as a comparison of its runs.
    """
    raw = getattr(history, "history", history)
    if isinstance(raw, dict) and raw and all(
        hasattr(v, "history") or isinstance(v, EpochHistory) or (isinstance(v, dict) and v) for v in raw.values()
    ):
        return {str(name): read_history(run, name=f"history[{name!r}]", require_loss=False) for name, run in raw.items()}
    runs = read_runs(history, name="history", require_loss=False)
    if len(runs) > 1:
        return {f"run {i + 1}": run for i, run in enumerate(runs)}
    return {"": runs[0]}


def default_metrics(runs) -> list[str]:
    keys = [k for run in runs.values() for k in run.keys]
    base = []
    for k in keys:
        name = k[4:] if k.startswith("val_") else k
        if "/" in name or name in _NOT_A_CURVE or name == "epoch" or name in base:
            continue
        base.append(name)
    base.sort(key=lambda m: (m != "loss", m))
    return base[:2]


def _check_marks(marks) -> dict[str, float]:
    if marks is None:
        return {}
    if not isinstance(marks, dict):
        raise TypeError(f"`marks` must be a dict {{label: epoch}} or None. {received('marks', marks)}")
    checked = {}
    for label, epoch in marks.items():
        if not isinstance(label, str) or isinstance(epoch, bool) or not isinstance(epoch, (int, float, np.integer, np.floating)):
            raise TypeError(f"`marks` must map labels (str) to epoch numbers. {received('marks', marks)}")
        if not np.isfinite(epoch) or epoch < 0:
            raise ValueError(f"`marks` epochs must be finite and >= 0. {received('marks', marks)}")
        checked[label] = float(epoch)
    return checked


class HistoryDisplay(Display):
    """Training curves of one run or a comparison of runs, one panel per metric.

    One colour per run (Okabe–Ito, safe for colour-blind readers); train
    solid, validation dashed; the best validation epoch circled. A single run
    gets a legend ``train``/``val`` and a "best" label at its best epoch. A
    comparison gets ONE legend entry per run, which also gives its best
    validation value and epoch (no labels on the curves to collide), and a
    the line styles "solid = train", "dashed = val" after them. Legends sit outside
    the axes, where they cannot cover a curve; epoch ticks are whole numbers.

    Attributes:
        runs: ``{run name: EpochHistory}`` ("" for a single run).
        metrics: the metric of each panel. marks: ``{label: 0-based epoch}``.
        lines_: ``{(metric, run name, "train" | "val"): Line2D}``.
        best_: ``{(metric, run name): (epoch, value)}`` of the validation curve.
        axes_: one Axes per metric.

    Example:

    >>> display = HistoryDisplay.from_history({"SGD": h_sgd, "Adam": h_adam}, metrics=["loss"])
    >>> display.best_["loss", "Adam"]   # (epoch, best val_loss)
    """

    def __init__(self, runs, metrics, marks=None):
        self.runs, self.metrics, self.marks = runs, list(metrics), dict(marks or {})

    @classmethod
    def from_history(cls, history, *, metrics=None, marks=None, ax=None):
        """Read the run(s) and the metrics to show, then plot (see :func:`plot_history`)."""
        runs = _runs(history)
        marks = _check_marks(marks)
        if metrics is None:
            metrics = default_metrics(runs)
        elif isinstance(metrics, str):
            metrics = [metrics]
        if not isinstance(metrics, (list, tuple)) or not metrics or not all(isinstance(m, str) for m in metrics):
            raise TypeError(f"`metrics` must be a list of metric names. {received('metrics', metrics)}")
        available = {k for run in runs.values() for k in run.keys}
        missing = [m for m in metrics if m not in available and f"val_{m}" not in available]
        if missing:
            raise ValueError(f"`metrics` names {missing}, not in the history. Available: {sorted(available)}")
        return cls(runs, metrics, marks).plot(ax=ax)

    @property
    def comparing(self) -> bool:
        return len(self.runs) > 1 or next(iter(self.runs)) != ""

    def plot(self, *, ax=None):
        """Draw one panel per metric on ``ax`` (an Axes per metric; a new figure when None); return self."""
        axes = axes_or_new(ax, len(self.metrics), size=(5.6, 3.6))
        self.lines_, self.best_ = {}, {}
        for axis, metric in zip(axes, self.metrics):
            self._panel(axis, metric)
        fit_layout(axes[0].figure)
        self._drawn_on(axes)
        return self

    def _panel(self, axis, metric: str) -> None:
        from matplotlib.lines import Line2D

        better = "higher" if higher_is_better(metric) else "lower"
        run_handles = []
        for i, (run_name, run) in enumerate(self.runs.items()):
            tint = colour(i)
            for key, style, split in ((metric, "-", "train"), (f"val_{metric}", "--", "val")):
                if key not in run:
                    continue
                values = run[key]
                finite = np.isfinite(values)
                # An epoch without a value (validation_freq > 1, CSVLogger's NA) is no point; a measured NaN is a gap.
                unmeasured = ~run.measured[key]
                bad = int(np.sum(~finite & ~unmeasured))
                if bad:
                    warnings.warn(
                        f"{key}{' of ' + run_name if run_name else ''} has {bad} NaN/inf value(s); "
                        "they are left out of the curve (training diverged?)",
                        RuntimeWarning,
                        stacklevel=3,
                    )
                keep = ~unmeasured  # diverged points stay in, as gaps in the curve
                sparse = int(finite.sum()) < 3 or unmeasured.any()
                (line,) = axis.plot(run.epochs[keep], values[keep], style, color=tint,
                                    label=f"{run_name} {split}".strip() if self.comparing else split,
                                    marker="." if sparse else None)
                self.lines_[metric, run_name, split] = line
            label = run_name
            val_key = f"val_{metric}"
            if val_key in run and np.any(np.isfinite(run[val_key])):
                values = np.where(np.isfinite(run[val_key]), run[val_key], np.nan)
                best = int(np.nanargmax(values) if higher_is_better(metric) else np.nanargmin(values))
                x_best = run.epochs[best]
                self.best_[metric, run_name] = (int(x_best), float(values[best]))
                axis.plot(x_best, values[best], "o", color=tint, markersize=7, markerfacecolor="none")
                label = f"{run_name} (best val {values[best]:.3g} at {int(x_best)})"
                if not self.comparing:  # one label only: it cannot collide with another
                    # placed towards the inside of the axes: never over the legend, never off the top
                    right = x_best > (run.epochs[0] + run.epochs[-1]) / 2
                    up = not higher_is_better(metric)
                    axis.annotate(
                        f"best {values[best]:.3g}", (x_best, values[best]), textcoords="offset points",
                        xytext=(-6 if right else 6, 8 if up else -8), ha="right" if right else "left",
                        va="bottom" if up else "top", fontsize=8, color=tint,
                        bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.85},
                    )
            run_handles.append(Line2D([], [], color=tint, label=label))
        style_handles = []
        for j, (label, epoch) in enumerate(self.marks.items()):
            # epoch e (0-based) is drawn at x = e + 1: the line sits between the last epoch before and e
            style_handles.append(axis.axvline(epoch + 0.5, linestyle=":", color="0.3" if j == 0 else
                                              colour(len(self.runs) + j), label=label))
        axis.set_xlabel("epoch")
        integer_ticks(axis)
        axis.set_ylabel(metric)
        axis.set_title(f"{metric} ({better} is better; o = best validation epoch)"
                       if any(k[0] == metric for k in self.best_) else f"{metric} ({better} is better)", fontsize=10)
        axis.grid(alpha=0.3)
        if self.comparing:
            # ONE entry per run, then the line styles: a single legend, outside the axes (fit_layout makes room)
            splits = {split for (m, _, split) in self.lines_ if m == metric}
            if len(splits) > 1:
                style_handles = [Line2D([], [], color="0.35", linestyle="-", label="solid = train"),
                                 Line2D([], [], color="0.35", linestyle="--", label="dashed = val")] + style_handles
            legend_outside(axis, handles=run_handles + style_handles)
        else:
            legend_outside(axis)


def plot_history(history, *, metrics=None, marks=None, ax=None) -> HistoryDisplay:
    """Plot training curves: train solid, validation dashed, best epoch marked.

    Args:
        history: a Keras ``History`` (``validation_freq > 1`` included), a
            dict of per-epoch lists, a DataFrame, the path of a CSVLogger or
            JSON file (anything :func:`toolkit.history.read_history` reads), or
            a dict ``{run name: History or dict}`` to compare runs (one colour
            each, one legend entry each). A file holding several appended runs
            is drawn run by run.
        metrics: metric names to plot, one panel each (default: ``loss`` and
            one more, e.g. ``accuracy``). ``val_`` curves are added when present.
        marks: optional ``{label: epoch}``: a dotted vertical line, labelled
            in the legend, just before each given epoch (0-based, as in
            ``initial_epoch``), e.g. ``{"fine-tuning starts": 5}``.
        ax: a matplotlib Axes, or one per metric. A figure is created only
            when none is given.

    Returns:
        The :class:`HistoryDisplay` (``axes_``: one Axes per metric).

    Example:

    >>> hist = model.fit(x, y, validation_split=0.2, epochs=5, verbose=0)
    >>> plot_history(hist)
    >>> plot_history({"SGD": h_sgd, "Adam": h_adam}, metrics=["loss"])
    >>> plot_history(combined, marks={"fine-tuning starts": 5}).figure_.savefig("curves.png")
    """
    return HistoryDisplay.from_history(history, metrics=metrics, marks=marks, ax=ax)
