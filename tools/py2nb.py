"""Build a course notebook from a percent-format Python script, and back.

Authors write ``notebooks/NN_name.ipynb`` in an editor as a script with
``# %%`` code cells and ``# %% [markdown]`` cells, then run::

    python tools/py2nb.py script.py notebooks/05_lr_schedules.ipynb
    python tools/py2nb.py notebooks/05_lr_schedules.ipynb script.py   # back to a script
    python tools/py2nb.py --record notebooks/01_perceptron.ipynb      # store checked outputs

The standard head of every notebook is added here, from one place
(``toolkit.REPOSITORY``): the title cell gets the "Open in Colab" badge for
its own path, and the setup cell that installs the toolkit only on Colab is
inserted after it. The script holds neither; write the title cell first.
Outputs are never stored, except in ``# NBVAL_CHECK_OUTPUT`` cells: nbval
compares those against a fresh run, and ``--record`` executes the notebook
(fast mode, offline) and stores the output of those cells alone. Their prints
must be deterministic, rounded, and the same in fast and full mode.
"""

from __future__ import annotations

import pathlib
import re
import sys

import nbformat

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from toolkit import REPOSITORY  # noqa: E402

SETUP_TAG = "# Setup (the same in every notebook)"
#: What Colab's setup cell installs: the distribution with the notebooks' extras, from the repository.
#: Its floors (pyproject.toml) make pip upgrade an older Colab Keras; describe_environment() then says
#: when the runtime must restart, and when a version is still out of range.
COLAB_REQUIREMENT = f"training-deep-networks[course] @ git+https://github.com/{REPOSITORY}"
SETUP_CELL = f"""{SETUP_TAG}: on Colab, install the course toolkit; locally `make venv` has.
import sys

if "google.colab" in sys.modules:
    %pip install -q "{COLAB_REQUIREMENT}"

from toolkit.runtime import describe_environment

ENV = describe_environment()"""


def badge(path: pathlib.Path) -> str:
    url = f"https://colab.research.google.com/github/{REPOSITORY}/blob/main/notebooks/{path.name}"
    return f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({url})"


def script_to_notebook(source: str, target: pathlib.Path):
    chunks = re.split(r"^# %%(.*)$", source, flags=re.M)
    cells = []
    # chunks: [preamble, header1, body1, header2, body2, ...]
    for header, body in zip(chunks[1::2], chunks[2::2]):
        body = body.strip("\n")
        if "[markdown]" in header:
            text = "\n".join(re.sub(r"^# ?", "", line) for line in body.splitlines())
            cells.append(nbformat.v4.new_markdown_cell(text))
        elif body.strip():
            cells.append(nbformat.v4.new_code_cell(body))
    if not cells or cells[0].cell_type != "markdown":
        raise SystemExit("The script must start with a '# %% [markdown]' title cell.")
    cells[0].source = cells[0].source.rstrip() + "\n\n" + badge(target)
    cells.insert(1, nbformat.v4.new_code_cell(SETUP_CELL))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.validate(nb)
    return nb


def notebook_to_script(nb) -> str:
    parts = []
    for i, cell in enumerate(nb.cells):
        src = cell.source
        if cell.cell_type == "markdown":
            if i == 0:
                src = src.replace(badge_line(src), "").rstrip()
            parts.append("# %% [markdown]\n" + "\n".join(("# " + l).rstrip() for l in src.splitlines()))
        elif SETUP_TAG not in src:
            parts.append("# %%\n" + src)
    return "\n\n".join(parts) + "\n"


def badge_line(src: str) -> str:
    m = re.search(r"\[!\[Open In Colab\].*\)", src)
    return m.group(0) if m else ""


def record(path: pathlib.Path):
    import os

    from nbclient import NotebookClient

    os.environ.update(TOOLKIT_FAST="1", TOOLKIT_OFFLINE="1", MPLBACKEND="Agg")
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.metadata.pop("execution", None)
            if "NBVAL_CHECK_OUTPUT" not in cell.source:  # nbval needs the count of a checked cell
                cell.outputs = []
                cell.execution_count = None
    nbformat.write(nb, path)


def main(argv):
    if argv and argv[0] == "--record":
        for name in argv[1:]:
            record(pathlib.Path(name))
            print(f"recorded the NBVAL_CHECK_OUTPUT outputs of {name}")
        return
    if len(argv) != 2:
        raise SystemExit(__doc__)
    src, dst = map(pathlib.Path, argv)
    if src.suffix == ".py":
        nb = script_to_notebook(src.read_text(), dst)
        nbformat.write(nb, dst)
    else:
        dst.write_text(notebook_to_script(nbformat.read(src, as_version=4)))
    print(f"wrote {dst}")


if __name__ == "__main__":
    main(sys.argv[1:])
