"""The headless runner behind `make run`, and `python -m toolkit prefetch` offline."""

import json
import subprocess
import sys

import nbformat
import pytest

from toolkit import course, prefetch


def _write_nb(path, *cells):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def test_run_course_writes_notebooks_html_and_summary(tmp_path, capsys):
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    _write_nb(nbdir / "01_ok.ipynb", "import os\nprint('Headline: answer =', os.environ['TOOLKIT_FAST'])")
    _write_nb(nbdir / "02_broken.ipynb", "raise ValueError('planted failure')", "print('never')")
    rows = course.run_course(nbdir, tmp_path / "build")
    assert [r["status"] for r in rows] == ["ok", "FAILED"]
    assert rows[0]["headline"] == "answer = 1"
    assert "planted failure" in rows[1]["error"]
    for name in ("01_ok.ipynb", "01_ok.html", "02_broken.ipynb", "summary.json"):
        assert (tmp_path / "build" / name).exists(), name
    summary = json.loads((tmp_path / "build" / "summary.json").read_text())
    assert [r["notebook"] for r in summary["notebooks"]] == ["01_ok", "02_broken"]
    table = capsys.readouterr().out
    assert "notebook" in table and "answer = 1" in table and "FAILED" in table


def test_run_course_refuses_a_missing_folder(tmp_path):
    with pytest.raises(ValueError, match="notebooks_dir"):
        course.run_course(tmp_path / "nope", tmp_path / "build")


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
