"""``python -m toolkit doctor FILE ...``: diagnose saved training runs without TensorFlow.

Each file is a ``keras.callbacks.CSVLogger`` file or a JSON dump of
``history.history``, read by :func:`toolkit.history.read_runs`: ``NA``
cells are epochs that were not measured, and a file that several fits
appended to is reported run by run, saying so. A file that cannot be read
(missing, binary, too large, not a history) gets one line on stderr naming
it; the other files are still reported. The exit status is 0 when every
file was read, 2 when one was not, never a traceback.

Example::

    $ python -m toolkit doctor history.csv other_run.json --num-classes 10
"""

from __future__ import annotations

import os
import sys

PROG = "python -m toolkit doctor"


def _report(path: str, num_classes, out) -> None:
    """Print the diagnosis of every run in one file (raises ValueError/TypeError/OSError when unreadable)."""
    import warnings

    from toolkit.diagnose.engine import diagnose
    from toolkit.history import read_runs

    runs = read_runs(path, name="FILE")
    reports = []
    for run in runs:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the report says what matters; numpy's warnings on odd runs add nothing
            reports.append(diagnose(run, num_classes=num_classes))
    if len(runs) > 1:
        spans = ", ".join(f"epochs {r.epochs[0]}-{r.epochs[-1]}" for r in runs)
        print(f"{path}: {len(runs)} runs appended to one file (the epoch numbering restarts): {spans}. "
              "Each is reported separately.", file=out)
    for i, (run, report) in enumerate(zip(runs, reports)):
        where = f" (run {i + 1} of {len(runs)}, epochs {run.epochs[0]}-{run.epochs[-1]})" if len(runs) > 1 else ""
        print(f"== {path}{where}", file=out)
        for note in run.notes:
            print(f"   (read: {note})", file=out)
        print(report, file=out)


def doctor_main(files, *, num_classes=None, out=None, err=None) -> int:
    """Diagnose each file; return 0 when all were read, 2 when one could not be.

    Args:
        files: paths of CSVLogger files or JSON dumps of ``history.history``.
        num_classes: the number of classes, for chance levels (>= 2), or None.
        out, err: streams for the reports and for the one-line errors
            (default: stdout, stderr).
    """
    out = out or sys.stdout
    err = err or sys.stderr
    if num_classes is not None and num_classes < 2:
        print(f"{PROG}: --num-classes must be >= 2 (num_classes=k for k classes). Received: num_classes={num_classes}",
              file=err)
        return 2
    failed = 0
    for path in files:
        try:
            _report(os.fspath(path), num_classes, out)
        except (TypeError, ValueError, OSError) as exc:
            failed += 1
            text = " ".join(str(exc).split())
            shown = repr(os.fspath(path))
            print(f"{PROG}: {text if shown in text else f'{shown}: {text}'}", file=err)
        except Exception as exc:  # noqa: BLE001 -- one line per file, never a traceback (say what broke)
            failed += 1
            print(f"{PROG}: {os.fspath(path)!r} could not be read ({type(exc).__name__}: {exc}).", file=err)
    return 2 if failed else 0
