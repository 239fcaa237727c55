"""backup_dir(): Google Drive on Colab when it is mounted, and it says where the backups go."""

import os

import pytest

from toolkit.backup import DRIVE_FOLDER, backup_dir


def test_on_colab_with_drive_mounted_the_backup_goes_to_drive(tmp_path, capsys):
    drive = tmp_path / "MyDrive"
    drive.mkdir()
    folder = backup_dir("02_mnist_cnn", drive=drive, on_colab=True)
    assert folder == str(drive / DRIVE_FOLDER / "02_mnist_cnn")
    assert capsys.readouterr().out.strip() == f"Backups go to Google Drive: {folder} (they survive a disconnect)."


def test_on_colab_without_drive_it_stays_local_and_says_how_to_mount(tmp_path, capsys):
    folder = backup_dir("07_transfer", drive=tmp_path / "not-mounted", on_colab=True)
    assert folder == "backup_07_transfer"
    out = capsys.readouterr().out
    assert "lost after a disconnect" in out and "drive.mount('/content/drive')" in out
    assert os.path.abspath("backup_07_transfer") in out


def test_off_colab_a_mounted_looking_folder_is_ignored(tmp_path, capsys):
    (tmp_path / "MyDrive").mkdir()
    assert backup_dir("02_mnist_cnn", drive=tmp_path / "MyDrive", on_colab=False) == "backup_02_mnist_cnn"
    assert "Drive" not in capsys.readouterr().out


def test_the_place_is_detected(monkeypatch, tmp_path, capsys):
    drive = tmp_path / "MyDrive"
    drive.mkdir()
    monkeypatch.setenv("COLAB_RELEASE_TAG", "release-colab-20261201")
    assert backup_dir("x", drive=drive, quiet=True) == str(drive / DRIVE_FOLDER / "x")
    monkeypatch.delenv("COLAB_RELEASE_TAG")
    assert backup_dir("x", drive=drive, quiet=True) == "backup_x"
    assert capsys.readouterr().out == ""


def test_backup_and_restore_writes_into_the_folder(tmp_path, tiny_data, tiny_model):
    """The folder really works with keras.callbacks.BackupAndRestore (a fake Drive in tmp_path)."""
    import keras

    drive = tmp_path / "MyDrive"
    drive.mkdir()
    folder = backup_dir("tiny", drive=drive, on_colab=True, quiet=True)

    class Stop(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt  # a disconnect after the second epoch

    x, y = tiny_data
    model = tiny_model()
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=4, verbose=0, callbacks=[keras.callbacks.BackupAndRestore(folder), Stop()])
    assert os.listdir(folder), "BackupAndRestore wrote nothing into the Drive folder"
    resumed = tiny_model().fit(x, y, epochs=4, verbose=0, callbacks=[keras.callbacks.BackupAndRestore(folder)])
    assert len(resumed.history["loss"]) == 2, "the second fit must resume after epoch 2 and train epochs 3-4"


@pytest.mark.parametrize("bad", ["", "a/b", "../up", None, 3])
def test_bad_names_are_refused(bad):
    with pytest.raises(ValueError, match=r"`name` must be a folder name.*Received: name="):
        backup_dir(bad, on_colab=False, quiet=True)
