"""How often ``prescribe`` ranks a remedy that removes a planted fault first: ``make bench-prescribe``.

The planted faults of the doctor's benchmark (``benchmarks/doctor/make_planted.py``: its
data and model builders are imported, not copied) that have a lecture remedy in
``prescribe``'s catalogue are planted again, on real runs on scikit-learn's 8x8 digits, and
``prescribe`` gets a small time budget for each. A case counts as **cured first** when the
top-ranked remedy measurably helps (status "cure" or "helps": a gain larger than the seed
spread) and none of the words that name the planted fault (its ``label`` in
make_planted.FAULTS) is reported above low severity in any of that remedy's runs. (A "cure"
in the report needs *every* finding the remedy was tried for gone; the planted fault's words
are the benchmark's own ground truth.) Cases where the baseline run does not show the fault at all are
counted as failures too (there is nothing to prescribe for), and listed.

Out of scope, with the reason (no remedy in the catalogue fixes them):

* ``shuffled_labels``: random labels; no training remedy can learn them (the fix is the data).
* ``softmax_from_logits``: the fix is the loss's ``from_logits`` flag, not a training remedy.
* ``heavy_dropout``, ``heavy_noise_augmentation``: ``train_val_mismatch``, whose remedies are
  checks of the data and of what acts only in training (less dropout or noise).
* ``batch_size_1``: ``noisy``; its remedy, a larger batch, changes the number of steps, which
  every experiment must share.

The model remedies need keywords: the benchmark's ``build_model`` maps ``dropout=`` and
``activation=`` onto make_planted's config, and ``kernel_initializer=``, ``l2=`` and
``batch_norm=`` onto a copy of its model with the hidden Dense layers changed, as a user's
builder with those keywords would.

Usage::

    python benchmarks/prescribe/bench_prescribe.py [--budget 120] [--seeds 0 1] [--only lr_high,lr_low]
        [--out build/bench_prescribe.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
for path in (ROOT, os.path.join(ROOT, "benchmarks", "doctor")):
    if path not in sys.path:
        sys.path.insert(0, path)

import make_planted  # noqa: E402  (benchmarks/doctor/make_planted.py)

#: fault -> epochs of every run. make_planted trains 30 (60 for the 2 steps per epoch of tiny data); 10 show the
#: same LR and initialization faults at a third of the cost, but the rare classes need 30 (after 10 the whole
#: model is still near chance) and tiny data needs its 60 steps to overfit.
IN_SCOPE = {"lr_high": 10, "lr_low": 10, "unnormalized": 10, "tiny_data_big_model": 30, "sigmoid_naive_init": 10,
            "tanh_tiny_init": 10, "relu_negative_bias": 10, "class_imbalance": 30}
OUT_OF_SCOPE = {
    "shuffled_labels": "random labels: no training remedy can learn them (the fix is the data)",
    "softmax_from_logits": "the fix is the loss's from_logits flag, not a training remedy",
    "heavy_dropout": "train_val_mismatch: its remedies are checks of the data and of what acts only in training",
    "heavy_noise_augmentation": "train_val_mismatch: its remedies are checks of the data and of what acts only in "
                                "training",
    "batch_size_1": "noisy: its remedy, a larger batch, changes the number of steps every experiment shares",
}
GOAL = 0.8


def builder(config: dict, input_shape):
    """A build_model for one planted config, with the keywords of the model remedies."""
    import keras

    def build_model(dropout=None, activation=None, kernel_initializer=None, l2=None, batch_norm=False):
        cfg = dict(config)
        if dropout:
            cfg["dropout"] = dropout
        if activation:
            cfg["activation"] = activation
        model = make_planted._model(cfg, input_shape)
        if kernel_initializer or l2 or batch_norm:
            model = _variant(model, kernel_initializer, l2, batch_norm)
        lr = cfg.get("lr", 1e-3)
        optimizer = (keras.optimizers.SGD(lr, momentum=cfg.get("momentum", 0.0)) if cfg.get("optimizer") == "sgd"
                     else keras.optimizers.Adam(lr))  # as make_planted.train compiles
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=cfg.get("from_logits", False))
        model.compile(optimizer, loss, metrics=["accuracy"])
        return model

    return build_model


def _variant(model, kernel_initializer, l2, batch_norm):
    """The same Sequential model with its hidden Dense layers changed (fresh weights)."""
    import keras

    dense = [la for la in model.layers if isinstance(la, keras.layers.Dense)]
    layers = [keras.Input(model.input_shape[1:])]
    for layer in model.layers:
        config = layer.get_config()
        hidden = layer in dense[:-1]
        if hidden and kernel_initializer:
            config["kernel_initializer"] = kernel_initializer
        if hidden and l2:
            config["kernel_regularizer"] = keras.regularizers.L2(l2)
        activation = config.get("activation") if hidden and batch_norm else None
        if activation:
            config["activation"] = "linear"
        config.pop("name", None)
        layers.append(type(layer).from_config(config))
        if activation:
            layers += [keras.layers.BatchNormalization(), keras.layers.Activation(activation)]
    return keras.Sequential(layers)


def run_case(fault: str, seed: int, budget_s: float) -> dict:
    from toolkit.diagnose import prescribe

    label, config = make_planted.FAULTS[fault]
    words = label.split("|")
    x_tr, y_tr, x_val, y_val = make_planted._data(seed, config)
    build = builder(config, x_tr.shape[1:])
    start, cpu = time.perf_counter(), time.process_time()
    report = prescribe(build, (x_tr, y_tr, x_val, y_val), budget_s=budget_s, seed=seed, epochs=IN_SCOPE[fault],
                       batch_size=config.get("batch_size", 32), progress=False)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    shown = [w for w in words if report.diagnosis is not None and w in report.diagnosis]
    top = report.trials[0] if report.trials else None
    removed = bool(top and top.status in ("cure", "helps") and all(
        not (w in d and d[w].severity != "low") for d in top.diagnoses for w in words))
    return {
        "fault": fault, "seed": seed, "seconds": round(seconds, 1), "cpu_seconds": round(cpu, 1), "budget_s": budget_s,
        "within_budget": seconds <= budget_s * 1.2,
        "baseline_problems": report.diagnosis.problems if report.diagnosis is not None else [],
        "baseline_shows_fault": bool(shown), "top": top.key if top else None, "top_status": top.status if top else None,
        "cured_first": removed, "ranking": report.ranking, "seeds": len(report.seeds),
        "verdicts": [t.verdict for t in report.trials], "notes": report.notes, "report": str(report),
    }


def summary(cases: list, budget_s: float) -> dict:
    n = len(cases)
    cured = sum(c["cured_first"] for c in cases)
    return {
        "cases": n, "cured_first": cured, "share_cured_first": round(cured / n, 3) if n else None,
        "goal": GOAL, "met": bool(n) and cured / n >= GOAL, "budget_s": budget_s,
        "within_budget": sum(c["within_budget"] for c in cases),
        "baseline_missed_fault": [f"{c['fault']}_s{c['seed']}" for c in cases if not c["baseline_shows_fault"]],
        "not_cured_first": [f"{c['fault']}_s{c['seed']}: top {c['top']} ({c['top_status']})"
                            for c in cases if not c["cured_first"]],
        "seconds_total": round(sum(c["seconds"] for c in cases), 1),
        "seconds_per_case_max": max((c["seconds"] for c in cases), default=None),
        "cpu_seconds_total": round(sum(c["cpu_seconds"] for c in cases), 1),
        "out_of_scope": OUT_OF_SCOPE,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=120.0, help="budget_s of each prescribe call (default 120)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="planted seeds (default 0 1)")
    parser.add_argument("--only", help="comma-separated faults (default: all in scope)")
    parser.add_argument("--out", default=os.path.join(ROOT, "build", "bench_prescribe.json"))
    args = parser.parse_args(argv)
    faults = args.only.split(",") if args.only else list(IN_SCOPE)
    unknown = [f for f in faults if f not in IN_SCOPE]
    if unknown:
        parser.error(f"not in scope: {unknown} (in scope: {list(IN_SCOPE)})")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    cases = []
    for fault in faults:
        for seed in args.seeds:
            case = run_case(fault, seed, args.budget)
            cases.append(case)
            print(f"{fault}_s{seed}: {'CURED FIRST' if case['cured_first'] else 'not cured first'} by {case['top']} "
                  f"({case['top_status']}) in {case['seconds']:.0f} s; "
                  f"baseline: {', '.join(case['baseline_problems'])}",
                  flush=True)
            with open(args.out, "w") as handle:  # rewritten after every case: an interrupted run keeps its cases
                json.dump({"summary": summary(cases, args.budget), "cases": cases}, handle, indent=2)
    result = summary(cases, args.budget)
    print(f"\nprescribe ranked a cure of the planted fault first in {result['cured_first']}/{result['cases']} cases "
          f"({result['share_cured_first']:.0%}, goal {GOAL:.0%}); {result['within_budget']}/{result['cases']} within "
          f"1.2x the {args.budget:g} s budget; {result['seconds_total']:.0f} s in all -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
