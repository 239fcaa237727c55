"""Score the training doctor on labelled runs: ``make bench-doctor``.

Three parts, all stored as small CSV files, so that scoring takes seconds:

* ``real``: the development set, real Keras runs from public repositories
  (``real_runs/``, provenance in its README and labels.csv). Runs labelled
  with ``low`` confidence are ambiguous even to a person: they are read and
  shown, but not scored.
* ``planted``: real Keras 3 runs with one planted fault (``planted/``, made
  by ``make_planted.py``).
* ``healthy``: the planted set's runs with no fault, where every finding
  above low severity is a false alarm.

How a reading is judged (the same for every part):

* A label word is *reported* when the doctor gives a finding with that word,
  at any severity: a low-severity "possible ..." finding names the problem.
  Real runs must report every label word; a planted run must report at least
  one of the words its fault shows as (a too-high learning rate may show as
  ``diverging`` or ``nan``).
* A forbidden word counts against the reading only when it is reported
  above low severity: weak evidence, flagged as such, is not a false alarm
  (the issue's goal: "at most 5% of healthy runs get any finding above low
  severity"). A ``healthy`` label forbids every other problem; any other
  label forbids ``healthy``. So a healthy run is read right when every
  finding is low severity (or it is called healthy). ``--strict`` counts
  forbidden words at every severity too.

Per problem: recall is the share of runs expected to show it where it was
reported (for planted runs, the first word of the label, the symptom the
fault shows first); precision is the share of its confident reports
(above low severity) on runs where it was expected rather than forbidden.

Usage::

    python benchmarks/doctor/score.py [--strict] [--out build/bench_doctor.json] [--verbose]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
if ROOT not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, ROOT)

from toolkit.diagnose import VOCABULARY, diagnose  # noqa: E402

PROBLEMS = tuple(p for p in VOCABULARY if p != "healthy")
SCORED_CONFIDENCE = ("high", "medium")


def load_history(path: str):
    """A CSVLogger file, read by the toolkit's history data model (:func:`toolkit.history.read_history`).

    ``NA`` cells and the ``0.0000e+00`` artefact are "not measured"; ``nan``
    cells are measured NaNs (a finding). Falls back to :func:`read_csv_plain`
    in a toolkit that predates ``toolkit.history``.
    """
    try:
        from toolkit.history import read_history
    except ImportError:
        return read_csv_plain(path)
    return read_history(path, name="path")


def read_csv_plain(path: str) -> dict:
    """A CSVLogger file as a history dict with pandas: ``NA`` and empty cells are "not measured".

    Columns that were never measured are dropped; ``nan``/``inf`` cells stay.
    """
    import numpy as np
    import pandas as pd

    frame = pd.read_csv(path, keep_default_na=False, na_values=["NA", ""], dtype=str)
    history = {}
    for column in frame.columns:
        cells = frame[column]
        if cells.isna().all():
            continue
        history[column.strip()] = [np.nan if pd.isna(c) else float(c) for c in cells]
    return history


def load_labels(path: str) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def words(cell: str) -> list[str]:
    return [w.strip() for w in (cell or "").split("|") if w.strip()]


def expectation(row: dict, *, any_of: bool) -> dict:
    """What a correct reading of one labelled run reports and must not report."""
    label = words(row["label"])
    forbidden = set(words(row.get("forbidden", "")))
    if "healthy" in label:
        forbidden |= set(PROBLEMS)
    else:
        forbidden.add("healthy")
    return {"label": label, "forbidden": forbidden - set(label), "any_of": any_of}


def reading(diagnosis) -> dict[str, str]:
    """``{problem: severity}`` of a Diagnosis."""
    return {f.problem: f.severity for f in diagnosis.findings}


def confident(severity: str) -> bool:
    return severity in ("medium", "high")


def judge(reported: dict[str, str], expected: dict, *, strict: bool = False) -> bool:
    """Whether a reading is right: the label word(s) reported, no forbidden word reported (above low severity)."""
    label = expected["label"]
    if label == ["healthy"]:
        named = "healthy" in reported or all(not confident(s) for s in reported.values())
        if strict:
            named = "healthy" in reported
    else:
        hits = [w in reported for w in label]
        named = any(hits) if expected["any_of"] else all(hits)
    false_alarm = any(w in reported and (strict or confident(reported[w])) for w in expected["forbidden"])
    return named and not false_alarm


def per_problem(results: list[dict]) -> dict[str, dict]:
    """Precision and recall of every problem over ``[{'reported', 'expected'}]``."""
    table = {}
    for p in PROBLEMS:
        positives = detected = reports = right = 0
        for r in results:
            exp, rep = r["expected"], r["reported"]
            label = exp["label"]
            primary = label[:1] if exp["any_of"] else label
            if p in primary:
                positives += 1
                detected += p in rep
            if p in rep and confident(rep[p]) and (p in label or p in exp["forbidden"]):
                reports += 1
                right += p in label
        if positives or reports:
            table[p] = {
                "runs": positives, "recall": detected / positives if positives else None,
                "reports": reports, "precision": right / reports if reports else None,
            }
    return table


def _read(directory: str, row: dict):
    history = load_history(os.path.join(directory, "runs", f"{row['name']}.csv"))
    cm_path = os.path.join(directory, "runs", f"{row['name']}.confusion.csv")
    confusion = None
    if os.path.exists(cm_path):
        import numpy as np

        confusion = np.loadtxt(cm_path, delimiter=",")
    return diagnose(history, confusion=confusion)


def run_part(directory: str, *, part: str, strict: bool) -> list[dict]:
    """Diagnose and judge every run of one benchmark part."""
    results, missing = [], []
    for row in load_labels(os.path.join(directory, "labels.csv")):
        if part == "real":
            scored = row.get("confidence", "high") in SCORED_CONFIDENCE
            name = "real"
        else:
            scored = True
            name = "healthy" if row["fault"] == "none" else "planted"
        if not os.path.exists(os.path.join(directory, "runs", f"{row['name']}.csv")):
            missing.append(row["name"])
            continue
        expected = expectation(row, any_of=part != "real")
        diagnosis = _read(directory, row)
        reported = reading(diagnosis)
        results.append({
            "name": row["name"], "part": name, "scored": scored, "fault": row.get("fault"),
            "expected": expected, "reported": reported, "correct": judge(reported, expected, strict=strict),
            "summary": "; ".join(f"{f.problem} ({f.severity})" for f in diagnosis.findings),
        })
    if missing:
        print(f"({len(missing)} runs of {directory} have no CSV yet, e.g. {missing[0]}: "
              f"make them with make_planted.py --only NAME)")
    return results


def summarize(results: list[dict]) -> dict:
    scored = [r for r in results if r["scored"]]
    parts = {}
    for part in ("real", "planted", "healthy"):
        runs = [r for r in scored if r["part"] == part]
        if runs:
            parts[part] = {"correct": sum(r["correct"] for r in runs), "runs": len(runs)}
    healthy = [r for r in scored if r["part"] == "healthy"]
    alarms = sum(any(confident(s) for p, s in r["reported"].items() if p != "healthy") for r in healthy)
    faults = {}
    for r in scored:
        if r["part"] == "planted":
            f = faults.setdefault(r["fault"], {"named": 0, "runs": 0})
            f["runs"] += 1
            f["named"] += r["correct"]
    return {
        "parts": parts,
        "healthy_false_alarm_rate": alarms / len(healthy) if healthy else None,
        "planted_by_fault": faults,
        "per_problem": per_problem(scored),
        "runs": [{k: (sorted(v) if isinstance(v, set) else v) for k, v in r.items() if k != "expected"}
                 | {"label": r["expected"]["label"]} for r in results],
    }


def _fmt(x):
    return "  -  " if x is None else f"{x:.2f}"


def report(summary: dict) -> str:
    lines = ["Training doctor benchmark", "", "Share of runs read correctly:"]
    for part, s in summary["parts"].items():
        lines.append(f"  {part:<8} {s['correct']:>3}/{s['runs']:<3} ({100 * s['correct'] / s['runs']:.0f}%)")
    rate = summary["healthy_false_alarm_rate"]
    if rate is not None:
        lines.append(f"  healthy runs with a finding above low severity: {100 * rate:.0f}%")
    lines += ["", f"{'problem':<22}{'runs':>5}{'recall':>8}{'reports':>9}{'precision':>10}"]
    for p, s in summary["per_problem"].items():
        lines.append(f"{p:<22}{s['runs']:>5}{_fmt(s['recall']):>8}{s['reports']:>9}{_fmt(s['precision']):>10}")
    if summary["planted_by_fault"]:
        lines += ["", "Planted faults named:"]
        for fault, s in summary["planted_by_fault"].items():
            lines.append(f"  {fault:<26} {s['named']}/{s['runs']}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Score the training doctor on labelled runs.")
    parser.add_argument("--out", default=os.path.join(ROOT, "build", "bench_doctor.json"))
    parser.add_argument("--strict", action="store_true", help="count forbidden words at low severity too")
    parser.add_argument("--verbose", action="store_true", help="print every run's reading")
    args = parser.parse_args(argv)
    results = run_part(os.path.join(HERE, "real_runs"), part="real", strict=args.strict)
    planted = os.path.join(HERE, "planted")
    if os.path.exists(os.path.join(planted, "labels.csv")):
        results += run_part(planted, part="planted", strict=args.strict)
    summary = summarize(results)
    summary["strict"] = args.strict
    print(report(summary))
    if args.verbose:
        print()
        for r in results:
            mark = "ok " if r["correct"] else "MISS" if r["scored"] else "(low)"
            print(f"{mark:<5} {r['name']:<32} label={'|'.join(r['expected']['label'])} -> {r['summary']}")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as handle:
        json.dump(summary, handle, indent=1, default=sorted)
    print(f"\nwrote {os.path.relpath(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
