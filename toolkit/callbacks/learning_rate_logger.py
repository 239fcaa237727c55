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

    A model that trains with optimizers of its own (a GAN's custom
    ``train_step`` with ``self.d_optimizer`` and ``self.g_optimizer``; its
    ``compile`` may leave Keras's default optimizer in ``model.optimizer``,
    which never steps) gets one key per optimizer that really steps:
    ``learning_rate`` for ``model.optimizer`` and
    ``learning_rate/<attribute>`` for the others. Which optimizers step is
    read from their ``iterations`` at the end of the first epoch; an
    optimizer that did not step then is not logged. ``lrs`` follows the
    first logged one, ``batch_lrs`` ``model.optimizer`` (or the first
    optimizer attribute when there is none); ``lrs_by_key`` holds them all.
    A model with no optimizer at all is refused when ``fit`` starts.

    The rate is read from the optimizer's own step counter, never counted
    here, so it stays right when a fit resumes (``initial_epoch``,
    ``BackupAndRestore``). The records are reset when a fit begins.

    Args:
        per_batch: also record the learning rate of every batch.

    Attributes:
        lrs: the learning rate logged for each epoch of the last fit.
        lrs_by_key: every logged learning rate, by log key.
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
        self.lrs_by_key: dict[str, list[float]] = {}
        self._epoch_lrs = None

    def on_train_begin(self, logs=None):
        self._optimizers = model_optimizers(self.model)
        if not self._optimizers:
            raise ValueError(
                f"LearningRateLogger found no optimizer on model {self.model.name!r}: neither "
                "`model.optimizer` (set by compile) nor an Optimizer attribute (e.g. `self.g_optimizer`). "
                "Compile the model with an optimizer before fitting with this callback."
            )
        self._start = {key: _iterations(opt) for key, opt in self._optimizers.items()}
        self._logged = None  # decided at the end of the first epoch: the optimizers that stepped
        self.lrs = []
        self.batch_lrs = []
        self.lrs_by_key = {}
        self._epoch_lrs = None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_lrs = None

    def _read(self) -> dict[str, float]:
        return {key: current_learning_rate(opt) for key, opt in self._optimizers.items()}

    def on_train_batch_begin(self, batch, logs=None):
        if self._epoch_lrs is None or self.per_batch:
            lrs = self._read()
            if self._epoch_lrs is None:
                self._epoch_lrs = lrs
            if self.per_batch:
                self.batch_lrs.append(next(iter(lrs.values())))

    def on_epoch_end(self, epoch, logs=None):
        lrs = self._epoch_lrs
        if lrs is None:  # an epoch without batches: read it now
            lrs = self._read()
        if self._logged is None:
            stepped = [key for key, opt in self._optimizers.items() if _iterations(opt) > self._start[key]]
            self._logged = stepped or list(self._optimizers)[:1]
        values = {key: lrs[key] for key in self._logged}
        for key, lr in values.items():
            self.lrs_by_key.setdefault(key, []).append(lr)
        self.lrs.append(next(iter(values.values())))
        if logs is not None:
            logs.update(values)


def _iterations(optimizer) -> int:
    return int(keras.ops.convert_to_numpy(optimizer.iterations))


def model_optimizers(model) -> dict[str, keras.optimizers.Optimizer]:
    """The optimizers a model may step, keyed by the log key of their learning rate.

    ``model.optimizer`` (from ``compile``) is ``"learning_rate"``; an
    Optimizer held in another attribute of the model, as a GAN's custom
    ``train_step`` uses (``self.d_optimizer``, ``self.g_optimizer``), is
    ``"learning_rate/<attribute>"``.
    """
    found = {}
    main = getattr(model, "optimizer", None)
    if isinstance(main, keras.optimizers.Optimizer):
        found["learning_rate"] = main
    for name, value in vars(model).items():
        if name.startswith("_") or name == "optimizer" or not isinstance(value, keras.optimizers.Optimizer):
            continue
        if all(value is not other for other in found.values()):
            found[f"learning_rate/{name}"] = value
    return found
