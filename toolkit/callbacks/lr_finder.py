"""LRFinder: the learning-rate range test (Smith, 2017; fastai's ``lr_find``)."""

from __future__ import annotations

import math

import keras
import numpy as np

from toolkit.validation import check_float, check_int, received


def batch_loss_from_running_mean(batch: int, mean: float, previous_batch: int, previous_mean: float) -> float:
    """Back out the loss of the latest batch(es) from Keras's running mean.

    Keras's batch-level ``logs["loss"]`` is the mean since the start of the
    epoch, not the loss of that batch (DESIGN §6). With 0-based batch indices
    the sum after batch ``i`` is ``(i + 1) * m_i``, so the batch's own loss is
    ``(i + 1) * m_i - i * m_{i-1}``. When Keras reports only every k-th batch
    (``steps_per_execution=k``) the same difference, divided by k, is the
    mean loss of those k batches. ``previous_batch=-1`` starts an epoch.

    Example:

    >>> batch_loss_from_running_mean(1, 1.5, 0, 2.0)  # batches of loss 2 and 1
    1.0
    """
    done = batch - previous_batch
    return ((batch + 1) * mean - (previous_batch + 1) * previous_mean) / done


class LRFinder(keras.callbacks.Callback):
    """Find a good learning rate in one short run, then undo that run.

    The learning rate grows exponentially, batch by batch, from ``start_lr``
    to ``end_lr``. For each batch the callback records the learning rate and
    the loss of that batch (backed out of Keras's running mean), smoothed
    with a debiased exponential moving average. Training stops as soon as
    the smoothed loss exceeds 4x the best seen so far, or turns NaN: the
    learning rate has become too large. When training ends, the model's
    weights, the optimizer's state (its slots such as Adam's moments, and
    ``iterations``) and the original learning rate are all restored, so the
    search leaves no trace on later training. Keras skips ``on_train_end``
    when ``fit`` is interrupted (Ctrl-C, an error): call ``restore()`` then.

    The ``suggestion`` is fastai's "valley" rule (not the steepest point of
    the curve, which is noisier): the middle of the longest stretch over
    which the smoothed loss keeps falling. It sits well below the minimum,
    where training is fast but stable.

    The optimizer must be built with a float learning rate: Keras refuses to
    set the learning rate of an optimizer built with a
    ``LearningRateSchedule`` (``TypeError``), so that case is refused at the
    start of ``fit`` with an explanation. Search with a float, then train
    with the schedule.

    Args:
        start_lr: the first learning rate, > 0.
        end_lr: the last learning rate, > ``start_lr``.
        num_steps: the number of batches of the ramp. Default: every batch
            of the ``fit`` call (``steps per epoch * epochs``). With fewer
            batches than that, training stops when the ramp ends.
        beta: the smoothing factor of the moving average, in [0, 1).

    Attributes:
        lrs: the learning rate of each recorded batch.
        losses: the smoothed loss after each recorded batch.
        batch_losses: the raw per-batch losses.
        diverged: True when the search stopped because the loss blew up.
        suggestion: a learning rate inside the ramp (None before a search).

    Example:

    >>> finder = LRFinder(1e-6, 1.0)
    >>> model.fit(x, y, epochs=1, batch_size=64, verbose=0, callbacks=[finder])
    >>> plot_lr_finder(finder)
    >>> finder.suggestion  # e.g. 0.012
    """

    #: Stop once the smoothed loss exceeds this multiple of its best value.
    stop_factor = 4.0

    def __init__(self, start_lr=1e-7, end_lr=10.0, *, num_steps=None, beta=0.98):
        super().__init__()
        self.start_lr = check_float("start_lr", start_lr, low=0.0, low_inclusive=False)
        self.end_lr = check_float("end_lr", end_lr, low=0.0, low_inclusive=False)
        if self.end_lr <= self.start_lr:
            raise ValueError(
                f"`end_lr` must be larger than `start_lr`. Received: start_lr={start_lr}, end_lr={end_lr}"
            )
        self.num_steps = None if num_steps is None else check_int("num_steps", num_steps, minimum=2)
        self.beta = check_float("beta", beta, low=0.0, high=1.0, high_inclusive=False)
        self._weights = None
        self._reset()

    def _reset(self):
        self.lrs: list[float] = []
        self.losses: list[float] = []
        self.batch_losses: list[float] = []
        self.diverged = False
        self._step = 0
        self._average = 0.0
        self._best = math.inf

    def on_train_begin(self, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None:
            raise RuntimeError("LRFinder needs a compiled model: call model.compile(...) before fit.")
        if not isinstance(optimizer.learning_rate, keras.Variable):
            raise TypeError(
                "LRFinder sets the learning rate batch by batch, but this optimizer was built with a "
                f"learning-rate schedule ({type(optimizer._learning_rate).__name__}), whose learning rate Keras "
                "does not let anyone set. Search with a float learning rate, e.g. "
                "keras.optimizers.SGD(0.01), and use the schedule for the real training."
            )
        steps = self.num_steps
        if steps is None:
            per_epoch, epochs = self.params.get("steps"), self.params.get("epochs", 1)
            if not per_epoch:
                raise ValueError(
                    "LRFinder cannot tell how many batches this fit has (a dataset of unknown length): "
                    f"pass num_steps. {received('num_steps', self.num_steps)}"
                )
            steps = per_epoch * epochs
        self._total = max(int(steps), 2)
        if not optimizer.built:  # the first fit builds it only when tracing; snapshot its real slots
            with self.model.distribute_strategy.scope():
                optimizer.build(self.model.trainable_variables)
        self._weights = self.model.get_weights()
        self._optimizer_state = [keras.ops.convert_to_numpy(v) for v in optimizer.variables]
        self._original_lr = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
        self._reset()

    def lr_at(self, step: int) -> float:
        """The learning rate of the ramp at batch ``step`` (0-based)."""
        fraction = min(step / (self._total - 1), 1.0)
        return self.start_lr * (self.end_lr / self.start_lr) ** fraction

    def on_epoch_begin(self, epoch, logs=None):
        self._previous_batch, self._previous_mean = -1, 0.0

    def on_train_batch_begin(self, batch, logs=None):
        self._lr = self.lr_at(self._step)
        self.model.optimizer.learning_rate = self._lr

    def on_train_batch_end(self, batch, logs=None):
        if not logs or "loss" not in logs:
            return
        mean = float(logs["loss"])
        loss = batch_loss_from_running_mean(batch, mean, self._previous_batch, self._previous_mean)
        self._step += batch - self._previous_batch
        self._previous_batch, self._previous_mean = batch, mean
        if not math.isfinite(loss):
            self.diverged = True
            self.model.stop_training = True
            return
        self._average = self.beta * self._average + (1.0 - self.beta) * loss
        smoothed = self._average / (1.0 - self.beta ** (len(self.losses) + 1))
        self.lrs.append(self._lr)
        self.batch_losses.append(loss)
        self.losses.append(smoothed)
        self._best = min(self._best, smoothed)
        if smoothed > self.stop_factor * self._best:
            self.diverged = True
            self.model.stop_training = True
        elif self._step >= self._total:
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        self.restore()

    def restore(self):
        """Put back the weights, optimizer state and learning rate saved when ``fit`` started.

        ``fit`` calls this when it ends; call it yourself after an interrupted
        search. Restoring twice is harmless.
        """
        if self._weights is None:
            raise RuntimeError("LRFinder.restore(): there is nothing to restore before a search has started.")
        optimizer = self.model.optimizer
        self.model.set_weights(self._weights)
        for variable, value in zip(optimizer.variables, self._optimizer_state):
            variable.assign(value)
        optimizer.learning_rate = self._original_lr

    @property
    def suggestion(self) -> float | None:
        """fastai's "valley": the middle of the longest run of falling loss.

        The first 10% of the points (still at a negligible learning rate)
        and the last five (already diverging) are left out, as fastai does.
        Returns None before a search has recorded enough batches.
        """
        if len(self.losses) < 5:
            return None
        lrs, losses = np.asarray(self.lrs), np.asarray(self.losses)
        skip_end = 5 if len(losses) >= 20 else 0
        lrs, losses = lrs[len(lrs) // 10 : len(lrs) - skip_end], losses[len(losses) // 10 : len(losses) - skip_end]
        # Longest decreasing subsequence ending at each point.
        lds = np.ones(len(losses), dtype=int)
        end = 0
        for i in range(1, len(losses)):
            higher = losses[:i] > losses[i]
            if higher.any():
                lds[i] = lds[:i][higher].max() + 1
            if lds[i] > lds[end]:
                end = i
        start = end - lds[end] + 1
        third = (end - start) / 3
        return float(lrs[start + int(third) + int(third / 2)])
