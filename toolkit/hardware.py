"""The hardware a notebook trains on: devices, distribution strategy, mixed precision.

* :func:`strategy` picks TensorFlow's own distribution strategy for the
  hardware found (a TPU, several GPUs, or the default) once per process.
* :func:`planned_strategy` names that strategy without creating it, for
  reports (creating a ``TPUStrategy`` connects to the TPU).
* :func:`enable_mixed_precision` switches to ``mixed_float16`` where it pays.

Example:

>>> with strategy().scope():
...     model = build_model()
>>> batch_size = 64 * strategy().num_replicas_in_sync
"""

from __future__ import annotations

from toolkit import mode
from toolkit.quiet import import_tensorflow


def _tpu_resolver():
    """A TPU cluster resolver on a Colab/Kaggle TPU runtime, else None."""
    if not mode.tpu_present():
        return None
    tf = import_tensorflow()
    last = None
    for kwargs in ({}, {"tpu": "local"}):  # Colab's remote TPU, then a TPU VM (Colab/Kaggle)
        try:
            resolver = tf.distribute.cluster_resolver.TPUClusterResolver(**kwargs)
            tf.config.experimental_connect_to_cluster(resolver)
            tf.tpu.experimental.initialize_tpu_system(resolver)
            return resolver
        except (ValueError, RuntimeError, tf.errors.OpError) as exc:
            last = exc
    print(f"NOTICE: a TPU seems present but could not be initialized ({last}); using the default strategy.")
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
    tf = import_tensorflow()
    resolver = _tpu_resolver()
    if resolver is not None:
        chosen = tf.distribute.TPUStrategy(resolver)
    elif len(tf.config.list_logical_devices("GPU")) > 1:
        chosen = tf.distribute.MirroredStrategy()
    else:
        chosen = tf.distribute.get_strategy()
    _STRATEGY["s"] = chosen
    return chosen


def planned_strategy() -> str:
    """The class name of the strategy :func:`strategy` returns (or would), without creating one."""
    if "s" in _STRATEGY:
        return type(_STRATEGY["s"]).__name__
    if mode.tpu_present():
        return "TPUStrategy"
    gpus = import_tensorflow().config.list_physical_devices("GPU")
    return "MirroredStrategy" if len(gpus) > 1 else "_DefaultDistributionStrategy"


def gpu_names() -> list[str]:
    """The names of the visible GPUs, e.g. ``["NVIDIA T4"]``; empty on a CPU."""
    tf = import_tensorflow()
    names = []
    for dev in tf.config.list_physical_devices("GPU"):
        try:
            names.append(tf.config.experimental.get_device_details(dev).get("device_name", dev.name))
        except (ValueError, RuntimeError):
            names.append(dev.name)
    return names


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
    if mode.is_fast():
        return False
    tf = import_tensorflow()
    capable = False
    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            major, _ = tf.config.experimental.get_device_details(gpu).get("compute_capability", (0, 0))
        except (ValueError, RuntimeError, TypeError):
            major = 0
        capable = capable or major >= 7
    if not capable:
        return False
    import keras

    keras.mixed_precision.set_global_policy("mixed_float16")
    return True
