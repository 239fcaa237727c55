"""Safe loading: nothing in toolkit/ or the notebooks unpickles, evals or runs downloaded code.

* No ``pickle.load``/``loads`` (nor joblib/dill/marshal/shelve/yaml.load),
  ``allow_pickle=True``, ``eval(``/``exec(``, ``safe_mode=False``,
  ``torch.load`` or ``keras.config.enable_unsafe_deserialization()``.
* Downloads outside Keras/tfds go through ``keras.utils.get_file(...,
  file_hash=...)``: no urllib/requests/http.client, no ``!wget``/``!curl``.
* Models load with ``keras.saving.load_model`` (or its alias
  ``keras.models.load_model``) and the default ``safe_mode``.

The scan reads the code itself (Python's tokenizer and AST), so a comment or a
docstring that *mentions* a forbidden call is fine, and an aliased import
(``from pickle import load``, ``import pickle as pk``) is still caught. The
scanner's own self-tests below show that it can fail.
"""

from __future__ import annotations

import ast
import functools
import io
import pathlib
import re
import tokenize

import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]

#: The literal patterns of the issue, searched in code with comments and strings removed.
FORBIDDEN_TEXT = {
    "pickle.load": re.compile(r"\b_?c?[pP]ickle\s*\.\s*loads?\b"),
    "allow_pickle=True": re.compile(r"\ballow_pickle\s*=\s*True\b"),
    "eval(": re.compile(r"(?<![\w.])eval\s*\("),
    "exec(": re.compile(r"(?<![\w.])exec\s*\("),
    "safe_mode=False": re.compile(r"\bsafe_mode\s*=\s*False\b"),
    "torch.load": re.compile(r"\btorch\s*\.\s*load\b"),
    "enable_unsafe_deserialization": re.compile(r"\benable_unsafe_deserialization\b"),
}
#: Modules whose load functions run code from the data they read.
UNSAFE_LOADERS = {
    "pickle": {"load", "loads", "Unpickler"},
    "_pickle": {"load", "loads", "Unpickler"},
    "cPickle": {"load", "loads", "Unpickler"},
    "dill": {"load", "loads"},
    "cloudpickle": {"load", "loads"},
    "joblib": {"load"},
    "marshal": {"load", "loads"},
    "shelve": {"open"},
    "torch": {"load"},
    "yaml": {"load", "unsafe_load", "full_load"},
}
#: Network clients that bypass keras.utils.get_file's hash check.
#: Parts of those packages that parse text and open no connection.
PARSING_ONLY = {"urllib.parse"}
NETWORK_MODULES = ("urllib", "urllib2", "urllib3", "requests", "httpx", "http.client", "aiohttp", "pycurl", "wget", "ftplib")
#: The sanctioned model loaders (keras.saving.load_model and its alias).
SAFE_MODEL_LOADERS = {"keras.saving.load_model", "keras.models.load_model", "saving.load_model"}


# Sources -------------------------------------------------------------------------------


def _python_of_cell(source: str) -> str:
    """A notebook code cell as plain Python (IPython magics and ! lines transformed)."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


@functools.lru_cache(maxsize=1)
def sources() -> list[tuple[str, str]]:
    """``(where, python code)`` for every toolkit module and every notebook code cell."""
    found = []
    for path in sorted((ROOT / "toolkit").rglob("*.py")):
        found.append((str(path.relative_to(ROOT)), path.read_text(encoding="utf-8")))
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                found.append((f"{path.relative_to(ROOT)} cell {i}", _python_of_cell(cell.source)))
    return found


def shell_lines() -> list[tuple[str, str]]:
    """``(where, line)`` for every ``!`` shell line of the notebooks."""
    found = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                for line in cell.source.splitlines():
                    if line.strip().startswith("!"):
                        found.append((f"{path.relative_to(ROOT)} cell {i}", line.strip()))
    return found


# The scanner ---------------------------------------------------------------------------


def _code_only(code: str) -> str:
    """The code with comments and string literals blanked out."""
    out = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            if tok.type in (tokenize.COMMENT, tokenize.STRING) or tok.type == getattr(tokenize, "FSTRING_MIDDLE", -1):
                out.append(" ")
            else:
                out.append(tok.string)
            out.append(" " if tok.type != tokenize.NEWLINE else "\n")
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return code
    return "".join(out)


def _dotted(node) -> str:
    """``a.b.c`` for a Name/Attribute chain, else ''."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ""


