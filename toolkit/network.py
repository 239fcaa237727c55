"""Online or offline: can this machine download the course's data?

* :func:`is_offline` is true when ``TOOLKIT_OFFLINE`` is set or no download
  host answers; the loaders then fall back to data that packages ship.
* :func:`network_available` probes the Keras/tfds download host once per
  process, in a daemon thread that gives up after a timeout, so a dead
  network can never hang a notebook.

Example:

>>> from toolkit.network import is_offline
>>> source = "packaged sample" if is_offline() else "full download"
"""

from __future__ import annotations

import os
import socket
import threading

_TRUE = {"1", "true", "yes", "on"}


def _env_flag(name: str) -> bool:
    """True when the environment variable ``name`` is 1/true/yes/on."""
    return os.environ.get(name, "").strip().lower() in _TRUE


def is_offline() -> bool:
    """True when ``TOOLKIT_OFFLINE`` is set or no download host answers."""
    return _env_flag("TOOLKIT_OFFLINE") or not network_available()


_NETWORK: dict[str, bool] = {}
_PROBE_HOST = ("storage.googleapis.com", 443)


def network_available(timeout: float = 3.0) -> bool:
    """Return whether the Keras/tfds download host can be reached.

    The probe runs in a daemon thread and gives up after ``timeout`` seconds,
    so a dead network (DNS that never answers, a black-holed route) can never
    hang a notebook. The answer is cached for the process.
    """
    if "ok" in _NETWORK:
        return _NETWORK["ok"]
    result = {"ok": False}

    def probe():
        try:
            with socket.create_connection(_PROBE_HOST, timeout=timeout):
                result["ok"] = True
        except OSError:
            pass

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout)
    _NETWORK["ok"] = result["ok"]
    return result["ok"]
