"""EpochTimer: wall seconds of each epoch, in the logs."""

from __future__ import annotations

import time

import keras


class EpochTimer(keras.callbacks.Callback):
    """Write each epoch's wall time into the logs as ``epoch_seconds``.

    History, CSVLogger and the plots then see it like any metric.

    Example:

    >>> timer = EpochTimer()
    >>> hist = model.fit(x, y, epochs=3, verbose=0, callbacks=[timer])
    >>> hist.history["epoch_seconds"]  # e.g. [2.1, 1.4, 1.4]
    """

    def __init__(self):
        super().__init__()
        self.times: list[float] = []
        self._start = None

    def on_train_begin(self, logs=None):
        self.times = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if self._start is None:
            return
        seconds = time.perf_counter() - self._start
        self.times.append(seconds)
        if logs is not None:
            logs["epoch_seconds"] = seconds