def _is_false_or_missing(node) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


def find_unsafe(code: str) -> list[str]:
    """Every unsafe loading in ``code``, as short descriptions."""
    problems = [name for name, pattern in FORBIDDEN_TEXT.items() if pattern.search(_code_only(code))]
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        return problems + [f"unparsable code: {exc}"]
    aliases: dict[str, str] = {}  # local name -> module.function for `from m import f` / `import m as x`
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                aliases[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module:
            for a in node.names:
                aliases[a.asname or a.name] = f"{node.module}.{a.name}"
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func)
        head, _, rest = name.partition(".")
        full = aliases.get(head, head) + (f".{rest}" if rest else "")
        module, _, function = full.rpartition(".")
        if function in UNSAFE_LOADERS.get(module, ()):
            if not (module == "yaml" and any(k.arg == "Loader" and "Safe" in _dotted(k.value) for k in node.keywords)):
                problems.append(f"{full}(")
        if full in ("eval", "exec", "builtins.eval", "builtins.exec"):
            problems.append(f"{full}(")
        for kw in node.keywords:
            if kw.arg == "allow_pickle" and not _is_false_or_missing(kw.value):
                problems.append(f"allow_pickle={ast.unparse(kw.value)}")
            if kw.arg == "safe_mode" and not (isinstance(kw.value, ast.Constant) and kw.value.value is True):
                problems.append(f"safe_mode={ast.unparse(kw.value)}")
    return sorted(set(problems))


def find_unsafe_downloads(code: str) -> list[str]:
    """Network clients, and get_file calls without a file_hash."""
    problems = []
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        return [f"unparsable code: {exc}"]
    for node in ast.walk(tree):
        modules = []
        if isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules = [node.module]
        for module in modules:
            if module in PARSING_ONLY:
                continue
            if any(module == m or module.startswith(m + ".") for m in NETWORK_MODULES):
                problems.append(f"import {module}")
        if isinstance(node, ast.Call) and _dotted(node.func).split(".")[-1] == "get_file":
            if not any(kw.arg == "file_hash" and not (isinstance(kw.value, ast.Constant) and kw.value.value is None)
                       for kw in node.keywords):
                problems.append(f"{_dotted(node.func)}(...) without file_hash")
    return problems


def find_unsafe_model_loading(code: str) -> list[str]:
    """Model loading other than keras.saving.load_model (keras.models.load_model) with the default safe_mode."""
    problems = []
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        return [f"unparsable code: {exc}"]
    imported = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for a in node.names:
                imported[a.asname or a.name] = f"{node.module}.{a.name}"
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func)
        full = imported.get(name, name)
        if full.split(".")[-1] in ("load_model", "model_from_json", "model_from_config", "deserialize_keras_object"):
            if full.split(".")[-1] != "load_model" or full not in SAFE_MODEL_LOADERS | {"keras.src.saving.saving_api.load_model"}:
                problems.append(f"{full}(...)")
            for kw in node.keywords:
                if kw.arg == "safe_mode" and not (isinstance(kw.value, ast.Constant) and kw.value.value is True):
                    problems.append(f"{full}(..., safe_mode={ast.unparse(kw.value)})")
    return problems


# The scans ------------------------------------------------------------------------------


def test_there_is_something_to_scan():
    where = [w for w, _ in sources()]
    assert any(w.startswith("toolkit/") for w in where) and len(where) > 10


def test_no_unsafe_deserialization_in_toolkit_or_notebooks():
    found = {where: p for where, code in sources() if (p := find_unsafe(code))}
    assert not found, f"unsafe loading found (never unpickle/eval downloaded or user data): {found}"


def test_downloads_go_through_get_file_with_a_hash():
    found = {where: p for where, code in sources() if (p := find_unsafe_downloads(code))}
    assert not found, (
        "downloads outside Keras/tfds must use keras.utils.get_file(..., file_hash=...); found: " f"{found}"
    )
    shell = [(w, line) for w, line in shell_lines() if re.search(r"\b(wget|curl)\b", line)]
    assert not shell, f"notebooks download with a shell command, unchecked: {shell}"


