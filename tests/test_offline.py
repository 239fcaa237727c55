"""Offline: fallback notices once per process, nothing hangs on a dead network, make test runs offline.

A dead network is simulated by patching the socket module (DNS answers with a
documentation address that is never contacted; ``connect`` waits for its
timeout like a black-holed route, or forever when the caller set none): no
test here opens a real connection. ``python -m toolkit prefetch`` with
``TOOLKIT_OFFLINE=1`` is tested in ``tests/test_course.py``; here it meets a
dead network instead.
"""

from __future__ import annotations

import ast
import io
import os
import pathlib
import re
import socket
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from toolkit import data, network, prefetch, runtime

ROOT = pathlib.Path(__file__).resolve().parents[1]

#: Patches the socket module of a fresh interpreter: the same dead network as the fixture below.
DEAD_NETWORK_PRELUDE = textwrap.dedent(
    """
    import socket, threading
    def _dns(host, port, *a, **k):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.0.2.1", port or 443))]
    def _connect(self, address):
        threading.Event().wait(self.gettimeout() if self.gettimeout() is not None else 3600)
        raise TimeoutError("simulated dead network")
    socket.getaddrinfo = _dns
    socket.socket.connect = _connect
    socket.socket.connect_ex = lambda self, address: _connect(self, address)
    """
)


class DeadNetwork:
    """What the dead network saw: DNS look-ups and connection attempts."""

    def __init__(self):
        self.lookups: list[tuple] = []
        self.connects: list[tuple] = []
        self.release = threading.Event()


def _dead_network(monkeypatch, *, honour_timeout: bool) -> DeadNetwork:
    net = DeadNetwork()

    def getaddrinfo(host, port, *args, **kwargs):
        net.lookups.append((host, port))
        # TEST-NET-1 (RFC 5737): a documentation address, and connect is patched: never contacted.
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.0.2.1", int(port or 443)))]

    def connect(self, address):
        net.connects.append(address)
        timeout = self.gettimeout() if honour_timeout else None
        net.release.wait(timeout if timeout is not None else 3600)  # a black hole: no answer, ever
        raise TimeoutError(f"simulated dead network: no answer from {address}")

    def connect_ex(self, address):
        try:
            connect(self, address)
        except TimeoutError:
            return 110  # ETIMEDOUT
        return 0

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(network, "_NETWORK", {})  # forget what an earlier test found out
    monkeypatch.setattr(data, "_NOTICES_SHOWN", set())
    monkeypatch.delenv("TOOLKIT_OFFLINE", raising=False)
    return net


@pytest.fixture
def blocking_network(monkeypatch):
    """connect() blocks forever, whatever timeout the caller set (the worst case)."""
    net = _dead_network(monkeypatch, honour_timeout=False)
    yield net
    net.release.set()  # let the probe threads that are still waiting go


@pytest.fixture
def black_hole(monkeypatch):
    """connect() waits for the socket's timeout and fails, like a black-holed route."""
    net = _dead_network(monkeypatch, honour_timeout=True)
    yield net
    net.release.set()


# Fallback notices: exactly once per process --------------------------------------------------

#: Every toolkit function that prints a fallback notice, and a call of it (in a fresh interpreter).
LOADERS = {
    "toolkit/data.py:load_mnist": "from toolkit.data import load_mnist as loader\nloader()",
}
#: Parsing the real 5,000-digit sample costs ~3 CPU-seconds a call; the notice is what is counted here.
STUB_SAMPLES = textwrap.dedent(
    """
    import toolkit.data
    CALLS = []
    toolkit.data._load_mnist_sample = lambda: CALLS.append(1) or ((None, None), (None, None))
    """
)


def _functions_calling_notice() -> set[str]:
    found = set()
    for path in (ROOT / "toolkit").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and fn.name != "notice":
                calls = [n for n in ast.walk(fn) if isinstance(n, ast.Call)]
                if any((getattr(c.func, "id", None) or getattr(c.func, "attr", None)) == "notice" for c in calls):
                    found.add(f"{path.relative_to(ROOT)}:{fn.name}")
    return found


