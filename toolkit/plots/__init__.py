"""Plots that explain training, in scikit-learn's Display pattern.

Every ``plot_xxx(...)`` function returns a ``XxxDisplay``: its ``from_...``
classmethod computes what to draw, and ``plot(*, ax=None)`` draws on the
Axes given (a figure is created only when none is given) and returns the
Display, with ``ax_`` (the first Axes), ``axes_`` (all of them, an array)
and ``figure_``. See :mod:`toolkit.plots._figure`.

Add a new plot as its own module here and export it below.
"""

from toolkit.plots._figure import Display
from toolkit.plots.augmentations import AugmentationDisplay, plot_augmentations
from toolkit.plots.confusion import ConfusionMatrixDisplay, plot_confusion_matrix
from toolkit.plots.decision_boundary import DecisionBoundaryDisplay, plot_decision_boundary
from toolkit.plots.history import HistoryDisplay, plot_history
from toolkit.plots.images import ImageGridDisplay, plot_images
from toolkit.plots.layer_stats import LayerStatsDisplay, plot_layer_stats
from toolkit.plots.lr import LRFinderDisplay, ScheduleDisplay, plot_lr_finder, plot_schedule
from toolkit.plots.optimizer_paths import OptimizerPathsDisplay, plot_optimizer_paths

__all__ = [
    "AugmentationDisplay",
    "ConfusionMatrixDisplay",
    "DecisionBoundaryDisplay",
    "Display",
    "HistoryDisplay",
    "ImageGridDisplay",
    "LRFinderDisplay",
    "LayerStatsDisplay",
    "OptimizerPathsDisplay",
    "ScheduleDisplay",
    "plot_augmentations",
    "plot_confusion_matrix",
    "plot_decision_boundary",
    "plot_history",
    "plot_images",
    "plot_layer_stats",
    "plot_lr_finder",
    "plot_optimizer_paths",
    "plot_schedule",
]
