"""Keras callbacks that make training visible. One concept per module.

Monitors write their numbers into the epoch ``logs`` so that ``History``,
``CSVLogger`` and the plots see them like any metric. Use them beside Keras's
own callbacks (EarlyStopping, ModelCheckpoint, ReduceLROnPlateau,
BackupAndRestore, TerminateOnNaN), which the toolkit never rewrites.
"""

from toolkit.callbacks.epoch_timer import EpochTimer
from toolkit.callbacks.live_history_plot import LiveHistoryPlot

__all__ = ["EpochTimer", "LiveHistoryPlot"]
