"""Where am I running, and at what size?

* ``FAST`` is true when the environment variable ``TOOLKIT_FAST`` is set
  (``make test``, ``make run`` and CI set it). Notebooks read every size
  through :func:`pick` so that the same cells run at full size on a GPU and in
  under a minute on two CPU cores.
* :func:`seed_everything` makes a run repeatable.
* :func:`describe_environment` prints what the notebook runs on.
* :func:`strategy` picks TensorFlow's own distribution strategy for the
  hardware found (TPU, several GPUs, or the default).
* :func:`headline` prints a notebook's headline figure so that ``make run``
  can put it in its summary table.
"""

from __future__ import annotations

import os
import platform
import socket
import sys
import threading

from toolkit.validation import check_int, received

_TRUE = {"1", "true", "yes", "on"}


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in _TRUE


#: True when ``TOOLKIT_FAST`` is set: small data, few epochs, same lessons.
FAST: bool = _env_flag("TOOLKIT_FAST")

HEADLINE_PREFIX = "Headline:"

_MISSING = object()


def pick(*, full=_MISSING, fast=_MISSING):
    """Return ``fast`` in fast mode and ``full`` otherwise.

    Example:

    >>> EPOCHS = pick(full=15, fast=2)
    >>> N_TRAIN = pick(full=None, fast=4000)  # None: use everything
    """
    if full is _MISSING or fast is _MISSING:
        raise TypeError("pick() needs both keyword arguments, e.g. pick(full=15, fast=2).")
    return fast if FAST else full


def is_offline() -> bool:
    """True when ``TOOLKIT_OFFLINE`` is set or no download host answers."""
    return _env_flag("TOOLKIT_OFFLINE") or not network_available()


_NETWORK: dict[str, bool] = {}
_PROBE_HOST = ("storage.googleapis.com", 443)


def network_available(timeout: float = 3.0) -> bool:
    """Return whether the Keras/tfds download host can be reached.

    The probe runs in a daemon thread and gives up after ``timeout`` seconds,
    so a dead network (DNS that never answers, a black-holed route) can never
    hang a notebook. The answer is cached for the process.
    """
    if "ok" in _NETWORK:
        return _NETWORK["ok"]
    result = {"ok": False}

    def probe():
        try:
            with socket.create_connection(_PROBE_HOST, timeout=timeout):
                result["ok"] = True
        except OSError:
            pass

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout)
    _NETWORK["ok"] = result["ok"]
    return result["ok"]


def seed_everything(seed: int = 42, *, deterministic: bool = True) -> int:
    """Seed Python, NumPy and TensorFlow, and ask TF for deterministic ops.

    Calls ``keras.utils.set_random_seed(seed)`` and, when ``deterministic``,
    ``tf.config.experimental.enable_op_determinism()``. On CPU the same
    training then gives the same history twice.

    On a GPU a few ops have no deterministic kernel; with determinism on they
    raise ``tf.errors.UnimplementedError`` when they run. Catch it and call
    ``seed_everything(seed, deterministic=False)`` to trade exact repeatability
    for speed (the notebooks do this and say so).

    Args:
        seed: a non-negative integer.
        deterministic: also switch on TF op determinism.

    Returns:
        The seed, for printing.
    """
    seed = check_int("seed", seed, minimum=0)
    if not isinstance(deterministic, bool):
        raise TypeError(f"`deterministic` must be True or False. {received('deterministic', deterministic)}")
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    else:  # undo an earlier seed_everything(): TF has no public switch back
        from tensorflow.python.framework import config as tf_config

        getattr(tf_config, "disable_op_determinism", lambda: None)()
    return seed


def where() -> str:
    """'colab', 'kaggle' or 'local'."""
    if "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ:
        return "colab"
    if "KAGGLE_KERNEL_RUN_TYPE" in os.environ:
        return "kaggle"
    return "local"


def _tpu_resolver():
    """A TPU cluster resolver on a Colab/Kaggle TPU runtime, else None."""
    if not (os.environ.get("COLAB_TPU_ADDR") or os.environ.get("TPU_NAME") or os.path.exists("/dev/accel0")):
        return None
    import tensorflow as tf

    for kwargs in ({}, {"tpu": "local"}):  # Colab's remote TPU, then a TPU VM (Colab/Kaggle)
        try:
            resolver = tf.distribute.cluster_resolver.TPUClusterResolver(**kwargs)
            tf.config.experimental_connect_to_cluster(resolver)
            tf.tpu.experimental.initialize_tpu_system(resolver)
            return resolver
        except (ValueError, RuntimeError, tf.errors.OpError) as exc:
            last = exc
    print(f"NOTICE: a TPU seems present but could not be initialised ({last}); using the default strategy.")
    return None


