"""read_history_csv: a CSVLogger file back into a history dict."""

from __future__ import annotations

import csv
import os

import numpy as np

from toolkit.validation import received


def read_history_csv(path) -> dict[str, list[float]]:
    """Read the file written by ``keras.callbacks.CSVLogger`` into a history dict.

    Every column becomes a list of floats (``nan`` and ``inf`` included); the
    ``epoch`` column keeps the epoch numbers of a resumed run.

    Example:

    >>> model.fit(..., callbacks=[keras.callbacks.CSVLogger("history.csv")])
    >>> diagnose(read_history_csv("history.csv"))
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"`path` must be a file path. {received('path', path)}")
    if not os.path.isfile(path):
        raise ValueError(f"`path` is not a file: {os.fspath(path)!r}. Write one with keras.callbacks.CSVLogger.")
    with open(path, newline="", encoding="utf-8") as handle:
        sample = handle.read(4096)
        handle.seek(0)
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        rows = list(csv.reader(handle, dialect))
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if len(rows) < 2:
        raise ValueError(f"`path` holds no epochs: {os.fspath(path)!r} needs a header line and one line per epoch.")
    header = [h.strip() for h in rows[0]]
    history: dict[str, list[float]] = {name: [] for name in header}
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise ValueError(f"Line {number} of {os.fspath(path)!r} has {len(row)} values for {len(header)} columns.")
        for name, cell in zip(header, row):
            try:
                history[name].append(float(cell) if cell.strip() else np.nan)
            except ValueError:
                raise ValueError(
                    f"Line {number} of {os.fspath(path)!r}: column {name!r} holds {cell!r}, not a number."
                ) from None
    return history
