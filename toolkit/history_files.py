"""Reading the files a training history is saved in: CSVLogger files (with pandas) and their text.

Part of :mod:`toolkit.history`, which turns what is read here into an
``EpochHistory``; the rules (what is "not measured", where a run restarts)
are documented there. Text comes first: the size is checked before
reading (``MAX_FILE_BYTES``), UTF-16/UTF-32/UTF-8 byte-order marks are
honored, and binary content is refused in one sentence naming the file.
"""

from __future__ import annotations

import codecs
import os
import warnings

import numpy as np

from toolkit.validation import received

#: Files larger than this are refused before reading: CSVLogger writes ~100 bytes per epoch.
MAX_FILE_BYTES = 50 * 2**20
#: Cells that mean "not measured" in a CSV file (CSVLogger writes NA; an empty cell is nothing).
NOT_MEASURED_CELLS = ("", "NA", "N/A", "<NA>", "null", "None")


def split_runs(epochs0: np.ndarray) -> list[slice]:
    """Runs of increasing epoch numbers: a restart (an epoch at or below the one before) begins a new run."""
    starts = [0] + [int(i) + 1 for i in np.flatnonzero(np.diff(epochs0) <= 0)] + [len(epochs0)]
    return [slice(a, b) for a, b in zip(starts[:-1], starts[1:])]


def read_text(path, name: str) -> str:
    """The text of a history file: size checked first, UTF-16/UTF-8 byte-order marks honored, binary refused."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"`{name}` must be a file path. {received(name, path)}")
    shown = repr(os.fspath(path))
    if not os.path.isfile(path):
        raise ValueError(f"`{name}` is not a file: {shown}. Write one with keras.callbacks.CSVLogger. "
                         f"{received(name, path)}")
    size = os.path.getsize(path)
    if size > MAX_FILE_BYTES:
        raise ValueError(f"{shown} is {size / 2**20:.0f} MB, more than the {MAX_FILE_BYTES // 2**20} MB a training "
                         "history can be (CSVLogger writes about 100 bytes per epoch): not read.")
    with open(path, "rb") as handle:
        data = handle.read()
    for bom, encoding in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                          (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
                          (codecs.BOM_UTF8, "utf-8-sig")):
        if data.startswith(bom):
            break
    else:
        encoding = "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        text = None
    if text is None or "\x00" in text:
        raise ValueError(f"{shown} is not a text file (binary, or UTF-16 without a byte-order mark): expected a "
                         "CSVLogger file or a JSON dump of history.history, saved as UTF-8.")
    return text


def parse_cells(cells, where: str, first_line: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """CSV cells (strings; None/NA allowed) as (floats, measured); words other than nan/inf are refused."""
    import pandas as pd

    text = pd.Series(cells, dtype=object).map(lambda c: None if c is None or c is pd.NA else str(c).strip())
    missing = text.isna() | text.isin(NOT_MEASURED_CELLS)
    floats = pd.to_numeric(text.where(~missing, "nan"), errors="coerce").to_numpy(dtype=float)
    nan_word = text.fillna("").str.lower().str.lstrip("+-").isin(["nan"])
    bad = np.isnan(floats) & ~missing.to_numpy() & ~nan_word.to_numpy()
    if bad.any():
        i = int(np.argmax(bad))
        at = f"line {first_line + i} of {where}" if first_line is not None else f"row {i} of {where}"
        raise ValueError(f"{at} holds {text.iloc[i]!r}, not a number.")
    return np.where(missing, np.nan, floats), ~missing.to_numpy()


def _csv_blocks(text: str) -> tuple[str, list[tuple[int, list[str]]]]:
    """The separator and the blocks of lines (first line number, lines) that start with a header."""
    lines = text.splitlines()
    numbered = [(i + 1, line) for i, line in enumerate(lines) if line.strip()]
    if not numbered:
        return ",", []
    head = numbered[0][1]
    sep = max(",;\t", key=head.count) if any(s in head for s in ",;\t") else ","
    blocks: list[tuple[int, list[str]]] = []
    for number, line in numbered:
        is_header = line.split(sep)[0].strip().strip('"') == "epoch"
        if is_header or not blocks:
            blocks.append((number, [line]))
        else:
            blocks[-1][1].append(line)
    return sep, blocks


def read_csv(text: str, shown: str) -> list[tuple[np.ndarray | None, dict, dict]]:
    """Each run of a CSVLogger file as (0-based epochs or None, values, measured)."""
    import io
    import re

    import pandas as pd

    sep, blocks = _csv_blocks(text)
    runs = []
    for first, lines in blocks:
        try:
            with warnings.catch_warnings():  # index_col=False: a first row longer than the header is an error, not an index
                warnings.simplefilter("error", pd.errors.ParserWarning)
                frame = pd.read_csv(io.StringIO("\n".join(lines)), sep=sep, dtype=str, keep_default_na=False,
                                    index_col=False)
        except pd.errors.ParserWarning:
            want = len(lines[0].split(sep))
            raise ValueError(f"line {first + 1} of {shown} has more values than its {want} columns.") from None
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeError) as exc:
            found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
            if found:
                want, line, saw = found.groups()
                raise ValueError(f"line {first + int(line) - 1} of {shown} has {saw} values for {want} columns.") from None
            raise ValueError(f"{shown} is not a CSV file ({str(exc).strip()}).") from None
        header = [str(c).strip() for c in frame.columns]
        frame.columns = header
        if len(frame) == 0:
            raise ValueError(f"{shown} holds no epochs: it needs a header line and one line per epoch.")
        numeric_header = [c for c in header if _parse_number(c) is not None]
        if numeric_header:
            raise ValueError(f"{shown} has no header line (its first line holds numbers, e.g. {numeric_header[0]!r}): "
                             "expected the header CSVLogger writes, e.g. 'epoch,loss,val_loss'.")
        columns = {key: parse_cells(frame[key].tolist(), f"{shown} (column {key!r})", first + 1) for key in header}
        epochs0 = None
        if "epoch" in columns:
            floats, seen = columns.pop("epoch")
            if not seen.all() or not np.all(np.isfinite(floats)):
                raise ValueError(f"the epoch column of {shown} has an empty or non-finite cell.")
            epochs0 = floats
        for part in split_runs(epochs0) if epochs0 is not None else [slice(None)]:
            runs.append((None if epochs0 is None else epochs0[part],
                         {k: v[0][part] for k, v in columns.items()}, {k: v[1][part] for k, v in columns.items()}))
    if not runs:
        raise ValueError(f"{shown} is empty: expected a CSVLogger file (a header line and one line per epoch).")
    return runs


def _parse_number(cell: str):
    try:
        return float(cell)
    except ValueError:
        return None
