"""What the training doctor reports: a :class:`Finding` per problem, gathered
in a :class:`Diagnosis` that reads as a report in a notebook and as text.

Every finding names exactly one word of :data:`VOCABULARY`, a severity from
:data:`SEVERITIES`, the evidence (a sentence with the run's own numbers) and
at least two remedies from the lecture's tables (:mod:`toolkit.diagnose.remedies`).
A low-severity finding is weak evidence and reads as "possible <problem>" in
the text, the notebook report and the command line.
"""

from __future__ import annotations

import dataclasses
import html

from toolkit.validation import received

#: The fixed words a finding's ``problem`` is one of (DESIGN §5).
VOCABULARY = (
    "healthy",
    "overfitting",
    "underfitting",
    "diverging",
    "lr_too_low",
    "noisy",
    "nan",
    "train_val_mismatch",
    "vanishing_gradients",
    "exploding_gradients",
    "dead_units",
    "class_imbalance",
    "class_confusion",
)

#: Severity, from least to most urgent. ``"none"`` is used by ``healthy`` only;
#: ``"high"`` means training is broken or its result should not be trusted,
#: ``"medium"`` costs accuracy clearly, ``"low"`` is worth a look.
SEVERITIES = ("none", "low", "medium", "high")

#: Order of findings of equal severity: what breaks training first, then what costs accuracy.
PRIORITY = (
    "nan",
    "diverging",
    "exploding_gradients",
    "vanishing_gradients",
    "dead_units",
    "underfitting",
    "lr_too_low",
    "overfitting",
    "class_imbalance",
    "class_confusion",
    "train_val_mismatch",
    "noisy",
    "healthy",
)

_ICONS = {"none": "✅", "low": "🟡", "medium": "🟠", "high": "🔴"}


@dataclasses.dataclass(frozen=True)
class Finding:
    """One problem found in a run.

    Attributes:
        problem: one word of :data:`VOCABULARY`.
        severity: one of :data:`SEVERITIES`.
        evidence: what in the run shows it, with the run's own numbers.
        remedies: what to try, most direct first (at least two).
    """

    problem: str
    severity: str
    evidence: str
    remedies: tuple[str, ...]

    def __post_init__(self):
        if self.problem not in VOCABULARY:
            raise ValueError(f"`problem` must be one of {list(VOCABULARY)}. {received('problem', self.problem)}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"`severity` must be one of {list(SEVERITIES)}. {received('severity', self.severity)}")
        if (self.severity == "none") != (self.problem == "healthy"):
            raise ValueError(f"Only `healthy` has severity 'none'. Received: problem={self.problem!r}, severity={self.severity!r}")
        if not isinstance(self.evidence, str) or not self.evidence.strip():
            raise ValueError(f"`evidence` must be a sentence. {received('evidence', self.evidence)}")
        object.__setattr__(self, "remedies", tuple(self.remedies))
        if len(self.remedies) < 2:
            raise ValueError(f"A finding needs at least two remedies. {received('remedies', self.remedies)}")

    @property
    def label(self) -> str:
        """How the report names it: ``"possible overfitting"`` at low severity (weak evidence), else the word."""
        return f"possible {self.problem}" if self.severity == "low" else self.problem

    @property
    def rank(self) -> int:
        """Sort key: the most severe first, then by :data:`PRIORITY`."""
        return -SEVERITIES.index(self.severity) * 100 + PRIORITY.index(self.problem)

    def __str__(self) -> str:
        lines = [f"{self.label} ({self.severity}): {self.evidence}"]
        lines += [f"    - {r}" for r in self.remedies]
        return "\n".join(lines)


class Diagnosis:
    """The doctor's report on one run: a list of findings, most severe first.

    ``healthy`` is reported alone, and only when nothing else was found.

    Attributes:
        findings: the findings, most severe first.
        notes: what could not be checked and why (e.g. no ``val_loss``).
        epochs: the number of epochs the report is about.

    Example:

    >>> d = diagnose(history)
    >>> d.problems            # e.g. ['overfitting']
    >>> "overfitting" in d    # True
    >>> print(d)              # the report as text; a notebook shows it as Markdown
    """

    def __init__(self, findings, *, notes=(), epochs: int = 0):
        findings = sorted(findings, key=lambda f: f.rank)
        problems = [f.problem for f in findings]
        if len(set(problems)) != len(problems):
            raise ValueError(f"Each problem may be reported once. Received problems={problems}")
        if "healthy" in problems and len(problems) > 1:
            raise ValueError(f"`healthy` must be reported alone. Received problems={problems}")
        if not findings:
            raise ValueError("A diagnosis needs at least one finding (`healthy` when nothing is wrong).")
        self.findings: list[Finding] = list(findings)
        self.notes: list[str] = list(notes)
        self.epochs = int(epochs)

    @property
    def problems(self) -> list[str]:
        """The vocabulary words found, most severe first."""
        return [f.problem for f in self.findings]

    @property
    def healthy(self) -> bool:
        return self.problems == ["healthy"]

    @property
    def severity(self) -> str:
        """The severity of the worst finding."""
        return self.findings[0].severity

    def __contains__(self, problem) -> bool:
        return problem in self.problems

    def __getitem__(self, problem: str) -> Finding:
        for finding in self.findings:
            if finding.problem == problem:
                return finding
        raise KeyError(f"{problem!r} was not found; the findings are {self.problems}")

    def __iter__(self):
        return iter(self.findings)

    def __len__(self) -> int:
        return len(self.findings)

    def __repr__(self) -> str:
        return f"Diagnosis(problems={self.problems}, epochs={self.epochs})"

    def _title(self) -> str:
        what = "healthy" if self.healthy else ", ".join(f.label for f in self.findings)
        if not self.epochs:  # a confusion matrix read alone
            return f"Training doctor: {what}"
        return f"Training doctor: {what} ({self.epochs} epoch{'s' if self.epochs != 1 else ''})"

    def __str__(self) -> str:
        lines = [self._title()]
        for finding in self.findings:
            lines.append(f"{_ICONS[finding.severity]} {finding.label} [{finding.severity}]: {finding.evidence}")
            label = "Next steps" if finding.problem == "healthy" else "Try"
            lines.append(f"   {label}:")
            lines += [f"     - {r}" for r in finding.remedies]
        for note in self.notes:
            lines.append(f"   (note: {note})")
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        parts = [f"**{html.escape(self._title(), quote=False)}**", ""]
        for finding in self.findings:
            label = "Next steps" if finding.problem == "healthy" else "Try"
            possible = "possible " if finding.severity == "low" else ""
            parts.append(
                f"{_ICONS[finding.severity]} {possible}**`{html.escape(finding.problem, quote=False)}`** "
                f"({html.escape(finding.severity, quote=False)}): "
                f"{html.escape(finding.evidence, quote=False)}  "
            )
            parts.append(f"*{label}:* " + "; ".join(html.escape(r, quote=False) for r in finding.remedies) + ".")
            parts.append("")
        if self.notes:
            parts.append("<small>Notes: " + " ".join(html.escape(n, quote=False) for n in self.notes) + "</small>")
        return "\n".join(parts)
