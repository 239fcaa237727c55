"""LRFinder: the ramp, the per-batch loss, early stop, restoring, and bad input."""

import math

import keras
import numpy as np
import pytest

from toolkit.callbacks import LRFinder
from toolkit.callbacks.lr_finder import batch_loss_from_running_mean


def _state(model):
    weights = [w.copy() for w in model.get_weights()]
    slots = [keras.ops.convert_to_numpy(v).copy() for v in model.optimizer.variables]
    return weights, slots


def _assert_same(a, b):
    assert len(a) == len(b)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)


def test_back_out_of_the_running_mean_on_a_hand_checked_sequence():
    losses = [2.0, 1.0, 4.0, 3.0]
    means = [2.0, 1.5, 7.0 / 3.0, 2.5]  # what Keras logs: the mean since the epoch began
    previous = (-1, 0.0)
    backed_out = []
    for i, m in enumerate(means):
        backed_out.append(batch_loss_from_running_mean(i, m, *previous))
        previous = (i, m)
    assert backed_out == pytest.approx(losses)
    # Reported every 2nd batch (steps_per_execution=2): the mean of each pair.
    assert batch_loss_from_running_mean(1, 1.5, -1, 0.0) == pytest.approx(1.5)
    assert batch_loss_from_running_mean(3, 2.5, 1, 1.5) == pytest.approx(3.5)


def test_callback_backs_out_and_smooths_a_hand_checked_sequence(tiny_model):
    finder = LRFinder(1e-3, 1.0, beta=0.5)
    finder.set_model(tiny_model())
    finder.set_params({"steps": 4, "epochs": 1})
    finder.on_train_begin()
    finder.on_epoch_begin(0)
    for i, mean in enumerate([2.0, 1.5, 7.0 / 3.0, 2.5]):
        finder.on_train_batch_begin(i)
        finder.on_train_batch_end(i, {"loss": mean})
    assert finder.batch_losses == pytest.approx([2.0, 1.0, 4.0, 3.0])
    # debiased EMA with beta = 0.5: the weighted mean of the losses so far
    expected, avg = [], 0.0
    for k, loss in enumerate([2.0, 1.0, 4.0, 3.0], start=1):
        avg = 0.5 * avg + 0.5 * loss
        expected.append(avg / (1 - 0.5**k))
    assert finder.losses == pytest.approx(expected)
    assert finder.losses[0] == pytest.approx(2.0)  # debiased: no pull towards 0 at the start
    assert finder.lrs == pytest.approx([1e-3, 1e-2, 1e-1, 1.0])  # exponential ramp, ends at end_lr


def test_backed_out_loss_matches_each_batch_in_a_real_fit(tiny_data, tiny_model):
    """With a negligible LR the weights stay put, so each batch's loss is known."""
    x, y = tiny_data
    model = tiny_model()
    finder = LRFinder(1e-12, 1e-11, beta=0.0)
    model.fit(x, y, epochs=1, batch_size=64, shuffle=False, verbose=0, callbacks=[finder])
    per_batch = [model.evaluate(x[i : i + 64], y[i : i + 64], verbose=0)[0] for i in range(0, 256, 64)]
    assert finder.batch_losses == pytest.approx(per_batch, rel=1e-4)
    assert len(set(np.round(per_batch, 4))) > 1, "the batches should differ, or the test proves nothing"


def test_restores_weights_adam_state_iterations_and_lr(tiny_data, tiny_model):
    x, y = tiny_data
    model = tiny_model(optimizer=keras.optimizers.Adam(1e-3))
    model.fit(x, y, epochs=1, batch_size=64, verbose=0)  # Adam moments and iterations are now non-trivial
    before_weights, before_slots = _state(model)
    assert int(model.optimizer.iterations) == 4
    finder = LRFinder(1e-4, 1.0)
    model.fit(x, y, epochs=2, batch_size=32, verbose=0, callbacks=[finder])
    assert len(finder.lrs) > 2
    after_weights, after_slots = _state(model)
    _assert_same(before_weights, after_weights)
    _assert_same(before_slots, after_slots)
    assert int(model.optimizer.iterations) == 4
    assert float(model.optimizer.learning_rate) == pytest.approx(1e-3)


