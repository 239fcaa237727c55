"""Learning-rate schedules that Keras lacks: only :class:`OneCycle`.

Keras already ships the lecture's other schedules, and the course uses them
as they are (never re-implemented here):

* power scheduling: ``keras.optimizers.schedules.InverseTimeDecay``;
* exponential scheduling, ``η0 · rate^(t/s)``: ``ExponentialDecay``
  (``staircase=True`` for the stepwise ``rate^(t//s)``);
* piecewise constant scheduling: ``PiecewiseConstantDecay``;
* cosine annealing with warm-up: ``CosineDecay(..., warmup_steps=...)``;
* performance scheduling: the ``keras.callbacks.ReduceLROnPlateau`` callback.

A schedule is a function of the optimizer's step counter (``iterations``),
evaluated inside the compiled train step, so :class:`OneCycle` is written
with ``keras.ops`` alone: it works under ``jit_compile=True`` and inside a
``tf.distribute`` strategy like the built-in schedules.
"""

from __future__ import annotations

import math

import keras
from keras import ops

from toolkit.validation import check_float, check_int, received


@keras.saving.register_keras_serializable(package="toolkit")
class OneCycle(keras.optimizers.schedules.LearningRateSchedule):
    """The 1cycle policy (Smith, 2018): warm up to ``max_lr``, then anneal far below.

    Over the first ``pct_start`` of the ``total_steps`` the learning rate
    rises from ``max_lr / div_factor`` to ``max_lr`` along a half cosine;
    over the rest it falls along a half cosine to
    ``max_lr / (div_factor * final_div_factor)`` and stays there after
    ``total_steps``. The high middle phase explores quickly; the long tail at
    a tiny learning rate settles into a minimum. This is the shape of
    PyTorch's ``OneCycleLR`` with ``anneal_strategy="cos"``. Its momentum
    cycling, the mirror image of the learning rate, is :meth:`momentum`:
    Keras's optimizers compile their momentum (SGD's ``momentum``, Adam's
    ``beta_1``) into the training step as a constant, so the schedule itself
    cycles only the learning rate.

    Args:
        max_lr: the peak learning rate, e.g. a value read off the LR finder.
        total_steps: the number of optimizer steps of the whole training,
            ``epochs * ceil(n_train / batch_size)``.
        pct_start: the fraction of the steps spent warming up, in (0, 1).
        div_factor: the starting learning rate is ``max_lr / div_factor``.
        final_div_factor: the final learning rate is the starting one
            divided by this.
        name: an optional name for the ops.

    Example:

    >>> steps = epochs * math.ceil(len(x_train) / batch_size)
    >>> optimizer = keras.optimizers.SGD(OneCycle(0.1, steps), momentum=0.9)
    """

    def __init__(
        self,
        max_lr,
        total_steps,
        *,
        pct_start=0.25,
        div_factor=25.0,
        final_div_factor=1e4,
        name="OneCycle",
    ):
        super().__init__()
        self.max_lr = check_float("max_lr", max_lr, low=0.0, low_inclusive=False)
        self.total_steps = check_int("total_steps", total_steps, minimum=2)
        self.pct_start = check_float("pct_start", pct_start, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
        self.div_factor = check_float("div_factor", div_factor, low=1.0)
        self.final_div_factor = check_float("final_div_factor", final_div_factor, low=1.0)
        if not isinstance(name, str):
            raise TypeError(f"`name` must be a string. {received('name', name)}")
        self.name = name

    @property
    def initial_lr(self) -> float:
        """The learning rate at step 0."""
        return self.max_lr / self.div_factor

    @property
    def final_lr(self) -> float:
        """The learning rate at ``total_steps`` and after."""
        return self.initial_lr / self.final_div_factor

    @property
    def peak_step(self) -> float:
        """The step at which the learning rate reaches ``max_lr``."""
        return self.pct_start * self.total_steps

    def __call__(self, step):
        with keras.name_scope(self.name):
            step = ops.cast(step, "float32")
            peak = ops.cast(self.peak_step, "float32")
            rest = ops.cast(self.total_steps - self.peak_step, "float32")
            up = ops.clip(step / peak, 0.0, 1.0)
            down = ops.clip((step - peak) / rest, 0.0, 1.0)
            warm = self._cosine(self.initial_lr, self.max_lr, up)
            anneal = self._cosine(self.max_lr, self.final_lr, down)
            return ops.where(step < peak, warm, anneal)

    def momentum(self, step, *, high: float = 0.95, low: float = 0.85):
        """The momentum that Smith's 1cycle pairs with the learning rate at ``step``.

        It moves opposite to the learning rate, along the same half cosines:
        from ``high`` down to ``low`` while the rate warms up to ``max_lr``,
        back up to ``high`` while the rate anneals, and ``high`` after
        ``total_steps``. A large step then comes with less momentum, so the
        two do not add up to an overshoot; near the end, a tiny step with a
        high momentum keeps averaging the noise. The defaults are PyTorch's
        ``OneCycleLR`` (``max_momentum=0.95``, ``base_momentum=0.85``).

        Args:
            step: the optimizer step (a number or an array of them).
            high: the momentum at the start and the end, in [0, 1).
            low: the momentum at the peak of the learning rate, in [0, high].

        Example:

        >>> OneCycle(0.1, 100).momentum([0, 25, 100])  # 0.95, 0.85, 0.95
        """
        high = check_float("high", high, low=0.0, high=1.0, high_inclusive=False)
        low = check_float("low", low, low=0.0, high=high)
        with keras.name_scope(f"{self.name}_momentum"):
            step = ops.cast(step, "float32")
            peak = ops.cast(self.peak_step, "float32")
            rest = ops.cast(self.total_steps - self.peak_step, "float32")
            up = ops.clip(step / peak, 0.0, 1.0)
            down = ops.clip((step - peak) / rest, 0.0, 1.0)
            return ops.where(step < peak, self._cosine(high, low, up), self._cosine(low, high, down))

    @staticmethod
    def _cosine(start: float, end: float, fraction):
        """From ``start`` (fraction 0) to ``end`` (fraction 1) along a half cosine."""
        return end + (start - end) * 0.5 * (1.0 + ops.cos(math.pi * fraction))

    def get_config(self):
        return {
            "max_lr": self.max_lr,
            "total_steps": self.total_steps,
            "pct_start": self.pct_start,
            "div_factor": self.div_factor,
            "final_div_factor": self.final_div_factor,
            "name": self.name,
        }
