"""`python -m toolkit run` as a command: one line and exit status 2 for a bad option,
and the first SIGINT/SIGTERM stops the whole run cleanly (exit 128 + signal number).

Each case runs the real command in a subprocess. The signal cases start a notebook
whose cell writes its kernel's process id to a file and sleeps, signal the runner,
then check the exit status, the summary, the partial notebook and that the kernel is gone.
"""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _write_nb(path, *cells):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def _run(*args, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "toolkit", "run", *args], cwd=ROOT, capture_output=True, text=True, timeout=120, **kwargs
    )


@pytest.fixture
def nbdir(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    _write_nb(folder / "01_quick.ipynb", "print('Headline: quick')")
    _write_nb(folder / "02_sleepy.ipynb", "import os, time\nopen(os.environ['KERNEL_PID_FILE'], 'w').write(str(os.getpid()))",
              "time.sleep(300)", "print('never')")
    _write_nb(folder / "03_after.ipynb", "print('must not run after a Ctrl-C')")
    return folder


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--only", "99"], "Received: only='99'"),
        (["--only", "nope"], "Received: only='nope'"),
        (["--only", "01_qui"], "Received: only='01_qui'"),
        (["--notebooks", "{tmp}/nope"], "/nope"),
        (["--out", "{tmp}/a_file"], "this is a file"),
        (["--out", "{nbdir}"], "must not be the notebooks folder"),
        (["--out", "{nbdir}/../notebooks/"], "must not be the notebooks folder"),
    ],
)
def test_bad_options_get_one_line_and_exit_2(nbdir, tmp_path, args, expected):
    (tmp_path / "a_file").write_text("not a folder")
    args = [a.format(tmp=tmp_path, nbdir=nbdir) for a in args]
    if "--notebooks" not in args:
        args += ["--notebooks", str(nbdir)]
    if "--out" not in args:
        args += ["--out", str(tmp_path / "build")]
    proc = _run(*args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout == "" and len(proc.stderr.splitlines()) == 1, proc.stderr
    assert proc.stderr.startswith("python -m toolkit run: ") and expected in proc.stderr
    assert "Traceback" not in proc.stderr
    assert sorted(p.name for p in nbdir.iterdir()) == ["01_quick.ipynb", "02_sleepy.ipynb", "03_after.ipynb"]


def test_an_unwritable_out_dir_gets_one_line(nbdir, tmp_path):
    if os.geteuid() != 0:
        out = tmp_path / "read_only"
        out.mkdir()
        out.chmod(0o555)
    else:  # root writes through chmod; sysfs refuses even root
        out = pathlib.Path("/sys/kernel")
    proc = _run("--notebooks", str(nbdir), "--out", str(out / "build"))
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1, proc.stderr
    assert "must be a folder you can write to" in proc.stderr


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("signum, to_group", [(signal.SIGINT, True), (signal.SIGINT, False), (signal.SIGTERM, False)])
def test_the_first_signal_stops_the_whole_run(nbdir, tmp_path, signum, to_group):
    """Ctrl-C in a terminal signals the whole process group; `kill -INT` / `kill` only the runner."""
    out, pid_file = tmp_path / "build", tmp_path / "kernel.pid"
    proc = subprocess.Popen(
        [sys.executable, "-m", "toolkit", "run", "--notebooks", str(nbdir), "--out", str(out)],
        cwd=ROOT, env={**os.environ, "KERNEL_PID_FILE": str(pid_file)}, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    deadline = time.monotonic() + 90
    while not (pid_file.exists() and pid_file.read_text()):
        assert proc.poll() is None and time.monotonic() < deadline, "the sleepy notebook never started"
        time.sleep(0.1)
    kernel = int(pid_file.read_text())
    time.sleep(0.5)  # inside time.sleep(300) now
    started = time.monotonic()
    os.killpg(proc.pid, signum) if to_group else proc.send_signal(signum)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum, output
    assert time.monotonic() - started < 15, "the run must stop at once"
    deadline = time.monotonic() + 10
    while _alive(kernel) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(kernel), "the kernel outlived the run"
    rows = json.loads((out / "summary.json").read_text())["notebooks"]
    assert [(r["notebook"], r["status"]) for r in rows] == [("01_quick", "ok"), ("02_sleepy", "interrupted")]
    assert rows[1]["error"] == f"stopped by {signal.Signals(signum).name}"
    assert "not run: 03_after" in output
    assert not (out / "02_sleepy.ipynb").exists()
    partial = nbformat.read(out / "02_sleepy.partial.ipynb", as_version=4)
    assert "did not finish: interrupted in cell 2 of 3" in partial.cells[0].source
    assert partial.cells[2].outputs[-1]["ename"] == "Interrupted"
    assert not (out / "03_after.ipynb").exists() and not (out / "03_after.partial.ipynb").exists()
