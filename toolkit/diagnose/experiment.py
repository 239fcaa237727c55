"""One experiment of :func:`~toolkit.diagnose.prescribe`: a fresh model, one remedy, its fit, evaluation and diagnosis.

* :class:`Data` holds the runs' training and validation data (arrays or tf.data
  datasets) and the views the data remedies make of it (a subset, scaled inputs,
  augmented batches); :func:`read_data` checks the three forms ``data`` may take.
* :class:`Runner` builds a fresh model with ``build_model`` (refusing the same or an
  already trained model: the user's own model is never touched), applies a remedy,
  trains it under the budget's deadline, and diagnoses the run.
"""

from __future__ import annotations

import math
import time
import weakref

import keras
import numpy as np

from toolkit.compiled import build_compiled, restart
from toolkit.diagnose.doctor import classifier_output, num_classes_of, output_losses
from toolkit.diagnose.engine import diagnose
from toolkit.diagnose.remedy_trials import CATALOGUE, apply, shows
from toolkit.validation import check_array, check_same_length, received

PROBE = 256  # validation samples the gradient and activation monitors probe
_DATA_FORMS = "(x_train, y_train, x_val, y_val), ((x_train, y_train), (x_val, y_val)) or (train_dataset, val_dataset)"


def _is_dataset(value) -> bool:
    return hasattr(value, "element_spec") and hasattr(value, "cardinality")


class Data:
    """The runs' training and validation data: ``(x, y)`` arrays or tf.data datasets (batched)."""

    def __init__(self, train, val, *, dataset: bool, labels=None):
        self.train, self.val, self.dataset, self._labels = train, val, dataset, labels

    @property
    def x(self):
        return self.train[0]

    def labels(self):
        """The training labels as class indices, or None when they are not class labels."""
        if self._labels is None:
            from toolkit.labels import class_indices

            y = (np.concatenate([np.asarray(b[1]) for b in self.train]) if _is_dataset(self.train)
                 else np.asarray(self.train[1]))
            try:
                self._labels = class_indices(y, name="y_train")
            except (TypeError, ValueError):
                self._labels = False
        return None if self._labels is False else self._labels

    def steps(self, batch_size) -> int:
        if _is_dataset(self.train):
            return max(1, int(self.train.cardinality()))
        return max(1, math.ceil(len(self.x) / (batch_size or 32)))

    def inputs(self):
        return (self.train,) if _is_dataset(self.train) else tuple(self.train)

    def pipelines(self, batch_size, seed):
        """``(train, val)`` for ``fit``: datasets as they are; arrays as cached, batched tf.data pipelines (the
        training one reshuffled every epoch with ``seed``). Keras's own array adapter sets up a parallel
        slicing pipeline at every epoch, for training and again for validation: on a few hundred samples
        that costs more than the epoch's steps (a 10-epoch run of a small MLP on 1,000 digits took 2.5x
        as long)."""
        import tensorflow as tf

        train = self.train if _is_dataset(self.train) else (
            tf.data.Dataset.from_tensor_slices(tuple(self.train)).cache()
            .shuffle(len(self.x), seed=seed, reshuffle_each_iteration=True).batch(batch_size or 32))
        val = self.val if _is_dataset(self.val) else (
            tf.data.Dataset.from_tensor_slices(tuple(self.val)).cache().batch(max(batch_size or 32, 256)))
        return train, val

    def subset(self, index):
        return Data((self.x[index], self.train[1][index]), self.val, dataset=False)

    def scaled(self, factor):
        return Data((self.x * factor, self.train[1]), (self.val[0] * factor, self.val[1]), dataset=False)

    def augmented(self, layers, batch_size, seed):
        import tensorflow as tf

        ds = tf.data.Dataset.from_tensor_slices(self.train).shuffle(len(self.x), seed=seed).batch(batch_size or 32)
        return Data(ds.map(lambda x, y: (layers(x, training=True), y)), self.val, dataset=False)

    def val_batches(self):
        if _is_dataset(self.val):
            yield from ((np.asarray(x), np.asarray(y)) for x, y in self.val)
        else:
            for i in range(0, len(self.val[0]), 1024):
                yield self.val[0][i:i + 1024], self.val[1][i:i + 1024]


