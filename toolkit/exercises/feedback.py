"""Feedback of an exercise check, and the decorator every checker uses.

A checker looks at a student's answer and returns a :class:`Feedback`: passed
or not, a message, and for a wrong answer a hint aimed at the usual mistake.
It never raises and never prints the solution. A cell whose answer is still
the placeholder ``...`` gets "not answered yet", so a notebook runs top to
bottom before any exercise is done.
"""

from __future__ import annotations

import dataclasses
import functools
import html
import math
import numbers

import numpy as np


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
        colour = "#888" if not self.answered else ("#1a7f37" if self.passed else "#cf222e")
        status = "not answered yet" if not self.answered else ("correct" if self.passed else "not yet right")
        hint = f"<br><i>Hint:</i> {html.escape(self.hint)}" if self.hint and self.answered and not self.passed else ""
        return (
            f"<div style='border-left:4px solid {colour};padding:4px 10px'>"
            f"<b style='color:{colour}'>{self.symbol} {html.escape(self.exercise)}</b> ({status}) "
            f"{html.escape(self.message)}{hint}</div>"
        )


def is_placeholder(answer) -> bool:
    """True for the placeholder a student cell starts with: ``...`` or None."""
    return answer is Ellipsis or answer is None


def as_number(answer) -> float:
    """An answer as one finite float: a Python or NumPy number, or an array holding one value.

    Anything else raises ``ValueError``, which a checker reports as "could
    not be checked".
    """
    if isinstance(answer, numbers.Real) and not isinstance(answer, bool):
        value = float(answer)
    else:
        arr = np.asarray(answer, dtype="float64")
        if arr.size != 1:
            raise ValueError(f"expected one number, got an array of shape {arr.shape}")
        value = float(arr.reshape(()))
    if not math.isfinite(value):
        raise ValueError(f"the answer must be a finite number, got {answer!r}")
    return value


def checker(exercise: str, *, placeholder_message: str = ""):
    """Turn a check function into a safe checker.

    The wrapped function receives the answer (never the placeholder) and
    returns ``(passed, message, hint)``. The wrapper returns a
    :class:`Feedback`; a placeholder answer gives "not answered yet", and an
    exception raised while checking becomes a failed Feedback that names the
    error instead of a traceback.

    Example:

    >>> @checker("Sigmoid of 0")
    ... def check_sigmoid_zero(answer):
    ...     ok = abs(float(answer) - 0.5) < 1e-6
    ...     return ok, "sigmoid(0) checked.", "" if ok else "sigmoid(0) = 1 / (1 + e^0)."
    """

    def wrap(fn):
        @functools.wraps(fn)
        def check(answer=Ellipsis, **kwargs):
            if is_placeholder(answer):
                return Feedback(exercise, passed=False, answered=False, message=placeholder_message)
            try:
                passed, message, hint = fn(answer, **kwargs)
            except Exception as exc:  # a checker never raises on a student's answer
                return Feedback(
                    exercise,
                    passed=False,
                    message=f"Your answer could not be checked: {type(exc).__name__}: {exc}",
                    hint="Check the type and shape the exercise asks for.",
                )
            return Feedback(exercise, passed=bool(passed), message=message, hint="" if passed else hint)

        check.exercise = exercise
        return check

    return wrap
