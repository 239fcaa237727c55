"""The remedies :func:`~toolkit.diagnose.prescribe` can try, as changes to a fresh model or to its ``fit``.

Each :class:`Remedy` is one entry of the lecture's tables (:mod:`toolkit.diagnose.remedies`)
turned into an action:

* a **model** remedy is a keyword of the user's ``build_model`` (``dropout=0.3``,
  ``l2=1e-4``, ``kernel_initializer="he_normal"``, ``activation="leaky_relu"``,
  ``batch_norm=True``). Its :func:`shows` check confirms that the built model really
  has the change, so that a keyword ``build_model`` swallows is reported, not faked;
* a **training** remedy changes the fresh model's optimizer (the learning rate,
  ``clipnorm``, a warm-up or decay schedule), the ``fit`` arguments (``EarlyStopping``,
  ``class_weight``) or the training data (augmentation, over-sampling, input scaling).

:data:`TRIALS` lists, for each problem of the vocabulary, its remedies in the lecture's
order, most direct first.
"""

from __future__ import annotations

import dataclasses
import math

import keras
import numpy as np

DROPOUT, L2, CLIPNORM, LR_FACTOR, PATIENCE = 0.3, 1e-4, 1.0, 10.0, 3
#: Inputs whose largest magnitude exceeds this are not scaled (pixels in 0..255 rather than [0, 1]).
UNSCALED = 10.0


@dataclasses.dataclass(frozen=True)
class Remedy:
    """One remedy: ``key`` (e.g. ``"dropout"``), its ``label`` and what it changes (``keyword`` or ``kind``)."""

    key: str
    label: str
    kind: str  # "model", "optimizer", "fit" or "data"
    keyword: tuple = ()  # (name, value) for build_model, model remedies only


CATALOGUE = {r.key: r for r in (
    Remedy("dropout", f"dropout {DROPOUT}", "model", ("dropout", DROPOUT)),
    Remedy("l2", f"L2 {L2:g}", "model", ("l2", L2)),
    Remedy("he_init", "He init", "model", ("kernel_initializer", "he_normal")),
    Remedy("leaky_relu", "leaky ReLU", "model", ("activation", "leaky_relu")),
    Remedy("batch_norm", "BatchNorm", "model", ("batch_norm", True)),
    Remedy("lr_down", f"LR ÷{LR_FACTOR:g}", "optimizer"),
    Remedy("lr_up", f"LR ×{LR_FACTOR:g}", "optimizer"),
    Remedy("lr_finder", "LR finder's suggestion", "optimizer"),
    Remedy("clipnorm", f"clipnorm={CLIPNORM:g}", "optimizer"),
    Remedy("warmup", "LR warm-up", "optimizer"),
    Remedy("lr_decay", "cosine LR decay", "optimizer"),
    Remedy("early_stopping", f"early stopping (patience {PATIENCE})", "fit"),
    Remedy("class_weight", "class weights", "fit"),
    Remedy("augment", "augmentation (shifts, rotations)", "data"),
    Remedy("oversample", "over-sampling", "data"),
    Remedy("scale_inputs", "inputs scaled to [-1, 1]", "data"),
)}

_DIVERGING = ("scale_inputs", "lr_down", "clipnorm", "warmup")
#: problem -> remedy keys, most direct first (prescribe runs the first applicable ones).
TRIALS: dict[str, tuple[str, ...]] = {
    "overfitting": ("augment", "early_stopping", "dropout", "l2"),  # the lecture's order
    "diverging": _DIVERGING,
    "nan": _DIVERGING,
    "exploding_gradients": ("clipnorm", "lr_down", "batch_norm"),
    "lr_too_low": ("lr_up", "lr_finder"),
    "underfitting": ("lr_down", "lr_up", "lr_finder"),  # a flat, high loss: the LR too large, or too small
    "noisy": ("lr_down", "lr_decay"),
    "vanishing_gradients": ("he_init", "batch_norm", "leaky_relu"),
    "dead_units": ("leaky_relu", "he_init", "lr_down"),
    "class_imbalance": ("class_weight", "oversample"),
}
#: Problems whose remedies are about the data itself (checking labels and splits): nothing to try automatically.
NOT_TRIED = ("train_val_mismatch", "class_confusion", "healthy")


def _layers(model):
    for layer in getattr(model, "layers", []):
        yield layer
        yield from _layers(layer)


def shows(key: str, model) -> bool:
    """Whether ``model`` has the change of the model remedy ``key`` (e.g. a Dropout layer for ``"dropout"``)."""
    layers = list(_layers(model))
    if key == "dropout":
        return any(isinstance(la, keras.layers.Dropout) and la.rate > 0 for la in layers)
    if key == "l2":
        return any(getattr(la, "kernel_regularizer", None) is not None for la in layers)
    if key == "he_init":
        return any(isinstance(getattr(la, "kernel_initializer", None), keras.initializers.HeNormal) for la in layers)
    if key == "leaky_relu":
        return any(isinstance(la, keras.layers.LeakyReLU)
                   or getattr(getattr(la, "activation", None), "__name__", "") == "leaky_relu" for la in layers)
    if key == "batch_norm":
        return any(isinstance(la, keras.layers.BatchNormalization) for la in layers)
    raise ValueError(f"`key` must be a model remedy. Received: key={key!r}")


