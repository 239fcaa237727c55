"""Download everything the full-size notebooks need, for offline labs.

``python -m toolkit prefetch`` fills the standard caches (``~/.keras/datasets``,
``~/.keras/models`` and ``~/tensorflow_datasets``). An instructor runs it once
on a connected machine and copies those folders to the lab PCs; the notebooks
then find the real data there without a network.

Offline, it says which items it could not fetch and exits non-zero.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from typing import Callable

from toolkit import data, runtime
from toolkit.data import FLOWERS_IMAGE_SIZE
from toolkit.optional import require


@dataclasses.dataclass
class Item:
    """One thing to fetch: a name, what uses it, and how to fetch it."""

    name: str
    used_by: str
    fetch: Callable[[], None]


def _fetch_mnist():
    data._load_keras_mnist()


def _fetch_flowers():
    tfds = require("tensorflow_datasets", needed_for="fetching tf_flowers")
    tfds.builder("tf_flowers").download_and_prepare()


def _fetch_mobilenet():
    import keras

    keras.applications.MobileNetV2(
        weights="imagenet", include_top=False, input_shape=(FLOWERS_IMAGE_SIZE, FLOWERS_IMAGE_SIZE, 3)
    )


ITEMS = [
    Item("MNIST (keras.datasets.mnist)", "02-06, 08", _fetch_mnist),
    Item("tf_flowers (tensorflow-datasets)", "07", _fetch_flowers),
    Item("MobileNetV2 ImageNet weights, no top", "07", _fetch_mobilenet),
]


def prefetch(items=None, *, file=None) -> list[tuple[str, str]]:
    """Fetch every item; return ``[(name, error), ...]`` for those that failed.

    It never hangs: with no network it does not try, and reports every item
    as missing.
    """
    out = file or sys.stdout
    items = ITEMS if items is None else items
    failed: list[tuple[str, str]] = []
    offline_reason = None
    if runtime._env_flag("TOOLKIT_OFFLINE"):
        offline_reason = "TOOLKIT_OFFLINE=1 is set"
    elif not runtime.network_available():
        offline_reason = "the download host cannot be reached (no network?)"
    for item in items:
        if offline_reason:
            failed.append((item.name, offline_reason))
            continue
        print(f"Fetching {item.name} (used by notebook {item.used_by}) ...", file=out, flush=True)
        try:
            item.fetch()
        except Exception as exc:  # report every failure, keep going
            failed.append((item.name, str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__))
    if failed:
        print("\nCould not fetch:", file=out)
        for name, why in failed:
            print(f"  - {name}: {why}", file=out)
        print(
            "The notebooks still run offline on the data that packages ship (see README, 'Offline labs').",
            file=out,
        )
    else:
        caches = [os.path.expanduser("~/.keras"), os.path.expanduser("~/tensorflow_datasets")]
        print(f"\nAll done. Copy these folders to the lab machines: {', '.join(caches)}", file=out)
    return failed
