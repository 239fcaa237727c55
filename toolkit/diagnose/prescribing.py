"""prescribe(): try the doctor's remedies on short runs, on a budget, and report what each one measurably did.

A diagnosis lists remedies; which one helps *this* run is a measurement. ``prescribe``
trains a baseline and one short run per remedy (the lecture's remedies of each finding,
:data:`~toolkit.diagnose.remedy_trials.TRIALS`), all on the same data, with the same seeds
and the same number of steps, re-diagnoses every run and ranks the remedies: a remedy is
a **cure** when the findings it was tried for went away in every seed *and* its validation
metric improved by more than the seed-to-seed spread (:func:`~toolkit.diagnose.prescription.judge`).
The runs themselves are :mod:`toolkit.diagnose.experiment`'s.
"""

from __future__ import annotations

import inspect
import random
import statistics
import time
import weakref

import keras
import numpy as np

from toolkit.diagnose.experiment import Data, NotExpressed, OverBudget, Runner, check_fresh, read_data
from toolkit.diagnose.findings import SEVERITIES, Diagnosis
from toolkit.diagnose.prescription import Prescription, Trial
from toolkit.diagnose.remedy_trials import CATALOGUE, TRIALS, applicable, shows
from toolkit.validation import check_float, check_int, received

LAYER_PROBLEMS = ("vanishing_gradients", "exploding_gradients", "dead_units")


def _accepts(build_model, name: str) -> bool:
    try:
        params = inspect.signature(build_model).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.kind is p.VAR_KEYWORD or (p.name == name and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD))
               for p in params)


def _reported(diagnosis: Diagnosis, problem: str) -> str | None:
    return diagnosis[problem].severity if problem in diagnosis else None


def _trial(key: str, problem: str, build_model, probe_model, data: Data) -> Trial:
    """A trial of remedy ``key`` for ``problem``: planned, or not tried with the reason."""
    remedy = CATALOGUE[key]
    metric = ("lowest class recall", False) if problem == "class_imbalance" else ("val_loss", True)
    trial = Trial(key, remedy.label, (problem,), metric=metric[0], lower_is_better=metric[1])
    if remedy.kind == "model":
        name, value = remedy.keyword
        if not _accepts(build_model, name):
            trial.reason = f"build_model takes no `{name}=` keyword (e.g. `build_model({name}={value!r})`)"
        elif shows(key, probe_model):
            trial.reason = f"the model build_model() returns already has it ({remedy.label})"
    else:
        trial.reason = applicable(key, data, probe_model.optimizer) or ""
    if not trial.reason:
        trial.status = "planned"
    return trial


def _plan(diagnosis: Diagnosis, build_model, probe_model, data: Data, per_problem: int, also_try=()):
    """The trials for each finding (most severe first): up to ``per_problem`` that can run, and those that cannot;
    then the remedies of ``also_try``, each for the first problem it is a remedy of."""
    trials, notes = {}, []
    for finding in diagnosis.findings:
        keys = TRIALS.get(finding.problem, ())
        if not keys:
            if finding.problem != "healthy":
                notes.append(f"{finding.problem}: its remedies are checks of the data (labels, splits, class "
                             "counts), which prescribe cannot run for you.")
            continue
        runnable = 0
        for key in keys:
            if runnable >= per_problem:
                break
            if key in trials:
                trials[key].problems += (finding.problem,)
                runnable += trials[key].status == "planned"
                continue
            trials[key] = _trial(key, finding.problem, build_model, probe_model, data)
            runnable += trials[key].status == "planned"
    for key in also_try:
        if key not in trials:
            problem = next(p for p, keys in TRIALS.items() if key in keys)
            trials[key] = _trial(key, problem, build_model, probe_model, data)
    return list(trials.values()), notes


