"""Checkers of notebook 07 (transfer learning, augmentation, distillation).

* :func:`check_frozen_backbone`: a compiled model with a frozen backbone whose
  BatchNorm layers stay in inference mode.
* :func:`check_digit_augmentation`: augmentation layers that make sense for digits.
* :func:`check_soft_targets`: a teacher's softened probabilities at a temperature.
"""

from __future__ import annotations

import numpy as np
from scipy.special import softmax

from toolkit.exercises.feedback import as_array, checker, type_name

#: Exercise 3: the teacher's logits for one digit, and the temperature.
DISTILL_LOGITS = np.array([6.0, 1.0, 3.5, -2.0, 0.5], dtype="float64")
DISTILL_TEMPERATURE = 4.0
#: RandomRotation factors above this (a fraction of a full turn: 0.1 = 36°) turn a 6 into a 9.
MAX_DIGIT_ROTATION = 0.1


def _nested_backbone(model):
    """The sub-model inside ``model`` that holds the convolutions (the backbone)."""
    import keras

    for layer in model.layers:
        if isinstance(layer, keras.Model) and any(
            isinstance(sub, keras.layers.BatchNormalization) for sub in layer._flatten_layers()
        ):
            return layer
    return None


def _backbone_training_args(model, backbone):
    """The ``training=`` argument of each call of ``backbone`` in ``model``'s graph
    (None where not given); None for a model without a graph (subclassed).

    A functional model passes the ``training`` of its own call on to every
    layer (``fit()`` calls it with ``training=True``), overriding the
    ``training=False`` written when the backbone was called: running the model
    cannot tell the two apart, the graph can.
    """
    graph = getattr(model, "_functional", None) or model  # a Sequential keeps its graph in _functional
    by_depth = getattr(graph, "_nodes_by_depth", None)
    if not by_depth:
        return None
    calls = [node for nodes in by_depth.values() for node in nodes if node.operation is backbone]
    return [node.arguments.kwargs.get("training") for node in calls] or None


def _batchnorm_moves_in_training(model, backbone) -> bool:
    """True when ``model(x, training=True)`` would update the backbone's BatchNorm statistics
    once the backbone is unfrozen; the model is left exactly as it was."""
    import keras

    layers = list(backbone._flatten_layers())
    flags = [layer.trainable for layer in layers]
    norms = [layer for layer in layers if isinstance(layer, keras.layers.BatchNormalization)]
    saved = [(bn.moving_mean.numpy().copy(), bn.moving_variance.numpy().copy()) for bn in norms]
    input_shape = model.input_shape if getattr(model, "inputs", None) else backbone.input_shape  # subclassed: no inputs
    probe = np.random.default_rng(0).normal(2.0, 3.0, size=(8, *input_shape[1:])).astype("float32")
    try:
        backbone.trainable = True  # as it will be when fine-tuning starts
        model(probe, training=True)
        return any(not np.allclose(bn.moving_mean.numpy(), mean) for bn, (mean, _) in zip(norms, saved))
    finally:
        for layer, flag in zip(layers, flags):
            layer.trainable = flag
        for bn, (mean, var) in zip(norms, saved):
            bn.moving_mean.assign(mean)
            bn.moving_variance.assign(var)


