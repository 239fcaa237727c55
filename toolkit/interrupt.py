"""Stop a run of notebooks at the first SIGINT (Ctrl-C) or SIGTERM, cleanly.

nbclient's own handlers only kill the kernel when a signal arrives, so the
cell fails and the next notebook starts. :class:`Stop` instead remembers the
first signal and cancels the execution; the caller records the notebook as
"interrupted" and stops. Later signals are ignored while the run winds down.

Example:
    >>> stop = Stop()
    >>> old = stop.install()  # doctest: +SKIP
    >>> client.on_notebook_start = stop.watch(client)  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import signal
import threading

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stop:
    """Remembers the first SIGINT/SIGTERM of a run; later ones are ignored while it winds down."""

    def __init__(self):
        self.signum = None

    def install(self) -> dict:
        """Take over SIGINT and SIGTERM for this process; return the old handlers."""
        if threading.current_thread() is not threading.main_thread():
            return {}
        return {sig: signal.signal(sig, self._raise) for sig in SIGNALS}

    def _raise(self, signum, frame):
        if self.signum is None:
            self.signum = signum
            raise KeyboardInterrupt

    def watch(self, client):
        """An ``on_notebook_start`` hook: while the kernel runs, a signal cancels the execution."""

        def hook(notebook=None):
            task, loop = asyncio.current_task(), asyncio.get_running_loop()

            def on_signal(signum):
                if self.signum is None:
                    self.signum = signum
                    client.shutdown_kernel = "immediate"
                    task.cancel()

            for sig in SIGNALS:  # replaces nbclient's own handlers, which only kill the kernel
                try:
                    loop.add_signal_handler(sig, on_signal, sig)
                except (RuntimeError, NotImplementedError, ValueError):  # not the main thread, Windows
                    pass

        return hook

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name if self.signum else "a signal"