def read_data(data) -> Data:
    """Check ``data`` (one of the three forms) and return it as :class:`Data`."""
    if not isinstance(data, (tuple, list)) or len(data) not in (2, 4):
        raise TypeError(f"`data` must be {_DATA_FORMS}. {received('data', data)}")
    if len(data) == 2 and all(_is_dataset(d) for d in data):
        for name, ds in zip(("train", "validation"), data):
            n = int(ds.cardinality())
            if n <= 0:
                raise ValueError(f"`data`: the {name} dataset must be finite and of known length (no .repeat(); "
                                 f".take(n) or .batch() after a finite source). Received: cardinality={n}")
        return Data(data[0], data[1], dataset=True)
    if len(data) == 2:
        if not all(isinstance(d, (tuple, list)) and len(d) == 2 for d in data):
            raise TypeError(f"`data` must be {_DATA_FORMS}. {received('data', data)}")
        data = (*data[0], *data[1])
    names = ("x_train", "y_train", "x_val", "y_val")
    arrays = [check_array(f"data ({n})", a) for n, a in zip(names, data)]
    check_same_length(x_train=arrays[0], y_train=arrays[1])
    check_same_length(x_val=arrays[2], y_val=arrays[3])
    if arrays[0].shape[1:] != arrays[2].shape[1:]:
        raise ValueError(f"`data`: x_train and x_val samples must have the same shape. Received: "
                         f"x_train {arrays[0].shape}, x_val {arrays[2].shape}")
    return Data((arrays[0], arrays[1]), (arrays[2], arrays[3]), dataset=False)


def check_fresh(model, seen: weakref.WeakSet):
    if not isinstance(model, keras.Model):
        raise TypeError(f"`build_model` must return a keras.Model. {received('build_model()', model)}")
    if model in seen:
        raise TypeError("`build_model` returned the same model object twice. prescribe trains a fresh model for "
                        "every experiment and never touches your own: build the model inside build_model "
                        "(e.g. `def build_model(): model = keras.Sequential(...); model.compile(...); return model`).")
    if getattr(model, "optimizer", None) is None or not getattr(model, "compiled", True):
        raise TypeError(f"`build_model` must return a compiled model (call model.compile(...) inside it). "
                        f"{received('build_model()', model)}")
    steps = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
    if steps:
        raise TypeError(f"`build_model` returned a model that was already trained ({steps} optimizer steps). "
                        "prescribe trains fresh models only, so that your own model and weights stay untouched: "
                        "build and compile a new model inside build_model.")
    seen.add(model)


def _evaluate(model, data):
    """The final model's validation loss, and the confusion matrix of a one-output classifier (else None).

    For one output, the loss is the compiled loss of the model's predictions, without regularization
    penalties (Keras's ``val_loss`` adds those, which would count an L2 remedy's penalty as a worse fit);
    otherwise it is ``evaluate``'s.
    """
    outputs = output_losses(model)
    try:
        loss_fn = keras.losses.get(outputs[0][1]) if len(outputs) == 1 and outputs[0][1] is not None else None
    except (ValueError, TypeError):
        loss_fn = None
    if loss_fn is None:
        val = (data.val,) if _is_dataset(data.val) else data.val
        kwargs = {} if len(val) == 1 else {"batch_size": 256}
        return float(model.evaluate(*val, verbose=0, return_dict=True, **kwargs)["loss"]), None
    ys, scores = [], []
    for x, y in data.val_batches():
        ys.append(np.asarray(y))
        scores.append(keras.ops.convert_to_numpy(model(x, training=False)))
    y, scores = np.concatenate(ys), np.concatenate(scores)
    loss = float(np.mean(keras.ops.convert_to_numpy(loss_fn(y, scores))))
    found = classifier_output(model)
    if found is None or not np.all(np.isfinite(scores)):
        return loss, None
    from toolkit.metrics import classification_summary

    k = found[1] or (scores.shape[-1] if scores.ndim == 2 and scores.shape[-1] > 1 else 2)
    try:
        return loss, classification_summary(y, scores, class_names=list(range(k)), from_logits=found[2]).confusion
    except ValueError:
        return loss, None


def _min_recall(cm) -> float:
    if cm is None:
        return math.nan
    cm = np.asarray(cm, dtype=float)
    rows = cm.sum(axis=1)
    return float(np.min(np.diag(cm)[rows > 0] / rows[rows > 0]))


class Deadline(keras.callbacks.Callback):
    """Stops a fit when the budget runs out (a timer sets ``stop_training``, which Keras checks after every
    batch: no batch hook, which would slow every step), and at the end of an epoch whose loss is NaN/inf."""

    def __init__(self, at: float):
        super().__init__()
        self.at, self.hit, self._timer = at, False, None

    def _expire(self):
        self.hit = True
        self.model.stop_training = True

    def on_train_begin(self, logs=None):
        import threading

        self._timer = threading.Timer(max(0.0, self.at - time.perf_counter()), self._expire)
        self._timer.daemon = True
        self._timer.start()

    def on_train_end(self, logs=None):
        self._timer.cancel()

    def on_test_begin(self, logs=None):
        if self.hit:  # out of time: no validation pass (whose first call traces the test function)
            raise OverBudget("the budget ran out during the epoch")

    def on_epoch_end(self, epoch, logs=None):
        if not math.isfinite(float((logs or {}).get("loss", 0.0))):
            self.model.stop_training = True


