"""The wheel builds, installs non-editable, and works from outside the checkout.

The wheel is built from a copy of the files a release ships (pyproject.toml,
README.md, LICENSE, toolkit/), without build isolation, so no network is
needed. It is installed with ``--no-deps`` into a fresh venv that sees this
interpreter's site-packages through a ``.pth`` line (the dependencies are
reused, not downloaded), and the commands run from an empty folder, so that
only the installed copy can be imported.
"""

from __future__ import annotations

import email.parser
import os
import pathlib
import shutil
import site
import subprocess
import sys
import sysconfig
import zipfile

import pytest

import toolkit

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHIPPED = ("pyproject.toml", "README.md", "LICENSE")


def _run(args, *, cwd, timeout=300, env=None):
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})})


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    src = tmp_path_factory.mktemp("src")
    for name in SHIPPED:
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "toolkit", src / "toolkit", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = tmp_path_factory.mktemp("dist")
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                  "--wheel-dir", str(dist), str(src)], cwd=src)
    assert built.returncode == 0, (
        "building the wheel failed (it needs setuptools>=77 here: `make venv` installs it)\n" + built.stderr[-3000:]
    )
    (path,) = dist.glob("*.whl")
    return path


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory):
    """A clean venv holding only the wheel; the dependencies come from this interpreter's site-packages."""
    venv = tmp_path_factory.mktemp("venv")
    made = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=venv)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    purelib = pathlib.Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                cwd=venv).stdout.strip())
    pip = _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)],
               cwd=venv)
    assert pip.returncode == 0, pip.stderr[-3000:]
    # After the install, so that pip does not take a toolkit installed here for the wheel. Plain paths
    # only: the .pth files there (this checkout's editable install) are not read, and the venv's own
    # site-packages come first on sys.path.
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"], *site.getsitepackages()}
    (purelib / "reuse_dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")
    away = tmp_path_factory.mktemp("elsewhere")  # no notebooks/, no toolkit/: not a checkout
    return venv, away


def _metadata(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        info = next(n for n in names if n.endswith(".dist-info/METADATA"))
        entry_points = zf.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
        return names, email.parser.Parser().parsestr(zf.read(info).decode()), entry_points


def test_wheel_metadata(wheel):
    names, meta, entry_points = _metadata(wheel)
    assert meta["Name"] == "training-deep-networks"
    assert meta["Version"] == toolkit.__version__, "the version is single-sourced from toolkit.__version__"
    assert meta["License-Expression"] == "MIT"
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), "the LICENSE file ships in the wheel"
    assert meta["Requires-Python"] == ">=3.10"
    requires = meta.get_all("Requires-Dist")
    assert "keras>=3.12" in requires and "tensorflow>=2.19" in requires
    assert 'tensorflow-datasets>=4.9.9; extra == "course"' in requires
    assert set(meta.get_all("Provides-Extra")) == {"course", "test"}
    assert "dnn-course = toolkit.__main__:main" in entry_points
    assert "\ntoolkit = " not in entry_points, "`toolkit` is another PyPI project's command"
    shipped = {n.split("/")[0] for n in names if not n.startswith("training_deep_networks-")}
    assert shipped == {"toolkit"}, f"only the toolkit package ships, not tests or notebooks: {shipped}"


def test_python_m_toolkit_help_runs_the_installed_copy(installed):
    venv, away = installed
    where = _run([str(venv / "bin" / "python"), "-c", "import toolkit; print(toolkit.__file__)"], cwd=away)
    assert where.returncode == 0, where.stderr[-2000:]
    assert pathlib.Path(where.stdout.strip()).is_relative_to(venv), f"imported from {where.stdout.strip()}, not the venv"
    helped = _run([str(venv / "bin" / "python"), "-m", "toolkit", "--help"], cwd=away)
    assert helped.returncode == 0, helped.stderr[-2000:]
    for command in ("prefetch", "run", "env", "doctor"):
        assert command in helped.stdout


def test_dnn_course_console_script(installed):
    venv, away = installed
    helped = _run([str(venv / "bin" / "dnn-course"), "--help"], cwd=away)
    assert helped.returncode == 0, helped.stderr[-2000:]
    assert "doctor" in helped.stdout and "run" in helped.stdout


def test_dnn_course_doctor_reads_a_csv_outside_the_checkout(installed):
    venv, away = installed
    (away / "history.csv").write_text("epoch,loss,val_loss\n0,2.3,2.3\n1,1.2,1.3\n2,0.8,1.0\n3,0.6,0.9\n")
    report = _run([str(venv / "bin" / "dnn-course"), "doctor", "history.csv"], cwd=away)
    assert report.returncode == 0, report.stderr[-2000:]
    assert "healthy (4 epochs)" in report.stdout, report.stdout


def test_run_outside_a_checkout_names_the_notebooks_option(installed):
    venv, away = installed
    run = _run([str(venv / "bin" / "dnn-course"), "run", "--out", str(away / "build")], cwd=away)
    assert run.returncode == 2, run.stdout + run.stderr
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "--notebooks" in lines[0], run.stderr
    assert "Traceback" not in run.stderr
    assert not (away / "build").exists(), "nothing is written when the run is refused"


# A package set to None in sys.modules cannot be imported: Python raises the same
# ModuleNotFoundError (with .name set) as for a package that is not installed.
@pytest.fixture
def without(monkeypatch):
    def hide(*modules):
        for module in modules:
            monkeypatch.setitem(sys.modules, module, None)

    return hide


def test_require_names_the_package_and_the_extra(without):
    from toolkit.optional import MissingDependencyError, require

    without("tensorflow_datasets")
    with pytest.raises(MissingDependencyError) as info:
        require("tensorflow_datasets", needed_for="load_flowers()")
    assert isinstance(info.value, ModuleNotFoundError) and info.value.name == "tensorflow_datasets"
    assert str(info.value) == (
        "load_flowers() needs tensorflow-datasets, which is not installed. "
        'Install the course\'s extras: pip install "training-deep-networks[course]"'
    )


def test_require_returns_the_module_and_refuses_a_non_optional_name():
    import nbformat

    from toolkit.optional import require

    assert require("nbformat", needed_for="x") is nbformat
    with pytest.raises(ValueError, match=r"Received: module='numpy'"):
        require("numpy", needed_for="x")


def test_load_flowers_without_tfds_raises_the_oserror_notebook_07_catches(without):
    from toolkit.data import load_flowers

    without("tensorflow_datasets")
    with pytest.raises(OSError, match=r'tensorflow-datasets, which is not installed.*training-deep-networks\[course\]'):
        load_flowers()


def test_run_without_nbclient_is_refused_in_one_line_before_anything_runs(without, tmp_path, capsys):
    from toolkit.__main__ import main

    without("nbclient")
    out = tmp_path / "build"
    assert main(["run", "--notebooks", str(ROOT / "notebooks"), "--out", str(out), "--only", "01"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "dnn-course run needs nbclient" in err and "[course]" in err, err
    assert not any(out.glob("*.ipynb")), "no notebook ran"
