"""The remedies the training doctor suggests, from the lecture's tables.

The lecture ("Diagnosing problems and implementing solutions for DNN
training", DESIGN §5) gives a cause-and-remedy table for each common problem:
overfitting, underfitting, data imbalance, inefficient learning, vanishing
and exploding gradients, gradient masking (dead units). Each entry below is a
concrete Keras action, most direct first. Problems the lecture reads off a
curve without a table of their own (``diverging``, ``nan``, ``noisy``,
``train_val_mismatch``) get the remedies of the causes it names for them:
a too large learning rate, bad data, bad activations, a train/val split that
does not match.
"""

from __future__ import annotations

from toolkit.diagnose.findings import VOCABULARY, Finding

_LOWER_LR = "lower the learning rate, e.g. by 10x (an LR finder shows the usable range)"
_CLIP = "clip the gradients: `keras.optimizers.Adam(..., clipnorm=1.0)`"
_HE_INIT = "use He initialization for ReLU layers: `kernel_initializer='he_normal'`"
_CLASS_WEIGHTS = "weight the rare classes in the loss: `model.fit(..., class_weight={class: weight})`"
_RESAMPLE = "over-sample the rare classes (or under-sample the common ones) so that each batch is balanced"
_MORE_DATA = "collect more labelled data, or enlarge it with data augmentation"
_TRANSFER = "transfer learning: fine-tune a model pretrained on a larger, balanced dataset"

#: problem -> remedies, most direct first. Every problem has at least two.
REMEDIES: dict[str, tuple[str, ...]] = {
    "healthy": (
        "keep the best epoch's weights: `ModelCheckpoint(..., save_best_only=True)` or "
        "`EarlyStopping(restore_best_weights=True)`",
        "evaluate once on the held-out test set, then stop tuning",
    ),
    "overfitting": (
        _MORE_DATA,
        "use a less complex model: fewer layers or narrower layers",
        "stop early and keep the best checkpoint: `EarlyStopping(patience=..., restore_best_weights=True)`",
        "add dropout: `keras.layers.Dropout(0.3)` between the Dense layers",
        "add weight regularization: `kernel_regularizer=keras.regularizers.L2(1e-4)`",
    ),
    "underfitting": (
        "examine the dataset: wrong or missing labels, or classes with too few examples",
        "train for more epochs",
        "use a more complex model: more layers or wider layers",
        "try another architecture, e.g. a CNN for images",
    ),
    "diverging": (
        _LOWER_LR,
        _CLIP,
        "check the activation functions and the initialization (ReLU with He init, softmax only on the output)",
        "check the data: inputs scaled (e.g. pixels to [0, 1]) and labels in range",
    ),
    "lr_too_low": (
        "investigate the learning rate: raise it (an LR finder shows the usable range)",
        "use momentum: `keras.optimizers.SGD(learning_rate, momentum=0.9)`, or an adaptive optimizer such as Adam",
        "try another architecture if a higher learning rate does not help",
    ),
    "noisy": (
        "lower the learning rate, or decay it with a schedule (e.g. `keras.optimizers.schedules.ExponentialDecay`)",
        "use a larger batch size, so that each step averages more examples",
        "use a larger validation set when it is val_loss that jumps",
        "check the data for noisy or inconsistent labels",
    ),
    "nan": (
        _LOWER_LR,
        _CLIP,
        "check the inputs for NaN/inf and scale them (e.g. pixels to [0, 1])",
        "keep `TrainingDoctor` (or `keras.callbacks.TerminateOnNaN`) in the callbacks so that a NaN stops the run",
    ),
    "train_val_mismatch": (
        "draw training and validation sets from one shuffled, stratified pool "
        "(`validation_split` takes the LAST samples: shuffle first)",
        "check the training labels: noise or errors in the training set only",
        "check what acts only during training: very strong dropout or augmentation lowers training accuracy",
    ),
    "vanishing_gradients": (
        "use a non-saturating activation: ReLU, leaky ReLU or ELU instead of sigmoid/tanh",
        "add BatchNormalization after the Dense/Conv layers",
        _HE_INIT,
        "add residual (skip) connections in a deep network",
    ),
    "exploding_gradients": (
        _CLIP,
        _LOWER_LR,
        "use a scaled initialization: He (ReLU) or Glorot (tanh, sigmoid)",
        "add BatchNormalization",
    ),
    "dead_units": (
        "use leaky ReLU or ELU, which keep a gradient for negative inputs",
        _LOWER_LR,
        _HE_INIT,
    ),
    "class_imbalance": (
        _CLASS_WEIGHTS,
        _RESAMPLE,
        "add data of the rare classes, or augment them",
        _TRANSFER,
    ),
    "class_confusion": (
        "add labelled examples of the two confused classes, or augment them (insufficient data)",
        "check that the two classes are equally represented; if not, use class weights or over-sampling",
        "check the labels of the two classes for mix-ups",
        _TRANSFER,
    ),
}


def remedies_for(problem: str) -> tuple[str, ...]:
    """The remedies of one vocabulary word."""
    if problem not in VOCABULARY:
        raise ValueError(f"`problem` must be one of {list(VOCABULARY)}. Received: problem={problem!r}")
    return REMEDIES[problem]


def finding(problem: str, severity: str, evidence: str, remedies=None) -> Finding:
    """A :class:`Finding` with the remedies of its problem from the table (or the ones given)."""
    return Finding(problem, severity, evidence, remedies or remedies_for(problem))