def test_every_loader_with_a_fallback_notice_is_tested_here():
    found = _functions_calling_notice()
    assert found, "no loader prints a fallback notice: the offline path would be silent"
    missing = found - set(LOADERS)
    assert not missing, f"add these loaders to LOADERS so that their notice is tested: {sorted(missing)}"


def _run_twice(loader: str, env: dict, prelude: str = "") -> subprocess.CompletedProcess:
    code = f"{prelude}\n{STUB_SAMPLES}\n{LOADERS[loader]}\n{LOADERS[loader].splitlines()[-1]}\nprint('DONE', len(CALLS))"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("loader", sorted(LOADERS))
@pytest.mark.parametrize("why", ["TOOLKIT_OFFLINE=1", "dead network"])
def test_a_loader_prints_its_fallback_notice_once_per_fresh_process(loader, why, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TOOLKIT_OFFLINE"}
    env["KERAS_HOME"] = str(tmp_path / "keras")  # no cached copy
    prelude = ""
    if why == "TOOLKIT_OFFLINE=1":
        env["TOOLKIT_OFFLINE"] = "1"
    else:
        prelude = DEAD_NETWORK_PRELUDE
    proc = _run_twice(loader, env, prelude)
    assert proc.returncode == 0 and "DONE 2" in proc.stdout, proc.stderr[-2000:]  # both calls fell back
    notices = [line for line in proc.stdout.splitlines() if line.startswith("NOTICE:")]
    assert len(notices) == 1, f"{loader} called twice must print its notice once, got: {notices}"
    expected = "TOOLKIT_OFFLINE=1" if why == "TOOLKIT_OFFLINE=1" else "cannot be reached"
    assert expected in notices[0], f"the notice must say why: {notices[0]}"
    assert "python -m toolkit prefetch" in notices[0], "the notice must say how to get the real data"


# Nothing hangs on a dead network ----------------------------------------------------------------


@pytest.mark.timeout(120)
def test_the_network_probe_gives_up_when_connect_blocks_forever(blocking_network):
    start = time.perf_counter()
    assert runtime.network_available(timeout=0.5) is False
    assert time.perf_counter() - start < 5.0
    assert blocking_network.connects, "the probe must have tried (and been black-holed)"


@pytest.mark.timeout(120)
def test_load_mnist_without_cache_on_a_dead_network_falls_back_quickly(blocking_network, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(data, "MNIST_CACHE", str(tmp_path / "mnist.npz"))
    # Parsing the real sample costs seconds of CPU (tests/test_data.py checks it); the network part is timed here.
    monkeypatch.setattr(data, "_load_mnist_sample", lambda: "the offline sample")
    start = time.perf_counter()
    result = data.load_mnist()
    elapsed = time.perf_counter() - start
    assert result == "the offline sample"
    assert elapsed < 10.0, f"load_mnist took {elapsed:.1f} s to give up on a dead network"
    out = capsys.readouterr().out
    assert out.count("NOTICE:") == 1 and "cannot be reached" in out


def _keras_mnist_cached() -> bool:
    from keras.src.backend.config import keras_home

    return os.path.exists(os.path.join(keras_home(), "datasets", "mnist.npz"))


@pytest.mark.timeout(180)
def test_a_download_that_stalls_times_out_and_falls_back(black_hole, monkeypatch, capsys):
    """The probe says online, then the download meets a black hole: the socket timeout must end it."""
    if _keras_mnist_cached():
        pytest.skip("Keras's MNIST cache exists here: load_mnist reads it without the network")
    monkeypatch.setattr(runtime, "network_available", lambda timeout=3.0: True)
    monkeypatch.setattr(data, "DOWNLOAD_TIMEOUT", 1.0)
    monkeypatch.setattr(data, "_load_mnist_sample", lambda: "the offline sample")
    import keras  # noqa: F401  (imported before the clock starts)

    start = time.perf_counter()
    result = data.load_mnist()
    elapsed = time.perf_counter() - start
    assert result == "the offline sample" and elapsed < 30.0
    assert black_hole.connects, "the download must have been attempted"
    out = capsys.readouterr().out
    assert out.count("NOTICE:") == 1 and "download failed" in out
    assert socket.getdefaulttimeout() is None, "load_mnist must restore the default socket timeout"


@pytest.mark.timeout(120)
def test_describe_environment_on_a_dead_network_says_offline_quickly(blocking_network):
    import tensorflow  # noqa: F401  (imported before the clock starts: the network part is timed)

    runtime.strategy()
    buffer = io.StringIO()
    start = time.perf_counter()
    info = runtime.describe_environment(file=buffer)
    assert time.perf_counter() - start < 15.0
    assert info["online"] is False and "offline" in buffer.getvalue()


@pytest.mark.timeout(180)
def test_prefetch_on_a_dead_network_lists_every_missing_item_and_fails(blocking_network, capsys):
    from toolkit.__main__ import main

    start = time.perf_counter()
    status = main(["prefetch"])
    assert time.perf_counter() - start < 15.0
    assert status != 0
    out = capsys.readouterr().out
    assert "Could not fetch" in out
    for item in prefetch.ITEMS:
        assert re.search(rf"- {re.escape(item.name)}: .*cannot be reached", out), f"{item.name} not listed: {out}"


@pytest.mark.timeout(180)
def test_flowers_and_imagenet_weights_on_a_dead_network_fail_fast_and_say_what_to_do(blocking_network):
    pytest.importorskip("tensorflow_datasets")
    import tensorflow_datasets  # noqa: F401  (imported before the clocks start)

    from toolkit import transfer

    for load in (data.load_flowers, transfer.imagenet_backbone):
        start = time.perf_counter()
        try:
            load()
        except OSError as exc:
            assert "python -m toolkit prefetch" in str(exc), str(exc)
        assert time.perf_counter() - start < 20.0, f"{load.__name__} hung on a dead network"
    assert not [c for c in blocking_network.connects if c[1] != 443 or c[0] != "192.0.2.1"]


def test_the_dead_network_never_lets_a_connection_through(black_hole):
    with pytest.raises(OSError):
        socket.create_connection(("example.com", 80), timeout=0.2)
    assert black_hole.lookups == [("example.com", 80)] and black_hole.connects == [("192.0.2.1", 80)]


# make test runs the notebooks offline ----------------------------------------------------------


def _pytest_lines(dry_run: str) -> list[str]:
    return [line for line in dry_run.splitlines() if "-m pytest" in line]


def _notebook_runs_are_offline(makefile: pathlib.Path, target: str) -> bool:
    """True when every pytest command of ``make target`` has TOOLKIT_OFFLINE=1."""
    proc = subprocess.run(
        ["make", "-n", "-f", str(makefile), "-C", str(ROOT), target], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    lines = _pytest_lines(proc.stdout)
    assert lines, f"`make {target}` runs no pytest: {proc.stdout}"
    exported = re.search(r"^\s*export\s+TOOLKIT_OFFLINE\s*:?=\s*1\s*$", makefile.read_text(), re.M)
    return bool(exported) or all(re.search(r"(^|\s)TOOLKIT_OFFLINE=1(\s|$)", line) for line in lines)


@pytest.mark.parametrize("target", ["test", "test-notebooks"])
def test_make_runs_the_notebooks_with_toolkit_offline(target):
    if subprocess.run(["make", "--version"], capture_output=True).returncode != 0:
        pytest.skip("make is not installed")
    makefile = ROOT / "Makefile"
    assert _notebook_runs_are_offline(makefile, target), (
        f"`make {target}` must set TOOLKIT_OFFLINE=1 so that the offline path is exercised even online"
    )


def test_the_makefile_check_can_fail(tmp_path):
    if subprocess.run(["make", "--version"], capture_output=True).returncode != 0:
        pytest.skip("make is not installed")
    broken = tmp_path / "Makefile"
    broken.write_text((ROOT / "Makefile").read_text().replace("TOOLKIT_OFFLINE=1 ", ""))
    assert not _notebook_runs_are_offline(broken, "test")
