"""The custom Keras models of the patterns, shrunk from the kinds keras.io publishes.

* :class:`SubclassedMLP`: layers created in ``__init__``, wired in ``call``.
* :class:`CustomStepModel`: a functional model with its own ``train_step``
  ("Customizing what happens in fit()").
* :class:`Distiller`: knowledge distillation, with a ``compute_loss`` override
  that has no ``training`` argument (keras.io's "Knowledge Distillation").
* :class:`GAN`: two models, two optimizers, a ``train_step`` that logs
  ``d_loss``/``g_loss`` and no ``loss`` (keras.io's DCGAN, TensorFlow backend).
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops


class SubclassedMLP(keras.Model):
    def __init__(self, classes, **kwargs):
        super().__init__(**kwargs)
        self.hidden = keras.layers.Dense(16, activation="relu", name="sub_hidden")
        self.dropout = keras.layers.Dropout(0.2)
        self.head = keras.layers.Dense(classes, activation="softmax", name="sub_head")

    def call(self, x, training=False):
        return self.head(self.dropout(self.hidden(x), training=training))


class CustomStepModel(keras.Model):
    """Its own train_step: compute_loss, the optimizer's apply, the metrics by hand."""

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
        variables = self.trainable_variables
        self.optimizer.apply(tape.gradient(loss, variables), variables)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


class Distiller(keras.Model):
    """The student learns from the labels and from the teacher's softened logits."""

    def __init__(self, student, teacher):
        super().__init__()
        self.teacher = teacher
        self.student = student

    def compile(self, optimizer, metrics, student_loss_fn, distillation_loss_fn, alpha=0.1, temperature=3.0):
        super().compile(optimizer=optimizer, metrics=metrics)
        self.student_loss_fn = student_loss_fn
        self.distillation_loss_fn = distillation_loss_fn
        self.alpha = alpha
        self.temperature = temperature

    def distillation_loss(self, x, y, y_pred):
        """The loss written as keras.io writes it (used by compute_loss and by the test's own tape)."""
        teacher_pred = self.teacher(x, training=False)
        student_loss = self.student_loss_fn(y, y_pred)
        soft = self.distillation_loss_fn(
            ops.softmax(teacher_pred / self.temperature, axis=1),
            ops.softmax(y_pred / self.temperature, axis=1),
        ) * (self.temperature**2)
        return self.alpha * student_loss + (1 - self.alpha) * soft

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, allow_empty=False):
        return self.distillation_loss(x, y, y_pred)

    def call(self, x):
        return self.student(x)


class GAN(keras.Model):
    """A generator and a discriminator, each with its own optimizer."""

    def __init__(self, discriminator, generator, latent_dim):
        super().__init__()
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim
        self.seed_generator = keras.random.SeedGenerator(1337)

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = loss_fn
        self.d_loss_metric = keras.metrics.Mean(name="d_loss")
        self.g_loss_metric = keras.metrics.Mean(name="g_loss")

    @property
    def metrics(self):
        return [self.d_loss_metric, self.g_loss_metric]

    def train_step(self, real):
        batch_size = ops.shape(real)[0]
        noise = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
        combined = ops.concatenate([self.generator(noise), real], axis=0)
        labels = ops.concatenate([ops.ones((batch_size, 1)), ops.zeros((batch_size, 1))], axis=0)
        labels += 0.05 * keras.random.uniform(ops.shape(labels), seed=self.seed_generator)  # keras.io's label noise
        with tf.GradientTape() as tape:
            d_loss = self.loss_fn(labels, self.discriminator(combined))
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))

        noise = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
        with tf.GradientTape() as tape:
            g_loss = self.loss_fn(ops.zeros((batch_size, 1)), self.discriminator(self.generator(noise)))
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))

        self.d_loss_metric.update_state(d_loss)
        self.g_loss_metric.update_state(g_loss)
        return {"d_loss": self.d_loss_metric.result(), "g_loss": self.g_loss_metric.result()}
