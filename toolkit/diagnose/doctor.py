"""TrainingDoctor: a Keras callback that watches fit, stops a broken run and says why."""

from __future__ import annotations

import math

import keras
import numpy as np

from toolkit.diagnose.curves import CHANCE_DIVERGE, EXPLODE_FACTOR
from toolkit.diagnose.engine import diagnose
from toolkit.diagnose.findings import Diagnosis
from toolkit.diagnose.remedies import finding
from toolkit.diagnose.run import num, times
from toolkit.diagnose.snapshot import Snapshot, non_finite_layer
from toolkit.validation import check_array, check_labels, check_same_length, received

#: Batch rules wait this many batches: a running mean of fewer is one unlucky batch away from anything.
BATCH_WARMUP = 5
#: Within an epoch, a running-mean loss 1.5x its lowest value so far is climbing, not settling.
BATCH_RISING = 1.5


def num_classes_of(model) -> int | None:
    """k for a classifier trained with a cross-entropy (one sigmoid unit: 2 classes); None otherwise."""
    loss = getattr(model, "loss", None)
    name = loss if isinstance(loss, str) else getattr(loss, "name", None) or getattr(loss, "__name__", "")
    if "crossentropy" not in str(name).lower():
        return None
    try:
        width = model.outputs[0].shape[-1]
    except (AttributeError, IndexError, ValueError, TypeError):
        return None
    return None if width is None else 2 if width == 1 else int(width)


