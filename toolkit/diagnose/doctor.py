"""TrainingDoctor: a Keras callback that watches fit, stops a broken run and says why."""

from __future__ import annotations

import math
import warnings

import keras
import numpy as np

from toolkit.diagnose.curves import CHANCE_DIVERGE, EXPLODE_FACTOR
from toolkit.diagnose.engine import diagnose
from toolkit.diagnose.findings import Diagnosis
from toolkit.diagnose.remedies import finding
from toolkit.diagnose.remedy_trials import prescribe_hint
from toolkit.diagnose.run import num, times
from toolkit.diagnose.snapshot import Snapshot, all_finite, non_finite_layer
from toolkit.history import from_epoch_logs
from toolkit.labels import class_indices
from toolkit.validation import check_array, check_same_length, is_text, received

#: Batch rules wait this many batches: a running mean of fewer is one unlucky batch away from anything.
BATCH_WARMUP = 5
#: Within an epoch, a running-mean loss 1.5x its lowest value so far is climbing, not settling.
BATCH_RISING = 1.5


def _loss_name(loss) -> str:
    return str(loss if isinstance(loss, str) else getattr(loss, "name", None) or getattr(loss, "__name__", "")).lower()


def output_losses(model) -> list[tuple[str, object, int | None]]:
    """``(output name, its loss, its last-axis width)`` for each output of a compiled model ([] when unknown)."""
    try:
        outputs = list(model.outputs)
    except (AttributeError, ValueError, TypeError):
        outputs = None
    if not outputs:
        # A subclassed model (or a compute_loss override) has no symbolic outputs: one output of unknown width.
        loss = getattr(model, "loss", None)
        return [] if isinstance(loss, (dict, list, tuple)) else [("output", loss, None)]
    names = list(getattr(model, "output_names", None) or [getattr(o, "name", str(i)) for i, o in enumerate(outputs)])
    loss = getattr(model, "loss", None)
    if isinstance(loss, dict):
        per = [loss.get(name) for name in names]
    elif isinstance(loss, (list, tuple)):
        per = list(loss) + [None] * (len(outputs) - len(loss))
    else:
        per = [loss] * len(outputs)  # Keras applies one loss to every output
    widths = []
    for out in outputs:
        try:
            widths.append(out.shape[-1])
        except (AttributeError, IndexError, TypeError):
            widths.append(None)
    return list(zip(names, per, widths))


def classifier_output(model) -> tuple[int, int, bool] | None:
    """``(index, k, from_logits)`` of the one output trained with a cross-entropy, or None (none, or several)."""
    outputs = output_losses(model)
    found = [(i, None if width is None else 2 if width == 1 else int(width), bool(getattr(loss, "from_logits", False)))
             for i, (_, loss, width) in enumerate(outputs) if "crossentropy" in _loss_name(loss)]
    if len(found) == 1:
        return found[0]
    if not found and len(outputs) == 1 and outputs[0][1] is None and outputs[0][2] != 1:
        # No compiled loss (a compute_loss override, e.g. keras.io's Distiller): an output of k > 1 columns is
        # read by its argmax, which is the same for logits and probabilities. k (None) is read off the outputs.
        width = outputs[0][2]
        return 0, None if width is None else int(width), False
    return None


def num_classes_of(model) -> int | None:
    """k for a one-output classifier trained with a cross-entropy (one sigmoid unit: 2 classes); None otherwise.

    A model with several outputs gets None: its ``loss`` is the sum of the
    outputs' losses, which has no single chance level ln k (its classifier
    output, for the confusion matrix, is :func:`classifier_output`).
    """
    outputs = output_losses(model)
    if len(outputs) != 1:
        return None
    found = classifier_output(model)
    return found[1] if found else None


