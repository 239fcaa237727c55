"""What :func:`~toolkit.diagnose.prescribe` reports: each remedy's measured effect, judged against the seed spread.

* :func:`judge` compares a remedy's validation metric with the baseline's, seed by
  seed: a difference no larger than the seed-to-seed spread is "no clear effect".
* :class:`Trial` is one remedy's runs, with its verdict; :class:`Prescription` ranks
  them, cures first, and reads as a table in a notebook (``_repr_html_``) and as text.
"""

from __future__ import annotations

import dataclasses
import html
import math

import numpy as np

from toolkit.diagnose.run import num

#: A difference must also reach 1% of the baseline's mean to be clear: two runs stuck at the same loss of
#: guessing (2.3026 and 2.3031) have a tiny spread, and a change in the fourth digit is no effect.
MIN_EFFECT = 0.01
#: Statuses from best to worst: the ranking's first key.
STATUSES = ("cure", "helps", "no clear effect", "worse", "failed", "not tried")


@dataclasses.dataclass(frozen=True)
class Effect:
    """A remedy's measured effect: ``delta`` (trial mean - baseline mean), the seed ``spread``, and the reading."""

    delta: float
    spread: float
    clear: bool
    better: bool
    why: str = ""


def _finite(values) -> bool:
    return all(math.isfinite(v) for v in values)


def judge(baseline, trial, *, lower_is_better: bool = True) -> Effect:
    """Whether ``trial`` (one value per seed) differs clearly from ``baseline``, and in which direction.

    The seed spread is the larger range (max - min) of the two groups. A difference of
    the means is **clear** only when it exceeds that spread (and :data:`MIN_EFFECT` of the
    baseline's mean); with one value in each group the spread is not measured, so nothing
    is clear. A non-finite value (a run that blew
    up) is worst: with at least two seeds in one group, a group that is all finite against
    one that is all non-finite differs clearly; any other mix is not clear.

    Example:

    >>> judge([0.41, 0.43], [0.31, 0.30]).better      # 0.12 lower, spread 0.02
    True
    >>> judge([0.41, 0.45], [0.40, 0.43]).clear       # 0.015 lower, spread 0.04
    False
    """
    baseline, trial = [float(v) for v in baseline], [float(v) for v in trial]
    if not baseline or not trial:
        raise ValueError(f"`baseline` and `trial` need a value each. Received: baseline={baseline}, trial={trial}")
    worst = math.inf if lower_is_better else -math.inf
    baseline = [v if math.isfinite(v) else worst for v in baseline]
    trial = [v if math.isfinite(v) else worst for v in trial]
    if len(baseline) < 2 and len(trial) < 2:
        return Effect(float(np.mean(trial) - np.mean(baseline)) if _finite(baseline + trial) else math.nan, math.nan,
                      False, False, "one seed each: the seed spread was not measured")
    if not (_finite(baseline) and _finite(trial)):
        if _finite(trial) and not any(map(math.isfinite, baseline)):
            return Effect(-worst, math.nan, True, True, "the baseline blew up in every seed, the remedy in none")
        if _finite(baseline) and not any(map(math.isfinite, trial)):
            return Effect(worst, math.nan, True, False, "the remedy blew up in every seed")
        if not any(map(math.isfinite, baseline + trial)):
            return Effect(math.nan, math.nan, False, False, "every run blew up")
        return Effect(math.nan, math.nan, False, False, "some seeds blew up")
    delta = float(np.mean(trial) - np.mean(baseline))
    spread = max(max(baseline) - min(baseline), max(trial) - min(trial))
    if abs(delta) <= MIN_EFFECT * abs(float(np.mean(baseline))):
        return Effect(delta, spread, False, False, f"less than {MIN_EFFECT:.0%} of the baseline")
    clear = abs(delta) > spread
    return Effect(delta, spread, clear, clear and (delta < 0) == lower_is_better)


