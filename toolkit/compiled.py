"""The state that ``compile()`` leaves for later: build it now (:func:`build_compiled`), or start it over (:func:`restart`).

``model.compile()`` creates no variables. With the TensorFlow backend and no
distribution strategy, Keras creates the optimizer's slots and the loss and
metric trackers inside the first trace of ``fit``'s training function, and a
``tf.function`` that creates variables is traced twice. For a small model on a
CPU that second trace is about half a second (a second for an 8-layer MLP),
more than a short run on a few hundred images costs. :func:`build_compiled`
creates that state eagerly, so that the training function is traced once.
:func:`restart` keeps the traced functions and resets the state, to train the
same architecture again.
"""

from __future__ import annotations

import keras
import numpy as np

from toolkit.validation import check_int, received


def _one_row(x):
    """The first row of every array in ``x`` (a nested structure), as a tensor."""
    def first(a):
        if a is None:
            return None
        if isinstance(a, (int, float, list)):
            a = np.asarray(a)
        if not hasattr(a, "shape") or len(a.shape) == 0:
            raise ValueError(f"`x` and `y` must be arrays with a batch axis. {received('x/y', a)}")
        if a.shape[0] == 0:
            raise ValueError(f"`x` and `y` must hold at least one sample. Received: an array of shape {tuple(a.shape)}")
        return keras.ops.convert_to_tensor(a[:1])

    return keras.tree.map_structure(first, x)


def _zero_row(spec):
    """A batch of one zero sample matching a tf.data ``element_spec`` entry."""
    import tensorflow as tf

    shape = [1] + [d if d is not None else 1 for d in spec.shape[1:]]
    return tf.zeros(shape, dtype=spec.dtype)


