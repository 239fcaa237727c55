"""LearningRateLogger with a float, a schedule, ReduceLROnPlateau; per batch; resume."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from toolkit.callbacks import LearningRateLogger
from toolkit.schedules import OneCycle

STEPS = 4  # 256 samples / batch 64


def test_constant_learning_rate(tiny_data, tiny_model):
    x, y = tiny_data
    hist = tiny_model(lr=0.05).fit(x, y, epochs=2, batch_size=64, verbose=0, callbacks=[LearningRateLogger()])
    assert hist.history["learning_rate"] == pytest.approx([0.05, 0.05])


def test_schedule_is_evaluated_at_each_epochs_first_step(tiny_data, tiny_model):
    x, y = tiny_data
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=STEPS, decay_rate=0.5)
    logger = LearningRateLogger()
    hist = tiny_model(optimizer=keras.optimizers.SGD(schedule)).fit(
        x, y, epochs=3, batch_size=64, verbose=0, callbacks=[logger]
    )
    # the epoch starting at step 4k trained first with 0.1 * 0.5^k
    assert hist.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.025], rel=1e-5)
    assert logger.lrs == hist.history["learning_rate"]
    assert logger.batch_lrs == []


def test_per_batch_records_every_step_of_a_onecycle(tiny_data, tiny_model):
    x, y = tiny_data
    schedule = OneCycle(0.1, 3 * STEPS, pct_start=0.25)
    logger = LearningRateLogger(per_batch=True)
    tiny_model(optimizer=keras.optimizers.SGD(schedule)).fit(
        x, y, epochs=3, batch_size=64, verbose=0, callbacks=[logger]
    )
    expected = [float(schedule(step)) for step in range(3 * STEPS)]
    assert logger.batch_lrs == pytest.approx(expected, rel=1e-5)
    assert int(np.argmax(logger.batch_lrs)) == 3  # the peak at pct_start * total_steps
    assert logger.lrs == pytest.approx(expected[::STEPS], rel=1e-5)


def test_follows_reduce_lr_on_plateau(tiny_data, tiny_model):
    """Patience 0 with an impossible min_delta: after the first epoch sets the best
    loss, the LR is halved at the end of every epoch."""
    x, y = tiny_data
    plateau = keras.callbacks.ReduceLROnPlateau("loss", factor=0.5, patience=0, min_delta=10.0, verbose=0)
    for callbacks in ([plateau, LearningRateLogger()], [LearningRateLogger(), plateau]):
        plateau.best, plateau.wait = np.inf, 0
        hist = tiny_model(lr=0.08).fit(x, y, epochs=3, batch_size=64, verbose=0, callbacks=callbacks)
        # each epoch logs the rate it trained with, whatever the callback order
        assert hist.history["learning_rate"] == pytest.approx([0.08, 0.08, 0.04], rel=1e-5)


def test_resets_on_a_new_fit_and_stays_right_on_resume(tiny_data, tiny_model):
    x, y = tiny_data
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=STEPS, decay_rate=0.5)
    model = tiny_model(optimizer=keras.optimizers.SGD(schedule))
    logger = LearningRateLogger()
    model.fit(x, y, epochs=2, batch_size=64, verbose=0, callbacks=[logger])
    hist = model.fit(x, y, initial_epoch=2, epochs=3, batch_size=64, verbose=0, callbacks=[logger])
    # the rate comes from the optimizer's own step counter, not from a count kept by the logger
    assert logger.lrs == pytest.approx([0.025], rel=1e-5)
    assert hist.history["learning_rate"] == pytest.approx([0.025], rel=1e-5)


def test_bad_input():
    with pytest.raises(TypeError, match=r"`per_batch` must be True or False. Received: per_batch='yes'"):
        LearningRateLogger(per_batch="yes")


class _GAN(keras.Model):
    """keras.io's GAN pattern, shrunk: two optimizers in a custom train_step; compile() keeps Keras's default."""

    def __init__(self):
        super().__init__()
        self.generator = keras.Sequential([keras.Input((2,)), keras.layers.Dense(4)], name="generator")
        self.discriminator = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)], name="discriminator")

    def compile(self, d_optimizer, g_optimizer):
        super().compile()  # model.optimizer becomes Keras's default RMSprop: it never steps
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer

    def train_step(self, real):
        noise = keras.random.normal((keras.ops.shape(real)[0], 2))
        bce = keras.losses.BinaryCrossentropy(from_logits=True)
        with tf.GradientTape() as tape:
            fake = self.generator(noise)
            d_loss = bce(keras.ops.ones_like(real[:, :1]), self.discriminator(real)) + bce(
                keras.ops.zeros_like(real[:, :1]), self.discriminator(fake))
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))
        with tf.GradientTape() as tape:
            g_loss = bce(keras.ops.ones_like(real[:, :1]), self.discriminator(self.generator(noise)))
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))
        return {"d_loss": d_loss, "g_loss": g_loss}


def test_a_gan_logs_each_optimizer_that_steps_and_not_the_idle_default():
    real = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    gan = _GAN()
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    gan.compile(keras.optimizers.Adam(schedule), keras.optimizers.SGD(0.02))
    logger = LearningRateLogger()
    hist = gan.fit(real, epochs=3, batch_size=16, verbose=0, callbacks=[logger])
    assert "learning_rate" not in hist.history  # the default RMSprop never stepped
    # 4 steps per epoch: the schedule at each epoch's first step, by hand.
    assert hist.history["learning_rate/d_optimizer"] == pytest.approx([0.1, 0.1 * 0.5**4, 0.1 * 0.5**8])
    assert hist.history["learning_rate/g_optimizer"] == pytest.approx([0.02] * 3)
    assert int(gan.optimizer.iterations) == 0 and int(gan.d_optimizer.iterations) == 12


def test_a_model_without_any_optimizer_is_refused_when_fit_starts(tiny_data, tiny_model):
    x, y = tiny_data
    model = tiny_model()
    logger = LearningRateLogger()
    logger.set_model(model)
    model.optimizer = None
    with pytest.raises(ValueError, match="no optimizer"):
        logger.on_train_begin()
