"""Auto-checked exercises: one ``check_<name>(answer)`` function per exercise.

Each lecture's checkers live in their own module (``toolkit.exercises.perceptron``
for notebook 01, ...) and are re-exported here. Every checker returns a
:class:`~toolkit.exercises.feedback.Feedback` that shows as ✓ or ✗ with a hint,
never raises on a wrong or missing answer, and never prints the solution.
"""

from toolkit.exercises.feedback import Feedback, checker, is_placeholder
from toolkit.exercises.initialization import check_bn_high_lr, check_conv_he_std, check_he_std, check_initializer_choice
from toolkit.exercises.optimizers import check_adagrad_step, check_adam_step, check_momentum_escape
from toolkit.exercises.diagnosing import check_avoided_class, check_class_weights, check_name_the_problem
from toolkit.exercises.mnist_cnn import check_conv_params, check_precision_recall, check_threshold_prediction
from toolkit.exercises.perceptron import check_learning_rate_prediction, check_neuron_output, check_perceptron_update
from toolkit.exercises.lr_schedules import (
    check_exponential_decay,
    check_large_batch_lr,
    check_lr_from_finder,
    check_onecycle_total_steps,
)
from toolkit.exercises.regularization import check_early_stopping, check_l2_layer, check_l2_penalty
from toolkit.exercises.transfer import check_digit_augmentation, check_frozen_backbone, check_soft_targets

__all__ = ["Feedback", "checker", "is_placeholder", "check_l2_layer", "check_l2_penalty", "check_early_stopping", "check_frozen_backbone", "check_digit_augmentation", "check_soft_targets", "check_he_std", "check_conv_he_std", "check_initializer_choice", "check_bn_high_lr", "check_adam_step", "check_adagrad_step", "check_momentum_escape", "check_exponential_decay", "check_lr_from_finder", "check_onecycle_total_steps", "check_large_batch_lr", "check_name_the_problem", "check_avoided_class", "check_class_weights", "check_conv_params", "check_precision_recall", "check_neuron_output", "check_perceptron_update", "check_learning_rate_prediction", "check_threshold_prediction"]