def test_later_training_is_as_if_the_search_never_happened(tiny_data, tiny_model):
    x, y = tiny_data
    with_search, without = tiny_model(seed=1), tiny_model(seed=1)
    for model, callbacks in ((with_search, [LRFinder(1e-3, 10.0)]), (without, [])):
        model.fit(x, y, epochs=1, batch_size=64, shuffle=False, verbose=0)
        if callbacks:
            model.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0, callbacks=callbacks)
        model.fit(x, y, epochs=2, batch_size=64, shuffle=False, verbose=0)
    _assert_same(with_search.get_weights(), without.get_weights())


def test_first_fit_of_a_fresh_model_is_restored_too(tiny_data, tiny_model):
    """The optimizer is built only when fit traces; the finder builds it first."""
    x, y = tiny_data
    model = tiny_model(optimizer=keras.optimizers.Adam(1e-3))
    initial = [w.copy() for w in model.get_weights()]
    model.fit(x, y, epochs=1, batch_size=32, verbose=0, callbacks=[LRFinder(1e-4, 1.0)])
    _assert_same(initial, model.get_weights())
    assert int(model.optimizer.iterations) == 0
    assert all(not np.any(keras.ops.convert_to_numpy(v)) for v in model.optimizer.variables[2:])


def test_restore_undoes_an_interrupted_search(tiny_data, tiny_model):
    """Keras skips on_train_end when fit is interrupted; restore() puts everything back by hand."""
    x, y = tiny_data
    model = tiny_model(optimizer=keras.optimizers.Adam(1e-3))
    model.fit(x, y, epochs=1, batch_size=64, verbose=0)
    before_weights, before_slots = _state(model)

    class Interrupt(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 5:
                raise KeyboardInterrupt

    finder = LRFinder(1e-4, 1.0)
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=1, batch_size=16, verbose=0, callbacks=[finder, Interrupt()])
    assert int(model.optimizer.iterations) == 10, "the interrupted search changed the model"
    finder.restore()
    finder.restore()
    after_weights, after_slots = _state(model)
    _assert_same(before_weights, after_weights)
    _assert_same(before_slots, after_slots)
    assert float(model.optimizer.learning_rate) == pytest.approx(1e-3)


def test_restore_before_any_search_is_refused(tiny_model):
    finder = LRFinder()
    finder.set_model(tiny_model())
    with pytest.raises(RuntimeError, match="nothing to restore"):
        finder.restore()


def test_stops_early_when_the_loss_diverges_and_still_restores(tiny_data, tiny_model):
    x, y = tiny_data
    model = tiny_model()
    before, _ = _state(model)
    finder = LRFinder(1e-3, 1e4)
    model.fit(x, y, epochs=4, batch_size=8, verbose=0, callbacks=[finder])
    assert finder.diverged
    assert len(finder.lrs) < 4 * 32, "it should stop well before the end of the ramp"
    assert max(finder.lrs) < 1e4
    assert all(math.isfinite(v) for v in finder.losses)
    _assert_same(before, model.get_weights())
    assert float(model.optimizer.learning_rate) == pytest.approx(0.05)


def test_suggestion_lies_inside_the_ramp_where_the_loss_falls(tiny_data, tiny_model):
    x, y = tiny_data
    finder = LRFinder(1e-4, 10.0)
    tiny_model().fit(x, y, epochs=3, batch_size=8, verbose=0, callbacks=[finder])
    lrs, losses = np.array(finder.lrs), np.array(finder.losses)
    assert lrs[0] == pytest.approx(1e-4)
    assert np.all(np.diff(np.log(lrs)) > 0)
    assert lrs[0] < finder.suggestion < lrs.max()
    at = np.searchsorted(lrs, finder.suggestion)
    early = np.median(losses[:10])  # the flat start, where the LR is too small to matter
    assert losses[at] < early, "the suggestion should sit where the loss has begun to fall"
    skip = len(losses) // 10  # the first points are single noisy batches
    assert finder.suggestion < lrs[skip + losses[skip:].argmin()], "the suggestion should sit below the minimum"