def learning_rate(optimizer) -> float | None:
    """The optimizer's float learning rate, or None when it is a schedule (Keras cannot set it then)."""
    if not isinstance(getattr(optimizer, "_learning_rate", None), keras.Variable):
        return None
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


def applicable(key: str, data, optimizer) -> str | None:
    """Why the training remedy ``key`` cannot be tried on this data and optimizer, or None when it can."""
    kind = CATALOGUE[key].kind
    if kind == "optimizer" and learning_rate(optimizer) is None:
        return (f"the optimizer's learning rate is a schedule ({type(optimizer._learning_rate).__name__}), "
                "which Keras does not let anyone change")
    if key == "clipnorm" and any(getattr(optimizer, a, None) for a in ("clipnorm", "global_clipnorm", "clipvalue")):
        return "the optimizer already clips its gradients"
    if kind == "data" and data.dataset:
        return "the training data is a tf.data dataset; this remedy needs arrays"
    if key == "augment" and (data.dataset or data.x.ndim not in (3, 4)):
        return f"the inputs are not images (samples of shape {data.x.shape[1:]})"
    if key == "scale_inputs" and not (data.x.size and float(np.max(np.abs(data.x))) > UNSCALED):
        return f"the inputs are already scaled (largest magnitude <= {UNSCALED:g})"
    if key in ("class_weight", "oversample") and data.labels() is None:
        return "the training labels are not class labels"
    return None


def _set_lr(optimizer, value):
    optimizer.learning_rate = value


def _steps(data, fit) -> int:
    per_epoch = data.steps(fit.get("batch_size"))
    return max(1, per_epoch * fit["epochs"])


def apply(key: str, model, fit: dict, data, state: dict, seed: int):
    """Apply the training remedy ``key`` to a fresh compiled ``model`` and its ``fit`` kwargs; returns the data to use.

    ``data`` is the run's :class:`~toolkit.diagnose.prescribing.Data` (training and validation);
    ``state`` is kept across the seeds of one remedy (the LR finder searches once, on the first seed).
    """
    optimizer, lr = model.optimizer, learning_rate(model.optimizer)
    if key == "lr_down":
        _set_lr(optimizer, lr / LR_FACTOR)
    elif key == "lr_up":
        _set_lr(optimizer, lr * LR_FACTOR)
    elif key == "lr_finder":
        if "lr" not in state:
            state["lr"] = _find_lr(model, fit, data)
        _set_lr(optimizer, state["lr"])
    elif key == "clipnorm":
        optimizer.clipnorm = CLIPNORM
    elif key in ("warmup", "lr_decay"):
        steps = _steps(data, fit)
        warmup = min(data.steps(fit.get("batch_size")), max(1, steps // 4))
        _set_lr(optimizer, keras.optimizers.schedules.CosineDecay(
            lr / 100 if key == "warmup" else lr, decay_steps=max(1, steps - warmup if key == "warmup" else steps),
            alpha=1.0 if key == "warmup" else 0.0,
            warmup_target=lr if key == "warmup" else None, warmup_steps=warmup if key == "warmup" else 0))
    elif key == "early_stopping":
        fit["callbacks"] = [*fit["callbacks"], keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=PATIENCE, restore_best_weights=True)]
    elif key == "class_weight":
        y = data.labels()
        classes, counts = np.unique(y, return_counts=True)
        fit["class_weight"] = {int(c): len(y) / (len(classes) * n) for c, n in zip(classes, counts)}
    elif key == "oversample":
        y = data.labels()
        classes, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
        p = 1.0 / counts[inverse]
        rng = np.random.default_rng(seed)
        return data.subset(np.sort(rng.choice(len(y), size=len(y), p=p / p.sum())))
    elif key == "scale_inputs":
        return data.scaled(1.0 / float(np.max(np.abs(data.x))))
    elif key == "augment":
        layers = keras.Sequential([keras.layers.RandomTranslation(0.1, 0.1, seed=seed),
                                   keras.layers.RandomRotation(0.05, seed=seed)])
        return data.augmented(layers, fit.pop("batch_size"), seed)
    else:
        raise ValueError(f"`key` must be a training remedy of CATALOGUE. Received: key={key!r}")
    return data


def _find_lr(model, fit, data) -> float:
    """The LR finder's suggestion on this fresh model (its weights and optimizer are restored afterwards)."""
    from toolkit.callbacks import LRFinder

    per_epoch = data.steps(fit.get("batch_size"))
    steps = max(per_epoch, min(100, _steps(data, fit)))
    finder = LRFinder(1e-6, 1.0, num_steps=max(steps, 2))
    model.fit(*data.inputs(), epochs=math.ceil(steps / per_epoch), batch_size=fit.get("batch_size"), verbose=0,
              callbacks=[finder])
    if finder.suggestion is None:
        raise RuntimeError("the LR finder found no stretch of falling loss to suggest a learning rate from")
    return float(finder.suggestion)


def prescribe_hint(diagnosis) -> str | None:
    """The line the doctor prints under a diagnosis whose remedies :func:`~toolkit.diagnose.prescribe` can try."""
    labels = list(dict.fromkeys(CATALOGUE[k].label for f in diagnosis.findings for k in TRIALS.get(f.problem, ())))
    if not labels:
        return None
    shown = ", ".join(labels[:3]) + (", ..." if len(labels) > 3 else "")
    return (f"   To measure which remedy helps this run: toolkit.diagnose.prescribe(build_model, data) tries {shown} "
            "on short runs and ranks them by their effect.")
