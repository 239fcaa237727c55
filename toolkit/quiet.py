"""Import TensorFlow without its C++ start-up chatter.

TensorFlow's C++ side writes lines like ``I0000 … port.cc] oneDNN custom
operations are on`` and ``E0000 … failed call to cuInit`` straight to file
descriptor 2 while it loads and when it first looks for a GPU. They come from
absl *before* ``absl::InitializeLog()`` runs, so ``TF_CPP_MIN_LOG_LEVEL=3``,
``GLOG_minloglevel`` and ``absl.logging`` do not hide them (tried with
TensorFlow 2.21). To a student they look like failures.

:func:`import_tensorflow` therefore imports TensorFlow and lists its devices
with descriptor 2 pointed at a temporary file, then writes back every line
that is not known start-up noise: real errors and Python warnings stay
visible. ``TF_ENABLE_ONEDNN_OPTS`` is left alone on purpose: switching oneDNN
off would change the numbers (and the speed) only to hide a message.

Example:

>>> from toolkit.quiet import import_tensorflow
>>> tf = import_tensorflow()
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile

#: An absl/glog line: severity, date, time, thread, file:line] message.
_ABSL = re.compile(r"^([IWEF])\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+ \S+:\d+\] ")

#: Warning/error lines that TensorFlow prints on every healthy start.
NOISE = (
    "All log messages before absl::InitializeLog() is called",
    "oneDNN custom operations are on",
    "Could not find cuda drivers",
    "failed call to cuInit",
    "Unable to register cuDNN factory",
    "Unable to register cuFFT factory",
    "Unable to register cuBLAS factory",
    "computation placer already registered",
    "This TensorFlow binary is optimized to use available CPU instructions",
    "To enable the following instructions:",
    "TF-TRT Warning: Could not find TensorRT",
)


def is_noise(line: str) -> bool:
    """True for TensorFlow's start-up chatter: informational absl lines and the known harmless ones."""
    match = _ABSL.match(line)
    if match and match.group(1) == "I":
        return True
    return any(part in line for part in NOISE)


@contextlib.contextmanager
def filtered_stderr():
    """Send file descriptor 2 to a temporary file, then write back what is not :func:`is_noise`."""
    try:
        saved = os.dup(2)
    except OSError:  # no descriptor 2 (a detached process): nothing to filter
        yield
        return
    sys.stderr.flush()
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = [ln for ln in captured.read().decode(errors="replace").splitlines() if not is_noise(ln)]
            if kept:
                print("\n".join(kept), file=sys.stderr)


_DONE: list[bool] = []


def import_tensorflow():
    """Return the ``tensorflow`` module, imported (and its devices listed) without the start-up noise."""
    if not _DONE:
        with filtered_stderr():
            import tensorflow as tf

            tf.config.list_physical_devices("GPU")  # the CUDA probe: "failed call to cuInit" comes here
        _DONE.append(True)
    import tensorflow as tf

    return tf