def test_models_load_with_keras_load_model_in_safe_mode():
    found = {where: p for where, code in sources() if (p := find_unsafe_model_loading(code))}
    assert not found, f"load models with keras.saving.load_model(path) and the default safe_mode; found: {found}"


# The scanner can fail: each forbidden pattern is caught, lookalikes are not --------------------------

UNSAFE_SNIPPETS = [
    ("import pickle\nmodel = pickle.load(open('m.pkl', 'rb'))", "pickle.load"),
    ("import pickle\nobj = pickle.loads(blob)", "pickle.load"),
    ("from pickle import load\nobj = load(f)", "pickle.load("),
    ("import pickle as pk\nobj = pk.load(f)", "pickle.load("),
    ("import joblib\nclf = joblib.load('clf.joblib')", "joblib.load("),
    ("import numpy as np\nd = np.load('x.npz', allow_pickle=True)", "allow_pickle=True"),
    ("result = eval(user_text)", "eval("),
    ("exec(open('solution.py').read())", "exec("),
    ("import keras\nm = keras.saving.load_model('m.keras', safe_mode=False)", "safe_mode=False"),
    ("import torch\nsd = torch.load('w.pt')", "torch.load"),
    ("import keras\nkeras.config.enable_unsafe_deserialization()", "enable_unsafe_deserialization"),
    ("import yaml\ncfg = yaml.load(text)", "yaml.load("),
]


@pytest.mark.parametrize("code, expected", UNSAFE_SNIPPETS, ids=[e for _, e in UNSAFE_SNIPPETS])
def test_the_scan_catches_each_forbidden_pattern(code, expected):
    problems = find_unsafe(code)
    assert any(expected in p for p in problems), f"{expected!r} not caught in {code!r}: {problems}"


SAFE_SNIPPETS = [
    "loss, acc = model.evaluate(x, y, verbose=0)",
    "import ast\nvalue = ast.literal_eval('[1, 2]')",
    'def f():\n    """Never call pickle.load or eval( on downloads; safe_mode=False is unsafe."""\n',
    "# allow_pickle=True would be unsafe here\nimport numpy as np\nd = np.load('x.npz')",
    "import numpy as np\nd = np.load('x.npz', allow_pickle=False)",
    "import keras\nm = keras.saving.load_model('m.keras')",
    "client.execute()",
    "msg = 'torch.load is not used'",
    "import yaml\ncfg = yaml.load(text, Loader=yaml.SafeLoader)",
]


@pytest.mark.parametrize("code", SAFE_SNIPPETS)
def test_the_scan_leaves_safe_lookalikes_alone(code):
    assert find_unsafe(code) == [] and find_unsafe_model_loading(code) == []


@pytest.mark.parametrize(
    "code, expected",
    [
        ("import urllib.request\nurllib.request.urlretrieve(url, 'x.npz')", "import urllib.request"),
        ("from urllib.request import urlopen", "import urllib.request"),
        ("import requests\nr = requests.get(url)", "import requests"),
        ("import keras\np = keras.utils.get_file('x.npz', origin=url)", "without file_hash"),
        ("import keras\np = keras.utils.get_file('x.npz', origin=url, file_hash=None)", "without file_hash"),
    ],
)
def test_the_download_scan_can_fail(code, expected):
    assert any(expected in p for p in find_unsafe_downloads(code)), find_unsafe_downloads(code)


def test_the_download_scan_accepts_a_hashed_get_file():
    code = "import keras\np = keras.utils.get_file('x.npz', origin=url, file_hash='731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1')"
    assert find_unsafe_downloads(code) == []


@pytest.mark.parametrize(
    "code, expected",
    [
        ("import tensorflow as tf\nm = tf.keras.models.model_from_json(text)", "model_from_json"),
        ("from keras.models import load_model\nm = load_model('m.keras', safe_mode=flag)", "safe_mode=flag"),
        ("import mylib\nm = mylib.load_model('m.keras')", "mylib.load_model"),
    ],
)
def test_the_model_loading_scan_can_fail(code, expected):
    assert any(expected in p for p in find_unsafe_model_loading(code)), find_unsafe_model_loading(code)


def test_notebook_magics_are_scanned_as_python():
    code = _python_of_cell('if True:\n    %pip install -q toolkit\n!echo hi\nx = eval("1")')
    assert "eval(" in find_unsafe(code)
