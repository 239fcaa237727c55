"""A notebook's headline figure, printed so that ``make run`` can collect it.

:func:`headline` prints ``Headline: name = value``; ``toolkit.course`` reads
those lines from the executed notebooks into its summary table.

Example:

>>> headline("test accuracy", 0.9912)
Headline: test accuracy = 0.991
"""

from __future__ import annotations

import sys

from toolkit.validation import received

HEADLINE_PREFIX = "Headline:"


def headline(name: str, value, *, file=None) -> None:
    """Print a notebook's headline figure for ``make run``'s summary table.

    Args:
        name: what the figure is, e.g. "test accuracy".
        value: the figure; floats are shown with 3 decimals.
        file: where to print (default: standard output).
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"`name` must be a non-empty string. {received('name', name)}")
    shown = f"{value:.3f}" if isinstance(value, float) else str(value)
    print(f"{HEADLINE_PREFIX} {name} = {shown}", file=file or sys.stdout)
