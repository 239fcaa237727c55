"""The headless runner behind `make run` (in process), and `python -m toolkit prefetch` offline.

The command line itself (exit codes, Ctrl-C, bad options) is in tests/test_run_cli.py.
"""

import json
import os
import subprocess
import sys

import nbformat
import pytest

from toolkit import course, lectures, prefetch

PLOT = "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3]); plt.show()"


def _write_nb(path, *cells):
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell(f"# {path.stem}\n\n**Goal.** Test {path.stem}.")]
        + [nbformat.v4.new_code_cell(c) for c in cells]
    )
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def _images(path) -> int:
    nb = nbformat.read(path, as_version=4)
    return sum("image/png" in out.get("data", {}) for cell in nb.cells for out in cell.get("outputs", []))


@pytest.fixture
def two_notebooks(tmp_path):
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    _write_nb(nbdir / "01_ok.ipynb", "import os\nprint('Headline: answer =', os.environ['TOOLKIT_FAST'])")
    _write_nb(
        nbdir / "02_broken.ipynb",
        "print('Headline: looks fine')",
        "assert 1 + 1 == 3, 'the planted failure\\nwith a second line'",
        "print('never')",
    )
    return nbdir


def test_kernels_draw_inline_whatever_mplbackend_says(tmp_path, monkeypatch):
    """Under the Makefile's MPLBACKEND=Agg, plt.show() used to record nothing: three figures must be kept."""
    monkeypatch.setenv("MPLBACKEND", "Agg")
    _write_nb(tmp_path / "01_plots.ipynb", PLOT, "fig, axes = plt.subplots(1, 2)\nplt.show()", PLOT + "\nplt.close('all')")
    out = tmp_path / "build"
    out.mkdir()
    row = course.run_notebook(tmp_path / "01_plots.ipynb", out)
    assert row["status"] == "ok", row
    assert _images(out / "01_plots.ipynb") == 3
    assert os.environ["MPLBACKEND"] == "Agg"  # the caller's environment is left alone


def test_run_course_writes_finished_and_partial_notebooks(two_notebooks, tmp_path, capsys):
    out = tmp_path / "build"
    rows = course.run_course(two_notebooks, out)
    assert [r["status"] for r in rows] == ["ok", "FAILED"]
    assert rows[0]["headline"] == "answer = 1"
    # the notebook's own exception, not nbclient's "CellExecutionError" wrapper or a bare "AssertionError: "
    assert rows[1]["error"] == "AssertionError: the planted failure\nwith a second line"
    assert rows[1]["headline"] == ""  # a failed notebook's headline is never shown as its result
    assert sorted(p.name for p in out.iterdir()) == [
        "01_ok.html", "01_ok.ipynb", "02_broken.partial.html", "02_broken.partial.ipynb", "summary.json",
    ]
    partial = nbformat.read(out / "02_broken.partial.ipynb", as_version=4)
    assert "did not finish: FAILED in cell 3 of 4" in partial.cells[0].source
    assert [o["output_type"] for o in partial.cells[3].outputs] == ["error"]
    assert partial.cells[4].get("outputs") == []  # never ran
    table = capsys.readouterr().out
    line = next(ln for ln in table.splitlines() if ln.startswith("02_broken"))
    assert "FAILED" in line and "AssertionError: the planted failure" in line and "looks fine" not in line


def test_summary_is_merged_and_outputs_replaced(two_notebooks, tmp_path):
    out = tmp_path / "build"
    course.run_course(two_notebooks, out)
    _write_nb(two_notebooks / "01_ok.ipynb", "raise RuntimeError('now broken')")
    rows = course.run_course(two_notebooks, out, only=["1"])
    assert [(r["notebook"], r["status"]) for r in rows] == [("01_ok", "FAILED")]
    summary = json.loads((out / "summary.json").read_text())
    assert [(r["notebook"], r["status"]) for r in summary["notebooks"]] == [("01_ok", "FAILED"), ("02_broken", "FAILED")]
    assert "the planted failure" in summary["notebooks"][1]["error"]  # the earlier run's row is kept
    assert not (out / "01_ok.ipynb").exists() and not (out / "01_ok.html").exists()  # no stale "finished" copy
    assert (out / "01_ok.partial.ipynb").exists()
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("only", [["1"], ["01"], ["01_ok"], ["01_ok.ipynb"], "01", ["1", "01"]])
def test_select_lectures_accepts_numbers_and_names(two_notebooks, only):
    assert [p.name for p in lectures.select_lectures(two_notebooks, only)] == ["01_ok.ipynb"]


