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
    if min(input_shape[:2]) < 10:
        raise ValueError(
            "`input_shape` is too small for two 3×3 convolutions and two 2×2 poolings (at least 10×10). "
            f"{received('input_shape', input_shape)}"
        )
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


def _layer_initializer(kernel_initializer, i: int):
    """A fresh initializer for hidden layer ``i``: a copy of an instance (seed + i when it is seeded)."""
    init = keras.initializers.get(kernel_initializer)
    if isinstance(kernel_initializer, keras.initializers.Initializer):
        config = init.get_config()
        if isinstance(config.get("seed"), int):
            config["seed"] += i
        init = type(init).from_config(config)
    return init


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

    An initializer instance (``keras.initializers.RandomNormal(stddev=0.01)``)
    is copied for every layer, so that the layers draw independent weights:
    a Keras initializer instance returns the same values at every call, which
    would give every hidden layer of the same shape the same kernel. A seeded
    instance gives layer ``i`` the seed ``seed + i``.

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
    if (
        not isinstance(input_shape, (tuple, list))
        or not input_shape
        or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in input_shape)
    ):
        raise TypeError(f"`input_shape` must be a tuple of positive integers, e.g. (784,). {received('input_shape', input_shape)}")
    layers = [keras.Input(tuple(input_shape))]
    if len(input_shape) > 1:
        layers.append(keras.layers.Flatten(name="flatten"))
    for i in range(1, depth + 1):
        init = _layer_initializer(kernel_initializer, i)
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
    x = check_array("x", x, finite=True)
    expected = tuple(model.input_shape[1:]) if hasattr(model, "input_shape") else None
    if expected and tuple(x.shape[1:]) != expected and None not in expected:
        raise ValueError(f"`x` samples must have shape {expected} to fit the model, got {tuple(x.shape[1:])}. "
                         f"{received('x', x)}")
    passes = []
    for _ in range(samples):
        batches = [
            keras.ops.convert_to_numpy(model(x[i : i + batch_size], training=True)) for i in range(0, len(x), batch_size)
        ]
        passes.append(np.concatenate(batches))
    passes = np.stack(passes)
    return passes.mean(axis=0), passes.std(axis=0)


def fast_mnist_cnn(
    *,
    input_shape=(28, 28, 1),
    num_classes: int = 10,
    filters=(24, 48, 64),
    shift: float = 0.1,
    rotation: float = 0.04,
    bn_momentum: float = 0.9,
    name: str = "fast_mnist_cnn",
):
    """A small CNN that trains fast and well on a few thousand digits (uncompiled).

    Three blocks of ``Conv 3×3 (no bias) → MaxPool → BatchNorm → ReLU``
    (24, 48 and 64 filters), then a softmax layer on the flattened 3×3 maps:
    45k parameters, about 1.2x the cost of the lecture's CNN per image. Choices
    that make it fast and accurate on a CPU:

    * BatchNorm after the pooling: the same normalisation on 4× fewer values
      (BatchNorm is memory-bound and costs as much as a small convolution).
    * ``bn_momentum=0.9`` instead of Keras's 0.99: a 4,000-image epoch is only
      ~30 steps, and with 0.99 the moving variance is still near its
      initial 1 after ten epochs, so inference-mode accuracy collapses.
    * Light augmentation built in: random shifts (``shift``, a fraction of
      the image size) and rotations (``rotation``, a fraction of a full turn:
      0.04 ≈ ±14°), filled with black. They act only in training; no flips,
      since a flipped 2 or 7 is not a digit.

    Expects float images in [0, 1] of shape ``input_shape``.

    Example:

    >>> model = fast_mnist_cnn()
    >>> model.count_params()
    44546
    """
    num_classes = check_int("num_classes", num_classes, minimum=2)
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 3:
        raise ValueError(f"`input_shape` must be (height, width, channels). {received('input_shape', input_shape)}")
    if not isinstance(filters, (tuple, list)) or not filters:
        raise ValueError(f"`filters` must be a non-empty sequence of integers. {received('filters', filters)}")
    filters = [check_int(f"filters[{i}]", f, minimum=1) for i, f in enumerate(filters)]
    if min(input_shape[:2]) < 2 ** len(filters):
        raise ValueError(
            f"`filters` has {len(filters)} blocks, each halving the image: the input {tuple(input_shape)} is too "
            f"small for them. {received('filters', filters)}"
        )
    shift = check_float("shift", shift, low=0.0, high=0.5)
    rotation = check_float("rotation", rotation, low=0.0, high=0.5)
    bn_momentum = check_float("bn_momentum", bn_momentum, low=0.0, high=1.0, high_inclusive=False)
    layers = [keras.Input(tuple(input_shape))]
    if shift > 0:
        layers.append(keras.layers.RandomTranslation(shift, shift, fill_mode="constant", name="shift"))
    if rotation > 0:
        layers.append(keras.layers.RandomRotation(rotation, fill_mode="constant", name="rotate"))
    for i, width in enumerate(filters, start=1):
        layers += [
            keras.layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"conv{i}"),
            keras.layers.MaxPooling2D(2, name=f"pool{i}"),
            keras.layers.BatchNormalization(momentum=bn_momentum, name=f"bn{i}"),
            keras.layers.ReLU(name=f"relu{i}"),
        ]
    layers += [
        keras.layers.Flatten(name="flatten"),
        keras.layers.Dense(num_classes, activation="softmax", name="output", dtype="float32"),
    ]
    return keras.Sequential(layers, name=name)