_STRATEGY: dict[str, object] = {}


def strategy():
    """Return TensorFlow's distribution strategy for the hardware found.

    * a ``TPUStrategy`` on a Colab/Kaggle TPU runtime,
    * a ``MirroredStrategy`` when more than one GPU is visible,
    * the default strategy otherwise (one GPU or the CPU).

    The strategy is created once per process. Build and compile models inside
    ``with strategy().scope():`` and scale the global batch size by
    ``strategy().num_replicas_in_sync``.
    """
    if "s" in _STRATEGY:
        return _STRATEGY["s"]
    import tensorflow as tf

    resolver = _tpu_resolver()
    if resolver is not None:
        chosen = tf.distribute.TPUStrategy(resolver)
    elif len(tf.config.list_logical_devices("GPU")) > 1:
        chosen = tf.distribute.MirroredStrategy()
    else:
        chosen = tf.distribute.get_strategy()
    _STRATEGY["s"] = chosen
    return chosen


def enable_mixed_precision() -> bool:
    """Switch Keras to ``mixed_float16`` where it speeds training up.

    That is: in full mode, on a GPU with tensor cores (compute capability
    7.0 or newer). On a CPU, an older GPU, or in fast mode it does nothing
    and returns False, so a notebook can call it unconditionally. Keep the
    output layer in float32 (``Dense(..., dtype="float32")``) for a
    numerically safe softmax.

    Returns:
        True when the policy was switched on.
    """
    import keras
    import tensorflow as tf

    if FAST:
        return False
    capable = False
    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            major, _ = tf.config.experimental.get_device_details(gpu).get("compute_capability", (0, 0))
        except (ValueError, RuntimeError, TypeError):
            major = 0
        capable = capable or major >= 7
    if not capable:
        return False
    keras.mixed_precision.set_global_policy("mixed_float16")
    return True


def describe_environment(*, file=None) -> dict:
    """Print a compact report of what this notebook runs on, and return it.

    Python/TF/Keras versions, backend, devices, Colab/Kaggle/local, fast or
    full mode, online or offline, and the distribution strategy.
    """
    import keras
    import tensorflow as tf

    devices = []
    for kind in ("TPU", "GPU"):
        for dev in tf.config.list_logical_devices(kind):
            devices.append(dev.name)
    gpu_names = []
    for dev in tf.config.list_physical_devices("GPU"):
        try:
            gpu_names.append(tf.config.experimental.get_device_details(dev).get("device_name", dev.name))
        except (ValueError, RuntimeError):
            gpu_names.append(dev.name)
    info = {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "cpu_count": os.cpu_count(),
        "gpus": gpu_names,
        "devices": devices or ["CPU"],
        "where": where(),
        "mode": "fast" if FAST else "full",
        "online": not is_offline(),
        "strategy": type(strategy()).__name__,
    }
    lines = [
        f"Python {info['python']} | TensorFlow {info['tensorflow']} | Keras {info['keras']} ({info['backend']})",
        f"Devices: {', '.join(gpu_names) if gpu_names else 'CPU only'} ({info['cpu_count']} CPU cores)"
        f" | strategy: {info['strategy']}",
        f"Running on: {info['where']} | mode: {info['mode']}"
        f"{' (TOOLKIT_FAST=1: small data, same lessons)' if FAST else ''}"
        f" | network: {'online' if info['online'] else 'offline (packaged data will be used)'}",
    ]
    print("\n".join(lines), file=file or sys.stdout)
    return info


def headline(name: str, value, *, file=None) -> None:
    """Print a notebook's headline figure for ``make run``'s summary table.

    Example:

    >>> headline("test accuracy", 0.9912)
    Headline: test accuracy = 0.991
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"`name` must be a non-empty string. {received('name', name)}")
    shown = f"{value:.3f}" if isinstance(value, float) else str(value)
    print(f"{HEADLINE_PREFIX} {name} = {shown}", file=file or sys.stdout)
