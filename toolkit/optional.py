"""Optional dependencies: import one, or say which extra installs it.

A plain ``pip install training-deep-networks`` brings the library (Keras,
TensorFlow, NumPy, scikit-learn, matplotlib, ...). What only some commands
need sits in the ``[course]`` extra: ``tensorflow-datasets`` for tf_flowers
(notebook 07, ``dnn-course prefetch``) and nbformat/nbclient/nbconvert for
headless runs (``dnn-course run``). Those modules are imported where they are
used, through :func:`require`, so that a missing one gives one clear line
instead of a ``ModuleNotFoundError`` deep inside a call.
"""

from __future__ import annotations

import importlib

#: The distribution name on PyPI (the import name is ``toolkit``).
DISTRIBUTION = "training-deep-networks"
#: The extra that brings every optional dependency.
EXTRA = "course"
#: The command that installs it.
INSTALL_COMMAND = f'pip install "{DISTRIBUTION}[{EXTRA}]"'

#: Import name -> the name pip installs it under.
PACKAGES = {
    "tensorflow_datasets": "tensorflow-datasets",
    "nbformat": "nbformat",
    "nbclient": "nbclient",
    "nbconvert": "nbconvert",
}


class MissingDependencyError(ModuleNotFoundError):
    """An optional package is not installed; the message says how to install it."""


def require(module: str, *, needed_for: str):
    """Import ``module`` (one of :data:`PACKAGES`), or raise a clear error.

    Args:
        module: the import name, e.g. ``"tensorflow_datasets"``.
        needed_for: what needs it, for the message, e.g. ``"load_flowers()"``.

    Returns:
        The imported module.

    Raises:
        MissingDependencyError: the package is not installed. The message
            names it, what needs it and the ``pip install`` command of the
            ``[course]`` extra.

    Example:

    >>> tfds = require("tensorflow_datasets", needed_for="load_flowers()")
    """
    top = module.split(".")[0]
    if top not in PACKAGES:
        raise ValueError(f"`module` must be one of the optional packages {sorted(PACKAGES)}. Received: module={module!r}")
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is not None and exc.name.split(".")[0] != top:
            raise  # the package is there but one of its own dependencies is missing
        raise MissingDependencyError(
            f"{needed_for} needs {PACKAGES[top]}, which is not installed. "
            f"Install the course's extras: {INSTALL_COMMAND}",
            name=top,
        ) from None