@checker("Freeze a backbone correctly", placeholder_message="Replace ... with your compiled model.")
def check_frozen_backbone(answer):
    """The answer must be a compiled model: frozen backbone called with
    ``training=False``, a trainable new head, compiled after freezing."""
    import keras

    if not isinstance(answer, keras.Model):
        return False, f"Expected a keras Model, got {type_name(answer)}.", (
            "Build a model with keras.Input → backbone → new Dense head, e.g. keras.Model(inputs, outputs)."
        )
    backbone = _nested_backbone(answer)
    if backbone is None:
        return False, "The model does not contain the given backbone.", (
            "Call the given backbone inside your model: x = backbone(inputs, training=...)."
        )
    if backbone.trainable_weights:
        return False, "The backbone is still trainable: training would overwrite its pretrained weights.", (
            "Freeze it with backbone.trainable = False before compiling."
        )
    if not answer.trainable_weights:
        return False, "Nothing in the model can train.", "Freeze only the backbone; the new head must stay trainable."
    if not getattr(answer, "compiled", False) or answer.optimizer is None:
        return False, "The model is not compiled.", "Compile it (optimizer, loss, metrics) before fit()."
    compiled_state = getattr(answer, "_compiled_trainable_state", None)
    if compiled_state is not None and any(
        layer.trainable != compiled_state.get(layer, layer.trainable) for layer in answer._flatten_layers()
    ):
        return False, "Trainability changed after compile().", (
            "Keras fixes what trains at compile(): set backbone.trainable first, then compile (again)."
        )
    training_args = _backbone_training_args(answer, backbone)
    if training_args is not None:  # only a literal False (or NumPy's) counts: no object's __bool__ is asked
        in_training_mode = any(not (arg is False or arg is np.False_) for arg in training_args)
    else:
        in_training_mode = _batchnorm_moves_in_training(answer, backbone)
    if in_training_mode:
        return False, "BatchNorm left in training mode.", (
            "Call the backbone with training=False, the idiom of Keras's guide: BatchNorm must keep its pretrained "
            "statistics. Keras 3.15's fit() overrides that flag, so when you unfreeze for fine-tuning, also keep "
            "the BatchNorm layers frozen (unfreeze_top(..., keep_batchnorm_frozen=True))."
        )
    return True, "Frozen backbone in inference mode, trainable head, compiled after freezing.", ""


def _rotation_factor(layer) -> float:
    factor = getattr(layer, "factor", 0.0)
    return float(np.max(np.abs(as_array(factor))))


@checker("Augmentation for digits", placeholder_message="Replace ... with a keras.Sequential of augmentation layers.")
def check_digit_augmentation(answer):
    """The answer must change digits in training only, with no flips and small rotations."""
    import keras

    if not isinstance(answer, keras.layers.Layer):
        return False, f"Expected a Keras layer or keras.Sequential, got {type_name(answer)}.", (
            "Put the Random... layers in a keras.Sequential([...])."
        )
    layers = list(answer._flatten_layers(include_self=False)) or [answer]
    if isinstance(answer, keras.layers.RandomFlip) or any(isinstance(l, keras.layers.RandomFlip) for l in layers):
        return False, "It flips digits.", (
            "A mirrored 2, 3 or 7 is not a digit any more, and an upside-down 6 is a 9: no flips for digits."
        )
    rotations = [l for l in layers + [answer] if isinstance(l, keras.layers.RandomRotation)]
    for layer in rotations:
        if _rotation_factor(layer) > MAX_DIGIT_ROTATION:
            return False, f"It rotates by up to {_rotation_factor(layer) * 360:.0f}°.", (
                "RandomRotation's factor is a fraction of a full turn; large turns make a 6 look like a 9. "
                f"Keep it at most {MAX_DIGIT_ROTATION} ({MAX_DIGIT_ROTATION * 360:.0f}°)."
            )
    digit = np.zeros((4, 28, 28, 1), dtype="float32")
    digit[:, 6:22, 12:16] = 1.0  # a "1" to augment
    digit[:, 6:10, 8:16] = 1.0
    train_out = as_array(keras.ops.convert_to_numpy(answer(digit, training=True)))
    infer_out = as_array(keras.ops.convert_to_numpy(answer(digit, training=False)))
    if train_out.shape != digit.shape:
        return False, f"It changes the image shape to {train_out.shape[1:]}.", (
            "Keep the 28×28×1 shape: use fill_mode/interpolation, not cropping or resizing."
        )
    if not np.allclose(infer_out, digit, atol=1e-5):
        return False, "It changes the digits at inference time too.", (
            "Use only Random... layers: they act in training and pass images unchanged at inference."
        )
    if np.allclose(train_out, digit, atol=1e-3):
        return False, "It does not change the digits, even in training.", (
            "Add Random... layers with a non-zero factor, e.g. a small rotation, zoom or translation."
        )
    return True, "It varies the digits in training only, without flips or large rotations.", ""