class OverBudget(Exception):
    """A run the budget ran out on: it is not counted."""


class Runner:
    """Trains one experiment: a fresh model (with a remedy), its fit, its evaluation and its diagnosis."""

    def __init__(self, build_model, data: Data, fit: dict, monitors: bool, deadline: float):
        self.build_model, self.data, self.fit, self.monitors = build_model, data, fit, monitors
        self.deadline = deadline
        self.seen = weakref.WeakSet()
        self.state: dict[str, dict] = {}
        self._plain, self._initial = None, {}

    def model(self, **kwargs):
        model = self.build_model(**kwargs)
        check_fresh(model, self.seen)
        return model

    def plain_model(self, seed: int):
        """The unchanged model for a run whose remedy leaves model and optimizer alone (the baseline, fit and
        data remedies): built once, then started over with :func:`~toolkit.compiled.restart` from the initial
        weights of its seed. Every compile costs a trace of the training function, about a second on a CPU,
        often more than a short run itself; a run that starts over computes what a fresh model computes."""
        if self._plain is None:
            self._plain = self.model()
            self._initial[seed] = self._plain.get_weights()
        elif seed in self._initial:
            restart(self._plain, weights=self._initial[seed])
        else:
            restart(self._plain, seed=seed)
            self._initial[seed] = self._plain.get_weights()
        return self._plain

    def __call__(self, key, seed: int) -> dict:
        start = time.perf_counter()
        keras.utils.set_random_seed(seed)
        remedy = CATALOGUE.get(key)
        if remedy is not None and remedy.kind == "model":
            name, value = remedy.keyword
            model = self.model(**{name: value})
            if not shows(key, model):
                raise NotExpressed(f"build_model({name}={value!r}) built a model without the change (no "
                                    f"{remedy.label} in its layers): it does not use the `{name}=` keyword")
        elif remedy is None or remedy.kind in ("fit", "data"):
            model = self.plain_model(seed)
        else:  # an optimizer remedy changes the optimizer: a model of its own
            model = self.model()
        fit = {**self.fit, "callbacks": list(self.fit["callbacks"])}
        data = self.data
        if remedy is not None and remedy.kind != "model":
            data = apply(key, model, fit, data, self.state.setdefault(key, {}), seed)
        if self.monitors:
            from toolkit.callbacks import ActivationMonitor, GradientMonitor

            x, y = next(iter(data.val_batches()))
            fit["callbacks"] += [GradientMonitor((x[:PROBE], y[:PROBE])), ActivationMonitor(x[:PROBE])]
        train, val = data.pipelines(fit.pop("batch_size", None), seed)
        if not model.optimizer.built:  # a new model: its optimizer and metric state now, so that fit traces once
            build_compiled(model, train)
        deadline = Deadline(self.deadline)
        fit["callbacks"].append(deadline)
        try:
            # shuffle=False: the pipeline reshuffles itself (Keras warns that it ignores shuffle for a dataset)
            history = model.fit(train, validation_data=val, shuffle=False, verbose=0, **fit)
        finally:
            if deadline._timer is not None:
                deadline._timer.cancel()
        if deadline.hit:
            raise OverBudget(f"stopped after {len(history.history.get('loss', ()))} of {self.fit['epochs']} epochs")
        loss, cm = _evaluate(model, data)
        report = diagnose(_kept(history.history, fit["callbacks"]), confusion=cm, num_classes=num_classes_of(model))
        return {"val_loss": loss if math.isfinite(loss) else math.inf, "recall": _min_recall(cm),
                "diagnosis": report, "seconds": time.perf_counter() - start}


def _kept(history: dict, callbacks) -> dict:
    """The epochs of the model the run kept: an ``EarlyStopping(restore_best_weights=True)`` that stopped the
    run put back the weights of its best epoch, so the epochs after it (the patience) are read as discarded,
    as the model they trained is. Otherwise the whole history."""
    for callback in callbacks:
        if (isinstance(callback, keras.callbacks.EarlyStopping) and callback.restore_best_weights
                and callback.stopped_epoch > 0 and getattr(callback, "best_epoch", None) is not None):
            end = callback.best_epoch + 1
            return {key: list(values)[:end] for key, values in history.items()}
    return history


class NotExpressed(Exception):
    """A model remedy that build_model accepted as a keyword but did not build into the model."""
