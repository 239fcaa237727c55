"""Plots that explain training. Each function draws on the ``ax`` it is given
or creates a figure only when none is given, and returns what it drew on.

Add a new plot as its own module here and export it below.
"""

from toolkit.plots.confusion import plot_confusion_matrix
from toolkit.plots.history import plot_history
from toolkit.plots.images import plot_images

__all__ = ["plot_confusion_matrix", "plot_history", "plot_images"]