@checker("Soft targets at a temperature", placeholder_message="Replace ... with an array of 5 probabilities.")
def check_soft_targets(answer):
    """The answer must be ``softmax(DISTILL_LOGITS / DISTILL_TEMPERATURE)``."""
    p = as_array(answer).ravel()
    z, t = DISTILL_LOGITS, DISTILL_TEMPERATURE
    if p.shape != z.shape:
        return False, f"Expected {len(z)} probabilities, got shape {np.shape(answer)}.", "One probability per class."
    if np.allclose(p, softmax(z / t), atol=1e-4):
        return True, f"softmax(z / {t:g}): the top class keeps {p.max():.2f}, the rest share the remainder.", ""
    if np.allclose(p, softmax(z), atol=1e-4):
        return False, "These are the ordinary (temperature 1) probabilities.", (
            "Divide the logits by the temperature before the softmax: that is what softens them."
        )
    if np.allclose(p, softmax(z * t), atol=1e-4):
        return False, "These got sharper, not softer.", "Divide the logits by the temperature; do not multiply."
    if np.allclose(p, np.exp(z / t), rtol=1e-4):
        return False, "These do not sum to 1.", "Normalize: divide the exponentials by their sum (a softmax)."
    if np.allclose(p, softmax(softmax(z) / t), atol=1e-4) or np.allclose(p, softmax(z) ** (1 / t), atol=1e-4):
        return False, "The temperature was applied to probabilities.", (
            "Apply the temperature to the logits (the raw scores), then take the softmax."
        )
    return False, "Not the softened probabilities.", "Compute softmax(logits / temperature)."


# Exercise 4 (predict, run, explain): with how many labels does transfer pay most? --------------------

#: The numbers of labeled images of digits 5-9 that exercise 4 tries.
LABEL_BUDGETS = (20, 200, 1000)
#: The experiment: notebook 07's recipe on the shipped digits 0-4 model, against the same architecture
#: from scratch (BatchNorm frozen, as the notebook's baseline), on the offline MNIST sample.
LABEL_BUDGET_EXPERIMENT = {"head_epochs": 4, "tune_epochs": 4, "head_lr": 3e-3, "tune_lr": 1e-3, "unfreeze": 2,
                           "batch_size": 50, "seed": 0}


