"""The course's lecture notebooks on disk: which ones to run, where outputs may go.

Lectures are the ``NN_name.ipynb`` files of a folder, in the order of ``NN``.
:func:`select_lectures` turns the ``--only`` values of ``python -m toolkit run``
into paths, and :func:`check_out_dir` refuses an output folder that cannot be
used, both before anything runs and with a one-line ``ValueError``.
:func:`write_atomic` writes a file so that readers see the old or the new
contents, never half of it.

Example:
    >>> select_lectures("notebooks", ["1", "05_lr_schedules"])  # doctest: +SKIP
    [PosixPath('notebooks/01_perceptron.ipynb'), PosixPath('notebooks/05_lr_schedules.ipynb')]
"""

from __future__ import annotations

import os
import pathlib
import tempfile

from toolkit.validation import received

PATTERN = "[0-9][0-9]_*.ipynb"


def lectures(notebooks_dir) -> list[pathlib.Path]:
    """Every ``NN_name.ipynb`` in ``notebooks_dir``, in lecture order."""
    notebooks_dir = pathlib.Path(notebooks_dir)
    if not notebooks_dir.is_dir():
        why = "is not a folder" if notebooks_dir.exists() else "does not exist"
        raise ValueError(f"`notebooks_dir` must be a folder of notebooks; it {why}. {received('notebooks_dir', str(notebooks_dir))}")
    paths = sorted(notebooks_dir.glob(PATTERN))
    if not paths:
        raise ValueError(
            f"`notebooks_dir` holds no lecture notebooks (files named like 01_name.ipynb). "
            f"{received('notebooks_dir', str(notebooks_dir))}"
        )
    return paths


def select_lectures(notebooks_dir, only=None) -> list[pathlib.Path]:
    """The lectures named by ``only`` (all when ``None``), in lecture order.

    Each value is a lecture number (``1`` or ``01``) or a notebook name, with or
    without ``.ipynb`` (``01_perceptron``, ``01_perceptron.ipynb``). Anything
    else (``99``, ``nope``, a prefix such as ``01_per``) raises ``ValueError``.
    """
    paths = lectures(notebooks_dir)
    if only is None:
        return paths
    if isinstance(only, str):
        only = [only]
    by_number = {int(p.name[:2]): p for p in paths}
    by_name = {p.stem: p for p in paths}
    chosen = set()
    for value in only:
        text = str(value).strip().removesuffix(".ipynb")
        path = by_number.get(int(text)) if text.isdigit() else by_name.get(text)
        if path is None:
            numbers = f"{paths[0].name[:2]}…{paths[-1].name[:2]}"
            raise ValueError(
                f"`only` must name lectures of {notebooks_dir}: a number ({numbers}, or without the leading 0) "
                f"or a notebook name such as {paths[0].stem}. {received('only', value)}"
            )
        chosen.add(path)
    if not chosen:
        raise ValueError(f"`only` names no lecture. {received('only', only)}")
    return [p for p in paths if p in chosen]


def check_out_dir(out_dir, notebooks_dir) -> pathlib.Path:
    """Create ``out_dir`` if needed and make sure it can take the run's files.

    Refused: a file, the notebooks folder itself (its notebooks would be
    overwritten), and a folder that cannot be created or written.
    """
    out_dir = pathlib.Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"`out_dir` must be a folder, and this is a file. {received('out_dir', str(out_dir))}")
    if out_dir.resolve() == pathlib.Path(notebooks_dir).resolve():
        raise ValueError(
            f"`out_dir` must not be the notebooks folder: the executed notebooks would overwrite the lectures. "
            f"{received('out_dir', str(out_dir))}"
        )
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out_dir):
            pass
    except OSError as exc:
        raise ValueError(
            f"`out_dir` must be a folder you can write to ({exc.strerror or exc}). {received('out_dir', str(out_dir))}"
        ) from None
    return out_dir


def write_atomic(path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and ``os.replace``."""
    path = pathlib.Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o644)  # mkstemp's 0o600 would hide the outputs from other users
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise
