"""Foundation callbacks: LiveHistoryPlot and EpochTimer."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from toolkit.callbacks import EpochTimer, LiveHistoryPlot


def test_epoch_timer_writes_epoch_seconds(tiny_data, tiny_model):
    x, y = tiny_data
    timer = EpochTimer()
    hist = tiny_model().fit(x, y, epochs=3, batch_size=64, verbose=0, callbacks=[timer])
    assert len(hist.history["epoch_seconds"]) == 3
    assert all(s > 0 for s in hist.history["epoch_seconds"])
    assert timer.times == hist.history["epoch_seconds"]


def test_live_plot_headless_draws_once_at_the_end(tiny_data, tiny_model):
    x, y = tiny_data
    live = LiveHistoryPlot()
    before = len(plt.get_fignums())
    tiny_model().fit(x, y, validation_split=0.25, epochs=3, batch_size=64, verbose=0, callbacks=[live])
    assert live.epochs == [0, 1, 2]
    assert len(live.history["loss"]) == 3 and len(live.history["val_accuracy"]) == 3
    fig = live._figure
    assert fig is not None and len(plt.get_fignums()) == before  # drawn, then closed: no stray figures
    titles = [a.get_title().split(" (")[0] for a in fig.axes]  # "loss (lower is better; ...)"
    assert titles == ["loss", "accuracy"]


def test_live_plot_continues_after_resume(tiny_data, tiny_model):
    x, y = tiny_data
    model = tiny_model()
    live = LiveHistoryPlot()
    model.fit(x, y, validation_split=0.25, epochs=2, batch_size=64, verbose=0, callbacks=[live])
    model.fit(x, y, validation_split=0.25, initial_epoch=2, epochs=4, batch_size=64, verbose=0, callbacks=[live])
    assert live.epochs == [0, 1, 2, 3]
    xdata = live._figure.axes[0].get_lines()[0].get_xdata()
    assert list(xdata) == [1, 2, 3, 4]


def test_live_plot_new_process_resume_starts_at_initial_epoch(tiny_data, tiny_model):
    x, y = tiny_data
    live = LiveHistoryPlot()
    tiny_model().fit(x, y, initial_epoch=3, epochs=5, batch_size=64, verbose=0, callbacks=[live])
    assert live.epochs == [3, 4]
    assert list(live._figure.axes[0].get_lines()[0].get_xdata()) == [4, 5]


def test_live_plot_refit_from_zero_restarts_the_curve(tiny_data, tiny_model):
    x, y = tiny_data
    live = LiveHistoryPlot()
    model = tiny_model()
    model.fit(x, y, epochs=3, batch_size=64, verbose=0, callbacks=[live])
    model.fit(x, y, epochs=2, batch_size=64, verbose=0, callbacks=[live])
    assert live.epochs == [0, 1]


def test_live_plot_updates_one_display_handle(tiny_data, tiny_model, monkeypatch):
    """In a notebook: one display() call, then update() on the same handle each epoch."""
    from toolkit.callbacks import live_history_plot as mod

    calls = {"display": 0, "update": 0}  # min_interval=0: draw every epoch

    class Handle:
        def update(self, obj):
            calls["update"] += 1

    def fake_display(obj, display_id=None):
        assert display_id is True
        calls["display"] += 1
        return Handle()

    import IPython.display

    monkeypatch.setattr(mod, "in_notebook", lambda: True)
    monkeypatch.setattr(IPython.display, "display", fake_display)
    x, y = tiny_data
    tiny_model().fit(x, y, epochs=4, batch_size=64, verbose=0, callbacks=[LiveHistoryPlot(min_interval=0)])
    assert calls == {"display": 1, "update": 3}
    calls.update(display=0, update=0)
    tiny_model().fit(x, y, epochs=4, batch_size=64, verbose=0, callbacks=[LiveHistoryPlot(min_interval=3600)])
    assert calls == {"display": 1, "update": 1}  # the first epoch, then only the last


@pytest.mark.parametrize("every", [0, -1, 1.5, "2", True])
def test_live_plot_bad_every(every):
    with pytest.raises(ValueError, match="every"):
        LiveHistoryPlot(every=every)


@pytest.mark.parametrize("bad", [-1, "2", None])
def test_live_plot_bad_min_interval(bad):
    with pytest.raises(ValueError, match="min_interval"):
        LiveHistoryPlot(min_interval=bad)


def test_live_plot_of_a_validation_freq_run_has_validation_points_only_where_keras_validated(tiny_data, tiny_model):
    x, y = tiny_data
    live = LiveHistoryPlot()
    hist = tiny_model().fit(x, y, validation_data=(x[:64], y[:64]), validation_freq=2, epochs=5, batch_size=64,
                            verbose=0, callbacks=[live])
    assert live.history["val_loss"] == pytest.approx(hist.history["val_loss"]) and len(live.history["val_loss"]) == 2
    val = [l for l in live._figure.axes[0].get_lines() if l.get_linestyle() == "--"][0]
    assert list(val.get_xdata()) == [2, 4] and list(val.get_ydata()) == pytest.approx(hist.history["val_loss"])


def test_live_plot_of_a_run_without_loss_draws_what_it_logs_and_keeps_the_history():
    """A GAN-style train_step logging d_loss/g_loss: fit ends normally and both curves are drawn."""
    import keras

    class TwoLosses(keras.Model):
        def __init__(self):
            super().__init__()
            self.d = keras.layers.Dense(1)

        def train_step(self, data):
            loss = keras.ops.mean(self.d(data) ** 2)
            return {"d_loss": loss, "g_loss": loss + 1.0}

    model = TwoLosses()
    model.compile()
    live = LiveHistoryPlot()
    hist = model.fit(np.ones((8, 2), "float32"), epochs=2, batch_size=4, verbose=0, callbacks=[live])
    assert len(hist.history["d_loss"]) == 2
    assert [len(a.get_lines()) > 0 for a in live._figure.axes] == [True, True]
