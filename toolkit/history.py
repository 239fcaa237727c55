"""The per-epoch history of a training run: one data model for every reader.

Every part of the toolkit that reads a history (``plot_history``,
``LiveHistoryPlot``, ``diagnose``, ``TrainingDoctor``, ``python -m toolkit
doctor``) turns its input into an :class:`EpochHistory` here, so they all
agree on three things:

* **Which epoch each value belongs to.** ``fit(..., validation_freq=k)``
  validates at the epochs ``e`` (1-based) with ``e % k == 0``, never
  "also at the last epoch" (``Trainer._should_eval`` in Keras 3); a resumed
  fit counts from ``initial_epoch``. ``History`` then holds *shorter*
  ``val_*`` lists, which are placed at those epochs.
* **Not measured is not NaN.** A value is *not measured* when the epoch has
  none: a missing key in an epoch's logs, a shorter ``val_*`` list,
  CSVLogger's ``NA`` or an empty cell, ``None``/JSON ``null``, pandas' ``NA``
  in a nullable column, and the ``0.0000e+00`` that TensorFlow prints for a
  ``val_*`` metric of an epoch that was not validated (a row whose ``val_*``
  cells are all zero or missing, with at least one missing or ``val_loss``
  exactly 0: a cross-entropy is never exactly 0). A *measured* NaN/inf
  (``nan`` in a CSV, ``float("nan")`` in a list) is a real value: the run
  diverged.
* **One file, several runs.** ``CSVLogger(append=True)`` appends a second run
  to the same file without a new header; its ``epoch`` column restarts at 0
  (or at a lower number, after ``BackupAndRestore``). :func:`read_runs`
  splits there; :func:`read_history` wants one run and warns when it finds
  several (it returns the last one). Epoch numbers that keep increasing are
  one run, resumed with ``initial_epoch``, and keep their numbers.

Public API:

* :class:`EpochHistory` (frozen): ``epochs`` (1-based int array),
  ``values[key]`` (float array, one entry per epoch, NaN where not measured),
  ``measured[key]`` (bool array), ``source`` (words: "a keras History",
  "file 'h.csv'"), ``notes`` (what reading did, in sentences). Also
  ``h[key]``, ``key in h``, ``len(h)``, ``h.keys``, ``h.at(key)`` (the
  measured epochs and values of one key), ``h.to_frame()`` (a DataFrame:
  0-based ``epoch`` column as CSVLogger writes it, then nullable ``Float64``
  columns with ``<NA>`` for not measured and NaN for a measured NaN),
  ``h.to_dict()`` (the Keras ``history.history`` layout: per-key lists of
  the measured values).
* :func:`read_history(source, *, name="history", require_loss=True,
  validation_freq=None)` -> EpochHistory: ``source`` is a ``History``, a
  ``history.history`` dict (``None`` entries = not measured, an optional
  ``epoch`` list 0-based), a pandas DataFrame, an EpochHistory, or a path to
  a CSVLogger file or a JSON dump of ``history.history``. ``validation_freq``
  (an int or a list of 1-based epochs, as given to ``fit``) places shorter
  ``val_*`` lists when they could belong to several settings (it is inferred
  when only one setting fits).
* :func:`read_runs(source, ...)` -> list[EpochHistory], one per run.
* :func:`from_epoch_logs(epochs, logs, source=...)` -> EpochHistory, from the
  0-based epoch indices and the per-epoch ``logs`` dicts a callback saw (a
  key missing from an epoch's logs is not measured).
* ``MAX_FILE_BYTES``: files above 50 MB are refused before reading.

Reading the text of files (size, encodings, CSV cells) lives in
:mod:`toolkit.history_files`; this module turns it into an EpochHistory.

Errors are ``TypeError``/``ValueError`` naming the argument or the file and
what was expected. UTF-16 files with a byte-order mark (what Windows
PowerShell's ``>`` writes) are decoded; other binary files are refused.

Example:

>>> h = read_history(model.fit(x, y, validation_data=(xv, yv), validation_freq=2, epochs=5, verbose=0))
>>> h.at("val_loss")            # (array([2, 4]), array([0.61, 0.52]))
>>> runs = read_runs("history.csv")
"""

