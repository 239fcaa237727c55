"""diagnose(): run every rule on a training history and gather the findings."""

from __future__ import annotations

from toolkit.diagnose import confusion as confusion_rules
from toolkit.diagnose import curves, fitting, layers
from toolkit.diagnose.findings import SEVERITIES, Diagnosis, Finding
from toolkit.diagnose.remedies import REMEDIES
from toolkit.diagnose.run import Run, chance_classes, end_level, make_run, num
from toolkit.validation import check_int

#: Curve findings that mean the model does not fit its training data: per-class patterns are then symptoms.
NOT_FITTED = ("nan", "diverging", "underfitting", "lr_too_low")


def _merge(findings: list[Finding]) -> list[Finding]:
    """One finding per problem: evidence joined, the higher severity kept."""
    merged: dict[str, Finding] = {}
    for f in findings:
        if f.problem in merged:
            old = merged[f.problem]
            severity = max(old.severity, f.severity, key=SEVERITIES.index)
            merged[f.problem] = Finding(f.problem, severity, f"{old.evidence} Also, {f.evidence}", old.remedies)
        else:
            merged[f.problem] = f
    return list(merged.values())


def _healthy(run: Run) -> Finding:
    x = run.loss
    parts = [f"loss went from {num(x[0])} to {num(x[-1])} in {run.n} epoch{'s' if run.n != 1 else ''}"]
    if run.val_loss is not None:
        best = int(run.val_loss.argmin())
        parts.append(f"val_loss is {num(run.val_loss[-1])}, best {num(run.val_loss[best])} at epoch {run.val_epoch(best)}")
    if run.acc is not None:
        text = f"{run.acc_name} {num(end_level(run.acc))}"
        if run.val_acc is not None:
            text += f", val_{run.acc_name} {num(end_level(run.val_acc))}"
        parts.append(text)
    verdict = "No rule fired" if run.n >= curves.MIN_TREND_EPOCHS else "Too few epochs to read trends; nothing else is wrong"
    return Finding("healthy", "none", "; ".join(parts) + f". {verdict}.", REMEDIES["healthy"])


def _notes(run: Run, cm) -> list[str]:
    notes = []
    if run.n < run.n_total:
        notes.append(f"the curve rules read the {run.n} epoch(s) before the first NaN/inf.")
    if 0 < run.n < curves.MIN_TREND_EPOCHS:
        notes.append(f"only {run.n} finite epoch(s): trends (overfitting, divergence, plateaus) need {curves.MIN_TREND_EPOCHS}.")
    if run.val_loss is None:
        notes.append("no val_loss: overfitting was not checked (pass validation data to fit).")
    if not run.grad_norms and not run.dead_fractions:
        notes.append("no monitor keys: add GradientMonitor and ActivationMonitor to check gradients and dead units.")
    if cm is None:
        notes.append("no confusion matrix: class imbalance and confusion were not checked.")
    return notes


def diagnose(history, *, confusion=None, num_classes=None) -> Diagnosis:
    """Read a training run the way the lecture reads loss curves and confusion matrices.

    Args:
        history: a Keras ``History`` or a dict of per-epoch lists, with
            ``loss`` and optionally ``val_loss``, an accuracy metric and its
            ``val_`` twin, the monitors' ``grad_norm/<layer>``,
            ``dead_fraction/<layer>`` and ``act_std/<layer>``, and an
            ``epoch`` entry (0-based, as CSVLogger writes it) for a resumed run.
        confusion: optional k×k confusion matrix (rows true, columns
            predicted), e.g. ``classification_summary(y, p).confusion``.
        num_classes: the number of classes, for chance levels (accuracy
            1/k; loss ln k, which assumes a cross-entropy loss). Taken from
            ``confusion`` when not given, or read off a run that sits at
            the chance level (loss ≈ ln k and accuracy ≈ 1/k; said in a note).

    Returns:
        A :class:`Diagnosis`: findings most severe first, each with a
        vocabulary word, severity, evidence and remedies; ``healthy`` alone
        when no rule fires.

    Example:

    >>> hist = model.fit(x, y, validation_data=(xv, yv), epochs=20, verbose=0)
    >>> report = diagnose(hist)
    >>> report.problems        # e.g. ['overfitting']
    >>> report                 # a notebook shows the report
    """
    cm = confusion_rules.check_confusion(confusion) if confusion is not None else None
    if num_classes is not None:
        num_classes = check_int("num_classes", num_classes, minimum=2)
        if cm is not None and len(cm) != num_classes:
            raise ValueError(
                f"`num_classes` must match the {len(cm)}x{len(cm)} `confusion`. Received: num_classes={num_classes}"
            )
    elif cm is not None:
        num_classes = len(cm)
    run = make_run(history, num_classes=num_classes)
    if run.num_classes is None and run.n >= curves.MIN_TREND_EPOCHS and run.acc is not None:
        run.num_classes = chance_classes(end_level(run.loss), end_level(run.acc))
        run.classes_inferred = run.num_classes is not None

    found = [curves.nan(run)]
    if run.n:
        diverging = curves.diverging(run)
        found += [diverging, curves.overfitting(run), curves.noisy(run), fitting.train_val_mismatch(run)]
        if not (found[0] or diverging):  # a broken run is not judged by how far it got
            found.append(fitting.lr_too_low(run) or fitting.underfitting(run) or fitting.loss_floor(run))
    found += [layers.vanishing_gradients(run), layers.exploding_gradients(run), layers.dead_units(run)]
    notes = _notes(run, cm)
    if run.classes_inferred:
        notes.append(f"num_classes={run.num_classes} was read off the chance level (loss ≈ ln {run.num_classes}, "
                     f"accuracy ≈ 1/{run.num_classes}); pass num_classes to be sure.")
    if cm is not None:
        unfit = [f.problem for f in found if f and f.problem in NOT_FITTED]
        found += confusion_rules.read_confusion(cm, per_class=not unfit)
        if unfit:
            notes.append(f"per-class rules (imbalance, confusion) were skipped: the curves show {unfit[0]}, "
                         "which touches every class.")
    findings = _merge([f for f in found if f])
    if not findings:  # (a run without a finite epoch always has a `nan` finding)
        findings = [_healthy(run)]
    return Diagnosis(findings, notes=notes, epochs=run.n_total)



def diagnose_confusion(confusion) -> Diagnosis:
    """Read a confusion matrix alone, without training curves.

    Args:
        confusion: a k×k matrix of counts or rates (rows true, columns predicted).

    Returns:
        A :class:`Diagnosis` of the matrix: ``underfitting`` (near-uniform),
        ``class_confusion`` (a pair mistaken for each other),
        ``class_imbalance`` (a class that is rare or avoided), or ``healthy``.

    Example:

    >>> diagnose_confusion([[50, 0], [0, 50]]).problems
    ['healthy']
    """
    cm = confusion_rules.check_confusion(confusion)
    findings = confusion_rules.read_confusion(cm)
    if not findings:
        acc = cm.trace() / cm.sum()
        findings = [Finding("healthy", "none", f"a strong diagonal: accuracy {num(acc)}, Cohen's kappa "
                            f"{confusion_rules.kappa(cm):.2f}. No rule fired.", REMEDIES["healthy"])]
    return Diagnosis(findings, epochs=0)
