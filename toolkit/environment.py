"""What a notebook runs on, in a few lines at its top.

:func:`describe_environment` is the last line of every notebook's setup
cell. Its first line says the mode (fast or full), why, and how to switch;
then the versions, the devices and the strategy that :func:`~toolkit.hardware.strategy`
will pick (named, not created), where it runs and whether it is online. When
an installed version is outside the supported range, or pip replaced a
package this session had already imported, one more line says what to do.

Example:

>>> ENV = describe_environment()
Mode: fast (auto: no GPU or TPU found): small data, few epochs, same lessons. To switch, ...
"""

from __future__ import annotations

import os
import platform
import sys

from toolkit import hardware, mode, network, versions
from toolkit.quiet import import_tensorflow


def where() -> str:
    """'colab', 'kaggle' or 'local'."""
    if "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ:
        return "colab"
    if "KAGGLE_KERNEL_RUN_TYPE" in os.environ:
        return "kaggle"
    return "local"


def describe_environment(*, file=None) -> dict:
    """Print a compact report of what this notebook runs on, and return it.

    Args:
        file: where to print (default: standard output).

    Returns:
        A dict with the versions, devices, place, mode and its reason,
        network, strategy name, and the version problems found (if any).
    """
    current = mode.current()  # first: a refused TOOLKIT_MODE stops here, in one line
    tf = import_tensorflow()
    import keras

    gpu_names = hardware.gpu_names()
    devices = [dev.name for kind in ("TPU", "GPU") for dev in tf.config.list_logical_devices(kind)]
    wrong, stale = versions.out_of_range(), versions.stale_imports()
    shell = "%pip" if "IPython" in sys.modules else f"{os.path.basename(sys.executable)} -m pip"
    info = {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "cpu_count": os.cpu_count(),
        "gpus": gpu_names,
        "devices": devices or ["CPU"],
        "where": where(),
        "mode": current.name,
        "mode_reason": current.reason,
        "online": not network.is_offline(),
        "strategy": hardware.planned_strategy(),
        "unsupported": [f"{r.name} {found or 'missing'} (needs {r.specifier})" for r, found in wrong],
        "restart_needed": bool(stale),
    }
    lines = [
        current.line(),
        f"Python {info['python']} | TensorFlow {info['tensorflow']} | Keras {info['keras']} ({info['backend']})",
        f"Devices: {', '.join(gpu_names) if gpu_names else 'CPU only'} ({info['cpu_count']} CPU cores)"
        f" | strategy: {info['strategy']}",
        f"Running on: {info['where']} | network: {'online' if info['online'] else 'offline (packaged data will be used)'}",
    ]
    lines += [line for line in (versions.fix_line(wrong, pip=shell), versions.restart_line(stale)) if line]
    print("\n".join(lines), file=file or sys.stdout)
    return info
