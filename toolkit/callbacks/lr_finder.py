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


def loss_tracker(model):
    """The ``Mean`` metric behind ``logs["loss"]`` (Keras's loss tracker), or None.

    ``train_step`` updates it with ``sample_weight = batch size``
    (``total += loss * n``, ``count += n``), so the difference of two reads
    gives the exact mean loss of the batches in between, whatever their
    sizes (a partial last batch).
    """
    for metric in getattr(model, "metrics", []):
        if metric.name == "loss" and isinstance(metric, keras.metrics.Mean):
            return metric
    return None


class LRFinder(keras.callbacks.Callback):
    """Find a good learning rate in one short run, then undo that run.

    The learning rate grows exponentially, batch by batch, from ``start_lr``
    to ``end_lr``. For each batch the callback records the learning rate and
    the loss of that batch, smoothed with a debiased exponential moving
    average. The batch's loss is read from Keras's loss tracker (the
    ``Mean`` behind ``logs["loss"]``, weighted by batch size), so a partial
    last batch is exact too; a model without one gets it backed out of the
    running mean, assuming equal batches. Training stops as soon as the
    loss turns NaN/inf, or, after a warm-up (the first 10% of the ramp, at
    least 5 batches, during which unshuffled data such as windowed time
    series can swing widely), when the smoothed loss exceeds 4x the best
    seen since the warm-up: the learning rate has become too large. When training ends, the model's
    weights, the optimizer's state (its slots such as Adam's moments, and
    ``iterations``) and the original learning rate are all restored, so the
    search leaves no trace on later training. A model that is not built when
    ``fit`` starts (a Sequential without ``keras.Input``) gets its weights
    from its first batch: that batch runs with a learning rate of 0, outside
    the ramp, and the state after it is restored, the optimizer to its
    freshly built state (only non-trainable statistics such as BatchNorm's
    moving averages keep that one batch's update). Keras skips ``on_train_end``
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
    #: No stop for a high loss during the first ``warmup_fraction`` of the ramp (at least ``min_warmup`` batches).
    warmup_fraction = 0.1
    min_warmup = 5

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
            raise ValueError(f"LRFinder needs a compiled model: call model.compile(...) before fit. "
                             f"{received('model', self.model)}")
        if getattr(self.model, "loss", None) is None and type(self.model).compute_loss is keras.Model.compute_loss:
            # Nothing then logs `loss` for the search to read, and model.optimizer may be one that never steps.
            raise ValueError(
                "LRFinder ramps model.optimizer's learning rate and reads the training loss `loss`, but this model "
                "was compiled without a loss. A custom train_step that computes its own losses with optimizers of "
                "its own (e.g. a GAN with d_optimizer and g_optimizer) is not supported: search on a model compiled "
                f"with a loss (or one that overrides compute_loss). {received('model', self.model)}"
            )
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
        self._warmup = min(max(self.min_warmup, math.ceil(self.warmup_fraction * self._total)), self._total - 1)
        self._original_lr = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
        self._reset()
        # A model without variables yet (a Sequential without keras.Input) is built by its first batch.
        self._build_batch = not self.model.built or not self.model.trainable_variables
        if not self._build_batch:
            if not optimizer.built:  # the first fit builds it only when tracing; snapshot its real slots
                with self.model.distribute_strategy.scope():
                    optimizer.build(self.model.trainable_variables)
            self._snapshot(fresh_optimizer=False)

    def _snapshot(self, *, fresh_optimizer: bool):
        optimizer = self.model.optimizer
        self._weights = self.model.get_weights()
        self._optimizer_state = [keras.ops.convert_to_numpy(v) for v in optimizer.variables]
        if fresh_optimizer:  # the state of the same optimizer freshly built on these variables
            with self.model.distribute_strategy.scope():
                fresh = type(optimizer).from_config(optimizer.get_config())
                fresh.build(self.model.trainable_variables)
            state = [keras.ops.convert_to_numpy(v) for v in fresh.variables]
            if [s.shape for s in state] == [s.shape for s in self._optimizer_state]:
                self._optimizer_state = state

    def lr_at(self, step: int) -> float:
        """The learning rate of the ramp at batch ``step`` (0-based)."""
        fraction = min(step / (self._total - 1), 1.0)
        return self.start_lr * (self.end_lr / self.start_lr) ** fraction

    def on_epoch_begin(self, epoch, logs=None):
        self._previous_batch, self._previous_mean = -1, 0.0
        self._previous_sums = (0.0, 0.0)  # Keras resets its loss tracker at each epoch start

    def on_train_batch_begin(self, batch, logs=None):
        self._lr = 0.0 if self._build_batch else self.lr_at(self._step)
        self.model.optimizer.learning_rate = self._lr

    def _batch_loss(self, batch, mean):
        """The mean loss of the batches since the last report, from the tracker's sums when they agree with logs."""
        tracker = loss_tracker(self.model)
        if tracker is not None:
            total = float(keras.ops.convert_to_numpy(tracker.total))
            count = float(keras.ops.convert_to_numpy(tracker.count))
            done = count - self._previous_sums[1]
            if done > 0 and count > 0 and math.isclose(total / count, mean, rel_tol=1e-4, abs_tol=1e-6):
                loss = (total - self._previous_sums[0]) / done
                self._previous_sums = (total, count)
                return loss
        return batch_loss_from_running_mean(batch, mean, self._previous_batch, self._previous_mean)

    def on_train_batch_end(self, batch, logs=None):
        if not logs or "loss" not in logs:
            return
        mean = float(logs["loss"])
        loss = self._batch_loss(batch, mean)
        done = batch - self._previous_batch
        self._previous_batch, self._previous_mean = batch, mean
        if self._build_batch:  # the model and its optimizer exist now; that batch ran at lr=0
            self._build_batch = False
            self._snapshot(fresh_optimizer=True)
            if self.num_steps is None:  # the ramp fills the batches that are left
                self._total = max(self._total - done, 2)
            return
        self._step += done
        if not math.isfinite(loss):
            self.diverged = True
            self.model.stop_training = True
            return
        self._average = self.beta * self._average + (1.0 - self.beta) * loss
        smoothed = self._average / (1.0 - self.beta ** (len(self.losses) + 1))
        self.lrs.append(self._lr)
        self.batch_losses.append(loss)
        self.losses.append(smoothed)
        if len(self.losses) < self._warmup:
            return  # no stop for a high loss yet: early batches of unshuffled data swing widely
        self._best = min(self._best, smoothed)
        if smoothed > self.stop_factor * self._best:
            self.diverged = True
            self.model.stop_training = True
        elif self._step >= self._total:
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self._weights is not None:  # nothing was snapshot when no batch logged a loss
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
