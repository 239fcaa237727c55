"""Plots that explain training. Each function draws on the ``ax`` it is given
or creates a figure only when none is given, and returns what it drew on.

Add a new plot as its own module here and export it below.
"""

from toolkit.plots.augmentations import plot_augmentations
from toolkit.plots.confusion import plot_confusion_matrix
from toolkit.plots.decision_boundary import plot_decision_boundary
from toolkit.plots.history import plot_history
from toolkit.plots.images import plot_images
from toolkit.plots.layer_stats import plot_layer_stats
from toolkit.plots.optimizer_paths import plot_optimizer_paths
from toolkit.plots.lr import plot_lr_finder, plot_schedule

__all__ = ["plot_augmentations", "plot_confusion_matrix", "plot_decision_boundary", "plot_history", "plot_images", "plot_layer_stats", "plot_optimizer_paths", "plot_lr_finder", "plot_schedule"]