class TrainingDoctor(keras.callbacks.Callback):
    """Watch a training run, stop it when it breaks, and print the diagnosis.

    After every batch the doctor looks at the loss: NaN or inf stops training
    at once, within the epoch (as ``TerminateOnNaN`` does), and so does a
    running-mean loss that climbs to 3x the loss of guessing or 10x the best
    epoch's. After every epoch it runs :func:`toolkit.diagnose.diagnose` on
    the epochs so far: clear divergence (a ``diverging`` finding of severity
    high: the loss jumped 10x above its best, doubled from its minimum, or
    sits at 3x the loss of guessing) and NaN/inf in the weights stop training
    too; a milder climb is only reported. On a stop it restores the last good
    state (the weights and optimizer state of the epoch with the lowest loss,
    or those training started from), so the model is usable again. At the end
    of training it prints the full diagnosis, with the confusion matrix of
    ``validation_data`` when given. ``TerminateOnNaN`` alone stops silently;
    the doctor says why, and what to try.

    State is reset in ``on_train_begin``, so one doctor can watch several
    fits; a resumed fit (``initial_epoch``, ``BackupAndRestore``) is
    diagnosed from the epoch it resumed at, with the real epoch numbers.
    The monitors' keys (``GradientMonitor``, ``ActivationMonitor``) are read
    whatever the order of the callbacks.

    Args:
        validation_data: optional ``(x, y)`` to build a confusion matrix from
            at the end of training (labels or one-hot rows).
        stop_on_divergence: stop training on NaN/inf or clear divergence.
            With False the doctor only reports.
        verbose: print the stop message and the final diagnosis.

    Attributes:
        diagnosis: the latest :class:`~toolkit.diagnose.Diagnosis` (None
            before the first epoch ends).
        stopped_epoch: the 1-based epoch training was stopped in, or None.
        stop_reason: ``"nan"`` or ``"diverging"`` after a stop, else None.
        history: the per-epoch logs the doctor saw, as a dict of lists.
        epochs: their 0-based epoch indices, as ``History.epoch``.

    Example:

    >>> doctor = TrainingDoctor(validation_data=(x_val, y_val))
    >>> model.fit(x, y, validation_data=(x_val, y_val), epochs=20, verbose=0, callbacks=[doctor])
    >>> doctor.diagnosis.problems
    """

    def __init__(self, *, validation_data=None, stop_on_divergence: bool = True, verbose: bool = True):
        super().__init__()
        for name, value in (("stop_on_divergence", stop_on_divergence), ("verbose", verbose)):
            if not isinstance(value, bool):
                raise TypeError(f"`{name}` must be True or False. {received(name, value)}")
        self.validation_data = None
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise TypeError(f"`validation_data` must be a pair (x, y) of arrays. {received('validation_data', validation_data)}")
            x = check_array("validation_data[0] (x)", validation_data[0])
            y = check_labels("validation_data[1] (y)", validation_data[1])
            check_same_length(x=x, y=y)
            self.validation_data = (x, y)
        self.stop_on_divergence = stop_on_divergence
        self.verbose = verbose
        self._reset()

    def _reset(self):
        self.diagnosis = self.stopped_epoch = self.stop_reason = None
        self.history, self.epochs = {}, []
        self._logs: list[dict] = []
        self._best_loss = math.inf
        self._epoch, self._batch_low = 0, math.inf
        self._bad_weights = ""
        self._good, self._k = None, None

    # Keras hooks --------------------------------------------------------------------------

    def on_train_begin(self, logs=None):
        self._reset()
        self._k = num_classes_of(self.model)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch, self._batch_low = epoch, math.inf
        if self._good is None:
            # The first good state is taken here, not in on_train_begin: a BackupAndRestore listed after
            # the doctor restores the interrupted run's weights in its own on_train_begin, after ours.
            self._good = Snapshot(self.model)

    def on_train_batch_end(self, batch, logs=None):
        """Stop on a NaN/inf loss, or a running-mean loss that explodes or climbs far above guessing."""
        if not self.stop_on_divergence or self.stop_reason or not logs or "loss" not in logs:
            return
        loss = float(np.asarray(logs["loss"]))  # Keras reports the mean of the epoch's batches so far
        if not math.isfinite(loss):
            return self._stop("nan", f"the loss became {loss} at batch {batch + 1}")
        self._batch_low = min(self._batch_low, loss)
        if self.params and batch + 1 == self.params.get("steps") and self._weights_poisoned():
            # the epoch's last batch, before any callback's on_epoch_end (a ModelCheckpoint would save them)
            return self._stop("nan", self._bad_weights.split(",")[0])
        if batch + 1 < BATCH_WARMUP:
            return
        chance = math.log(self._k) if self._k else None
        if chance and loss >= CHANCE_DIVERGE * chance and loss >= BATCH_RISING * self._batch_low:
            self._stop("diverging", f"at batch {batch + 1} the epoch's mean loss climbed to {num(loss)}, "
                       f"{times(loss / chance)} the loss of guessing among {self._k} classes (ln {self._k} = {num(chance)})")
        elif math.isfinite(self._best_loss) and loss >= EXPLODE_FACTOR * self._best_loss:
            self._stop("diverging", f"at batch {batch + 1} the epoch's mean loss climbed to {num(loss)}, "
                       f"{times(loss / self._best_loss)} the best epoch's loss ({num(self._best_loss)})")

    def on_epoch_end(self, epoch, logs=None):
        if logs is None or "loss" not in logs:
            return
        self._logs.append(logs)  # the same dict the callbacks after us still write into
        self.epochs.append(epoch)
        loss = float(np.asarray(logs["loss"]))
        if not self.stop_reason and math.isfinite(loss):
            self._weights_poisoned()  # when the number of steps is unknown, the last-batch check could not run
        self.diagnosis = self._diagnose()
        if self.stop_reason or not self.stop_on_divergence:
            return
        for problem in ("nan", "diverging"):  # clear divergence only: a milder climb is reported, not stopped
            if problem in self.diagnosis and self.diagnosis[problem].severity == "high":
                return self._stop(problem, self.diagnosis[problem].evidence.split(";")[0].rstrip("."))
        if math.isfinite(loss) and loss < self._best_loss:
            self._best_loss, self._good = loss, Snapshot(self.model)

    def on_train_end(self, logs=None):
        if not self._logs:
            return
        # After a stop the weights are a restored snapshot: their confusion matrix says nothing about the run.
        self.diagnosis = self._diagnose(self._confusion() if self.stop_reason is None else None)
        if self.stop_reason and self.validation_data is not None:
            notes = [n for n in self.diagnosis.notes if not n.startswith("no confusion matrix")]
            self.diagnosis.notes = ["training was stopped, so no confusion matrix was built."] + notes
        if self.verbose:
            print(self.diagnosis)

    # Helpers ------------------------------------------------------------------------------

    def _weights_poisoned(self) -> bool:
        """NaN/inf in the weights, which ReLU can hide from the loss (it turns NaN into 0)."""
        layer = non_finite_layer(self.model)
        if layer:
            self._bad_weights = (f"the weights of layer {layer!r} hold NaN/inf in epoch {self._epoch + 1}, although "
                                 "the loss is still finite: a NaN/inf input or an overflow has poisoned them.")
        return bool(layer)

    def _stop(self, reason: str, message: str):
        self.stop_reason, self.stopped_epoch = reason, self._epoch + 1
        self.model.stop_training = True
        if self._good is not None:
            self._good.restore(self.model)
        where = "the start of training" if self._best_loss == math.inf else "the best epoch so far"
        if self.verbose:
            print(f"TrainingDoctor stopped training in epoch {self.stopped_epoch}: {message}. "
                  f"Restored the weights and optimizer state of {where}.")

    def _diagnose(self, confusion=None):
        """Diagnose the logs of every epoch so far (read late: monitors may write after the doctor)."""
        keys = list(dict.fromkeys(k for logs in self._logs for k in logs))
        history = {"epoch": [float(e) for e in self.epochs]}
        history.update({k: [float(np.asarray(logs.get(k, np.nan))) for logs in self._logs] for k in keys})
        self.history = {k: v for k, v in history.items() if k != "epoch"}
        report = diagnose(history, confusion=confusion, num_classes=None if confusion is not None else self._k)
        if self._bad_weights and "nan" not in report:
            findings = [f for f in report if f.problem != "healthy"] + [finding("nan", "high", self._bad_weights)]
            report = Diagnosis(findings, notes=report.notes, epochs=report.epochs)
        return report

    def _confusion(self):
        if self.validation_data is None:
            return None
        from toolkit.metrics import classification_summary

        x, y = self.validation_data
        # Called directly, not through predict(): a new predict function per model makes TF warn about retracing.
        scores = np.concatenate([keras.ops.convert_to_numpy(self.model(x[i:i + 1024], training=False))
                                 for i in range(0, len(x), 1024)])
        if not np.all(np.isfinite(scores)):
            return None
        if scores.ndim == 2 and scores.shape[1] == 1:  # one sigmoid unit
            scores = np.concatenate([1 - scores, scores], axis=1)
        k = max(scores.shape[1] if scores.ndim == 2 else 2, int(y.max()) + 1)
        return classification_summary(y, scores, class_names=list(range(k))).confusion
