"""Repeatable training, and what to do when a GPU cannot be deterministic.

* :func:`seed_everything` seeds Python, NumPy and TensorFlow and switches on
  TensorFlow's op determinism: on a CPU the same training then gives the
  same history twice.
* On a GPU a few ops have no deterministic kernel (the weight gradient of a
  depthwise convolution, as in MobileNetV2's fine-tuning, is one). With
  determinism on they raise ``tf.errors.UnimplementedError`` when they run.
  :func:`fit_or_retry` is ``model.fit`` that catches exactly that error, says
  in one line what it switches off, switches op determinism off and trains
  again. Every notebook trains through it where a GPU could raise.

Example:

>>> seed_everything(42)
>>> history = fit_or_retry(model, x, y, epochs=5, verbose=0)
"""

from __future__ import annotations

from toolkit.quiet import import_tensorflow
from toolkit.validation import check_int, received


def disable_op_determinism() -> None:
    """Switch TensorFlow's op determinism off again (TF has no public switch back)."""
    import_tensorflow()
    from tensorflow.python.framework import config as tf_config

    getattr(tf_config, "disable_op_determinism", lambda: None)()


def seed_everything(seed: int = 42, *, deterministic: bool = True) -> int:
    """Seed Python, NumPy and TensorFlow, and ask TF for deterministic ops.

    Calls ``keras.utils.set_random_seed(seed)`` and, when ``deterministic``,
    ``tf.config.experimental.enable_op_determinism()``; with
    ``deterministic=False`` op determinism is switched off again.

    Args:
        seed: a non-negative integer.
        deterministic: also switch on TF op determinism.

    Returns:
        The seed, for printing.
    """
    seed = check_int("seed", seed, minimum=0)
    if not isinstance(deterministic, bool):
        raise TypeError(f"`deterministic` must be True or False. {received('deterministic', deterministic)}")
    tf = import_tensorflow()
    import keras

    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    else:
        disable_op_determinism()
    return seed


def is_determinism_error(error: BaseException) -> bool:
    """True for the ``UnimplementedError`` an op without a deterministic GPU kernel raises."""
    tf = import_tensorflow()
    return isinstance(error, tf.errors.UnimplementedError) and "determinis" in str(error).lower()


def fit_or_retry(model, *args, **kwargs):
    """``model.fit(*args, **kwargs)``, retried once without op determinism if a GPU op has no deterministic kernel.

    Any other error, and an ``UnimplementedError`` that is not about
    determinism, propagates unchanged. Before the retry the model's compiled
    train/test/predict functions are dropped so that Keras traces them again
    with determinism off. Training stays seeded, but two runs may then differ
    in the last digits; the message says so.

    Args:
        model: a compiled ``keras.Model``.
        *args: passed to ``model.fit``.
        **kwargs: passed to ``model.fit``.

    Returns:
        The ``History`` that ``model.fit`` returns.
    """
    if not callable(getattr(model, "fit", None)):
        raise TypeError(f"`model` must be a compiled keras.Model. {received('model', model)}")
    try:
        return model.fit(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 (re-raised unless it is the determinism error)
        if not is_determinism_error(error):
            raise
        first = (getattr(error, "message", None) or str(error)).strip().splitlines()[0][:120]
        print(f"NOTICE: no deterministic GPU kernel here ({first}): op determinism is now OFF for this session "
              "(training stays seeded, but runs may differ in the last digits); training again.")
    disable_op_determinism()
    for name in ("train_function", "test_function", "predict_function"):
        if hasattr(model, name):
            setattr(model, name, None)
    return model.fit(*args, **kwargs)