def test_num_steps_ends_the_ramp_and_the_fit(tiny_data, tiny_model):
    x, y = tiny_data
    finder = LRFinder(1e-4, 1e-2, num_steps=5)
    tiny_model().fit(x, y, epochs=3, batch_size=32, verbose=0, callbacks=[finder])
    assert len(finder.lrs) == 5
    assert finder.lrs[-1] == pytest.approx(1e-2)
    assert finder.suggestion is not None and 1e-4 <= finder.suggestion <= 1e-2


def test_suggestion_is_none_before_a_search():
    assert LRFinder().suggestion is None


def test_refuses_an_optimizer_driven_by_a_schedule(tiny_data, tiny_model):
    x, y = tiny_data
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)
    model = tiny_model(optimizer=keras.optimizers.SGD(schedule))
    with pytest.raises(TypeError, match="schedule.*float learning rate"):
        model.fit(x, y, epochs=1, batch_size=64, verbose=0, callbacks=[LRFinder()])


@pytest.mark.parametrize(
    "kwargs, error, pattern",
    [
        (dict(start_lr=0.0), ValueError, r"`start_lr` must be > 0.0. Received: start_lr=0.0"),
        (dict(start_lr=-1e-3), ValueError, r"`start_lr`.*Received: start_lr=-0.001"),
        (dict(start_lr="small"), TypeError, r"`start_lr` must be a number. Received: start_lr='small'"),
        (dict(end_lr=0), ValueError, r"`end_lr`.*Received: end_lr=0"),
        (dict(end_lr=None), TypeError, r"`end_lr` must be a number"),
        (dict(end_lr=math.inf), ValueError, r"`end_lr` must be finite"),
        (dict(start_lr=1.0, end_lr=1.0), ValueError, r"`end_lr` must be larger than `start_lr`.*start_lr=1.0, end_lr=1.0"),
        (dict(start_lr=1.0, end_lr=1e-3), ValueError, r"`end_lr` must be larger than `start_lr`"),
        (dict(num_steps=1), ValueError, r"`num_steps` must be >= 2"),
        (dict(num_steps=10.0), TypeError, r"`num_steps` must be an integer"),
        (dict(beta=1.0), ValueError, r"`beta` must be < 1.0"),
    ],
)
def test_bad_input_names_the_argument(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        LRFinder(**kwargs)


class _Recorded:
    """A finished search, as plot_lr_finder reads it (lrs, losses, suggestion)."""

    def __init__(self, suggestion=0.01):
        self.lrs = list(np.geomspace(1e-5, 1.0, 50))
        self.losses = list(2.3 - 1.5 / (1 + np.exp(-3 * (np.log10(self.lrs) + 2.5))) + np.geomspace(1e-3, 2.0, 50))
        self.suggestion = suggestion


def test_plot_lr_finder_draws_the_curve_and_marks_the_suggestion():
    from toolkit.plots import plot_lr_finder

    ax = plot_lr_finder(_Recorded(0.01)).ax_
    assert ax.get_xscale() == "log"
    assert ax.get_title().startswith("LR finder: ")
    assert "learning rate" in ax.get_xlabel() and "loss" in ax.get_ylabel()
    curve = ax.get_lines()[0]
    assert len(curve.get_xdata()) == 50
    marks = [line for line in ax.get_lines() if set(np.asarray(line.get_xdata(), float)) == {0.01}]
    assert len(marks) == 2, "a dashed vertical line and a dot at the suggestion"
    texts = [t.get_text() for t in ax.texts] + [t.get_text() for t in ax.get_legend().get_texts()]
    assert "suggested lr = 0.01" in texts


def test_plot_lr_finder_on_given_axes_and_without_a_suggestion():
    import matplotlib.pyplot as plt

    from toolkit.plots import plot_lr_finder

    _, given = plt.subplots()
    assert plot_lr_finder(_Recorded(None), ax=given).ax_ is given
    assert len(given.get_lines()) == 1 and not given.texts


def test_plot_lr_finder_of_a_real_search(tiny_data, tiny_model):
    from toolkit.plots import plot_lr_finder

    x, y = tiny_data
    finder = LRFinder(1e-4, 10.0)
    tiny_model().fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[finder])
    ax = plot_lr_finder(finder).ax_
    assert len(ax.get_lines()[0].get_xdata()) == len(finder.lrs)
    assert any(f"{finder.suggestion:.2g}" in t.get_text() for t in ax.texts)


