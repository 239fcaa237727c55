"""Auto-checked exercises: one ``check_<name>(answer)`` function per exercise.

Each lecture's checkers live in their own module (``toolkit.exercises.perceptron``
for notebook 01, ...) and are re-exported here. Every checker returns a
:class:`~toolkit.exercises.feedback.Feedback` that shows as ✓ or ✗ with a hint,
never raises on a wrong or missing answer, and never prints the solution.
"""

from toolkit.exercises.feedback import Feedback, checker, is_placeholder
from toolkit.exercises.lr_schedules import check_exponential_decay, check_lr_from_finder, check_onecycle_total_steps

__all__ = ["Feedback", "checker", "is_placeholder", "check_exponential_decay", "check_lr_from_finder", "check_onecycle_total_steps"]
