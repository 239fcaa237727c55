"""toolkit.runtime is the notebooks' one import; the names live in small modules (mode, hardware, ...)."""

import io
import time

import numpy as np
import pytest

from toolkit import backup, determinism, environment, hardware, headline, mode, network, runtime


def test_the_facade_hands_out_the_modules_own_objects():
    assert runtime.pick is mode.pick
    assert runtime.seed_everything is determinism.seed_everything
    assert runtime.fit_or_retry is determinism.fit_or_retry
    assert runtime.strategy is hardware.strategy and runtime.enable_mixed_precision is hardware.enable_mixed_precision
    assert runtime.describe_environment is environment.describe_environment and runtime.where is environment.where
    assert runtime.network_available is network.network_available and runtime.is_offline is network.is_offline
    assert runtime.backup_dir is backup.backup_dir
    assert runtime.headline is headline.headline and runtime.HEADLINE_PREFIX == "Headline:"
    assert set(runtime.__all__) <= set(dir(runtime)) | {"FAST"}


def test_fast_on_the_facade_is_the_resolved_mode(monkeypatch):
    monkeypatch.setattr(mode, "_CURRENT", [mode.Mode("full", "TOOLKIT_MODE=full")])
    assert runtime.FAST is False and runtime.pick(full=15, fast=2) == 15
    monkeypatch.setattr(mode, "_CURRENT", [mode.Mode("fast", "TOOLKIT_MODE=fast")])
    assert runtime.FAST is True and runtime.pick(full=15, fast=2) == 2
    from toolkit.runtime import FAST  # a from-import resolves it too

    assert FAST is True
    with pytest.raises(AttributeError, match="no attribute 'SLOW'"):
        runtime.SLOW  # noqa: B018


def test_no_module_of_the_split_imports_a_module_above_it():
    """Dependencies point down: quiet/network/headline < mode < hardware/determinism < environment < backup."""
    import ast
    import pathlib

    order = ["validation", "quiet", "network", "headline", "versions", "mode", "hardware", "determinism",
             "environment", "backup", "runtime"]
    for rank, name in enumerate(order):
        tree = ast.parse(pathlib.Path(f"toolkit/{name}.py").read_text())
        imported = {n.module.split(".")[1] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
                    and n.module and n.module.startswith("toolkit.")}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module == "toolkit"
                     for a in n.names}
        above = {m for m in imported if m in order and order.index(m) >= rank}
        assert not above, f"toolkit/{name}.py imports {above}, which sit above it"


def test_seed_everything_repeats_random_draws():
    import tensorflow as tf

    runtime.seed_everything(7)
    a = (np.random.rand(3), tf.random.uniform((3,)).numpy())
    runtime.seed_everything(7)
    b = (np.random.rand(3), tf.random.uniform((3,)).numpy())
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


@pytest.mark.parametrize("bad", [1.5, "42", None, True, -1])
def test_seed_everything_refuses_bad_seed(bad):
    with pytest.raises((TypeError, ValueError), match="seed"):
        runtime.seed_everything(bad)


def test_strategy_is_default_on_cpu():
    import tensorflow as tf

    assert runtime.strategy() is tf.distribute.get_strategy()
    assert runtime.strategy().num_replicas_in_sync == 1
    assert hardware.planned_strategy() == "_DefaultDistributionStrategy"


def test_planned_strategy_names_without_creating(monkeypatch):
    monkeypatch.setattr(hardware, "_STRATEGY", {})
    monkeypatch.setenv("COLAB_TPU_ADDR", "10.0.0.2:8470")
    assert hardware.planned_strategy() == "TPUStrategy"  # a real TPUStrategy would try to connect here
    assert hardware._STRATEGY == {}
    monkeypatch.delenv("COLAB_TPU_ADDR")
    assert hardware.planned_strategy() == "_DefaultDistributionStrategy" and hardware._STRATEGY == {}


def test_mixed_precision_is_a_no_op_on_cpu_and_in_fast_mode(monkeypatch):
    import keras

    for name in ("full", "fast"):
        monkeypatch.setattr(mode, "_CURRENT", [mode.Mode(name, f"TOOLKIT_MODE={name}")])
        assert runtime.enable_mixed_precision() is False
        assert keras.mixed_precision.global_policy().name == "float32"


def test_network_probe_gives_up_quickly(monkeypatch):
    """A connect that never answers (dead DNS, black-holed route) must not hang."""

    def hang(*args, **kwargs):
        time.sleep(10)
        raise TimeoutError("timed out")  # what a real connect does in the end (the probe thread outlives the test)

    monkeypatch.setattr(network, "_NETWORK", {})
    monkeypatch.setattr(network.socket, "create_connection", hang)
    start = time.perf_counter()
    assert runtime.network_available(timeout=0.5) is False
    assert time.perf_counter() - start < 2.0


def test_headline_format():
    buf = io.StringIO()
    runtime.headline("test accuracy", 0.98765, file=buf)
    assert buf.getvalue().strip() == "Headline: test accuracy = 0.988"
    with pytest.raises(TypeError, match="name"):
        runtime.headline("", 1)
