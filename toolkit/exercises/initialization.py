"""Checkers for the exercises of notebook 03 (initialization and unstable gradients)."""

from __future__ import annotations

import math

from toolkit.exercises.feedback import as_choice, as_mapping, as_number, checker, is_placeholder, matches, type_name
from toolkit.validation import check_int


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=0.01)


def _std_hints(value: float, fan_in: int, fan_out: int, *, fan_in_words: str) -> str:
    """A hint aimed at the usual slips when computing a He std."""
    if _close(value, 2 / fan_in):
        return "That is the variance 2/fan_in. The initializer needs the standard deviation: its square root."
    if _close(value, math.sqrt(1 / fan_in)):
        return "That is LeCun's std (variance 1/fan_in). He doubles the variance for ReLU, which zeroes half its inputs."
    if _close(value, math.sqrt(2 / fan_out)) or _close(value, 2 / fan_out):
        return "You used the number of units this layer outputs. He scales by fan_in, the inputs of each unit."
    if _close(value, math.sqrt(2 / (fan_in + fan_out))) or _close(value, math.sqrt(1 / ((fan_in + fan_out) / 2))):
        return "That is Glorot's std (it averages fan_in and fan_out). He uses fan_in alone."
    return f"He init draws with variance 2 / fan_in. What is fan_in here? ({fan_in_words})"


@checker("He std of a Dense layer", placeholder_message="Compute the standard deviation HeNormal aims for.")
def check_he_std(answer, *, fan_in: int = 784, fan_out: int = 256):
    """The std of HeNormal for a Dense layer with ``fan_in`` inputs and ``fan_out`` units."""
    fan_in = check_int("fan_in", fan_in, minimum=1)
    fan_out = check_int("fan_out", fan_out, minimum=1)
    value = as_number(answer)
    ok = _close(value, math.sqrt(2 / fan_in))
    hint = "" if ok else _std_hints(value, fan_in, fan_out, fan_in_words="each unit sees every input pixel")
    return ok, f"He std for a Dense layer {fan_in} → {fan_out} checked.", hint


@checker("He std of a Conv2D layer", placeholder_message="Compute the He std of the convolution's kernel.")
def check_conv_he_std(answer, *, kernel_size: int = 3, in_channels: int = 32, filters: int = 64):
    """The He std of a ``kernel_size``×``kernel_size`` Conv2D with ``in_channels`` inputs and ``filters`` outputs."""
    kernel_size = check_int("kernel_size", kernel_size, minimum=1)
    in_channels = check_int("in_channels", in_channels, minimum=1)
    filters = check_int("filters", filters, minimum=1)
    value = as_number(answer)
    area = kernel_size * kernel_size
    fan_in, fan_out = area * in_channels, area * filters
    ok = _close(value, math.sqrt(2 / fan_in))
    if ok:
        hint = ""
    elif _close(value, math.sqrt(2 / in_channels)):
        hint = "You counted the input channels only. Each output value sums over a whole kernel window of every channel."
    elif _close(value, math.sqrt(2 / filters)):
        hint = "You used the number of filters, which is this layer's output. fan_in counts what one unit sums over."
    else:
        hint = _std_hints(value, fan_in, fan_out, fan_in_words="kernel height × kernel width × input channels")
    return ok, f"He std for Conv2D({filters}, {kernel_size}×{kernel_size}) on {in_channels} channels checked.", hint


#: The activations of the lecture's table, and the initializer family it pairs with each, hidden: the
#: digest of the family's name under the key "03.initializer.<activation>" (see toolkit.exercises.feedback).
_ACTIVATIONS = ("relu", "leaky_relu", "elu", "tanh", "sigmoid", "selu")
_FAMILY_DIGESTS = {
    "relu": "2c0638de2de473a864c6568e89317ed460851b402ce0a801d02f349c99aac7eb",
    "leaky_relu": "b75eeab2faa090fd4f03d588cb744e2d1b927f41acbe10d81b5ad58ce606603d",
    "elu": "7419696d7be109f6753756de9707b54a8dc58e60b40e10b33855d99dc2e9bd8c",
    "tanh": "c5ba26383eb99ee809c1e1612e8f43e71f772a0864d1fe2dd0aa36c09e245f53",
    "sigmoid": "84e4c4dd5f2f9f182141d6d711fb7cfc9b3e1a021f52aafdc420adef2eb5d88d",
    "selu": "dfca4876427475e8c912712e56c9e6924886d5c014940959e340eef4b94706f6",
}
_ALIASES = {
    "he": "he", "he_normal": "he", "he_uniform": "he", "henormal": "he", "heuniform": "he", "kaiming": "he",
    "glorot": "glorot", "glorot_normal": "glorot", "glorot_uniform": "glorot", "xavier": "glorot",
    "glorotnormal": "glorot", "glorotuniform": "glorot",
    "lecun": "lecun", "lecun_normal": "lecun", "lecun_uniform": "lecun", "lecunnormal": "lecun",
}