def test_select_lectures_keeps_lecture_order(two_notebooks):
    assert [p.stem for p in lectures.select_lectures(two_notebooks, ["02", "1"])] == ["01_ok", "02_broken"]


@pytest.mark.parametrize("bad", ["99", "3", "nope", "01_o", "ok", "", "01_ok.py"])
def test_select_lectures_refuses_what_is_not_a_lecture(two_notebooks, bad):
    with pytest.raises(ValueError, match=f"Received: only='{bad}'"):
        lectures.select_lectures(two_notebooks, ["01", bad])


def test_run_course_refuses_bad_folders_before_running(two_notebooks, tmp_path):
    with pytest.raises(ValueError, match="does not exist.*notebooks_dir="):
        course.run_course(tmp_path / "nope", tmp_path / "build")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no lecture notebooks"):
        course.run_course(tmp_path / "empty", tmp_path / "build")
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(ValueError, match="this is a file.*out_dir="):
        course.run_course(two_notebooks, tmp_path / "a_file")
    with pytest.raises(ValueError, match="must not be the notebooks folder"):
        course.run_course(two_notebooks, two_notebooks / ".." / "notebooks" / ".")
    assert not (tmp_path / "build").exists()


def test_check_out_dir_refuses_a_folder_it_cannot_write(tmp_path):
    if os.geteuid() != 0:
        target = tmp_path / "read_only"
        target.mkdir()
        target.chmod(0o555)
    else:  # root writes through chmod; sysfs refuses even root
        target = "/sys/kernel"
    with pytest.raises(ValueError, match="must be a folder you can write to"):
        lectures.check_out_dir(target, tmp_path)


def test_format_table_shows_errors_of_unfinished_rows():
    rows = [
        {"notebook": "01_a", "seconds": 1.0, "status": "ok", "headline": "acc 0.9", "error": ""},
        {"notebook": "02_b", "seconds": 2.0, "status": "FAILED", "headline": "acc 0.5", "error": "ValueError: bad\nmore"},
        {"notebook": "03_c", "seconds": 3.0, "status": "interrupted", "headline": "", "error": "stopped by SIGINT"},
    ]
    lines = course.format_table(rows).splitlines()
    assert lines[2].split() == ["01_a", "1.0", "ok", "acc", "0.9"]
    assert lines[3].split() == ["02_b", "2.0", "FAILED", "ValueError:", "bad"]
    assert lines[4].split() == ["03_c", "3.0", "interrupted", "stopped", "by", "SIGINT"]


def test_prefetch_offline_lists_what_is_missing_and_fails(monkeypatch):
    monkeypatch.setenv("TOOLKIT_OFFLINE", "1")
    proc = subprocess.run([sys.executable, "-m", "toolkit", "prefetch"], capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    for item in prefetch.ITEMS:
        assert item.name in proc.stdout
    assert "Could not fetch" in proc.stdout


def test_prefetch_reports_each_failure_and_keeps_going(monkeypatch, capsys):
    monkeypatch.delenv("TOOLKIT_OFFLINE", raising=False)
    monkeypatch.setattr(prefetch.runtime, "network_available", lambda timeout=3.0: True)
    done = []

    def fail():
        raise OSError("disk full")

    items = [prefetch.Item("a", "01", fail), prefetch.Item("b", "02", lambda: done.append("b"))]
    failed = prefetch.prefetch(items)
    assert failed == [("a", "disk full")] and done == ["b"]
