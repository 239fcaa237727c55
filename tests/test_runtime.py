import importlib
import io

import numpy as np
import pytest

from toolkit import runtime


def test_fast_reads_environment(monkeypatch):
    monkeypatch.setenv("TOOLKIT_FAST", "1")
    assert importlib.reload(runtime).FAST is True
    assert runtime.pick(full=15, fast=2) == 2
    monkeypatch.setenv("TOOLKIT_FAST", "0")
    assert importlib.reload(runtime).FAST is False
    assert runtime.pick(full=15, fast=2) == 15
    monkeypatch.delenv("TOOLKIT_FAST")
    assert importlib.reload(runtime).FAST is False


def test_pick_needs_both_sizes():
    with pytest.raises(TypeError, match="both"):
        runtime.pick(full=3)


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


def test_describe_environment_reports_mode_and_network(monkeypatch):
    monkeypatch.setenv("TOOLKIT_OFFLINE", "1")
    buf = io.StringIO()
    info = runtime.describe_environment(file=buf)
    text = buf.getvalue()
    assert "TensorFlow" in text and "Keras" in text
    assert "offline" in text
    assert info["online"] is False
    assert info["strategy"] == "_DefaultDistributionStrategy"
    assert info["mode"] in ("fast", "full")


def test_strategy_is_default_on_cpu():
    import tensorflow as tf

    assert runtime.strategy() is tf.distribute.get_strategy()
    assert runtime.strategy().num_replicas_in_sync == 1


def test_mixed_precision_is_a_no_op_on_cpu():
    import keras

    assert runtime.enable_mixed_precision() is False
    assert keras.mixed_precision.global_policy().name == "float32"


def test_network_probe_gives_up_quickly(monkeypatch):
    """A connect that never answers (dead DNS, black-holed route) must not hang."""
    import time

    def hang(*args, **kwargs):
        time.sleep(10)
        raise TimeoutError("timed out")  # what a real connect does in the end (the probe thread outlives the test)

    monkeypatch.setattr(runtime, "_NETWORK", {})
    monkeypatch.setattr(runtime.socket, "create_connection", hang)
    start = time.perf_counter()
    assert runtime.network_available(timeout=0.5) is False
    assert time.perf_counter() - start < 2.0


def test_headline_format():
    buf = io.StringIO()
    runtime.headline("test accuracy", 0.98765, file=buf)
    assert buf.getvalue().strip() == "Headline: test accuracy = 0.988"
    with pytest.raises(TypeError, match="name"):
        runtime.headline("", 1)