@dataclasses.dataclass
class Trial:
    """One remedy tried for ``problems`` (the findings it is a lecture remedy of).

    Attributes:
        key, label: the remedy (e.g. ``"dropout"``, ``"dropout 0.3"``).
        problems: the findings it was tried for, most severe first.
        metric: the validation metric it is judged on (``"val_loss"``, ...).
        values: the metric of each seed's run; ``baseline``: the baseline's.
        gone: problem -> seeds in which the finding went away (``(gone, seeds)``).
        new: problems (above low severity) its runs show that the baseline's do not.
        status: one of :data:`STATUSES`; ``reason``: why it was not tried or failed.
        diagnoses: each run's :class:`~toolkit.diagnose.Diagnosis`.
    """

    key: str
    label: str
    problems: tuple
    metric: str = "val_loss"
    lower_is_better: bool = True
    values: list = dataclasses.field(default_factory=list)
    baseline: list = dataclasses.field(default_factory=list)
    gone: dict = dataclasses.field(default_factory=dict)
    shown: tuple = ()  # the problems the baseline's own runs show
    new: tuple = ()
    status: str = "not tried"
    reason: str = ""
    effect: Effect | None = None
    diagnoses: list = dataclasses.field(default_factory=list)
    seconds: float = 0.0

    def settle(self):
        """Judge the runs: set ``effect`` and ``status``.

        A **cure** needs a clear gain *and* every finding it was tried for (that the baseline runs
        show) gone in every seed; a clear gain without that "helps".
        """
        if not self.values or not self.baseline:
            return self
        self.effect = judge(self.baseline, self.values, lower_is_better=self.lower_is_better)
        targets = [p for p in self.problems if p in self.shown]
        cured = bool(targets) and all(self.gone.get(p, (0, 1))[0] == len(self.values) for p in targets)
        if not self.effect.clear:
            self.status = "no clear effect"
        elif not self.effect.better:
            self.status = "worse"
        else:
            self.status = "cure" if cured else "helps"
        return self

    @property
    def gain(self) -> float:
        """The improvement in units of the baseline (for a loss, the share it fell); 0 when not measured."""
        if not self.effect or not self.effect.clear or math.isnan(self.effect.delta):
            return 0.0
        if math.isinf(self.effect.delta):
            return math.inf if self.effect.better else -math.inf
        base = abs(float(np.mean(self.baseline))) or 1.0
        return (-self.effect.delta if self.lower_is_better else self.effect.delta) / base

    def _values(self, values) -> str:
        shown = [v for v in values if math.isfinite(v)]
        if not shown:
            return "NaN"
        text = num(float(np.mean(shown)))
        return text + ("" if len(shown) == len(values) else f" ({len(values) - len(shown)} NaN)")

    @property
    def verdict(self) -> str:
        """One line, e.g. ``"dropout 0.3: val_loss 0.31 vs 0.41 (2 seeds, seed spread 0.03), overfitting gone"``."""
        if self.status in ("not tried", "failed"):
            return f"{self.label}: {self.status}: {self.reason}"
        seeds = len(self.values)
        text = f"{self.label}: {self.metric} {self._values(self.values)} vs {self._values(self.baseline)}"
        text += f" ({seeds} seed{'s' if seeds > 1 else ''}"
        if self.effect.why:
            text += f"; {self.effect.why}"
        elif not math.isnan(self.effect.spread):
            text += f", seed spread {num(self.effect.spread)}"
        text += ")"
        if self.status == "no clear effect":
            text += ", no clear effect"
        elif self.status == "worse":
            text += ", worse"
        for problem in self.problems:
            gone, of = self.gone.get(problem, (0, seeds))
            if problem not in self.shown:
                text += f"; the baseline runs do not show {problem}"
            elif gone == of:
                text += f", {problem} gone"
            else:
                text += f", {problem} {'gone in ' + str(gone) + ' of ' + str(of) + ' seeds' if gone else 'still there'}"
        if self.new:
            text += f"; new: {', '.join(self.new)}"
        return text


def rank_key(trial: Trial, findings: tuple):
    """Cures first (those that leave the fewest findings first), then by how much they gained."""
    left = sum(1 for p in findings if p in trial.shown and trial.gone.get(p, (0, 1))[0] < max(len(trial.values), 1))
    return STATUSES.index(trial.status), left + len(trial.new), -trial.gain