from __future__ import annotations

import dataclasses
import json
import os
import warnings
from typing import Mapping

import numpy as np

from toolkit.history_files import MAX_FILE_BYTES, NOT_MEASURED_CELLS, parse_cells, read_csv, read_text, split_runs
from toolkit.validation import received

__all__ = ["MAX_FILE_BYTES", "NOT_MEASURED_CELLS", "EpochHistory", "from_epoch_logs", "read_history", "read_runs"]

@dataclasses.dataclass(frozen=True)
class EpochHistory:
    """The per-epoch values of one training run, with what was measured.

    Attributes:
        epochs: 1-based epoch numbers, strictly increasing (a resumed run starts above 1).
        values: per key, one float per epoch; NaN where not measured (and where a NaN was measured).
        measured: per key, True where the epoch has a value.
        source: what was read, in words, for messages.
        notes: what reading did (alignment, artefacts read as not measured), as sentences.

    Example:

    >>> h = read_history({"loss": [1.0, 0.8, 0.7, 0.6], "val_loss": [0.9, 0.75]})
    >>> h.at("val_loss")
    (array([2, 4]), array([0.9 , 0.75]))
    """

    epochs: np.ndarray
    values: Mapping[str, np.ndarray]
    measured: Mapping[str, np.ndarray]
    source: str = "history"
    notes: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.epochs)

    def __contains__(self, key) -> bool:
        return key in self.values

    def __getitem__(self, key: str) -> np.ndarray:
        return self.values[key]

    @property
    def keys(self) -> list[str]:
        return list(self.values)

    def at(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """The 1-based epochs at which ``key`` was measured, and its values there."""
        mask = self.measured[key]
        return self.epochs[mask], self.values[key][mask]

    def to_frame(self):
        """A DataFrame: ``epoch`` (0-based, as CSVLogger), then ``Float64`` columns (``<NA>`` = not measured)."""
        import pandas as pd

        columns = {"epoch": self.epochs - 1}
        for key, values in self.values.items():
            columns[key] = pd.arrays.FloatingArray(values.copy(), ~self.measured[key])
        return pd.DataFrame(columns)

    def to_dict(self) -> dict[str, list[float]]:
        """The layout of Keras's ``history.history``: per key, the list of its measured values."""
        return {key: self.at(key)[1].tolist() for key in self.values}


# Building blocks ----------------------------------------------------------------------


def _finish(epochs, values, measured, source, notes) -> EpochHistory:
    """Check the epochs, read the 0.0000e+00 artefact as not measured, and freeze."""
    epochs = np.asarray(epochs)
    if len(epochs) == 0:
        raise ValueError(f"{source} is empty (no epochs): train for at least one epoch first.")
    if np.any(~np.isfinite(epochs.astype(float))) or np.any(epochs.astype(float) % 1 != 0) or np.any(epochs < 1):
        raise ValueError(f"the epoch numbers of {source} must be whole numbers >= 0. {received('epoch', epochs - 1)}")
    epochs = epochs.astype(int)
    if np.any(np.diff(epochs) <= 0):
        raise ValueError(f"the epoch numbers of {source} must increase. {received('epoch', epochs - 1)}")
    val_keys = [k for k in values if k.startswith("val_")]
    if val_keys:
        vals = np.stack([values[k] for k in val_keys])
        seen = np.stack([measured[k] for k in val_keys])
        zero = seen & (vals == 0.0)
        val_loss_zero = zero[val_keys.index("val_loss")] if "val_loss" in val_keys else np.zeros(len(epochs), bool)
        artefact = np.all(zero | ~seen, axis=0) & zero.any(axis=0) & ((~seen).any(axis=0) | val_loss_zero)
        if artefact.any():
            for row, key in enumerate(val_keys):
                measured[key] = measured[key] & ~(artefact & zero[row])
                values[key] = np.where(measured[key], values[key], np.nan)
            shown = ", ".join(str(e) for e in epochs[artefact][:5])
            notes = notes + (f"the val_* values 0.0000e+00 at epoch(s) {shown} were read as not measured: "
                             "that is what TensorFlow prints for an epoch without validation.",)
    return EpochHistory(epochs, values, measured, source, tuple(notes))


def _as_floats(values, where: str) -> tuple[np.ndarray, np.ndarray]:
    """A per-epoch list as (floats, measured): None is not measured; NaN stays a measured NaN.

    ``where`` names the list for messages, e.g. ``history['loss']``.
    """
    if isinstance(values, (str, bytes, dict)) or np.isscalar(values):
        raise TypeError(f"`{where}` must be a list of per-epoch values. {received(where, values)}")
    items = list(values)
    if any(np.ndim(v) > 0 for v in items if v is not None and not isinstance(v, str)):
        raise ValueError(f"`{where}` must be a flat list of per-epoch values (one number per epoch). "
                         f"{received(where, values)}")
    seen = np.array([v is not None for v in items], dtype=bool)
    try:
        floats = np.array([float(np.asarray(v)) if v is not None else np.nan for v in items], dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"`{where}` must hold numbers (one per epoch). {received(where, values)}") from None
    return floats, seen


def _item(source: str, key) -> str:
    """``history['loss']`` from the source "`history`" (or "the keras History") and a key."""
    return f"{source.strip('`')}[{key!r}]" if source.startswith("`") else f"{key!r} of {source}"


def _validated_epochs(epochs: np.ndarray, count: int, key: str, source: str, validation_freq) -> np.ndarray:
    """Where ``fit(validation_freq=...)`` put the ``count`` values of a shorter ``val_*`` list."""
    def should_eval(freq):  # Keras 3, Trainer._should_eval: 1-based epoch % freq == 0, or epoch in the list
        return np.isin(epochs, list(freq)) if isinstance(freq, (list, tuple)) else epochs % freq == 0

    if validation_freq is not None:
        is_int = isinstance(validation_freq, int) and not isinstance(validation_freq, bool)
        if not (is_int and validation_freq >= 1) and not (
            isinstance(validation_freq, (list, tuple)) and all(isinstance(e, int) for e in validation_freq)
        ):
            raise TypeError(f"`validation_freq` must be an int >= 1 or a list of 1-based epochs, as given to fit. "
                            f"{received('validation_freq', validation_freq)}")
        mask = should_eval(validation_freq)
        if mask.sum() != count:
            raise ValueError(f"{source}: {key!r} has {count} values, but validation_freq={validation_freq!r} validates "
                             f"{int(mask.sum())} of epochs {epochs[0]}-{epochs[-1]}.")
        return mask
    fits = [k for k in range(1, int(epochs[-1]) + 2) if (epochs % k == 0).sum() == count]
    if len(fits) == 1:
        return should_eval(fits[0])
    shown = f"{len(epochs)} epochs ({epochs[0]}-{epochs[-1]})"
    if not fits:
        raise ValueError(f"{source}: {key!r} has {count} values for {shown}, which no fit(validation_freq=k) "
                         "writes. Pass validation_freq=[the 1-based epochs that were validated].")
    options = "; ".join(f"k={k}: epochs {', '.join(map(str, epochs[epochs % k == 0][:4]))}" for k in fits[:4])
    raise ValueError(f"{source}: {key!r} has {count} values for {shown}; several fit(validation_freq=k) write that "
                     f"many ({options}). Say which: toolkit.history.read_history(history, validation_freq=k).")


def _from_lists(raw: dict, epochs, source: str, validation_freq) -> EpochHistory:
    """A dict of per-epoch lists (``history.history``), with val_* lists possibly shorter."""
    if not raw:
        raise ValueError(f"{source} is empty: train for at least one epoch first. "
                         f"{received(source.strip('`'), raw) if source.startswith('`') else ''}".rstrip())
    columns = {}
    for key, values in raw.items():
        if not isinstance(key, str):
            raise TypeError(f"the keys of {source} must be metric names (str). Received key {key!r}")
        columns[key] = _as_floats(values, _item(source, key))
    n = max((len(v[0]) for k, v in columns.items() if not k.startswith("val_")), default=0)
    n = n or max(len(v[0]) for v in columns.values())
    if epochs is None:
        epochs = np.arange(1, n + 1)
    elif len(epochs) != n:
        raise ValueError(f"{source} has {len(epochs)} epoch numbers for {n} epochs of values.")
    notes, values, measured = [], {}, {}
    for key, (floats, seen) in columns.items():
        if len(floats) == n:
            values[key], measured[key] = np.where(seen, floats, np.nan), seen
            continue
        if not key.startswith("val_") or len(floats) > n:
            raise ValueError(f"all entries of {source} must have one value per epoch (shorter val_* lists come from "
                             f"validation_freq); got lengths { {k: len(v[0]) for k, v in columns.items()} }")
        mask = _validated_epochs(epochs, len(floats), key, source, validation_freq)
        full, full_seen = np.full(n, np.nan), np.zeros(n, dtype=bool)
        full[mask], full_seen[mask] = floats, seen
        values[key], measured[key] = np.where(full_seen, full, np.nan), full_seen
        note = f"the val_* values were placed at the validated epochs {', '.join(map(str, epochs[mask][:6]))}" + (
            "…" if mask.sum() > 6 else "") + " (fit's validation_freq)."
        if note not in notes:
            notes.append(note)
    return _finish(epochs, values, measured, source, tuple(notes))


def from_epoch_logs(epochs, logs, *, source: str = "the logs of fit") -> EpochHistory:
    """A history from what a callback saw: 0-based epoch indices and each epoch's ``logs`` dict.

    A key missing from an epoch's logs (``val_*`` with ``validation_freq > 1``) is not measured.
    """
    keys = list(dict.fromkeys(k for row in logs for k in row))
    values, measured = {}, {}
    for key in keys:
        seen = np.array([key in row and row[key] is not None for row in logs], dtype=bool)
        values[key] = np.array([float(np.asarray(row[key])) if s else np.nan for row, s in zip(logs, seen)])
        measured[key] = seen
    return _finish(np.asarray(epochs, dtype=int) + 1, values, measured, source, ())


# Readers ----------------------------------------------------------------------------------


def _runs_of(source, name: str, validation_freq) -> list[EpochHistory]:
    import pandas as pd

    if isinstance(source, EpochHistory):
        return [source]
    if isinstance(source, (str, os.PathLike)):
        text = read_text(source, name)
        shown = f"file {os.fspath(source)!r}"
        if text.lstrip().startswith(("{", "[")):
            try:
                raw = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{shown} is not valid JSON ({exc}).") from None
            if isinstance(raw, list) and all(isinstance(r, dict) for r in raw):  # a list of per-epoch logs
                epochs = [int(r.get("epoch", i)) for i, r in enumerate(raw)]
                return [from_epoch_logs(epochs, [{k: v for k, v in r.items() if k != "epoch"} for r in raw],
                                        source=shown)]
            if not isinstance(raw, dict):
                raise ValueError(f"{shown} holds JSON, but not a dict of per-epoch lists (history.history).")
            return _dict_runs(raw, None, shown, validation_freq)
        runs = []
        for epochs0, values, measured in read_csv(text, shown):
            epochs = np.arange(1, len(next(iter(values.values()), [])) + 1) if epochs0 is None else epochs0 + 1
            runs.append(_finish(epochs, values, measured, shown, ()))
        return runs
    if isinstance(source, pd.DataFrame):
        shown = "the DataFrame"
        frame = source.reset_index(drop=True)
        columns = {}
        for key in frame.columns:
            column = frame[key]
            if pd.api.types.is_float_dtype(column.dtype) and isinstance(column.dtype, np.dtype):
                columns[str(key)] = (column.to_numpy(dtype=float), np.ones(len(column), dtype=bool))  # NaN = measured
            elif pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_bool_dtype(column.dtype):
                columns[str(key)] = (column.to_numpy(dtype=float, na_value=np.nan), ~column.isna().to_numpy())
            else:
                columns[str(key)] = parse_cells(column.tolist(), f"{shown} (column {key!r})")
        epochs0 = columns.pop("epoch")[0] if "epoch" in columns else None
        if epochs0 is None:
            return [_finish(np.arange(1, len(frame) + 1), *(_unzip(columns)), shown, ())]
        return [_finish(epochs0[p] + 1, *(_unzip(columns, p)), shown, ()) for p in split_runs(epochs0)]
    raw = getattr(source, "history", source)
    if not isinstance(raw, dict):
        raise TypeError(f"`{name}` must be a keras History or a dict of per-epoch lists (or a pandas DataFrame, or the "
                        f"path of a CSVLogger/JSON file). {received(name, source)}")
    epochs = getattr(source, "epoch", None) if raw is not source else None
    return _dict_runs(raw, epochs, "the keras History" if raw is not source else f"`{name}`", validation_freq)


def _unzip(columns: dict, part=slice(None)) -> tuple[dict, dict]:
    return {k: v[0][part] for k, v in columns.items()}, {k: v[1][part] for k, v in columns.items()}


def _dict_runs(raw: dict, epochs0, shown: str, validation_freq) -> list[EpochHistory]:
    """``history.history`` (and ``History.epoch``, or an ``epoch`` entry): one run, or the runs of an appended log."""
    raw = dict(raw)
    if "epoch" in raw and not isinstance(raw["epoch"], (int, float)):
        epochs0 = raw.pop("epoch")
    if epochs0 is not None:
        epochs0 = np.asarray(_as_floats(epochs0, _item(shown, "epoch"))[0])
        lengths = {len(v) for v in raw.values() if hasattr(v, "__len__")}
        if lengths == {len(epochs0)}:  # full-length lists: an appended log can be split
            return [_from_lists({k: list(v)[p] for k, v in raw.items()}, epochs0[p] + 1, shown, validation_freq)
                    for p in split_runs(epochs0)]
        return [_from_lists(raw, epochs0 + 1, shown, validation_freq)]
    return [_from_lists(raw, None, shown, validation_freq)]


def _check_loss(run: EpochHistory, require_loss: bool) -> EpochHistory:
    if require_loss and "loss" not in run:
        raise ValueError(f"{run.source} has no 'loss' key (the training loss); found {sorted(run.keys)}. "
                         "A model with its own train_step must log `loss` for this.")
    return run


def read_runs(source, *, name: str = "history", require_loss: bool = True, validation_freq=None) -> list[EpochHistory]:
    """Every run in ``source``, in order: a file appended to by several fits holds several.

    Args:
        source: a keras ``History``, a ``history.history`` dict, a pandas
            DataFrame, an :class:`EpochHistory`, or the path of a CSVLogger
            file or of a JSON dump of ``history.history``.
        name: the argument name for error messages.
        require_loss: refuse a run without a ``loss`` key.
        validation_freq: what was given to ``fit`` (an int, or a list of
            1-based epochs), to place shorter ``val_*`` lists when several
            settings could have written them.

    Returns:
        A list of :class:`EpochHistory`, one per run.

    Example:

    >>> for run in read_runs("history.csv"):   # CSVLogger(..., append=True) over two fits
    ...     print(run.epochs)
    """
    return [_check_loss(run, require_loss) for run in _runs_of(source, name, validation_freq)]


def read_history(source, *, name: str = "history", require_loss: bool = True, validation_freq=None) -> EpochHistory:
    """One run from ``source`` (see :func:`read_runs`); warns and returns the last when there are several.

    Example:

    >>> h = read_history(model.fit(x, y, validation_split=0.2, epochs=5, verbose=0))
    >>> h.to_frame()
    """
    runs = read_runs(source, name=name, require_loss=require_loss, validation_freq=validation_freq)
    if len(runs) > 1:
        spans = ", ".join(f"{r.epochs[0]}-{r.epochs[-1]}" for r in runs)
        warnings.warn(f"{runs[0].source} holds {len(runs)} runs (the epoch numbering restarts; epochs {spans}): "
                      "reading the last one. toolkit.history.read_runs() reads each.", UserWarning, stacklevel=2)
    return runs[-1]