def _queue(planned, diagnosis: Diagnosis, seed: int, max_seeds: int) -> list:
    """Every run to do, most useful first: the remedies of the findings above low severity on two seeds
    (a second baseline seed first, for the spread), then those of the low ones, then third seeds.
    Within each group, unscaled inputs come first (a cause of everything else), then the remedies
    tried for the most findings. The baseline runs on at least two seeds: its spread is the yardstick."""
    planned = sorted(planned, key=lambda t: (t.key != "scale_inputs", -len(t.problems)))
    serious = [t for t in planned if any(p in diagnosis and diagnosis[p].severity != "low" for p in t.problems)]
    minor = [t for t in planned if all(t is not u for u in serious)]
    passes = [[(None, seed + 1)] + [(t, seed) for t in serious], [(t, seed + 1) for t in serious],
              [(t, seed) for t in minor], [(t, seed + 1) for t in minor],
              [(None, seed + 2)] + [(t, seed + 2) for t in planned]]
    top, top_base = seed + max_seeds, seed + max(2, max_seeds)
    return [(t, s) for p in passes for t, s in p if s < (top_base if t is None else top)]


def prescribe(build_model, data, *, diagnosis=None, budget_s=60, seed=0, epochs=10, batch_size=32, max_seeds=3,
              remedies_per_problem=3, also_try=(), callbacks=(), progress=True) -> Prescription:
    """Try the lecture's remedies of each finding on short runs, within ``budget_s``, and rank them by their effect.

    A baseline run (``epochs`` epochs of ``data``) is timed first; the experiments are sized
    from it: up to ``remedies_per_problem`` remedies per finding, with 2-3 seeds when the
    budget allows (the baseline too), every run on the same data, seeds and number of steps.
    Each run is diagnosed again. A remedy that needs a change of the model (dropout, L2,
    init, activation, BatchNorm) is passed to ``build_model`` as a keyword; one it cannot
    express is listed as not tried, with the reason. Ctrl-C returns the partial report.

    Args:
        build_model: a function returning a fresh compiled model at each call, e.g.
            ``def build_model(dropout=0.0): ...``. Not a model: the remedies rebuild it.
        data: ``(x_train, y_train, x_val, y_val)``, ``((x_train, y_train), (x_val, y_val))``
            or ``(train_dataset, val_dataset)`` (finite, batched tf.data datasets).
        diagnosis: the :class:`~toolkit.diagnose.Diagnosis` to prescribe for (e.g. of a
            longer run); default: the baseline run's own.
        budget_s: seconds for everything, baseline included, on this machine.
        seed: the first seed; the others are ``seed + 1``, ``seed + 2``.
        epochs, batch_size: the length of every run (``batch_size`` for arrays only).
        max_seeds: at most this many seeds per remedy (1-3); the baseline runs on at least
            2 when the budget allows, since their spread is what a remedy must beat.
        remedies_per_problem: at most this many remedies per finding.
        also_try: remedy keys (:data:`~toolkit.diagnose.remedy_trials.CATALOGUE`) to try besides,
            e.g. a control: ``("early_stopping",)`` on a run that does not overfit should
            show no clear effect.
        callbacks: extra Keras callbacks for every fit (they must work across fits).
        progress: show a tqdm bar over the experiments.

    Returns:
        A :class:`~toolkit.diagnose.prescription.Prescription`, remedies ranked: cures first.

    Example:

    >>> def build_model(dropout=0.0):
    ...     model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(256, activation="relu"),
    ...                               keras.layers.Dropout(dropout), keras.layers.Dense(10, activation="softmax")])
    ...     model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    ...     return model
    >>> report = prescribe(build_model, (x, y, x_val, y_val), budget_s=60)
    >>> report.best.verdict   # e.g. 'dropout 0.3: val_loss 0.31 vs 0.41 (2 seeds, ...), overfitting gone'
    """
    start = time.perf_counter()
    if isinstance(build_model, keras.Model):
        raise TypeError("`build_model` must be a function that returns a fresh compiled model, not a model: every "
                        "remedy trains its own new model (rebuilt, re-initialized, recompiled), and prescribe never "
                        f"touches your model or its weights. Pass e.g. `lambda: make_model()`. "
                        f"{received('build_model', build_model)}")
    if not callable(build_model):
        raise TypeError("`build_model` must be a function returning a compiled model. "
                        f"{received('build_model', build_model)}")
    if diagnosis is not None and not isinstance(diagnosis, Diagnosis):
        raise TypeError(f"`diagnosis` must be a Diagnosis (from diagnose()) or None. "
                        f"{received('diagnosis', diagnosis)}")
    budget_s = check_float("budget_s", budget_s, low=0.0, low_inclusive=False)
    seed = check_int("seed", seed)
    epochs, batch_size = check_int("epochs", epochs, minimum=1), check_int("batch_size", batch_size, minimum=1)
    max_seeds = check_int("max_seeds", max_seeds, minimum=1)
    if max_seeds > 3:
        raise ValueError(f"`max_seeds` must be 1, 2 or 3. {received('max_seeds', max_seeds)}")
    per_problem = check_int("remedies_per_problem", remedies_per_problem, minimum=1)
    if isinstance(also_try, str) or any(key not in CATALOGUE for key in also_try):
        raise ValueError(f"`also_try` must be a list of remedy keys from {sorted(CATALOGUE)}. "
                         f"{received('also_try', also_try)}")
    if not isinstance(progress, bool):
        raise TypeError(f"`progress` must be True or False. {received('progress', progress)}")
    data = read_data(data)
    if diagnosis is not None and diagnosis.healthy:
        return Prescription([], diagnosis=diagnosis, seconds=time.perf_counter() - start, budget_s=budget_s,
                            notes=["the diagnosis is healthy: there is nothing to prescribe."])
    notes = [f"every run: {epochs} epochs of {data.steps(batch_size)} steps on the same data; a cure = "
             "the findings it is tried for gone in every seed, and a gain larger than the seed spread."]
    if epochs < 4:
        notes.append("fewer than 4 epochs: the doctor cannot read trends (overfitting, divergence) in these runs.")
    from tqdm.auto import tqdm

    bar = tqdm(total=1, desc="prescribe", disable=not progress, leave=False)
    base, trials, partial = [], [], False
    # Every run reseeds the global generators; afterwards they are reseeded from the state found here, so that
    # the cells after a prescribe call do not depend on how many runs the budget allowed.
    states, resume = (random.getstate(), np.random.get_state()), int(np.random.randint(2**31 - 1))
    try:
        probe_model = build_model()
        check_fresh(probe_model, weakref.WeakSet())
        fit = {"epochs": epochs, "callbacks": list(callbacks)}
        if not data.dataset:
            fit["batch_size"] = batch_size
        wanted = diagnosis is None or any(p in diagnosis for p in LAYER_PROBLEMS)
        runner = Runner(build_model, data, fit, monitors=wanted, deadline=start + budget_s)
        runner.seen.add(probe_model)
        try:
            first = runner(None, seed)
        except OverBudget as exc:
            notes.append(f"the baseline run alone needs more than budget_s={budget_s:g} s (it was {exc}): nothing "
                         "was tried. Raise budget_s, or pass fewer epochs or a smaller subset of the data.")
            raise
        except (ValueError, TypeError) as exc:  # a model the monitors cannot watch: run without them
            if not runner.monitors or "Monitor" not in str(exc):
                raise
            runner.monitors = False
            notes.append(f"the gradient/activation monitors could not watch this model: {exc}")
            first = runner(None, seed)
        bar.update()
        base.append(first)
        diagnosis = diagnosis if diagnosis is not None else first["diagnosis"]
        runner.monitors = runner.monitors and any(p in diagnosis for p in LAYER_PROBLEMS)
        trials, more = _plan(diagnosis, build_model, probe_model, data, per_problem, tuple(also_try))
        notes += more
        if diagnosis.healthy:
            notes.append("the baseline run is healthy: there is nothing to prescribe.")
        _run_trials(runner, trials, base, diagnosis, seed, start, budget_s, max_seeds, bar, notes)
    except OverBudget:
        pass
    except KeyboardInterrupt:
        partial = True
        notes.append("interrupted (Ctrl-C): the report holds the runs that had finished.")
    finally:
        bar.close()
        keras.utils.set_random_seed(resume)
        random.setstate(states[0])
        np.random.set_state(states[1])
    _settle(trials, base)
    for t in trials:
        if t.status == "planned":
            t.status, t.reason = "not tried", "interrupted before it ran" if partial else "over the budget"
    used = max([len(base)] + [len(t.values) for t in trials])
    return Prescription(trials, diagnosis=diagnosis, baseline=[b["val_loss"] for b in base],
                        seeds=[seed + i for i in range(used)], partial=partial,
                        seconds=time.perf_counter() - start, budget_s=budget_s, notes=notes)


