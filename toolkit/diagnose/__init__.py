"""The training doctor: read a run the way the lecture "Diagnosing problems
and implementing solutions for DNN training" reads loss curves and confusion
matrices, and say what is wrong, with the run's numbers and the remedies.

* :func:`diagnose` (history, confusion matrix) -> :class:`Diagnosis`
* :func:`diagnose_confusion` reads a confusion matrix alone
* :class:`TrainingDoctor`, a Keras callback that watches ``fit``, stops it on
  NaN or divergence and prints the diagnosis (imported on first use, so that
  ``python -m toolkit doctor`` does not load TensorFlow).
* :func:`read_history_csv` reads a ``CSVLogger`` file.
* :func:`prescribe` tries the remedies of each finding on short runs, on a time
  budget, and ranks them by what they measurably did (imported on first use too).

Example:

>>> from toolkit.diagnose import diagnose
>>> report = diagnose(model.fit(x, y, validation_split=0.2, epochs=20, verbose=0))
>>> report.problems
"""

from toolkit.diagnose.engine import diagnose, diagnose_confusion
from toolkit.diagnose.findings import SEVERITIES, VOCABULARY, Diagnosis, Finding
from toolkit.diagnose.history_csv import read_history_csv
from toolkit.diagnose.remedies import REMEDIES

__all__ = [
    "REMEDIES", "SEVERITIES", "VOCABULARY", "Diagnosis", "Finding", "TrainingDoctor", "diagnose", "diagnose_confusion",
    "prescribe", "read_history_csv",
]


def __getattr__(name):
    if name == "TrainingDoctor":
        from toolkit.diagnose.doctor import TrainingDoctor

        return TrainingDoctor
    if name == "prescribe":
        from toolkit.diagnose.prescribing import prescribe

        return prescribe
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
