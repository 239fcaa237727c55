"""Every course notebook follows the same rules (DESIGN §7)."""

import pathlib
import re

import nbformat
import pytest

from toolkit import REPOSITORY, REPOSITORY_URL

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
EXPECTED = [
    "01_perceptron", "02_mnist_cnn", "03_initialization", "04_optimizers",
    "05_lr_schedules", "06_regularization", "07_transfer_learning_augmentation", "08_diagnosing_training",
]


def _src(cell):
    return cell.source if isinstance(cell.source, str) else "".join(cell.source)


def test_notebooks_are_only_the_course():
    names = [p.stem for p in NOTEBOOKS]
    assert set(names) <= set(EXPECTED), f"unexpected notebooks: {set(names) - set(EXPECTED)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
class TestNotebook:
    def test_valid_nbformat(self, path):
        nbformat.validate(nbformat.read(path, as_version=4))

    def test_colab_badge_points_to_itself(self, path):
        nb = nbformat.read(path, as_version=4)
        urls = re.findall(r"https://colab\.research\.google\.com/github/[^)\s]+", _src(nb.cells[0]))
        assert urls == [f"https://colab.research.google.com/github/{REPOSITORY}/blob/main/notebooks/{path.name}"]

    def test_setup_cell_installs_only_on_colab(self, path):
        nb = nbformat.read(path, as_version=4)
        setup = _src(nb.cells[1])
        assert 'if "google.colab" in sys.modules:' in setup
        install = [l for l in setup.splitlines() if "pip install" in l]
        assert len(install) == 1 and install[0].startswith("    "), "the install must sit under the Colab check"
        assert f"git+{REPOSITORY_URL}" in install[0]
        assert "describe_environment()" in setup

    def test_setup_cell_is_the_one_of_py2nb(self, path):
        """The setup cell is defined once (tools/py2nb.py SETUP_CELL, from toolkit.REPOSITORY): every notebook agrees."""
        assert _src(nbformat.read(path, as_version=4).cells[1]) == _py2nb().SETUP_CELL

    def test_backups_go_through_backup_dir(self, path):
        """BackupAndRestore writes where backup_dir() says: Google Drive on Colab when it is mounted."""
        code = "\n".join(_src(c) for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
        for call in re.findall(r"BackupAndRestore\(([^)]*)", code):
            assert call.startswith("backup_dir("), f"BackupAndRestore({call}...) does not use backup_dir()"

    def test_no_stored_outputs_except_checked_cells(self, path):
        nb = nbformat.read(path, as_version=4)
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code" and cell.outputs:
                assert "NBVAL_CHECK_OUTPUT" in _src(cell), f"cell {i} has stored outputs"

    def test_asserts_its_lesson(self, path):
        nb = nbformat.read(path, as_version=4)
        code = "\n".join(_src(c) for c in nb.cells if c.cell_type == "code")
        assert re.search(r"^\s*assert ", code, re.M), "a notebook must assert what it teaches"

    def test_no_keras_progress_bars(self, path):
        nb = nbformat.read(path, as_version=4)
        code = "\n".join(_src(c) for c in nb.cells if c.cell_type == "code")
        for call in re.findall(r"(?:\.(?:fit|evaluate|predict)|\bfit_or_retry)\((?:[^()]|\([^()]*\))*\)", code, re.S):
            assert re.search(r"verbose\s*=\s*[02]", call), f"call without verbose=0/2: {call[:80]}"

    def test_has_the_anatomy(self, path):
        nb = nbformat.read(path, as_version=4)
        headings = "\n".join(_src(c) for c in nb.cells if c.cell_type == "markdown").lower()
        for part in ("what we learned", "exercises"):
            assert part in headings, f"missing section: {part}"

    def test_american_spelling(self, path):
        """One spelling variant throughout, American, as Keras's own names and docs use."""
        nb = nbformat.read(path, as_version=4)
        for i, cell in enumerate(nb.cells):
            found = sorted({m.group(0) for m in BRITISH.finditer(_src(cell))})
            assert not found, f"cell {i} uses British spelling: {found}"


#: British spellings that have an American variant (normalise -> normalize, behaviour -> behavior, ...).
BRITISH = re.compile(
    r"\b(?:\w*(?:initialis|normalis|regularis|optimis|memoris|recognis|generalis|minimis|maximis|visualis"
    r"|summaris|standardis|randomis|parameteris|vectoris|tokenis|realis|utilis|stabilis|penalis|emphasis|categoris"
    r"|characteris|specialis|organis|synchronis|serialis)(?:e|es|ed|ing|ation|ations|er|ers)"
    r"|\w*(?:behaviour|colour|favour|neighbour|flavour|honour|labour)\w*|\w*centre[sd]?|centring"
    r"|\w*(?:labell|modell|travell|cancell|signall)(?:ed|ing|er|ers)|analys(?:e|ed|es|ing)|learnt|grey|whilst"
    r"|catalogue|artefacts?|judgement)\b",
    re.IGNORECASE,
)


@pytest.mark.parametrize("text", ["normalise", "Behaviour", "re-centres", "unlabelled", "initialisation", "learnt"])
def test_british_pattern_catches(text):
    assert BRITISH.search(f"a {text} here"), text


@pytest.mark.parametrize("text", ["normalize", "behavior", "noise", "exercise", "emphasis", "labeled", "learned", "center"])
def test_british_pattern_spares_american(text):
    assert not BRITISH.search(f"a {text} here"), text


def _py2nb():
    import importlib.util

    spec = importlib.util.spec_from_file_location("py2nb", ROOT / "tools" / "py2nb.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_colab_install_names_the_distribution_and_an_extra_of_pyproject():
    """The pip line installs this project under its PyPI name, with an extra that pyproject.toml defines."""
    text = (ROOT / "pyproject.toml").read_text()
    name = re.search(r'^name = "([^"]+)"', text, re.M).group(1)
    match = re.fullmatch(r"([\w.-]+)\[([\w,-]+)\] @ git\+(\S+)", _py2nb().COLAB_REQUIREMENT)
    assert match, _py2nb().COLAB_REQUIREMENT
    assert match.group(1) == name and match.group(3) == REPOSITORY_URL
    for extra in match.group(2).split(","):
        assert re.search(rf"^{extra} = \[", text, re.M), f"pyproject.toml defines no extra [{extra}]"


def test_repository_url_is_in_one_place():
    """pyproject and README use the same repository as toolkit.REPOSITORY."""
    assert REPOSITORY_URL in (ROOT / "pyproject.toml").read_text()
    readme = (ROOT / "README.md").read_text()
    for found in re.findall(r"github\.com/([\w.-]+/[\w.-]+)", readme):
        assert found == REPOSITORY, f"README names another repository: {found}"
