"""Checkers for the exercises of notebook 03 (initialization and unstable gradients)."""

from __future__ import annotations

import math

from toolkit.exercises.feedback import as_number, checker
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


#: Which initializer the lecture's table pairs with each activation.
_TABLE = {"relu": "he", "leaky_relu": "he", "elu": "he", "tanh": "glorot", "sigmoid": "glorot", "selu": "lecun"}
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
    if not isinstance(answer, dict):
        return False, "The answer must be a dict {activation: initializer}.", "Start from the dict in the cell."
    missing = sorted(a for a in _TABLE if a not in answer or answer[a] is Ellipsis or answer[a] is None)
    if missing:
        return False, f"Some activations have no initializer yet: {missing}.", "Give every activation of the dict one."
    wrong = []
    for activation, want in _TABLE.items():
        got = _ALIASES.get(str(answer[activation]).strip().lower().replace("-", "_").replace(" ", "_"))
        if got != want:
            wrong.append(activation)
    if not wrong:
        return True, "All six activations paired with their initializer.", ""
    if set(wrong) & {"relu", "leaky_relu", "elu"}:
        hint = "ReLU and its variants zero (or shrink) half of their inputs: which init doubles the variance for that?"
    elif "selu" in wrong:
        hint = "SELU only self-normalizes with variance 1/fan_in."
    else:
        hint = "tanh and sigmoid are symmetric around their centre and want signals to flow both ways: fan_avg."
    return False, f"{len(wrong)} of 6 pairs are not the table's: {wrong}.", hint


def check_initializer_choice(answer=Ellipsis):
    """A dict mapping each activation of the table to the initializer the lecture pairs with it.

    The notebook's dict of ``...`` placeholders counts as not answered yet.
    """
    if isinstance(answer, dict) and answer and all(v is Ellipsis or v is None for v in answer.values()):
        answer = Ellipsis
    return _check_initializer_choice(answer)


check_initializer_choice.exercise = _check_initializer_choice.exercise