def test_plot_lr_finder_bad_input():
    from toolkit.plots import plot_lr_finder

    with pytest.raises(TypeError, match="`finder` must be an LRFinder"):
        plot_lr_finder([1, 2, 3])
    with pytest.raises(ValueError, match="has recorded nothing"):
        plot_lr_finder(LRFinder())


# Real-world data and models (issue 15) ------------------------------------------------------------


def _mlp(with_input, seed=0):
    keras.utils.set_random_seed(seed)
    layers = [keras.layers.Dense(16, activation="relu", name="hidden"), keras.layers.Dense(2, activation="softmax", name="out")]
    model = keras.Sequential(([keras.Input((8,))] if with_input else []) + layers)
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
    return model


def test_a_sequential_without_input_is_searched_and_fully_restored(tiny_data):
    """No keras.Input: no variables until the first batch (building the optimizer at on_train_begin crashed fit)."""
    x, y = tiny_data
    model = _mlp(with_input=False)
    finder = LRFinder(1e-4, 1.0)
    model.fit(x, y, epochs=2, batch_size=32, verbose=0, callbacks=[finder])
    assert len(finder.lrs) == 2 * 8 - 1, "the first batch builds the model at lr=0, the ramp takes the rest"
    assert finder.lrs[0] == pytest.approx(1e-4) and finder.lrs[-1] == pytest.approx(1.0)
    # Independent reference: the same seed builds the same initial weights in a twin made with keras.Input.
    twin = _mlp(with_input=True)
    _assert_same(twin.get_weights(), model.get_weights())
    assert int(model.optimizer.iterations) == 0
    assert float(model.optimizer.learning_rate) == pytest.approx(1e-3)
    assert all(not np.any(keras.ops.convert_to_numpy(v)) for v in model.optimizer.variables[2:])  # fresh Adam moments
    # Later training is as if the search never happened.
    for m in (model, twin):
        m.fit(x, y, epochs=1, batch_size=64, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_a_partial_last_batch_is_backed_out_with_its_size(tiny_model):
    """100 samples in batches of 32: the last has 4. Keras weights its running mean by batch size."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(100, 8)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    model = tiny_model()
    finder = LRFinder(1e-12, 1e-11, beta=0.0)  # negligible LR: every batch sees the same weights
    model.fit(x, y, epochs=2, batch_size=32, shuffle=False, verbose=0, callbacks=[finder])
    per_batch = [model.evaluate(x[i : i + 32], y[i : i + 32], verbose=0)[0] for i in range(0, 100, 32)]
    assert finder.batch_losses == pytest.approx(per_batch * 2, rel=1e-4)
    # The equal-size back-out is what went wrong: it misreads the 4-sample batch.
    sizes = np.array([32, 32, 32, 4])
    means = np.cumsum(np.array(per_batch) * sizes) / np.cumsum(sizes)
    naive = batch_loss_from_running_mean(3, means[3], 2, means[2])
    assert naive != pytest.approx(per_batch[3], rel=1e-2)


def test_unshuffled_windowed_data_does_not_stop_during_the_warm_up():
    """Early windows of a series can be far easier than later ones; that is no divergence."""
    t = np.arange(1200, dtype="float32")
    series = np.where(t < 100, 0.0, np.sin(t / 20.0) * 3.0).astype("float32")
    data = keras.utils.timeseries_dataset_from_array(
        series[:-1, None], series[10:], sequence_length=10, batch_size=32, shuffle=False
    )

    def search(finder_class):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((10, 1)), keras.layers.Conv1D(4, 3, activation="relu"),
                                  keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(1)])
        model.compile(keras.optimizers.SGD(), "mse")
        finder = finder_class(1e-6, 1e-4)
        model.fit(data, epochs=1, verbose=0, callbacks=[finder])
        return finder

    class NoWarmup(LRFinder):
        min_warmup, warmup_fraction = 0, 0.0

    assert search(NoWarmup).diverged, "without a warm-up the easy first windows read as divergence"
    finder = search(LRFinder)
    assert not finder.diverged
    assert len(finder.lrs) == len(data)
