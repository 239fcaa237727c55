"""Run the whole course headless: ``make run`` / ``python -m toolkit run``.

Every notebook in ``notebooks/`` is executed in lecture order (fast mode
unless ``--full``). Each executed notebook and its HTML are written to the
output folder as soon as it finishes, with ``summary.json`` updated after each
one, so an interrupted run keeps what it had done. A summary table follows:
notebook, seconds, status, and its headline figure (the line a notebook prints
with :func:`toolkit.runtime.headline`).
"""

from __future__ import annotations

import json
import os
import pathlib
import sys
import time

from toolkit.runtime import HEADLINE_PREFIX


def _headlines(nb) -> list[str]:
    found = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            text = output.get("text", "")
            if isinstance(text, list):
                text = "".join(text)
            for line in text.splitlines():
                if line.startswith(HEADLINE_PREFIX):
                    found.append(line[len(HEADLINE_PREFIX):].strip())
    return found


def run_notebook(path, out_dir, *, timeout: int = 1800) -> dict:
    """Execute one notebook; write ``.ipynb`` and ``.html`` to ``out_dir``."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from nbconvert import HTMLExporter

    path = pathlib.Path(path)
    out_dir = pathlib.Path(out_dir)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    status, error = "ok", ""
    try:
        client.execute()
    except CellExecutionError as exc:
        status = "FAILED"
        lines = [ln for ln in str(exc).splitlines() if ln.strip()]
        error = lines[-1] if lines else "cell error"
    except Exception as exc:  # kernel died, timeout, ...
        status = "FAILED"
        error = f"{type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - start
    nbformat.write(nb, out_dir / path.name)
    try:
        html, _ = HTMLExporter().from_notebook_node(nb)
        (out_dir / path.with_suffix(".html").name).write_text(html, encoding="utf-8")
    except Exception as exc:  # an HTML failure must not hide the run's result
        print(f"  (could not write HTML for {path.name}: {exc})", file=sys.stderr)
    headlines = _headlines(nb)
    return {
        "notebook": path.stem,
        "seconds": round(seconds, 1),
        "status": status,
        "headline": "; ".join(headlines) if headlines else "",
        "error": error,
    }


def format_table(rows: list[dict]) -> str:
    """The summary as a fixed-width text table."""
    head = ("notebook", "seconds", "status", "headline")
    body = [(r["notebook"], f"{r['seconds']:.1f}", r["status"], r["headline"] or r["error"]) for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*head), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*row) for row in body]
    return "\n".join(lines)


def run_course(notebooks_dir="notebooks", out_dir="build", *, full: bool = False, only=None) -> list[dict]:
    """Execute every notebook in lecture order and print the summary table."""
    notebooks_dir = pathlib.Path(notebooks_dir)
    out_dir = pathlib.Path(out_dir)
    if not notebooks_dir.is_dir():
        raise ValueError(f"`notebooks_dir` must be a folder of notebooks. Received: notebooks_dir={str(notebooks_dir)!r}")
    out_dir.mkdir(parents=True, exist_ok=True)
    if full:
        os.environ.pop("TOOLKIT_FAST", None)
    else:
        os.environ["TOOLKIT_FAST"] = "1"
    paths = sorted(notebooks_dir.glob("[0-9][0-9]_*.ipynb"))
    if only:
        paths = [p for p in paths if any(p.stem.startswith(o) for o in only)]
    if not paths:
        print(f"No notebooks found in {notebooks_dir}/.")
        return []
    mode = "full" if full else "fast (TOOLKIT_FAST=1)"
    print(f"Running {len(paths)} notebooks in {mode} mode; results go to {out_dir}/", flush=True)
    rows: list[dict] = []
    summary = out_dir / "summary.json"
    for path in paths:
        print(f"- {path.stem} ...", end=" ", flush=True)
        row = run_notebook(path, out_dir)
        print(f"{row['status']} in {row['seconds']:.1f} s", flush=True)
        rows.append(row)
        summary.write_text(json.dumps({"mode": "full" if full else "fast", "notebooks": rows}, indent=2))
    print()
    print(format_table(rows))
    print(f"\nExecuted notebooks and HTML: {out_dir}/  (summary: {summary})")
    return rows