@checker(
    "Initializer for each activation",
    placeholder_message="Fill in a dict {activation: 'he' | 'glorot' | 'lecun'}.",
)
def _check_initializer_choice(answer):
    if type(answer) is not dict:
        return False, "The answer must be a dict {activation: initializer}.", "Start from the dict in the cell."
    given = as_mapping(answer, _ACTIVATIONS, allow_missing=True)
    missing = sorted(a for a in _ACTIVATIONS if a not in given or is_placeholder(given[a]))
    if missing:
        return False, f"Some activations have no initializer yet: {missing}.", "Give every activation of the dict one."
    not_names = [a for a in _ACTIVATIONS if type(given[a]) is not str]
    if not_names:
        return False, f"The initializer of {not_names[0]!r} is a {type_name(given[not_names[0]])}, not a name.", (
            "Write each initializer as a name in quotes: 'he', 'glorot' or 'lecun'."
        )
    wrong = []
    for activation in _ACTIVATIONS:
        try:
            family = _ALIASES[as_choice(given[activation], _ALIASES)]
        except ValueError:  # not an initializer's name
            family = None
        if family is None or not matches(f"03.initializer.{activation}", family, _FAMILY_DIGESTS[activation]):
            wrong.append(activation)
    if not wrong:
        return True, "All six activations paired with their initializer.", ""
    if set(wrong) & {"relu", "leaky_relu", "elu"}:
        hint = "ReLU and its variants zero (or shrink) half of their inputs: which init doubles the variance for that?"
    elif "selu" in wrong:
        hint = "SELU only self-normalizes with variance 1/fan_in."
    else:
        hint = "tanh and sigmoid are symmetric around their center and want signals to flow both ways: fan_avg."
    return False, f"{len(wrong)} of 6 pairs are not the table's: {wrong}.", hint


def check_initializer_choice(answer=Ellipsis):
    """A dict mapping each activation of the table to the initializer the lecture pairs with it.

    The notebook's dict of ``...`` placeholders counts as not answered yet.
    """
    if type(answer) is dict and answer and all(is_placeholder(v) for v in dict.values(answer)):
        answer = Ellipsis
    return _check_initializer_choice(answer)


check_initializer_choice.exercise = _check_initializer_choice.exercise


# Exercise 4, predict → run → explain: BatchNorm at a 30× higher learning rate ------------------------

from toolkit.exercises.feedback import as_array, as_choice as _as_choice, as_mapping as _as_mapping  # noqa: E402
from toolkit.exercises.feedback import matches as _matches, normalize_answer, safe_repr  # noqa: E402

#: The outcomes a student can predict: which of the two nets still trains.
BN_LR_OPTIONS = ("both", "only with BN", "only without BN", "neither")
#: The names of the two runs, as the notebook's cell stores them in ``high_lr_runs``.
BN_LR_RUNS = ("without BN", "with BN")
#: A run trains when its final training loss is finite and below this (a uniform guess scores ln 10 ≈ 2.30).
TRAINS_BELOW = 1.5
#: The lesson's outcome, hidden: its digest under the key "03.bn_high_lr" (see toolkit.exercises.feedback).
_BN_LR_DIGEST = "535a896bf1981113e3fb523d08333c40cbca721f0b4764e816e380630d56c3cb"
_BN_LR_EXPLANATION = (
    "Without BatchNorm nothing bounds a ReLU layer's output: steps this large make the weights grow, the "
    "activations grow with them layer after layer, and the loss overflows. BatchNorm re-centers and re-scales "
    "every layer's input over the batch at each step, so the next layer sees inputs of scale about 1 however "
    "large the weights become (and the gradient with respect to the weights shrinks as they grow). That is why "
    "a BN net tolerates a much higher learning rate (lecture 001: BatchNorm 'allows higher learning rate')."
)