def _run_trials(runner, trials, base, diagnosis, seed, start, budget_s, max_seeds, bar, notes):
    """Run the planned trials (see :func:`_queue`) for as many runs as the baseline's time says fit the budget."""
    planned = [t for t in trials if t.status == "planned"]
    durations = [base[0]["seconds"]]
    queue = _queue(planned, diagnosis, seed, max_seeds)
    # Sized from the baseline's time; the median of all runs so far then decides, run by run.
    bar.total = 1 + min(len(queue), max(0, int((budget_s - (time.perf_counter() - start)) // durations[0])))
    bar.refresh()
    done = 0
    for trial, s in queue:
        if trial is not None and trial.status != "planned":
            continue
        estimate = statistics.median(durations) * (1.5 if trial is not None and trial.key == "lr_finder" else 1)
        if time.perf_counter() - start + estimate > budget_s:
            left = len(queue) - done
            notes.append(f"the budget allowed {done} of the {len(queue)} planned runs after the first baseline run "
                         f"(about {statistics.median(durations):.1f} s each): raise budget_s for the {left} others.")
            break
        done += 1
        if 1 + done > bar.total:
            bar.total = 1 + done
            bar.refresh()
        bar.update()
        try:
            run = runner(None if trial is None else trial.key, s)
        except NotExpressed as exc:
            trial.status, trial.reason = "not tried", str(exc)
            continue
        except OverBudget:
            notes.append(f"the budget ran out during a run of seed {s}; that run is not counted.")
            break
        except Exception as exc:  # a remedy that breaks its run is reported, not raised
            if trial is None:
                raise
            trial.status, trial.reason = "failed", f"{type(exc).__name__}: {str(exc)[:200]}"
            continue
        durations.append(run["seconds"])
        if trial is None:
            base.append(run)
        else:
            trial.values.append(run["val_loss"] if trial.lower_is_better else run["recall"])
            trial.diagnoses.append(run["diagnosis"])
            trial.seconds += run["seconds"]


def _settle(trials, base):
    """Fill in each trial's baseline values, what its runs show against the baseline's, and judge it."""
    shown = {}
    for b in base:
        for f in b["diagnosis"].findings:
            if f.problem != "healthy":
                shown[f.problem] = max(shown.get(f.problem, "low"), f.severity, key=SEVERITIES.index)
    for t in trials:
        if not t.values:
            continue
        t.baseline = [b["val_loss"] if t.lower_is_better else b["recall"] for b in base]
        t.shown = tuple(shown)
        for problem in t.problems:
            gone = sum(_reported(d, problem) is None or (_reported(d, problem) == "low" and shown.get(problem) != "low")
                       for d in t.diagnoses)
            t.gone[problem] = (gone, len(t.diagnoses))
        t.new = tuple(sorted({f.problem for d in t.diagnoses for f in d.findings
                              if f.problem not in shown and f.problem != "healthy" and f.severity != "low"}))
        t.settle()
