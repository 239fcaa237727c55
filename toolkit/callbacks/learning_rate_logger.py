"""LearningRateLogger: the learning rate of every epoch, in the logs."""

from __future__ import annotations

import keras

from toolkit.validation import received


def current_learning_rate(optimizer) -> float:
    """The learning rate the optimizer's next step will use, as a float.

    ``optimizer.learning_rate`` evaluates a ``LearningRateSchedule`` at the
    optimizer's step counter (``iterations``) and returns the variable of an
    optimizer built with a float, so this works for both.
    """
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


class LearningRateLogger(keras.callbacks.Callback):
    """Write the learning rate of each epoch into the logs as ``learning_rate``.

    Keras logs the learning rate only when ``ReduceLROnPlateau`` or
    ``LearningRateScheduler`` runs. This callback reads it from the optimizer
    (``optimizer.learning_rate``), so it works with a float learning rate, a
    ``LearningRateSchedule`` such as ``ExponentialDecay`` or ``OneCycle``,
    and ``ReduceLROnPlateau``. ``History``, ``CSVLogger`` and the plots then
    see it like any metric.

    The value logged for an epoch is the learning rate of its first batch,
    read when that batch starts, i.e. after every callback's
    ``on_epoch_begin`` has run (the convention of Keras's own callbacks, which
    log the learning rate the epoch trained with, not the next one). A
    schedule that changes the rate within an epoch is better seen with
    ``per_batch=True``, which also records the rate of every batch (every
    k-th with ``steps_per_execution=k``) in ``batch_lrs``.

    The rate is read from the optimizer's own step counter, never counted
    here, so it stays right when a fit resumes (``initial_epoch``,
    ``BackupAndRestore``). The records are reset when a fit begins.

    Args:
        per_batch: also record the learning rate of every batch.

    Attributes:
        lrs: the learning rate logged for each epoch of the last fit.
        batch_lrs: with ``per_batch=True``, the learning rate of each batch.

    Example:

    >>> schedule = keras.optimizers.schedules.ExponentialDecay(0.1, 1000, 0.1)
    >>> model.compile(keras.optimizers.SGD(schedule), "sparse_categorical_crossentropy")
    >>> hist = model.fit(x, y, epochs=5, verbose=0, callbacks=[LearningRateLogger()])
    >>> hist.history["learning_rate"]  # e.g. [0.1, 0.089, 0.079, 0.071, 0.063]
    """

    def __init__(self, *, per_batch: bool = False):
        super().__init__()
        if not isinstance(per_batch, bool):
            raise TypeError(f"`per_batch` must be True or False. {received('per_batch', per_batch)}")
        self.per_batch = per_batch
        self.lrs: list[float] = []
        self.batch_lrs: list[float] = []
        self._epoch_lr = None

    def on_train_begin(self, logs=None):
        self.lrs = []
        self.batch_lrs = []
        self._epoch_lr = None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_lr = None

    def on_train_batch_begin(self, batch, logs=None):
        if self._epoch_lr is None or self.per_batch:
            lr = current_learning_rate(self.model.optimizer)
            if self._epoch_lr is None:
                self._epoch_lr = lr
            if self.per_batch:
                self.batch_lrs.append(lr)

    def on_epoch_end(self, epoch, logs=None):
        lr = self._epoch_lr
        if lr is None:  # an epoch without batches: read it now
            lr = current_learning_rate(self.model.optimizer)
        self.lrs.append(lr)
        if logs is not None:
            logs["learning_rate"] = lr