_BN_LR_UNUSUAL = (
    "BatchNorm keeps every layer's input at a scale of about 1 whatever the weights, which is why a BN net "
    "usually tolerates a much higher learning rate than the same net without it."
)
_OUTCOME_WORDS = {"both": "both nets trained", "only with BN": "only the net with BN trained",
                  "only without BN": "only the net without BN trained", "neither": "neither net trained"}


def _final_loss(name: str, run) -> float:
    """The last training loss of ``run``: a Keras History, or its ``history`` dict."""
    logs = run if type(run) is dict else getattr(run, "history", None)
    losses = as_array(_as_mapping(logs, ["loss"])["loss"], finite=False)
    if losses.ndim != 1 or losses.size == 0:
        raise ValueError(f"the run {name!r} has no per-epoch training loss")
    return float(losses[-1])


def _outcome(trains: dict) -> str:
    if trains["with BN"] and trains["without BN"]:
        return "both"
    if trains["with BN"]:
        return "only with BN"
    return "only without BN" if trains["without BN"] else "neither"


@checker(
    "BatchNorm at a 30× higher learning rate",
    placeholder_message="Write your prediction first; the next cell then runs the experiment.",
)
def check_bn_high_lr(answer, *, runs=None):
    """Compare a predicted outcome with the two runs the notebook trained at the high learning rate.

    Args:
        answer: the prediction, one of ``BN_LR_OPTIONS`` (case, spaces and hyphens do not matter).
        runs: ``{"without BN": history, "with BN": history}``: the Keras History of each run (or its
            ``history`` dict), as the notebook's cell builds it.

    The check passes when the prediction names what the runs measured. When the runs measured something
    else than this experiment usually gives, the message says so.

    Example:

    >>> runs = {"without BN": {"loss": [2.3, float("nan")]}, "with BN": {"loss": [1.4, 0.9]}}
    >>> check_bn_high_lr("only with BN", runs=runs).passed
    True
    """
    prediction = _as_choice(answer, BN_LR_OPTIONS)
    if runs is None or (type(runs) is dict and not runs):
        return False, "The experiment has not run yet: no runs were given.", (
            "Run the cell with your prediction written: it trains both nets and passes them as runs=high_lr_runs."
        )
    given = _as_mapping(runs, BN_LR_RUNS, allow_missing=True)
    missing = [name for name in BN_LR_RUNS if name not in given]
    if missing:
        return False, f"The runs {missing} are missing: `runs` needs both {list(BN_LR_RUNS)}.", (
            "Pass the dict that the cell fills: check_bn_high_lr(bn_lr_prediction, runs=high_lr_runs)."
        )
    losses = {name: _final_loss(name, given[name]) for name in BN_LR_RUNS}
    trains = {name: math.isfinite(loss) and loss < TRAINS_BELOW for name, loss in losses.items()}
    measured = _outcome(trains)
    shown = ", ".join(f"{name} {losses[name]:.3g}" for name in BN_LR_RUNS)
    message = f"Final training loss: {shown}, so {_OUTCOME_WORDS[measured]}."
    usual = _matches("03.bn_high_lr", measured, _BN_LR_DIGEST)
    if not usual:
        message += (" This run measured something else than this experiment usually gives (did the seed, the data "
                    "or the epochs change?): the check compares your prediction with your own run.")
    if prediction == normalize_answer(measured):
        return True, f"{message} You predicted it. {_BN_LR_EXPLANATION if usual else _BN_LR_UNUSUAL}", ""
    hints = []
    predicted_bn = prediction in ("both", "only_with_bn")
    predicted_plain = prediction in ("both", "only_without_bn")
    if predicted_bn != trains["with BN"]:
        hints.append(
            f"The net with BN {'did' if trains['with BN'] else 'did not'} train (final loss {losses['with BN']:.3g}): "
            "what does BatchNorm do to each layer's input, whatever the scale of the weights before it?"
        )
    if predicted_plain != trains["without BN"]:
        hints.append(
            f"The net without BN {'did' if trains['without BN'] else 'did not'} train (final loss "
            f"{losses['without BN']:.3g}): with ReLU nothing bounds the activations; what do steps 30× larger "
            "do to the weights, and then to the activations, layer after layer?"
        )
    return False, f"{message} You predicted {safe_repr(answer)}.", " ".join(hints)
