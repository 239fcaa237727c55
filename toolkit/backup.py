"""Where ``keras.callbacks.BackupAndRestore`` keeps its state.

On Colab the virtual machine's disk is gone after a disconnect, and a backup
there cannot resume anything. :func:`backup_dir` therefore returns a folder
on Google Drive when Drive is mounted (``drive.mount("/content/drive")``),
and says so; elsewhere a folder next to the notebook.

Example:

>>> callbacks = [keras.callbacks.BackupAndRestore(backup_dir("02_mnist_cnn"))]
"""

from __future__ import annotations

import os
import pathlib
import re

from toolkit.environment import where
from toolkit.validation import received

#: Where Colab mounts "My Drive".
DRIVE = pathlib.Path("/content/drive/MyDrive")
#: The course's folder on Drive.
DRIVE_FOLDER = "training-deep-networks-backups"


def backup_dir(name: str, *, drive=DRIVE, on_colab: bool | None = None, quiet: bool = False) -> str:
    """The folder for ``BackupAndRestore``: on Google Drive when Colab has it mounted.

    Args:
        name: one folder name per notebook, e.g. "02_mnist_cnn" (letters, digits, ``._-``).
        drive: the mounted "My Drive" folder (a test passes a temporary one).
        on_colab: override the Colab detection (default: :func:`~toolkit.environment.where`).
        quiet: do not print where the backup goes.

    Returns:
        ``<drive>/training-deep-networks-backups/<name>`` on Colab with Drive
        mounted, else ``backup_<name>`` (relative to the notebook).
    """
    if not isinstance(name, str) or not re.fullmatch(r"[\w.-]+", name):
        raise ValueError(f"`name` must be a folder name (letters, digits, '.', '_', '-'). {received('name', name)}")
    colab = where() == "colab" if on_colab is None else on_colab
    drive = pathlib.Path(drive)
    if colab and drive.is_dir():
        folder = str(drive / DRIVE_FOLDER / name)
        message = f"Backups go to Google Drive: {folder} (they survive a disconnect)."
    else:
        folder = f"backup_{name}"
        message = (f"Backups go to {os.path.abspath(folder)}"
                   + (" on this VM, lost after a disconnect: to keep them, run "
                      "`from google.colab import drive; drive.mount('/content/drive')` first." if colab else "."))
    if not quiet:
        print(message)
    return folder
