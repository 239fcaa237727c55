"""Load a lecture's solutions module from solutions/ (the folder is not a package)."""

import importlib.util
import pathlib

SOLUTIONS_DIR = pathlib.Path(__file__).resolve().parents[1] / "solutions"


def load_solutions(stem: str):
    """The module ``solutions/<stem>.py``, e.g. ``load_solutions("06_regularization")``."""
    spec = importlib.util.spec_from_file_location(f"solutions_{stem[:2]}", SOLUTIONS_DIR / f"{stem}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
