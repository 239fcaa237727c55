"""OneCycle: its shape, config round-trip, jit_compile, and bad input."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from toolkit.schedules import OneCycle


def values(schedule, steps):
    return np.array([float(keras.ops.convert_to_numpy(schedule(s))) for s in steps])


def test_shape_warms_up_peaks_and_anneals_far_below_the_start():
    schedule = OneCycle(0.1, 200, pct_start=0.25, div_factor=25.0, final_div_factor=1e4)
    lr = values(schedule, range(0, 201))
    assert lr[0] == pytest.approx(0.1 / 25, rel=1e-5)
    assert lr[50] == pytest.approx(0.1, rel=1e-5)  # the peak at pct_start * total_steps
    assert lr.argmax() == 50
    assert lr[200] == pytest.approx(0.1 / 25 / 1e4, rel=1e-3)
    assert lr[200] < lr[0] / 1000
    assert np.all(np.diff(lr[:51]) > 0), "the warm-up must rise all the way"
    assert np.all(np.diff(lr[50:]) < 0), "the annealing must fall all the way"
    # half-way through each phase a half cosine is at the middle of its range
    assert lr[25] == pytest.approx((0.1 / 25 + 0.1) / 2, rel=1e-4)
    assert lr[125] == pytest.approx((0.1 + 0.1 / 25 / 1e4) / 2, rel=1e-4)


def test_stays_at_the_final_rate_after_total_steps():
    schedule = OneCycle(1.0, 10)
    assert values(schedule, [10, 20, 1000]) == pytest.approx([schedule.final_lr] * 3, rel=1e-4)


def test_config_round_trip_and_serialisation():
    schedule = OneCycle(0.3, 500, pct_start=0.3, div_factor=10.0, final_div_factor=100.0)
    config = schedule.get_config()
    clone = OneCycle.from_config(config)
    assert clone.get_config() == config
    steps = [0, 77, 150, 400, 499]
    assert values(clone, steps) == pytest.approx(values(schedule, steps))
    # through Keras's own serialisation, as when a model with this optimizer is saved
    restored = keras.optimizers.schedules.deserialize(keras.optimizers.schedules.serialize(schedule))
    assert isinstance(restored, OneCycle) and restored.get_config() == config


def test_optimizer_with_onecycle_round_trips_through_its_config():
    optimizer = keras.optimizers.SGD(OneCycle(0.05, 100), momentum=0.9)
    clone = keras.optimizers.SGD.from_config(optimizer.get_config())
    assert isinstance(clone._learning_rate, OneCycle)
    assert clone._learning_rate.get_config() == optimizer._learning_rate.get_config()


def test_works_inside_a_jit_compiled_function():
    schedule = OneCycle(0.1, 100)
    compiled = tf.function(lambda step: schedule(step), jit_compile=True)
    steps = np.arange(0, 120, 7)
    got = np.array([float(compiled(tf.constant(s, tf.int64))) for s in steps[:3]])
    assert got == pytest.approx(values(schedule, steps[:3]), rel=1e-5)
    batch = compiled(tf.constant(steps, tf.float32)).numpy()  # vectorised, as plot_schedule calls it
    assert batch == pytest.approx(values(schedule, steps), rel=1e-5)


def test_drives_a_jit_compiled_fit(tiny_data):
    x, y = tiny_data
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(2, activation="softmax")])
    schedule = OneCycle(0.1, 8)
    model.compile(keras.optimizers.SGD(schedule), "sparse_categorical_crossentropy", jit_compile=True)
    model.fit(x, y, epochs=1, batch_size=64, verbose=0)
    assert int(model.optimizer.iterations) == 4
    assert float(model.optimizer.learning_rate) == pytest.approx(float(schedule(4)), rel=1e-5)


@pytest.mark.parametrize(
    "kwargs, error, names",
    [
        (dict(max_lr=0.0, total_steps=10), ValueError, "max_lr"),
        (dict(max_lr=-1.0, total_steps=10), ValueError, "max_lr"),
        (dict(max_lr="0.1", total_steps=10), TypeError, "max_lr"),
        (dict(max_lr=math.nan, total_steps=10), ValueError, "max_lr"),
        (dict(max_lr=0.1, total_steps=1), ValueError, "total_steps"),
        (dict(max_lr=0.1, total_steps=10.5), TypeError, "total_steps"),
        (dict(max_lr=0.1, total_steps=10, pct_start=0.0), ValueError, "pct_start"),
        (dict(max_lr=0.1, total_steps=10, pct_start=1.0), ValueError, "pct_start"),
        (dict(max_lr=0.1, total_steps=10, div_factor=0.5), ValueError, "div_factor"),
        (dict(max_lr=0.1, total_steps=10, final_div_factor=0.0), ValueError, "final_div_factor"),
    ],
)
def test_bad_input_names_the_argument(kwargs, error, names):
    with pytest.raises(error, match=f"`{names}`.*Received: {names}="):
        OneCycle(**kwargs)


def test_plot_schedule_of_a_keras_schedule_and_a_callable():
    import matplotlib.pyplot as plt

    from toolkit.plots import plot_schedule

    exponential = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=100, decay_rate=0.1)
    ax = plot_schedule(exponential, 300).ax_
    line = ax.get_lines()[0]
    assert list(line.get_xdata()) == list(range(300))
    assert line.get_ydata()[0] == pytest.approx(0.1)
    assert line.get_ydata()[200] == pytest.approx(0.1 * 0.1**2, rel=1e-4)
    assert ax.get_xlabel().startswith("step") and ax.get_ylabel() == "learning rate"
    assert ax.get_title() == "ExponentialDecay"
    # a second schedule on the same axes: two labelled lines, a common title
    same = plot_schedule(lambda step: 0.1 if step < 150 else 0.01, np.array([0, 100, 200]), ax=ax)
    assert same.ax_ is ax and len(ax.get_lines()) == 2
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["ExponentialDecay", "schedule"]
    assert list(ax.get_lines()[1].get_ydata()) == [0.1, 0.1, 0.01]
    assert ax.get_title() == "learning-rate schedules"
    plt.close("all")


def test_plot_schedule_of_every_keras_schedule_the_course_uses():
    from toolkit.plots import plot_schedule

    s = keras.optimizers.schedules
    for schedule in (
        s.InverseTimeDecay(0.1, 10, 1.0),
        s.PiecewiseConstantDecay([10, 20], [0.1, 0.01, 0.001]),
        s.CosineDecay(0.001, 20, warmup_target=0.1, warmup_steps=10),
        OneCycle(0.1, 30),
    ):
        ax = plot_schedule(schedule, 30, label="mine").ax_
        expected = values(schedule, range(30))
        assert ax.get_lines()[0].get_ydata() == pytest.approx(expected, rel=1e-5)
        assert ax.get_title() == "mine"


def test_plot_schedule_bad_input():
    from toolkit.plots import plot_schedule

    with pytest.raises(TypeError, match="`schedule` must be a keras LearningRateSchedule"):
        plot_schedule(0.1, 10)
    with pytest.raises(ValueError, match="`steps` must be >= 1. Received: steps=0"):
        plot_schedule(OneCycle(0.1, 10), 0)
    with pytest.raises(ValueError, match="`steps` must be non-negative"):
        plot_schedule(OneCycle(0.1, 10), [-1, 2])
    with pytest.raises(TypeError, match="`label` must be a string"):
        plot_schedule(OneCycle(0.1, 10), 5, label=3)


def test_momentum_mirrors_the_learning_rate():
    """1cycle's momentum: high at both ends, low at the LR's peak, along the same half cosines (PyTorch's defaults)."""
    schedule = OneCycle(0.1, 200, pct_start=0.25)
    steps = np.arange(0, 251)
    momentum = keras.ops.convert_to_numpy(schedule.momentum(steps))
    lr = keras.ops.convert_to_numpy(schedule(steps))
    assert momentum[0] == pytest.approx(0.95, abs=1e-6) and momentum[200] == pytest.approx(0.95, abs=1e-6)
    assert momentum.argmin() == lr.argmax() == 50 and momentum[50] == pytest.approx(0.85, abs=1e-6)
    assert momentum[25] == pytest.approx(0.90, abs=1e-5)  # half-way down the half cosine
    assert np.all(momentum[200:] == pytest.approx(0.95, abs=1e-6))
    # within each phase momentum is an affine, decreasing function of the learning rate: by hand, from the ends
    for phase in (slice(0, 51), slice(50, 201)):
        l, m = lr[phase], momentum[phase]
        predicted = m[0] + (m[-1] - m[0]) * (l - l[0]) / (l[-1] - l[0])
        np.testing.assert_allclose(m, predicted, atol=1e-5)
    custom = keras.ops.convert_to_numpy(schedule.momentum(np.array([0, 50]), high=0.99, low=0.5))
    np.testing.assert_allclose(custom, [0.99, 0.5], atol=1e-6)


@pytest.mark.parametrize("kwargs, match", [({"high": 1.0}, "`high` must be < 1.0"), ({"low": 0.97}, "`low` must be <= 0.95"),
                                           ({"low": -0.1}, "`low` must be >= 0.0"), ({"high": "0.9"}, "`high` must be a number")])
def test_momentum_bad_arguments_are_named(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        OneCycle(0.1, 100).momentum(3, **kwargs)
