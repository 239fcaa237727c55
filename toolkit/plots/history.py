"""plot_history: training curves of one run or a comparison of runs."""

from __future__ import annotations

import warnings

import numpy as np

from toolkit.plots._figure import axes_or_new, single
from toolkit.validation import check_history, received

#: Metrics where larger is better; the best epoch of any other metric is its minimum.
_HIGHER_IS_BETTER = ("acc", "auc", "precision", "recall", "f1", "iou")
#: Keys written by the toolkit's monitors and loggers, not curves to compare by default.
_NOT_A_CURVE = ("learning_rate", "lr", "epoch_seconds")


def higher_is_better(metric: str) -> bool:
    """True for accuracy-like metrics (best = max), False for losses (best = min)."""
    return any(tag in metric.lower() for tag in _HIGHER_IS_BETTER)


def _one_run(history, name: str) -> dict[str, np.ndarray]:
    run = check_history(history, name)
    epochs = getattr(history, "epoch", None)  # a keras History knows its real epoch indices
    if "epoch" not in run and epochs is not None and len(epochs) == len(run["loss"]):
        run["epoch"] = np.asarray(epochs, dtype=float)
    return run


def _runs(history) -> dict[str, dict[str, np.ndarray]]:
    """``{run name: {metric: values}}`` from a History, a dict of lists, or a dict of runs.

    An ``epoch`` entry (0-based epoch indices, as in ``History.epoch``) sets
    the x values, so a resumed run is drawn at its real epochs.
    """
    raw = getattr(history, "history", history)
    if isinstance(raw, dict) and raw and all(
        hasattr(v, "history") or (isinstance(v, dict) and v) for v in raw.values()
    ):
        return {str(name): _one_run(run, f"history[{name!r}]") for name, run in raw.items()}
    return {"": _one_run(history, "history")}


def default_metrics(runs) -> list[str]:
    keys = [k for run in runs.values() for k in run]
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


def plot_history(history, *, metrics=None, marks=None, ax=None):
    """Plot training curves: train solid, validation dashed, best epoch marked.

    Args:
        history: a Keras ``History``, a dict of per-epoch lists, or a dict
            ``{run name: History or dict}`` to compare runs (one colour each).
        metrics: metric names to plot, one panel each (default: ``loss`` and
            one more, e.g. ``accuracy``). ``val_`` curves are added when present.
        marks: optional ``{label: epoch}``: a dotted vertical line, labelled
            in the legend, just before each given epoch (0-based, as in
            ``initial_epoch``), e.g. ``{"fine-tuning starts": 5}``.
        ax: a matplotlib Axes, or one per metric. A figure is created only
            when none is given.

    Returns:
        The Axes drawn on (an array when there are several panels).

    Example:

    >>> hist = model.fit(x, y, validation_split=0.2, epochs=5, verbose=0)
    >>> plot_history(hist)
    >>> plot_history({"SGD": h_sgd, "Adam": h_adam}, metrics=["loss"])
    >>> plot_history(combined, marks={"fine-tuning starts": 5})
    """
    runs = _runs(history)
    marks = _check_marks(marks)
    if metrics is None:
        metrics = default_metrics(runs)
    elif isinstance(metrics, str):
        metrics = [metrics]
    if not isinstance(metrics, (list, tuple)) or not metrics or not all(isinstance(m, str) for m in metrics):
        raise TypeError(f"`metrics` must be a list of metric names. {received('metrics', metrics)}")
    available = {k for run in runs.values() for k in run}
    missing = [m for m in metrics if m not in available and f"val_{m}" not in available]
    if missing:
        raise ValueError(f"`metrics` names {missing}, not in the history. Available: {sorted(available)}")
    axes = axes_or_new(ax, len(metrics))
    comparing = len(runs) > 1 or next(iter(runs)) != ""
    import matplotlib.pyplot as plt

    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for axis, metric in zip(axes, metrics):
        for i, (run_name, run) in enumerate(runs.items()):
            colour = colours[i % len(colours)]
            for key, style, split in ((metric, "-", "train"), (f"val_{metric}", "--", "val")):
                if key not in run:
                    continue
                values = run[key]
                finite = np.isfinite(values)
                # A NaN validation value next to a finite training value is an epoch without validation
                # (validation_freq > 1, or a live plot's padding), not a divergence.
                unmeasured = np.zeros(values.shape, dtype=bool)
                if split == "val" and metric in run:
                    unmeasured = np.isnan(values) & np.isfinite(run[metric])
                bad = int(np.sum(~finite & ~unmeasured))
                if bad:
                    warnings.warn(
                        f"{key}{' of ' + run_name if run_name else ''} has {bad} NaN/inf value(s); "
                        "they are left out of the curve (training diverged?)",
                        RuntimeWarning,
                        stacklevel=2,
                    )
                epochs = run["epoch"] + 1 if "epoch" in run else np.arange(1, len(values) + 1)
                label = f"{run_name} {split}".strip() if comparing else split
                keep = ~unmeasured  # diverged points stay in, as gaps in the curve
                sparse = int(finite.sum()) < 3 or unmeasured.any()
                axis.plot(epochs[keep], values[keep], style, color=colour, label=label, marker="." if sparse else None)
            val_key = f"val_{metric}"
            if val_key in run and np.any(np.isfinite(run[val_key])):
                values = np.where(np.isfinite(run[val_key]), run[val_key], np.nan)
                best = int(np.nanargmax(values) if higher_is_better(metric) else np.nanargmin(values))
                x_best = (run["epoch"][best] if "epoch" in run else best) + 1
                axis.plot(x_best, values[best], "o", color=colour, markersize=7, markerfacecolor="none")
                axis.annotate(
                    f"best {values[best]:.3g}", (x_best, values[best]), textcoords="offset points",
                    xytext=(4, 6), fontsize=8, color=colour,
                )
        for j, (label, epoch) in enumerate(marks.items()):
            # epoch e (0-based) is drawn at x = e + 1: the line sits between the last epoch before and e
            axis.axvline(epoch + 0.5, linestyle=":", color="0.3" if j == 0 else colours[(len(runs) + j) % len(colours)],
                         label=label)
        axis.set_xlabel("epoch")
        axis.set_ylabel(metric)
        axis.set_title(metric)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    axes[0].figure.tight_layout()
    return single(axes)
