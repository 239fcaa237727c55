"""Small model builders shared by several notebooks.

Every model starts with ``keras.Input`` so that activation probes
(``keras.Model(model.inputs, [layer.output ...])``) work on it.
"""

from __future__ import annotations

import keras
import numpy as np

from toolkit.validation import check_array, check_int, check_float, received


def mnist_cnn(*, input_shape=(28, 28, 1), num_classes: int = 10, dropout: float = 0.5, name: str = "mnist_cnn"):
    """The Keras example CNN of the lecture (uncompiled).

    Conv32-3×3 → MaxPool → Conv64-3×3 → MaxPool → Flatten → Dropout → Dense softmax.

    Example:

    >>> model = mnist_cnn()
    >>> model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    """
    num_classes = check_int("num_classes", num_classes, minimum=2)
    dropout = check_float("dropout", dropout, low=0.0, high=1.0, high_inclusive=False)
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 3:
        raise ValueError(f"`input_shape` must be (height, width, channels). {received('input_shape', input_shape)}")
    return keras.Sequential(
        [
            keras.Input(tuple(input_shape)),
            keras.layers.Conv2D(32, 3, activation="relu", name="conv1"),
            keras.layers.MaxPooling2D(2, name="pool1"),
            keras.layers.Conv2D(64, 3, activation="relu", name="conv2"),
            keras.layers.MaxPooling2D(2, name="pool2"),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dropout(dropout, name="dropout"),
            keras.layers.Dense(num_classes, activation="softmax", name="output", dtype="float32"),
        ],
        name=name,
    )


def deep_mlp(
    depth: int,
    width: int,
    *,
    activation="relu",
    kernel_initializer="he_normal",
    batch_norm: bool = False,
    input_shape=(784,),
    num_classes: int | None = 10,
    name: str = "deep_mlp",
):
    """A deep stack of ``depth`` Dense layers of ``width`` units (uncompiled).

    Hidden layers are named ``dense_1`` … ``dense_<depth>``. With
    ``batch_norm`` each Dense is followed by BatchNormalization before its
    activation. ``num_classes=None`` leaves out the softmax head (for probing
    activations through depth).

    Example:

    >>> model = deep_mlp(50, 100, activation="tanh", kernel_initializer="glorot_normal", num_classes=None)
    """
    depth = check_int("depth", depth, minimum=1)
    width = check_int("width", width, minimum=1)
    if num_classes is not None:
        num_classes = check_int("num_classes", num_classes, minimum=2)
    if not isinstance(batch_norm, bool):
        raise TypeError(f"`batch_norm` must be True or False. {received('batch_norm', batch_norm)}")
    try:
        keras.activations.get(activation)
    except (ValueError, TypeError):
        raise ValueError(f"`activation` is not a Keras activation. {received('activation', activation)}") from None
    try:
        keras.initializers.get(kernel_initializer)
    except (ValueError, TypeError):
        raise ValueError(
            f"`kernel_initializer` is not a Keras initializer. {received('kernel_initializer', kernel_initializer)}"
        ) from None
    layers = [keras.Input(tuple(input_shape))]
    if len(input_shape) > 1:
        layers.append(keras.layers.Flatten(name="flatten"))
    for i in range(1, depth + 1):
        init = keras.initializers.get(kernel_initializer)
        if batch_norm:
            layers += [
                keras.layers.Dense(width, kernel_initializer=init, use_bias=False, name=f"dense_{i}"),
                keras.layers.BatchNormalization(name=f"bn_{i}"),
                keras.layers.Activation(activation, name=f"act_{i}"),
            ]
        else:
            layers.append(keras.layers.Dense(width, activation=activation, kernel_initializer=init, name=f"dense_{i}"))
    if num_classes is not None:
        layers.append(keras.layers.Dense(num_classes, activation="softmax", name="output"))
    return keras.Sequential(layers, name=name)


def mc_dropout_predict(model, x, *, samples: int = 30, batch_size: int = 256):
    """Monte Carlo dropout: average ``samples`` stochastic forward passes.

    Dropout stays on (``training=True``) so that each pass drops different
    units; the spread of the passes is the model's uncertainty. BatchNorm
    layers would also switch to batch statistics with ``training=True``, so use
    this with models whose randomness comes from dropout.

    Returns:
        ``(mean_probabilities, std_probabilities)``, each ``(n, classes)``.
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"`model` must be a keras Model. {received('model', model)}")
    samples = check_int("samples", samples, minimum=2)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    x = check_array("x", x)
    passes = []
    for _ in range(samples):
        batches = [
            keras.ops.convert_to_numpy(model(x[i : i + batch_size], training=True)) for i in range(0, len(x), batch_size)
        ]
        passes.append(np.concatenate(batches))
    passes = np.stack(passes)
    return passes.mean(axis=0), passes.std(axis=0)