def build_compiled(model, x, y=None):
    """Create a compiled model's optimizer, loss and metric state now, so that ``fit`` traces once.

    The first ``fit()`` after ``compile()`` then costs one trace instead of
    two (the tests count them). The training itself is unchanged: the same
    weights, the same history, step for step. Nothing is trained here: the
    model is called once, without training, on one sample of ``x``; the
    metrics it measured are reset.

    Args:
        model: a compiled Keras model, with or without a loss (a model with its
            own ``train_step`` may compile with the optimizer only).
        x: the inputs, as ``fit`` takes them (an array, a list or dict of
            arrays), or a ``tf.data.Dataset`` of ``(x, y)`` batches (its
            ``element_spec`` is used; the dataset is not iterated).
        y: the targets when ``x`` is an array; None for a dataset.

    Returns:
        The model, for chaining.

    Example:

    >>> model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    >>> build_compiled(model, x_train, y_train)
    >>> model.fit(x_train, y_train, epochs=5, verbose=0)
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"`model` must be a keras Model. {received('model', model)}")
    if getattr(model, "optimizer", None) is None:
        raise ValueError(f"`model` must be compiled first: call model.compile(...). Received: model={model.name!r}")
    if hasattr(x, "element_spec"):  # a tf.data.Dataset: zeros shaped like one of its samples
        if y is not None:
            raise ValueError(f"Give `y` with arrays only: a dataset holds its targets. {received('y', y)}")
        spec = x.element_spec
        if not isinstance(spec, tuple) or len(spec) < 2:
            raise ValueError(f"`x` must be a dataset of (x, y) or (x, y, sample_weight) batches. Received: element_spec={spec}")
        x, y = keras.tree.map_structure(_zero_row, spec[0]), keras.tree.map_structure(_zero_row, spec[1])
    else:
        if y is None:
            raise ValueError("`y` is needed with array inputs: the loss and metrics are built on (x, y). Received: y=None")
        x, y = _one_row(x), _one_row(y)
    y_pred = model(x, training=False)  # builds the layers of a subclassed model too
    if getattr(model, "loss", None) is not None:  # compiled without a loss: its own train_step computes one
        model.compute_loss(x, y, y_pred)
    model.compute_metrics(x, y, y_pred, sample_weight=None)
    model.reset_metrics()
    if not model.optimizer.built:  # not every optimizer's build() checks it (SGD's does not)
        model.optimizer.build(model.trainable_variables)
    return model


def _fresh_weights(model) -> list:
    """New initial values for every weight of ``model``, drawn from copies of its layers' initializers.

    Each ``*_initializer`` of a layer (``kernel_initializer`` for ``kernel``,
    ``moving_mean_initializer`` for ``moving_mean``, ...) is copied from its
    config, so that an unseeded one draws anew (a Keras initializer instance
    repeats its draw at every call). Weights that no initializer names are
    drawn by ``keras.models.clone_model`` instead.
    """
    fresh = {}
    for layer in model._flatten_layers(include_self=False):
        for name, initializer in list(vars(layer).items()):
            if not name.endswith("_initializer") or not isinstance(initializer, keras.initializers.Initializer):
                continue
            variable = getattr(layer, name[: -len("_initializer")], None)
            if isinstance(variable, keras.Variable) and id(variable) not in fresh:
                copy = type(initializer).from_config(initializer.get_config())
                fresh[id(variable)] = keras.ops.convert_to_numpy(copy(tuple(variable.shape), dtype=variable.dtype))
    if all(id(v) in fresh for v in model.weights):
        return [fresh[id(v)] for v in model.weights]
    try:
        return keras.models.clone_model(model).get_weights()
    except Exception as exc:  # a subclassed model has no config to rebuild
        raise ValueError(
            f"`seed` cannot draw fresh weights for {type(model).__name__}: some of its weights have no "
            f"initializer attribute and the model cannot be cloned; pass `weights` instead "
            f"({str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__})."
        ) from None


def restart(model, *, seed: int | None = None, weights=None) -> None:
    """Start training a compiled model over, without compiling it again.

    Every ``compile()`` makes Keras trace a new training function at the next
    ``fit()``: about a second on a CPU for a small model, more than a short
    run on a few hundred images costs. To train the same architecture again
    (another seed, another data subset), ``restart`` resets what a new model
    would reset and keeps the traced functions:

    * the weights: drawn anew from copies of the layers' own initializers
      with ``seed`` (BatchNorm statistics back to 0 and 1; a weight that no
      initializer attribute names is drawn by ``keras.models.clone_model``),
      or set to ``weights``, or kept when neither is given;
    * the optimizer: its step counter and its slots (Adam's moments,
      momentum) go back to zero; the learning rate and the trainable flags
      stay as they are.

    A run after ``restart(model, weights=w)`` computes what a model freshly
    compiled with the same optimizer and started from ``w`` computes (the
    tests check it step for step). Dropout draws other masks, as a new seed
    would.

    Args:
        model: a Keras model, compiled or not (an uncompiled one has no
            optimizer state to reset).
        seed: a non-negative integer for the fresh initial weights.
        weights: a list of arrays, as ``model.get_weights()`` returns.

    Example:

    >>> model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
    >>> for seed in range(3):
    ...     restart(model, seed=seed)
    ...     model.fit(x, y, epochs=5, verbose=0)
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"`model` must be a keras Model. {received('model', model)}")
    if seed is not None and weights is not None:
        raise ValueError(f"Give `seed` or `weights`, not both. {received('seed', seed)}")
    if seed is not None:
        seed = check_int("seed", seed, minimum=0)
        keras.utils.set_random_seed(seed)
        weights = _fresh_weights(model)
    if weights is not None:
        if not isinstance(weights, (list, tuple)):
            raise TypeError(f"`weights` must be a list of arrays, as get_weights() returns. {received('weights', weights)}")
        model.set_weights(list(weights))
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return
    learning_rate = getattr(optimizer, "_learning_rate", None)
    for variable in optimizer.variables:
        if variable is learning_rate or variable.path.endswith("/learning_rate"):
            continue
        variable.assign(np.zeros(tuple(variable.shape), dtype=keras.backend.standardize_dtype(variable.dtype)))
