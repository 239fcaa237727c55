"""Feedback of an exercise check, the decorator every checker uses, and strict answer readers.

A checker looks at a student's answer and returns a :class:`Feedback`: passed
or not, a message, and for a wrong answer a hint aimed at the usual mistake.
It never raises and never prints the solution. A cell whose answer is still
the placeholder ``...`` gets "not answered yet", so a notebook runs top to
bottom before any exercise is done.

Answers are read strictly, so that no object can talk its way into a pass:
:func:`as_number`, :func:`as_count`, :func:`as_array`, :func:`as_choice` and
:func:`as_mapping` turn an answer into plain Python or NumPy values (or refuse
it with a ``ValueError``), and the checker compares only those; the answer's
own ``__eq__``, ``__contains__`` or ``__bool__`` is never asked.

Hidden reference answers: a discrete reference answer (a word, a count, a
name) is stored only as the salted SHA-256 digest of its normalized text
(:func:`answer_digest`), which the checker compares with the digest of the
student's normalized answer (:func:`matches`), so that neither ``dir(module)``
nor reading a module's constants shows it; a numeric answer checked with a
tolerance cannot be hashed, so it is computed at check time from the
exercise's own data (a formula, or Keras itself).

The digests hide the answers from a glance, not from a determined search:
a word out of a vocabulary of thirteen can be found by hashing all thirteen,
which is more work than reading the curves. To store a new answer, compute
its digest once and paste the hex string into the lecture module::

    python -c "from toolkit.exercises.feedback import answer_digest as d; print(d('09.my_exercise.item', 'the_word'))"
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import hmac
import html
import math
import re
from collections.abc import Iterable

import numpy as np

#: Mixed into every digest, so that a table of digests from another project does not apply here.
_SALT = "training-deep-networks/exercises/v1"
#: Longest text of a student's value or exception shown in a message.
_MAX_SHOWN = 80


@dataclasses.dataclass(frozen=True)
class Feedback:
    """The result of one exercise check.

    Attributes:
        exercise: the exercise's name.
        passed: True when the answer is right.
        answered: False while the answer is still the placeholder.
        message: what was checked, in one sentence.
        hint: for a wrong answer, what to look at (never the solution).
    """

    exercise: str
    passed: bool
    answered: bool = True
    message: str = ""
    hint: str = ""

    @property
    def symbol(self) -> str:
        if not self.answered:
            return "…"
        return "✓" if self.passed else "✗"

    def __str__(self) -> str:
        if not self.answered:
            return f"{self.symbol} {self.exercise}: not answered yet. {self.message}".rstrip()
        text = f"{self.symbol} {self.exercise}: {self.message}"
        if self.hint and not self.passed:
            text += f"\n  Hint: {self.hint}"
        return text

    def __bool__(self) -> bool:
        return self.passed

    def _repr_html_(self) -> str:
        color = "#888" if not self.answered else ("#1a7f37" if self.passed else "#cf222e")
        status = "not answered yet" if not self.answered else ("correct" if self.passed else "not yet right")
        hint = f"<br><i>Hint:</i> {html.escape(self.hint)}" if self.hint and self.answered and not self.passed else ""
        return (
            f"<div style='border-left:4px solid {color};padding:4px 10px'>"
            f"<b style='color:{color}'>{self.symbol} {html.escape(self.exercise)}</b> ({status}) "
            f"{html.escape(self.message)}{hint}</div>"
        )


class AnswerError(ValueError):
    """An answer of the wrong kind; the checker shows its text and its ``hint`` to the student.

    Example:

    >>> error = AnswerError("an integer count is asked", hint="Use math.ceil, which returns an int.")
    >>> isinstance(error, ValueError), error.hint
    (True, 'Use math.ceil, which returns an int.')
    """

    def __init__(self, message: str, *, hint: str = ""):
        super().__init__(message)
        self.hint = hint


def is_placeholder(answer) -> bool:
    """True for the placeholder a student cell starts with: ``...`` or None."""
    return answer is Ellipsis or answer is None


# Showing a student's objects safely ------------------------------------------------------------


def _plain_text(value, limit: int = _MAX_SHOWN) -> str:
    """``value`` (a str, maybe of a subclass) as an exact ``str`` of at most ``limit`` characters."""
    text = str.__str__(value)  # an exact str: no subclass method runs later
    return text if len(text) <= limit else text[: limit - 1] + "…"


def type_name(value) -> str:
    """The name of ``value``'s class, read so that no class can lie about it.

    Example:

    >>> type_name(3.0)
    'float'
    """
    try:
        name = type.__dict__["__name__"].__get__(type(value))
        return _plain_text(name) if isinstance(name, str) else "object"
    except KeyboardInterrupt:
        raise
    except BaseException:  # noqa: BLE001 - a name is only for show
        return "object"


def safe_repr(value, limit: int = _MAX_SHOWN) -> str:
    """A short repr of a student's value that never raises: ``<TypeName>`` when its ``__repr__`` fails.

    Arrays show as their shape and dtype, long reprs are cut at ``limit`` characters.

    Example:

    >>> safe_repr("0.05*0.1**2.5")
    "'0.05*0.1**2.5'"
    """
    try:
        if isinstance(value, np.ndarray) and value.size > 6:
            return f"array of shape {np.ndarray.__dict__['shape'].__get__(value)}"
        text = repr(value)
        if isinstance(text, str):
            return _plain_text(text, limit)
    except KeyboardInterrupt:
        raise
    except BaseException:  # noqa: BLE001 - fall back to the type name
        pass
    return f"<{type_name(value)}>"


def describe_exception(exc: BaseException) -> str:
    """``"TypeName: text"`` for an exception, never raising, even when its ``__str__`` raises.

    Falls back to the exception's type name alone when ``__str__`` raises,
    returns something that is not a str, or returns an empty text.

    Example:

    >>> describe_exception(ZeroDivisionError("division by zero"))
    'ZeroDivisionError: division by zero'
    """
    name = type_name(exc)
    try:
        text = str(exc)
        text = _plain_text(text, 200).strip() if isinstance(text, str) else ""
    except KeyboardInterrupt:
        raise
    except BaseException:  # noqa: BLE001 - the type name alone
        text = ""
    return f"{name}: {text}" if text else name


# Strict answer readers ---------------------------------------------------------------------


def _received(answer) -> str:
    return f"Received: answer={safe_repr(answer)} ({type_name(answer)})"


def _scalar(value):
    """A Python int or float with ``value``'s own stored value, or None when it is not a real number.

    Subclasses of int, float and the NumPy number types are read through the
    base class, so an overridden ``__float__``, ``__int__`` or ``__index__`` is
    never called; bools are not numbers here.
    """
    if isinstance(value, (bool, np.bool_, np.timedelta64)):
        return None
    if isinstance(value, (np.integer, np.floating)):
        return np.generic.item(value)
    if isinstance(value, np.generic):
        return None
    if isinstance(value, int):
        return int.__index__(value)
    if isinstance(value, float):
        return float.__float__(value)
    return None


def _numeric_array(answer) -> np.ndarray:
    """``answer`` as a float64 array; only real numbers, lists/tuples of them, arrays and tensors."""
    scalar = _scalar(answer)
    if scalar is not None:
        return np.asarray(float(scalar))
    if isinstance(answer, (list, tuple)):
        base = list if isinstance(answer, list) else tuple  # read the stored items, not a subclass's __iter__
        items = [_numeric_array(base.__getitem__(answer, i)) for i in range(base.__len__(answer))]
        if not items:
            return np.zeros((0,))
        if any(item.shape != items[0].shape for item in items):
            raise AnswerError("the answer's rows have different lengths. " + _received(answer))
        return np.stack(items)
    if isinstance(answer, np.ndarray) or hasattr(type(answer), "__array__"):  # arrays, TF/JAX tensors
        arr = np.asarray(answer)
        if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "iuf":
            raise AnswerError(f"expected numbers, got an array of dtype {arr.dtype}. " + _received(answer))
        return np.ndarray.astype(arr, "float64")
    raise AnswerError("expected a number or an array of numbers. " + _received(answer))


def as_number(answer) -> float:
    """An answer as one finite float: a Python or NumPy number, or an array or list holding one value.

    Only the number's own stored value is read: a subclass of ``float`` (or of
    ``int``, or of a NumPy type) whose ``__eq__`` or ``__float__`` lies is read
    through the base class, and any other object (one that merely defines
    ``__float__`` or ``__eq__``) is refused. So an answer passes only when its
    float value is right. Bools and strings are refused.

    Raises:
        AnswerError: (a ``ValueError``) for anything else, which a checker
            reports as "could not be checked".

    Example:

    >>> as_number(np.float32(0.5)), as_number([2])
    (0.5, 2.0)
    """
    arr = _numeric_array(answer)
    if arr.size != 1:
        raise AnswerError(f"expected one number, got an array of shape {arr.shape}. " + _received(answer))
    value = float(arr.reshape(()))
    if not math.isfinite(value):
        raise AnswerError("the answer must be a finite number. " + _received(answer))
    return value


def as_array(answer, *, shape: tuple[int, ...] | None = None, finite: bool = True) -> np.ndarray:
    """An answer as a float64 array (of ``shape``, when given), read as :func:`as_number` reads numbers.

    Lists and tuples are read element by element, so a list of objects that
    only pretend to be numbers is refused; NumPy arrays (and tensors) must
    hold real numbers. With ``finite=True`` NaN and inf are refused too; pass
    ``finite=False`` to let the checker explain them in its own words.

    Example:

    >>> as_array([0.25, 0.75], shape=(2,)).tolist()
    [0.25, 0.75]
    """
    arr = _numeric_array(answer)
    if shape is not None and arr.shape != tuple(shape):
        raise AnswerError(f"expected an array of shape {tuple(shape)}, got shape {arr.shape}. " + _received(answer))
    if finite and not np.all(np.isfinite(arr)):
        raise AnswerError("every value must be a finite number. " + _received(answer))
    return arr


def as_count(answer) -> int:
    """An answer that must be a whole number of things: an ``int`` or a NumPy integer, as a Python int.

    Exact types only: bools, floats (even an integral 3.0), strings, arrays and
    subclasses of ``int`` (whose ``__eq__`` or ``__index__`` could lie) are refused.

    Raises:
        AnswerError: (a ``ValueError``) saying that an integer count is asked.

    Example:

    >>> as_count(np.int64(18496))
    18496
    """
    if type(answer) is int:
        return answer
    if isinstance(answer, np.integer):
        return int(np.generic.item(answer))
    hint = "Counts are whole numbers: math.ceil and // give an int, while / and np.ceil give a float."
    if isinstance(answer, float) and float.__float__(answer).is_integer():
        hint = f"Write it as an int, without the .0 (int(...) or //): {float.__float__(answer):.0f}, not a float."
    raise AnswerError("an integer count (a whole number, of type int) is asked. " + _received(answer), hint=hint)


def _normalize_word(text: str) -> str:
    return re.sub(r"[\s\-]+", "_", str.strip(text).lower())


def as_choice(answer, options: Iterable[str] | None) -> str:
    """An answer that must be one word out of ``options``: exactly a ``str``, normalized.

    The word is stripped and lower-cased, and runs of spaces or hyphens become
    one underscore (``" Lr too-low "`` → ``"lr_too_low"``); ``options`` are
    normalized the same way. A subclass of ``str`` (whose ``__eq__`` could
    say yes to everything) is refused. ``options=None`` accepts any word.

    Raises:
        AnswerError: (a ``ValueError``) for a non-str or a word not in ``options``.

    Example:

    >>> as_choice(" LR too-low ", ["healthy", "lr_too_low"])
    'lr_too_low'
    """
    if type(answer) is not str:
        raise AnswerError("expected a word (a str in quotes). " + _received(answer), hint="Write the word in quotes, e.g. 'healthy'.")
    word = _normalize_word(answer)
    if options is not None:
        allowed = tuple(_normalize_word(option) for option in options)
        if word not in allowed:
            shown = ", ".join(allowed)
            raise AnswerError(f"{safe_repr(answer)} is not one of: {shown}.", hint=f"Use one of: {shown}.")
    return word


def _plain_key(key):
    """A dict key as an exact str or int, or None for a key of any other type."""
    if type(key) is str or type(key) is int:
        return key
    if isinstance(key, np.integer):
        return int(np.generic.item(key))
    return None


def as_mapping(answer, keys: Iterable, *, allow_missing: bool = False) -> dict:
    """An answer that must be a dict with ``keys``: a plain dict copy holding only those keys.

    ``answer`` must be exactly a ``dict`` (no subclass, whose ``__contains__`` or
    ``__getitem__`` could lie). Its keys are read as exact str or int (NumPy
    integers become ints); other keys are ignored. The values are returned as
    they are: read them with :func:`as_choice`, :func:`as_number`, ...

    Args:
        answer: the student's answer.
        keys: the keys the exercise asks for (str or int).
        allow_missing: leave missing keys out instead of raising, for a
            checker that names them in its own words.

    Raises:
        AnswerError: (a ``ValueError``) for a non-dict, or naming the missing keys.

    Example:

    >>> as_mapping({"A": 1, "B": 2, "Z": 3}, ["A", "B"])
    {'A': 1, 'B': 2}
    """
    keys = list(keys)
    if type(answer) is not dict:
        raise AnswerError(
            f"the answer must be a dict with the keys {keys}. " + _received(answer),
            hint="Write it as {key: value, ...} with one entry per key.",
        )
    plain = {}
    for key, value in dict.items(answer):
        key = _plain_key(key)
        if key is not None:
            plain[key] = value
    missing = [key for key in keys if key not in plain]
    if missing and not allow_missing:
        raise AnswerError(f"the keys {missing} are missing from the answer.", hint="Give a value for every key.")
    return {key: plain[key] for key in keys if key in plain}


# Hidden reference answers ------------------------------------------------------------------


def normalize_answer(value) -> str:
    """The text a digest is taken of: a word as :func:`as_choice` normalizes it, a count in decimal.

    Lists and tuples of words or counts are joined with commas, in order.

    Raises:
        AnswerError: for any other type (floats too: a tolerance cannot be hashed).

    Example:

    >>> normalize_answer(" LR_too_low "), normalize_answer(np.int64(4690)), normalize_answer(("he", 3))
    ('lr_too_low', '4690', 'he,3')
    """
    if type(value) is str:
        return _normalize_word(value)
    if type(value) is int or isinstance(value, np.integer):
        return str(as_count(value))
    if type(value) in (list, tuple):
        return ",".join(normalize_answer(item) for item in value)
    raise AnswerError("only words, counts and lists of them can be hidden. " + _received(value))


def answer_digest(key: str, value) -> str:
    """The salted SHA-256 hex digest under which the reference answer ``value`` of ``key`` is stored.

    ``key`` names the exercise and the item (e.g. ``"08.curves.A"``), so the
    same word has a different digest in every place.

    Example:

    >>> len(answer_digest("09.my_exercise.item", "the_word"))
    64
    """
    if type(key) is not str:
        raise TypeError(f"`key` must be a str naming the exercise. Received: key={safe_repr(key)}")
    text = f"{_SALT}\n{key}\n{normalize_answer(value)}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def matches(key: str, value, digest: str) -> bool:
    """True when the student's ``value`` normalizes to the reference answer stored as ``digest``.

    Never raises on the student's ``value``: one that cannot be normalized
    (a float, an object, a str subclass) does not match. Check its type first
    with :func:`as_choice` or :func:`as_count` to give a helpful message.

    Example:

    >>> matches("09.my_exercise.item", " The Word", answer_digest("09.my_exercise.item", "the_word"))
    True
    """
    try:
        got = answer_digest(key, value)
    except ValueError:
        return False
    return hmac.compare_digest(got, digest)


# The checker decorator -----------------------------------------------------------------------


def checker(exercise: str, *, placeholder_message: str = ""):
    """Turn a check function into a safe checker.

    The wrapped function receives the answer (never the placeholder) and
    returns ``(passed, message, hint)``. The wrapper returns a
    :class:`Feedback`; a placeholder answer gives "not answered yet". Any
    exception raised while checking (the student's code runs inside the
    check), ``SystemExit`` and ``GeneratorExit`` included, becomes a failed
    Feedback that names the error (:func:`describe_exception`) instead of a
    traceback; only ``KeyboardInterrupt`` goes through, so that the student
    can stop a runaway function. An :class:`AnswerError` from the strict
    readers shows its own text and hint.

    Example:

    >>> @checker("Sigmoid of 0")
    ... def check_sigmoid_zero(answer):
    ...     ok = abs(as_number(answer) - 0.5) < 1e-6
    ...     return ok, "sigmoid(0) checked.", "" if ok else "sigmoid(0) = 1 / (1 + e^0)."
    >>> print(check_sigmoid_zero("half"))
    ✗ Sigmoid of 0: Your answer could not be checked: expected a number or an array of numbers. Received: answer='half' (str)
      Hint: Check the type and shape the exercise asks for.
    """

    def wrap(fn):
        @functools.wraps(fn)
        def check(answer=Ellipsis, **kwargs):
            if is_placeholder(answer):
                return Feedback(exercise, passed=False, answered=False, message=placeholder_message)
            try:
                passed, message, hint = fn(answer, **kwargs)
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # noqa: BLE001 - a checker never raises on a student's answer
                return _could_not_check(exercise, exc)
            return Feedback(exercise, passed=bool(passed), message=message, hint="" if passed else hint)

        check.exercise = exercise
        return check

    return wrap


def _could_not_check(exercise: str, exc: BaseException) -> Feedback:
    hint = "Check the type and shape the exercise asks for."
    if type(exc) is AnswerError:  # our own reader: its text is for the student
        text = _plain_text(exc.args[0], 300) if exc.args and isinstance(exc.args[0], str) else ""
        if isinstance(exc.hint, str) and exc.hint:
            hint = _plain_text(exc.hint, 300)
    else:
        text = describe_exception(exc)
    return Feedback(exercise, passed=False, message=f"Your answer could not be checked: {text}", hint=hint)