def fast_mnist_recipe(n_train: int, *, epochs: int = 12, batch_size: int = 128, max_lr: float = 3e-3, **model_kwargs):
    """The fast CPU recipe for a few thousand MNIST digits: a compiled model and its ``fit`` arguments.

    :func:`fast_mnist_cnn` trained with Adam under a :class:`toolkit.schedules.OneCycle`
    learning rate (peak ``max_lr``), for ``epochs`` epochs of ``batch_size``
    images held in memory. The hyperparameters were chosen on a validation
    split (3,200/800) of the offline sample's 4,000 training digits, where
    they gave 0.984-0.989 over three seeds, against ~0.95 for the lecture's
    CNN; the test digits were used once, by ``make bench``, which reports the
    figures. 128 images per step keeps two CPU cores busy while still giving
    ~30 steps per epoch. No XLA: Keras's ``jit_compile="auto"`` keeps it off
    on CPU, where it is slower for small CNNs.

    The model is built and compiled inside :func:`toolkit.runtime.strategy`'s
    scope; ``batch_size`` is per replica, so the global batch grows with the
    number of GPUs/TPU cores (and the schedule's step count shrinks).

    Args:
        n_train: the number of training images (sets the schedule's length).
        epochs: training epochs.
        batch_size: images per step on each replica.
        max_lr: the peak learning rate of the 1cycle schedule.
        **model_kwargs: passed to :func:`fast_mnist_cnn`.

    Returns:
        ``(model, fit_kwargs)``: pass ``fit_kwargs`` to ``model.fit``.

    Example:

    >>> model, fit_kwargs = fast_mnist_recipe(len(x_train))
    >>> history = model.fit(x_train / 255.0, y_train, verbose=0, **fit_kwargs)
    """
    import math

    from toolkit.hardware import strategy
    from toolkit.schedules import OneCycle  # imported here: schedules sits above models

    n_train = check_int("n_train", n_train, minimum=1)
    epochs = check_int("epochs", epochs, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    max_lr = check_float("max_lr", max_lr, low=0.0, high=1.0, low_inclusive=False)
    scope = strategy()
    global_batch = batch_size * scope.num_replicas_in_sync
    total_steps = max(2, epochs * math.ceil(n_train / global_batch))
    with scope.scope():
        model = fast_mnist_cnn(**model_kwargs)
        model.compile(
            optimizer=keras.optimizers.Adam(OneCycle(max_lr, total_steps)),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
    return model, {"epochs": epochs, "batch_size": global_batch, "shuffle": True}
