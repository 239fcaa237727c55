"""The small digits model the package ships (notebook 07's offline backbone): its file, its hash, its recipe."""

import hashlib
import pathlib
import shutil

import numpy as np
import pytest

from toolkit import transfer
from toolkit.data import _load_mnist_sample

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _accuracy_on_0_to_4(model):
    _, (x_test, y_test) = _load_mnist_sample()
    keep = y_test < 5
    predicted = model.predict(x_test[keep][..., None] / 255.0, verbose=0).argmax(axis=1)
    return float(np.mean(predicted == y_test[keep]))


def test_the_shipped_file_has_the_recorded_hash_and_is_small():
    path = pathlib.Path(transfer.DIGITS_MODEL_PATH)
    assert path.is_file() and path.parent.name == "pretrained" and path.parent.parent.name == "toolkit"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == transfer.DIGITS_MODEL_SHA256
    assert path.stat().st_size < 1_000_000


def test_the_package_data_ships_the_file():
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["toolkit"]
    relative = pathlib.Path(transfer.DIGITS_MODEL_PATH).relative_to(ROOT / "toolkit")
    assert any(relative.match(pattern) for pattern in patterns), patterns


def test_the_shipped_model_knows_digits_0_to_4():
    model = transfer.pretrained_digits_model()
    assert model.get_layer("digit_backbone").output_shape == (None, 1568)
    assert model.output_shape == (None, 5)
    assert _accuracy_on_0_to_4(model) > 0.95


def test_a_changed_file_is_refused(tmp_path):
    copy = tmp_path / "digits.npz"
    shutil.copy(transfer.DIGITS_MODEL_PATH, copy)
    data = bytearray(copy.read_bytes())
    data[-100] ^= 0xFF
    copy.write_bytes(bytes(data))
    with pytest.raises(OSError, match="SHA-256"):
        transfer.pretrained_digits_model(path=copy, sha256=transfer.DIGITS_MODEL_SHA256)


def test_a_missing_file_and_bad_arguments(tmp_path):
    with pytest.raises(OSError, match="missing"):
        transfer.pretrained_digits_model(path=tmp_path / "none.npz")
    with pytest.raises(TypeError, match="Received: path="):
        transfer.pretrained_digits_model(path=3)
    with pytest.raises(ValueError, match="Received: sha256="):
        transfer.pretrained_digits_model(path=transfer.DIGITS_MODEL_PATH, sha256="abc")


def test_a_file_for_another_architecture_is_refused(tmp_path):
    other = tmp_path / "other.npz"
    np.savez(other, w000=np.zeros(3))
    with pytest.raises(OSError, match="another architecture"):
        transfer.pretrained_digits_model(path=other)


def test_the_recipe_reproduces_a_model_of_the_same_accuracy(tmp_path):
    """What tools/pretrain_digits_model.py runs, end to end: train, save, load, same accuracy."""
    model = transfer.pretrain_digits_model()
    digest = transfer.save_digits_model(model, tmp_path / "again.npz")
    assert digest == hashlib.sha256((tmp_path / "again.npz").read_bytes()).hexdigest()
    reloaded = transfer.pretrained_digits_model(path=tmp_path / "again.npz", sha256=digest)
    for a, b in zip(model.get_weights(), reloaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    shipped = _accuracy_on_0_to_4(transfer.pretrained_digits_model())
    assert abs(_accuracy_on_0_to_4(reloaded) - shipped) < 0.02
