"""LiveHistoryPlot: live training curves that update in place."""

from __future__ import annotations

import time

import keras

from toolkit.history import EpochHistory, from_epoch_logs
from toolkit.plots.history import default_metrics, plot_history
from toolkit.validation import received


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where a display handle can be updated)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class LiveHistoryPlot(keras.callbacks.Callback):
    """Draw train/validation curves while ``fit`` runs.

    In a notebook the figure is shown once and then **updated in place**
    through one display handle at the end of each epoch, so the cell's other
    output (prints, tables) is never wiped. Outside a notebook (a script, CI)
    it stays silent and draws the final figure once at the end of training.

    It is resume-safe: epochs are recorded by their real index, so a ``fit``
    resumed with ``initial_epoch > 0`` (or by ``BackupAndRestore``) continues
    the curve instead of restarting it. An epoch without validation
    (``validation_freq > 1``) has no validation point, rather than a NaN; a
    run that logs no ``loss`` (a GAN's ``d_loss``/``g_loss``) shows the
    losses it does log.

    Args:
        metrics: metric names to plot (default: loss and accuracy, when
            logged), as in :func:`toolkit.plots.plot_history`. A name that
            ``fit`` does not log is refused at the end of the first epoch,
            not after the whole training.
        every: redraw every this many epochs (the last epoch is always drawn).
        min_interval: at least this many seconds between redraws, so that
            short epochs are not slowed down by drawing (the last epoch is
            always drawn).

    Example:

    >>> model.fit(x, y, validation_split=0.2, epochs=10, verbose=0,
    ...           callbacks=[LiveHistoryPlot()])
    """

    def __init__(self, metrics=None, *, every: int = 1, min_interval: float = 2.0):
        super().__init__()
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"`every` must be a positive integer. {received('every', every)}")
        if isinstance(min_interval, bool) or not isinstance(min_interval, (int, float)) or min_interval < 0:
            raise ValueError(f"`min_interval` must be a number of seconds >= 0. {received('min_interval', min_interval)}")
        if metrics is not None:
            if isinstance(metrics, str):
                metrics = [metrics]
            if not isinstance(metrics, (list, tuple)) or not metrics or not all(isinstance(m, str) for m in metrics):
                raise TypeError(f"`metrics` must be a list of metric names, e.g. ['loss']. {received('metrics', metrics)}")
            metrics = list(metrics)
        self.metrics = metrics
        self.every = every
        self.min_interval = float(min_interval)
        self._last_draw = -float("inf")
        self._axes = None
        self.epochs: list[int] = []
        self._logs: list[dict] = []  # what each epoch logged; a key an epoch lacks was not measured then
        self._handle = None
        self._figure = None

    def on_train_begin(self, logs=None):
        # History is kept so that a resumed fit continues the curve; entries
        # at or after the first epoch of this fit are dropped in on_epoch_end.
        self._handle = None
        self._first_epoch_of_fit = True
        self._last_draw = -float("inf")

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        first = self._first_epoch_of_fit
        if first:
            keep = [i for i, e in enumerate(self.epochs) if e < epoch]
            self.epochs = [self.epochs[i] for i in keep]
            self._logs = [self._logs[i] for i in keep]
            self._first_epoch_of_fit = False
        self.epochs.append(epoch)
        # monitor keys (grad_norm/<layer>) are not curves to show here
        self._logs.append({k: float(v) for k, v in logs.items() if "/" not in k})
        if first:
            self._check_metrics()
        last = self.params.get("epochs") if self.params else None
        is_last = bool(last and epoch + 1 >= last)
        due = (epoch + 1) % self.every == 0 and time.perf_counter() - self._last_draw >= self.min_interval
        if in_notebook() and (due or is_last):
            self._draw()

    @property
    def epoch_history(self) -> EpochHistory:
        """The epochs seen so far, as a :class:`~toolkit.history.EpochHistory`."""
        return from_epoch_logs(self.epochs, self._logs, source="the logs LiveHistoryPlot saw")

    @property
    def history(self) -> dict[str, list[float]]:
        """The values seen so far, as ``History.history`` (``val_*`` lists hold the validated epochs only)."""
        return self.epoch_history.to_dict() if self.epochs else {}

    def _check_metrics(self):
        """Refuse metric names that fit does not log, at the first epoch end (in every mode).

        ``val_<name>`` counts as logged when ``<name>`` is: validation may not
        have run yet (``validation_freq > 1``).
        """
        if self.metrics is None:
            return
        logged = set(self.history)
        missing = [
            m for m in self.metrics
            if m not in logged and f"val_{m}" not in logged and not (m.startswith("val_") and m[4:] in logged)
        ]
        if missing:
            raise ValueError(
                f"`metrics` names {missing}, not logged by fit. Logged: {sorted(logged)}. "
                f"{received('metrics', self.metrics)}"
            )

    def on_train_end(self, logs=None):
        if not self.epochs:
            return
        if not in_notebook():
            self._draw()
        import matplotlib.pyplot as plt

        if self._figure is not None:
            plt.close(self._figure)  # shown through the handle; keep inline backends from drawing it twice

    def _draw(self):
        import matplotlib.pyplot as plt

        self._last_draw = time.perf_counter()
        metrics = self.metrics
        if metrics is None:
            metrics = default_metrics({"": self.epoch_history})
        if self._figure is None or self._axes is None or len(self._axes) != len(metrics):
            if self._figure is None:
                self._figure = plt.figure(figsize=(10, 3.6))
            self._figure.clear()
            self._axes = self._figure.subplots(1, len(metrics), squeeze=False).ravel()
        for axis in self._axes:  # reuse the figure and its axes; only the artists are redrawn
            axis.cla()
        axes = self._axes
        plot_history(self.epoch_history, metrics=metrics, ax=axes)
        if in_notebook():
            from IPython.display import display

            if self._handle is None:
                self._handle = display(self._figure, display_id=True)
            else:
                self._handle.update(self._figure)
        elif plt.get_backend().lower() != "agg":
            plt.show(block=False)
