"""Fast or full: the one switch between a quick run and the real lesson.

The mode comes from the environment, read once per process at the first
:func:`pick` (or :func:`current`):

* ``TOOLKIT_MODE=fast`` – small data and few epochs (``make test``,
  ``make run`` and CI set it); ``TOOLKIT_MODE=full`` – the real lesson;
* ``TOOLKIT_MODE=auto`` (the default, also when unset) – full when an
  accelerator (a GPU or a TPU) is present, fast on a CPU;
* the older ``TOOLKIT_FAST=1`` (fast) and ``TOOLKIT_FAST=0`` (full) still work.

Any other value is refused with a :class:`ModeError` that names the variable,
the value and the accepted values; in a notebook it shows as one line.

Example:

>>> EPOCHS = pick(full=15, fast=2)
>>> N_TRAIN = pick(full=None, fast=4000)  # None: use everything
"""

from __future__ import annotations

import os
from typing import Callable, NamedTuple

MODES = ("fast", "full", "auto")
FAST_VALUES = {"1": "fast", "true": "fast", "yes": "fast", "on": "fast",
               "0": "full", "false": "full", "no": "full", "off": "full"}


class ModeError(ValueError):
    """A refused ``TOOLKIT_MODE`` / ``TOOLKIT_FAST`` value. Notebooks show it as one line, without a traceback."""

    def _render_traceback_(self):  # IPython's hook for a custom traceback
        return [f"ModeError: {self}"]


class Mode(NamedTuple):
    """The mode a process runs in, and why."""

    name: str  # "fast" or "full"
    reason: str  # e.g. "auto: no GPU or TPU found"

    @property
    def fast(self) -> bool:
        return self.name == "fast"

    def line(self) -> str:
        """One line for the top of a notebook: the mode, why, and how to switch."""
        other = "full" if self.fast else "fast"
        what = "small data, few epochs, same lessons" if self.fast else "the full-size lesson"
        return (f"Mode: {self.name} ({self.reason}): {what}. To switch, set TOOLKIT_MODE={other}"
                f" (in the shell, or `%env TOOLKIT_MODE={other}` above this cell in a fresh kernel).")


def _setting(environ) -> tuple[str, str]:
    """The requested mode ("fast", "full" or "auto") and the variable that asked for it."""
    raw_mode = environ.get("TOOLKIT_MODE")
    raw_fast = environ.get("TOOLKIT_FAST")
    mode = fast = None
    if raw_mode is not None and raw_mode.strip():
        mode = raw_mode.strip().lower()
        if mode not in MODES:
            raise ModeError(f"TOOLKIT_MODE must be one of {', '.join(MODES)} (unset means auto). "
                            f"Received: TOOLKIT_MODE={raw_mode!r}")
    if raw_fast is not None and raw_fast.strip():
        fast = FAST_VALUES.get(raw_fast.strip().lower())
        if fast is None:
            raise ModeError("TOOLKIT_FAST must be 1 (fast) or 0 (full); better, set TOOLKIT_MODE=fast|full|auto. "
                            f"Received: TOOLKIT_FAST={raw_fast!r}")
    if mode in ("fast", "full") and fast is not None and mode != fast:
        raise ModeError(f"TOOLKIT_MODE and TOOLKIT_FAST disagree: unset TOOLKIT_FAST. "
                        f"Received: TOOLKIT_MODE={raw_mode!r}, TOOLKIT_FAST={raw_fast!r}")
    if mode in ("fast", "full"):
        return mode, f"TOOLKIT_MODE={mode}"
    if fast is not None:
        return fast, f"TOOLKIT_FAST={raw_fast.strip()}"
    return "auto", "auto"


def tpu_present() -> bool:
    """True on a Colab/Kaggle TPU runtime or a TPU VM (checked without importing TensorFlow)."""
    return bool(os.environ.get("COLAB_TPU_ADDR") or os.environ.get("TPU_NAME") or os.path.exists("/dev/accel0"))


def find_accelerator() -> str | None:
    """Return "a TPU" or "N GPU(s)" when TensorFlow sees an accelerator, else None."""
    if tpu_present():
        return "a TPU"
    from toolkit.quiet import import_tensorflow

    gpus = import_tensorflow().config.list_physical_devices("GPU")
    return f"{len(gpus)} GPU{'s' if len(gpus) > 1 else ''}" if gpus else None


def resolve(environ=None, *, probe: Callable[[], str | None] = find_accelerator) -> Mode:
    """The :class:`Mode` for ``environ`` (default ``os.environ``); ``probe`` finds an accelerator for auto."""
    requested, source = _setting(os.environ if environ is None else environ)
    if requested != "auto":
        return Mode(requested, source)
    found = probe()
    if found:
        return Mode("full", f"auto: {found} found")
    return Mode("fast", "auto: no GPU or TPU found")


_CURRENT: list[Mode] = []


def current() -> Mode:
    """The mode of this process, resolved once (the first call may import TensorFlow to look for a GPU)."""
    if not _CURRENT:
        _CURRENT.append(resolve())
    return _CURRENT[0]


def is_fast() -> bool:
    """True in fast mode."""
    return current().fast


_MISSING = object()


def pick(*, full=_MISSING, fast=_MISSING):
    """Return ``fast`` in fast mode and ``full`` otherwise.

    Example:

    >>> EPOCHS = pick(full=15, fast=2)
    """
    if full is _MISSING or fast is _MISSING:
        raise TypeError("pick() needs both keyword arguments, e.g. pick(full=15, fast=2).")
    return fast if is_fast() else full


def __getattr__(name):  # ``FAST`` is resolved on first use, not at import
    if name == "FAST":
        return is_fast()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