def measure_transfer_gains():
    """Run exercise 4's experiment: ``{labels: (transfer accuracy, from-scratch accuracy)}`` on the test 5-9.

    For each number of labels in :data:`LABEL_BUDGETS`: the shipped backbone
    (:func:`toolkit.transfer.pretrained_digits_model`) frozen under a new
    head, then its top unfrozen (BatchNorm kept frozen) and fine-tuned at a
    lower learning rate; and the same architecture with fresh weights, trained
    for as many epochs. The test digits are the offline sample's 5-9.

    Example:

    >>> gains = measure_transfer_gains()
    >>> sorted(gains) == sorted(LABEL_BUDGETS)
    True
    """
    import keras

    from toolkit.data import _load_mnist_sample
    from toolkit.compiled import restart
    from toolkit.transfer import add_head, pretrained_digits_model, unfreeze_top

    cfg = LABEL_BUDGET_EXPERIMENT
    (x, y), (x_test, y_test) = _load_mnist_sample()
    x, x_test = x[..., None].astype("float32") / 255.0, x_test[..., None].astype("float32") / 255.0
    new = np.random.default_rng(cfg["seed"]).permutation(np.flatnonzero(y >= 5))
    keep = y_test >= 5
    x_test, y_test = x_test[keep], y_test[keep].astype("int32") - 5
    keras.utils.set_random_seed(cfg["seed"])
    backbone = pretrained_digits_model().get_layer("digit_backbone")
    pretrained = backbone.get_weights()
    loss = dict(loss="sparse_categorical_crossentropy", metrics=["accuracy"])

    def subset(n):
        return x[new[:n]], y[new[:n]].astype("int32") - 5, min(cfg["batch_size"], n)

    backbone.trainable = False
    model = add_head(backbone, 5)
    model.compile(keras.optimizers.Adam(cfg["head_lr"]), **loss)
    after_head = {}
    for n in LABEL_BUDGETS:
        xs, ys, batch = subset(n)
        restart(model, seed=cfg["seed"])
        backbone.set_weights(pretrained)
        model.fit(xs, ys, batch_size=batch, epochs=cfg["head_epochs"], verbose=0)
        after_head[n] = model.get_weights()
    unfreeze_top(backbone, cfg["unfreeze"], keep_batchnorm_frozen=True)
    model.compile(keras.optimizers.Adam(cfg["tune_lr"]), **loss)
    fresh = keras.models.clone_model(backbone)
    for layer in fresh.layers:
        layer.trainable = not isinstance(layer, keras.layers.BatchNormalization)
    scratch = add_head(fresh, 5, inference_mode=False, name="from_scratch")
    scratch.compile(keras.optimizers.Adam(cfg["head_lr"]), **loss)
    epochs = cfg["head_epochs"] + cfg["tune_epochs"]
    accuracy = {}
    for n in LABEL_BUDGETS:
        xs, ys, batch = subset(n)
        restart(model, weights=after_head[n])
        model.fit(xs, ys, batch_size=batch, epochs=epochs, initial_epoch=cfg["head_epochs"], verbose=0)
        restart(scratch, seed=cfg["seed"])
        scratch.fit(xs, ys, batch_size=batch, epochs=epochs, verbose=0)
        accuracy[n] = (float(model.evaluate(x_test, y_test, verbose=0)[1]),
                       float(scratch.evaluate(x_test, y_test, verbose=0)[1]))
    return accuracy


@checker(
    "Predict, run, explain: when does transfer pay most?",
    placeholder_message=f"Write one of {LABEL_BUDGETS} (an int) before you run the experiment.",
)
def check_label_budget(answer):
    """``answer`` is the number of labels, out of :data:`LABEL_BUDGETS`, at which transfer gains the most.

    The check runs the experiment itself (:func:`measure_transfer_gains`) and
    compares the prediction with the number of labels where the measured gain
    of transfer over training from scratch is largest.
    """
    from toolkit.exercises.feedback import AnswerError, as_count

    prediction = as_count(answer)
    if prediction not in LABEL_BUDGETS:
        raise AnswerError(f"{prediction} is not one of the numbers tried, {LABEL_BUDGETS}.",
                          hint=f"Answer with one of {LABEL_BUDGETS}.")
    accuracy = measure_transfer_gains()
    gains = {n: transfer - scratch for n, (transfer, scratch) in accuracy.items()}
    best = max(gains, key=gains.get)
    shown = "; ".join(f"{n} labels: transfer {t:.3f}, from scratch {s:.3f} ({gains[n]:+.3f})"
                      for n, (t, s) in accuracy.items())
    if prediction == best:
        return True, (
            f"Measured: {shown}. With few labels the pretrained features do most of the work: the head only has "
            "to combine strokes and curves it already detects, while a network from scratch has to learn them from "
            "a handful of images. With many labels the network from scratch learns good features of its own and "
            "the head start shrinks: transfer learning is a remedy for scarce labels."
        ), ""
    return False, f"You predicted {prediction}; measured: {shown}.", (
        "Think of what each network must learn. The pretrained backbone already detects strokes and curves; "
        "from scratch, those features must come from the labeled images themselves. When is that hardest?"
    )
