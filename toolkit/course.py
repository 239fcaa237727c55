"""Run the whole course headless: ``make run`` / ``python -m toolkit run``.

Every notebook in ``notebooks/`` is executed in lecture order (fast mode
unless ``--full``), in a kernel that draws with matplotlib's inline backend
whatever ``MPLBACKEND`` says, so that the executed notebooks keep their figures.

* A notebook that finished is written as ``NAME.ipynb`` and ``NAME.html``; one
  that failed or was interrupted as ``NAME.partial.ipynb`` and
  ``NAME.partial.html``, with a banner cell on top that says why and the error
  in its cell. Each run replaces that notebook's older outputs of either kind.
* ``summary.json`` is rewritten atomically after each notebook and merged: a
  run of ``--only 01`` updates row 01 and keeps the others.
* The first Ctrl-C (SIGINT) or SIGTERM stops the whole run: the kernel is shut
  down, the current notebook is recorded as "interrupted", and
  :func:`run_course` reports the signal (the CLI exits with 128 + its number:
  130 for Ctrl-C, 143 for SIGTERM).

Executing a notebook runs its code with your rights: run only notebooks you trust.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import os
import pathlib
import re
import signal
import time

from toolkit.headline import HEADLINE_PREFIX
from toolkit.interrupt import Stop
from toolkit.lectures import check_out_dir, select_lectures, write_atomic
from toolkit.optional import require

#: The backend that records ``plt.show()`` figures as ``image/png`` outputs.
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _headlines(nb) -> list[str]:
    found = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            text = output.get("text", "")
            if isinstance(text, list):
                text = "".join(text)
            found += [ln[len(HEADLINE_PREFIX):].strip() for ln in text.splitlines() if ln.startswith(HEADLINE_PREFIX)]
    return found


def _error_text(exc) -> str:
    """The notebook's own exception (``AssertionError: the message``), not nbclient's wrapper."""
    ename, evalue = getattr(exc, "ename", None), getattr(exc, "evalue", None)
    text = f"{ename}: {evalue}" if ename else f"{type(exc).__name__}: {exc}"
    return _ANSI.sub("", text).strip()


def _mark_unfinished(nb, status: str, error: str, cell_index) -> None:
    import nbformat

    where = f" in cell {cell_index + 1} of {len(nb.cells)}" if cell_index is not None else ""
    if status == "interrupted" and cell_index is not None:
        nb.cells[cell_index].setdefault("outputs", []).append(
            nbformat.v4.new_output("error", ename="Interrupted", evalue=error, traceback=[f"Interrupted: {error}"])
        )
    banner = f"**This notebook did not finish: {status}{where}.**\n\n```\n{error}\n```"
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(banner))


def run_notebook(path, out_dir, *, timeout: int = 1800, stop: Stop | None = None, env: dict | None = None) -> dict:
    """Execute one notebook in a fresh kernel and write it, with its HTML, to ``out_dir``.

    Args:
        path: the notebook.
        out_dir: an existing folder for ``NAME.ipynb``/``NAME.html`` (finished)
            or ``NAME.partial.ipynb``/``NAME.partial.html`` (failed, interrupted).
        timeout: seconds allowed per cell.
        stop: the run's :class:`Stop`; a SIGINT/SIGTERM during execution ends
            this notebook as "interrupted" (the caller should then stop).
        env: extra environment variables for the kernel.

    Returns:
        The summary row: ``notebook``, ``seconds``, ``status`` ("ok", "FAILED"
        or "interrupted"), ``headline``, ``error`` and ``output`` (file name).
    """
    nbformat = require("nbformat", needed_for="running notebooks")
    NotebookClient = require("nbclient", needed_for="running notebooks").NotebookClient
    HTMLExporter = require("nbconvert", needed_for="running notebooks").HTMLExporter

    path, out_dir, watched = pathlib.Path(path), pathlib.Path(out_dir), stop is not None
    stop = stop or Stop()
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}},
        extra_arguments=["--IPKernelApp.log_level=ERROR"],  # not its "running over TCP" warning for each notebook
    )
    current = {}
    client.on_notebook_start = stop.watch(client)
    client.on_cell_execute = lambda cell, cell_index: current.update(index=cell_index)
    kernel_env = {**os.environ, **(env or {}), "MPLBACKEND": INLINE_BACKEND}
    start = time.perf_counter()
    status, error = "ok", ""
    try:
        client.execute(env=kernel_env)
    except (KeyboardInterrupt, asyncio.CancelledError):
        status = "interrupted"
    except Exception as exc:  # a cell's error, a dead kernel, a timeout
        status, error = "FAILED", _error_text(exc)
    finally:
        if watched:
            stop.install()  # asyncio's clean-up reset the process's handlers to the defaults
    if stop.signum is not None or getattr(client, "_async_cleanup_kernel_future", None) is not None:
        status, error = "interrupted", f"stopped by {stop.name}"  # the future: nbclient saw a signal at kernel start
        stop.signum = stop.signum or signal.SIGINT
    seconds = time.perf_counter() - start
    finished = status == "ok"
    if not finished:
        _mark_unfinished(nb, status, error, current.get("index"))
    stem = path.stem if finished else f"{path.stem}.partial"
    for old in (f"{path.stem}.ipynb", f"{path.stem}.html", f"{path.stem}.partial.ipynb", f"{path.stem}.partial.html"):
        (out_dir / old).unlink(missing_ok=True)
    write_atomic(out_dir / f"{stem}.ipynb", nbformat.writes(nb))
    try:
        html, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
        write_atomic(out_dir / f"{stem}.html", html)
    except Exception as exc:  # an HTML failure must not hide the run's result
        print(f"  (could not write HTML for {path.name}: {exc})", flush=True)
    headlines = _headlines(nb) if finished else []
    return {
        "notebook": path.stem,
        "seconds": round(seconds, 1),
        "status": status,
        "headline": "; ".join(headlines),
        "error": error,
        "output": f"{stem}.ipynb",
        "signal": stop.name if status == "interrupted" else None,
    }


def format_table(rows: list[dict]) -> str:
    """The summary as a fixed-width text table: a finished notebook's headline, or why it did not finish."""
    head = ("notebook", "seconds", "status", "headline / error")
    body = [
        (r["notebook"], f"{r['seconds']:.1f}", r["status"], r["headline"] if r["status"] == "ok" else (r["error"].splitlines() or [""])[0])
        for r in rows
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*head).rstrip(), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*row).rstrip() for row in body]
    return "\n".join(lines)


