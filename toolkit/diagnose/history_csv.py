"""read_history_csv: a CSVLogger file (or a JSON dump of ``history.history``) back into a history."""

from __future__ import annotations

import os

from toolkit.history import EpochHistory, read_history
from toolkit.validation import received


def read_history_csv(path) -> EpochHistory:
    """Read the file written by ``keras.callbacks.CSVLogger`` (or a JSON dump of ``history.history``).

    A thin wrapper of :func:`toolkit.history.read_history`: ``NA`` cells are
    not measured, ``nan``/``inf`` are kept as measured values, the ``epoch``
    column keeps the epoch numbers of a resumed run, and a file that several
    fits appended to warns and gives the last run (use
    :func:`toolkit.history.read_runs` for each).

    Returns:
        An :class:`~toolkit.history.EpochHistory` (``h["loss"]`` is the loss
        of every epoch; ``h.epochs`` the 1-based epoch numbers).

    Example:

    >>> model.fit(..., callbacks=[keras.callbacks.CSVLogger("history.csv")])
    >>> diagnose(read_history_csv("history.csv"))
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"`path` must be a file path. {received('path', path)}")
    return read_history(path, name="path", require_loss=False)
