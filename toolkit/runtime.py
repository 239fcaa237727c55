"""One import for the notebooks: the mode, the hardware, repeatability and the report.

``from toolkit.runtime import pick, seed_everything, ...`` keeps working as
it always did; each name lives in a small module of its own:

* :mod:`toolkit.mode` – ``TOOLKIT_MODE=fast|full|auto``, :func:`pick`, ``FAST``;
* :mod:`toolkit.hardware` – :func:`strategy`, :func:`enable_mixed_precision`;
* :mod:`toolkit.determinism` – :func:`seed_everything`, :func:`fit_or_retry`;
* :mod:`toolkit.network` – :func:`is_offline`, :func:`network_available`;
* :mod:`toolkit.environment` – :func:`describe_environment`, :func:`where`;
* :mod:`toolkit.backup` – :func:`backup_dir` (Google Drive on Colab);
* :mod:`toolkit.headline` – :func:`headline` for ``make run``'s table.

New code inside ``toolkit/`` imports from those modules directly.

Example:

>>> from toolkit.runtime import describe_environment, pick
>>> EPOCHS = pick(full=15, fast=2)
"""

from toolkit.backup import backup_dir
from toolkit.determinism import fit_or_retry, seed_everything
from toolkit.environment import describe_environment, where
from toolkit.hardware import enable_mixed_precision, strategy
from toolkit.headline import HEADLINE_PREFIX, headline
from toolkit.mode import ModeError, pick
from toolkit.network import _env_flag, is_offline, network_available

__all__ = [
    "FAST", "HEADLINE_PREFIX", "ModeError", "backup_dir", "describe_environment", "enable_mixed_precision",
    "fit_or_retry", "headline", "is_offline", "network_available", "pick", "seed_everything", "strategy", "where",
    "_env_flag",
]


def __getattr__(name):  # ``FAST`` is resolved on first use, like toolkit.mode.FAST
    if name == "FAST":
        from toolkit import mode

        return mode.is_fast()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