class Prescription:
    """The report of :func:`~toolkit.diagnose.prescribe`: remedies ranked by what they measurably did.

    Attributes:
        trials: every remedy considered, ranked: cures, then remedies that help, then no
            clear effect, worse, failed, and not tried (with the reason).
        diagnosis: the :class:`~toolkit.diagnose.Diagnosis` the remedies were chosen for.
        baseline: the baseline's metric per seed; ``seeds``: the seeds used.
        partial: True when the search was interrupted (Ctrl-C); what was measured is kept.
        seconds, budget_s: the time taken and allowed. notes: what to keep in mind.

    Example:

    >>> report = prescribe(build_model, (x, y, x_val, y_val), budget_s=60)
    >>> report.best.label if report.best else None    # the top cure, e.g. 'LR ÷10'
    >>> report                                        # a table in a notebook; print(report) in a terminal
    """

    def __init__(self, trials, *, diagnosis=None, baseline=(), metric="val_loss", seeds=(), partial=False,
                 seconds=0.0, budget_s=0.0, notes=()):
        self.diagnosis = diagnosis
        findings = tuple(diagnosis.problems) if diagnosis is not None else ()
        self.trials = sorted(trials, key=lambda t: rank_key(t, findings))
        self.baseline, self.metric, self.seeds = list(baseline), metric, list(seeds)
        self.partial, self.seconds, self.budget_s, self.notes = partial, float(seconds), float(budget_s), list(notes)

    @property
    def best(self) -> Trial | None:
        """The top-ranked cure, or None when no remedy measurably cured its finding."""
        return self.trials[0] if self.trials and self.trials[0].status == "cure" else None

    @property
    def ranking(self) -> list[str]:
        """The keys of the remedies that were run, best first."""
        return [t.key for t in self.trials if t.status not in ("not tried", "failed")]

    def __getitem__(self, key: str) -> Trial:
        for trial in self.trials:
            if trial.key == key:
                return trial
        raise KeyError(f"{key!r} was not considered; the remedies are {[t.key for t in self.trials]}")

    def __repr__(self) -> str:
        return f"Prescription(ranking={self.ranking}, partial={self.partial})"

    def _title(self) -> str:
        what = ", ".join(self.diagnosis.problems) if self.diagnosis is not None else "no diagnosis"
        n = len(self.ranking)
        text = f"Prescription for {what}: {n} {'remedy' if n == 1 else 'remedies'} tried in {self.seconds:.0f} s"
        text += f" (budget {self.budget_s:.0f} s, {len(self.seeds)} seed{'s' if len(self.seeds) != 1 else ''})"
        return text + (" - PARTIAL: interrupted" if self.partial else "")

    def _baseline(self) -> str:
        if not self.baseline:
            return "baseline: not measured"
        values = ", ".join("NaN" if not math.isfinite(v) else num(v) for v in self.baseline)
        return f"baseline {self.metric} of the final model, seed by seed: {values}"

    def __str__(self) -> str:
        lines = [self._title(), f"  {self._baseline()}"]
        lines += [f"  {i}. [{t.status}] {t.verdict}" for i, t in enumerate(self.trials, 1)]
        lines += [f"  (note: {n})" for n in self.notes]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        e = html.escape
        rows = []
        for i, t in enumerate(self.trials, 1):
            measured = t.status not in ("not tried", "failed")
            rows.append(
                f"<tr><td>{i}</td><td>{e(t.label)}</td><td>{e(', '.join(t.problems))}</td>"
                f"<td>{e(t._values(t.values)) if measured else ''}</td>"
                f"<td>{e(t._values(t.baseline)) if measured else ''}</td>"
                f"<td><b>{e(t.status)}</b></td><td>{e(t.verdict.split(': ', 1)[1])}</td></tr>")
        head = "".join(f"<th>{h}</th>" for h in ("#", "remedy", "for", "with it (mean)", "baseline (mean)", "status",
                                                  "verdict"))
        notes = "".join(f"<li>{e(n)}</li>" for n in self.notes)
        return (f"<div><b>{e(self._title())}</b><br>{e(self._baseline())}"
                f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
                + (f"<small><ul>{notes}</ul></small>" if notes else "") + "</div>")