def read_summary(out_dir) -> dict:
    """``summary.json`` of ``out_dir`` (``{"notebooks": []}`` when there is none or it is unreadable)."""
    try:
        data = json.loads((pathlib.Path(out_dir) / "summary.json").read_text())
        if isinstance(data, dict) and isinstance(data.get("notebooks"), list):
            return data
    except (OSError, ValueError):
        pass
    return {"notebooks": []}


def _merge(old_rows: list[dict], new_rows: list[dict]) -> list[dict]:
    rows = {r.get("notebook"): r for r in old_rows if isinstance(r, dict) and r.get("notebook")}
    rows.update({r["notebook"]: r for r in new_rows})
    return [rows[name] for name in sorted(rows)]


def run_course(notebooks_dir="notebooks", out_dir="build", *, full: bool = False, only=None) -> list[dict]:
    """Execute the lectures in order, merge ``summary.json`` and print the summary table.

    Args:
        notebooks_dir: the folder of ``NN_name.ipynb`` notebooks.
        out_dir: where the executed notebooks go; not ``notebooks_dir``.
        full: full size instead of fast mode.
        only: lectures to run: numbers (``1``, ``01``) or names (``01_perceptron``,
            ``01_perceptron.ipynb``); ``None`` for all.

    Returns:
        This run's rows. After a SIGINT/SIGTERM the run stops; its last row is
        "interrupted" and its ``signal`` is the signal's name ("SIGINT").

    Raises:
        ValueError: a bad folder or ``only`` value, before anything runs.

    Example:
        >>> rows = run_course("notebooks", "build", only=["01"])  # doctest: +SKIP
    """
    paths = select_lectures(notebooks_dir, only)
    out_dir = check_out_dir(out_dir, notebooks_dir)
    for module in ("nbformat", "nbclient", "nbconvert"):  # the [course] extra; refused before anything runs
        require(module, needed_for="dnn-course run")
    mode = "full" if full else "fast"
    # Kernels inherit an explicit mode, never auto's guess (and a TOOLKIT_FAST that agrees with it).
    os.environ.update(TOOLKIT_MODE=mode, TOOLKIT_FAST="0" if full else "1")
    print(f"Running {len(paths)} notebooks in {mode} mode; results go to {out_dir}/", flush=True)
    summary, earlier = out_dir / "summary.json", read_summary(out_dir)["notebooks"]
    stop, rows = Stop(), []
    old_handlers = stop.install()
    try:
        for path in paths:
            print(f"- {path.stem} ...", end=" ", flush=True)
            try:
                row = run_notebook(path, out_dir, stop=stop)
            except KeyboardInterrupt:  # between the kernel's end and the files
                row = {"notebook": path.stem, "seconds": 0.0, "status": "interrupted", "headline": "",
                       "error": f"stopped by {stop.name}", "output": "", "signal": stop.name}
            row["mode"] = mode
            row["finished_at"] = datetime.datetime.now().isoformat(timespec="seconds")
            rows.append(row)
            print(f"{row['status']} in {row['seconds']:.1f} s", flush=True)
            merged = _merge(earlier, rows)
            write_atomic(summary, json.dumps({"mode": mode, "notebooks": merged}, indent=2) + "\n")
            if stop.signum is not None or row["status"] == "interrupted":
                break
    finally:
        for sig, handler in old_handlers.items():
            signal.signal(sig, handler)
    print()
    print(format_table(rows))
    if stop.signum is not None:
        left = [p.stem for p in paths[len(rows):]]
        print(f"\nStopped by {stop.name}" + (f"; not run: {', '.join(left)}" if left else ""))
    kept = len({r["notebook"] for r in earlier} - {r["notebook"] for r in rows})
    print(f"\nExecuted notebooks and HTML: {out_dir}/  (summary: {summary}" + (f", with {kept} row{'s' * (kept != 1)} of earlier runs)" if kept else ")"))
    return rows