class TrainingDoctor(keras.callbacks.Callback):
    """Watch a training run, stop it when it breaks, and print the diagnosis.

    After every epoch the doctor runs :func:`toolkit.diagnose.diagnose` on
    the epochs so far. A NaN/inf loss, NaN/inf in the weights (ReLU can hide
    them from the loss) and clear divergence (a ``diverging`` finding of
    severity high: the loss jumped 10x above its best, doubled from its
    minimum, or sits at 3x the loss of guessing) stop training; a milder
    climb is only reported. On a stop it restores the last good state (the
    weights and optimizer state of the epoch with the lowest loss, or those
    training started from), so the model is usable again. At the end of
    training it prints the full diagnosis, with the confusion matrix of
    ``validation_data`` when given. ``TerminateOnNaN`` alone stops silently;
    the doctor says why, and what to try; when :func:`~toolkit.diagnose.prescribe`
    can try those remedies on short runs, a last line says so.

    The checks are cheap: by default the doctor has no per-batch hook, so
    Keras keeps dispatching batches asynchronously, the weight check runs on
    the device, and the good state is kept as device-side copies. With
    ``check_every_batch=True`` it also looks at the running-mean loss after
    every batch (as ``TerminateOnNaN`` does) and stops *within* the epoch on
    NaN/inf, a climb to 3x the loss of guessing or 10x the best epoch's, and
    checks the weights after the epoch's last batch, before any other
    callback's ``on_epoch_end``; this turns Keras's async dispatch off. By
    default, list the doctor *before* a ``ModelCheckpoint``, so that it
    restores good weights before the checkpoint can save poisoned ones.

    Epochs without validation (``fit(validation_freq=k)``) are not measured,
    never read as NaN. A run that logs no ``loss`` (a GAN's own
    ``train_step`` logging ``d_loss``/``g_loss``) is not diagnosed: the
    doctor says so once, at the first epoch end, and then stays out of the way.
    State is reset in ``on_train_begin``, so one doctor can watch several
    fits; a resumed fit (``initial_epoch``, ``BackupAndRestore``) is
    diagnosed from the epoch it resumed at, with the real epoch numbers. The
    monitors' keys (``GradientMonitor``, ``ActivationMonitor``) are read
    whatever the order of the callbacks.

    Args:
        validation_data: optional ``(x, y)`` to build a confusion matrix from
            at the end of training: labels ``(n,)``/``(n, 1)`` or one-hot
            rows, read by :func:`toolkit.labels.class_indices`. With several
            outputs, the one trained with a cross-entropy is used.
        stop_on_divergence: stop training on NaN/inf or clear divergence.
            With False the doctor only reports.
        check_every_batch: also check the loss after every batch (see above).
        verbose: print the stop message and the final diagnosis.

    Attributes:
        diagnosis: the latest :class:`~toolkit.diagnose.Diagnosis` (None
            before the first epoch ends).
        stopped_epoch: the 1-based epoch training was stopped in, or None.
        stop_reason: ``"nan"`` or ``"diverging"`` after a stop, else None.
        unsupported: why this run is not diagnosed (no ``loss``), else None.
        confusion: the confusion matrix of ``validation_data`` read at the
            end of training (rows true, columns predicted), else None.
        history: the per-epoch values the doctor saw, as ``History.history``
            (``val_*`` lists hold the validated epochs only).
        epochs: their 0-based epoch indices, as ``History.epoch``.

    Example:

    >>> doctor = TrainingDoctor(validation_data=(x_val, y_val))
    >>> model.fit(x, y, validation_data=(x_val, y_val), epochs=20, verbose=0,
    ...           callbacks=[doctor, keras.callbacks.ModelCheckpoint("best.keras", save_best_only=True)])
    >>> doctor.diagnosis.problems
    """

    def __init__(self, *, validation_data=None, stop_on_divergence: bool = True, check_every_batch: bool = False,
                 verbose: bool = True):
        super().__init__()
        for name, value in (("stop_on_divergence", stop_on_divergence), ("check_every_batch", check_every_batch),
                            ("verbose", verbose)):
            if not isinstance(value, bool):
                raise TypeError(f"`{name}` must be True or False. {received(name, value)}")
        self.validation_data = None
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise TypeError(f"`validation_data` must be a pair (x, y) of arrays. {received('validation_data', validation_data)}")
            x = check_array("validation_data[0] (x)", validation_data[0], numeric=not is_text(validation_data[0]))
            y = class_indices(validation_data[1], name="validation_data[1] (y)")
            check_same_length(x=x, y=y)
            self.validation_data = (x, y)
        self.stop_on_divergence = stop_on_divergence
        self.check_every_batch = check_every_batch
        self.verbose = verbose
        if check_every_batch:
            # An instance attribute, so that Keras sees a batch hook (and turns async dispatch off) only when asked.
            self.on_train_batch_end = self._check_batch
        self._reset()

    def _reset(self):
        self.diagnosis = self.stopped_epoch = self.stop_reason = self.unsupported = self.confusion = None
        self.history, self.epochs = {}, []
        self._logs: list[dict] = []
        self._best_loss = math.inf
        self._epoch, self._batch_low = 0, math.inf
        self._bad_weights = ""
        self._good, self._k, self._classifier = None, None, None

    # Keras hooks --------------------------------------------------------------------------

    def on_train_begin(self, logs=None):
        self._reset()
        if self.validation_data is not None and is_text(self.validation_data[0]):
            inputs = getattr(self.model, "inputs", None) or []
            if inputs and not any("string" in str(getattr(t, "dtype", "")) for t in inputs):
                raise ValueError(
                    f"`validation_data`: x holds strings, but model {self.model.name!r} takes numbers. Pass the x the "
                    f"model takes. Received: validation_data[0] of dtype {self.validation_data[0].dtype}"
                )
        self._k = num_classes_of(self.model)
        self._classifier = classifier_output(self.model)
        if self.validation_data is not None and self._classifier is not None:
            top, k = int(self.validation_data[1].max()), self._classifier[1]
            if k is not None and top >= k:
                raise ValueError(f"`validation_data` holds the label {top}, but the model's classifier output has "
                                 f"{k} classes (labels 0..{k - 1}). Received: max(validation_data[1])={top}")

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch, self._batch_low = epoch, math.inf
        if self._good is None and not self.unsupported:
            # The first good state is taken here, not in on_train_begin: a BackupAndRestore listed after
            # the doctor restores the interrupted run's weights in its own on_train_begin, after ours.
            self._good = Snapshot(self.model)

    def _check_batch(self, batch, logs=None):
        """With check_every_batch: stop on a NaN/inf loss, or a running-mean loss that explodes or climbs far above guessing."""
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
        if self.unsupported:
            return
        if logs is None or "loss" not in logs:
            self.unsupported = (f"this fit logs no `loss` (it logs {sorted(logs or {})}), as a model with its own "
                                "train_step may; TrainingDoctor reads the training loss `loss`, so it does not "
                                "diagnose or stop this run. Log a `loss` in train_step to use it.")
            self._good = None
            warnings.warn(f"TrainingDoctor: {self.unsupported}", UserWarning, stacklevel=2)
            return
        self._logs.append(logs)  # the same dict the callbacks after us still write into
        self.epochs.append(epoch)
        loss = float(np.asarray(logs["loss"]))
        if not self.stop_reason and math.isfinite(loss):
            self._weights_poisoned()
        self.diagnosis = self._diagnose()
        if self.stop_reason or not self.stop_on_divergence:
            return
        if self._bad_weights:
            return self._stop("nan", self._bad_weights.split(",")[0])
        for problem in ("nan", "diverging"):  # clear divergence only: a milder climb is reported, not stopped
            if problem in self.diagnosis and self.diagnosis[problem].severity == "high":
                return self._stop(problem, self.diagnosis[problem].evidence.split(";")[0].rstrip("."))
        if math.isfinite(loss) and loss < self._best_loss:
            self._best_loss, self._good = loss, Snapshot(self.model)

    def on_train_end(self, logs=None):
        if not self._logs:
            return
        # After a stop the weights are a restored snapshot: their confusion matrix says nothing about the run.
        confusion, why = self._confusion() if self.stop_reason is None else (None, None)
        self.confusion = confusion
        self.diagnosis = self._diagnose(confusion)
        if self.validation_data is not None and (self.stop_reason or why):
            why = "training was stopped, so no confusion matrix was built." if self.stop_reason else why
            notes = [n for n in self.diagnosis.notes if not n.startswith("no confusion matrix")]
            self.diagnosis.notes = [why] + notes
        if self.verbose:
            print(self.diagnosis)
            hint = prescribe_hint(self.diagnosis)
            if hint:
                print(hint)

    # Helpers ------------------------------------------------------------------------------

    def _weights_poisoned(self) -> bool:
        """NaN/inf in the weights, which ReLU can hide from the loss (it turns NaN into 0)."""
        if self._bad_weights:
            return True
        if all_finite(self.model):  # one reduction on the device; the slow search only when something is wrong
            return False
        layer = non_finite_layer(self.model)
        self._bad_weights = (f"the weights of layer {layer!r} hold NaN/inf in epoch {self._epoch + 1}, although "
                             "the loss is still finite: a NaN/inf input or an overflow has poisoned them.")
        return True

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
        seen = from_epoch_logs(self.epochs, self._logs, source="the logs TrainingDoctor saw")
        self.history = seen.to_dict()
        report = diagnose(seen, confusion=confusion, num_classes=None if confusion is not None else self._k)
        if self._bad_weights and "nan" not in report:
            findings = [f for f in report if f.problem != "healthy"] + [finding("nan", "high", self._bad_weights)]
            report = Diagnosis(findings, notes=report.notes, epochs=report.epochs)
        return report

    def _confusion(self):
        """The confusion matrix of ``validation_data`` at the classifier output, or (None, why not)."""
        if self.validation_data is None:
            return None, None
        if self._classifier is None:
            n = len(output_losses(self.model))
            return None, (f"no confusion matrix: none of the model's {n} output(s) is trained with one "
                          "cross-entropy loss of its own" + (" (or several are)." if n > 1 else "."))
        from toolkit.metrics import classification_summary

        index, k, from_logits = self._classifier
        x, y = self.validation_data
        parts = []
        for i in range(0, len(x), 1024):
            # Called directly, not through predict(): a new predict function per model makes TF warn about retracing.
            out = self.model(x[i:i + 1024], training=False)
            if isinstance(out, dict):
                out = out[output_losses(self.model)[index][0]]
            elif isinstance(out, (list, tuple)):
                out = out[index]
            parts.append(keras.ops.convert_to_numpy(out))
        scores = np.concatenate(parts)
        if not np.all(np.isfinite(scores)):
            return None, "no confusion matrix: the model's outputs on validation_data are not finite."
        if k is None:  # no symbolic outputs: the width of the real outputs decides
            width = scores.shape[-1] if scores.ndim == 2 else 1
            if width == 1 and self.model.loss is None:
                return None, ("no confusion matrix: the model has no compiled loss and one output column, "
                              "so it is not clear that it is a classifier.")
            k = 2 if width == 1 else int(width)
        if int(y.max()) >= k:
            return None, (f"no confusion matrix: validation_data holds the label {int(y.max())}, "
                          f"but the model's output has {k} classes.")
        try:
            summary = classification_summary(y, scores, class_names=list(range(k)), from_logits=from_logits)
        except ValueError as exc:  # e.g. one column of scores outside [0, 1] without from_logits
            return None, f"no confusion matrix: {exc}"
        return summary.confusion, None
