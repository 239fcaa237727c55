"""Keras callbacks that make training visible. One concept per module.

Monitors write their numbers into the epoch ``logs`` so that ``History``,
``CSVLogger`` and the plots see them like any metric. Use them beside Keras's
own callbacks (EarlyStopping, ModelCheckpoint, ReduceLROnPlateau,
BackupAndRestore, TerminateOnNaN), which the toolkit never rewrites.
"""

from toolkit.callbacks.activation_monitor import ActivationMonitor
from toolkit.callbacks.epoch_timer import EpochTimer
from toolkit.callbacks.gradient_monitor import GradientMonitor
from toolkit.callbacks.learning_rate_logger import LearningRateLogger
from toolkit.callbacks.live_history_plot import LiveHistoryPlot
from toolkit.callbacks.lr_finder import LRFinder

__all__ = ["ActivationMonitor", "GradientMonitor", "EpochTimer", "LiveHistoryPlot", "LearningRateLogger", "LRFinder", "TrainingDoctor"]


def __getattr__(name):
    # TrainingDoctor lives in toolkit.diagnose, which sits above the callbacks: import it on first use only.
    if name == "TrainingDoctor":
        from toolkit.diagnose.doctor import TrainingDoctor

        return TrainingDoctor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
