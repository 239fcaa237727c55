"""toolkit: the small helper package of the course "Training deep networks and
diagnosing what goes wrong".

It holds only what Keras, scikit-learn, matplotlib and tqdm do not already do
well: offline-safe data loaders, training monitors, plots and the training
doctor. Modules depend on each other in one direction only::

    runtime  <-  data / models  <-  callbacks / schedules / plots / metrics  <-  diagnose

Import the submodule you need, e.g. ``from toolkit.plots import plot_history``.
"""

import os as _os

# Keep TensorFlow's C++ start-up chatter out of notebooks and CI logs.
# A user who has set the variable keeps their own value.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"

#: The one place that names the course's public repository. Colab badges,
#: the Colab install cell, pyproject.toml and the README are checked against
#: it by ``tests/test_notebooks_lint.py``.
REPOSITORY = "deep-learning-course/training-deep-networks"
REPOSITORY_URL = f"https://github.com/{REPOSITORY}"
