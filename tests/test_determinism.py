"""Determinism: seed_everything makes a CPU run repeatable, in one process and across processes.

Op determinism is switched on for the whole process by ``seed_everything``,
so the trainings run in fresh interpreters (two at once: one per core),
each training twice and once more with another seed (the control that shows
the comparison can fail). Then one notebook is executed twice and its
``# NBVAL_CHECK_OUTPUT`` cells must print the same thing both times, and the
same thing as the outputs recorded in the notebook.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import textwrap

import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHECK_TAG = "# NBVAL_CHECK_OUTPUT"
#: The cheapest notebook with checked outputs (the perceptron); any other one if it has none.
PREFERRED_NOTEBOOK = ROOT / "notebooks" / "01_perceptron.ipynb"

TRAINING = textwrap.dedent(
    """
    import hashlib, json, sys
    import keras
    from toolkit.data import load_digits
    from toolkit.runtime import seed_everything

    x, y = load_digits()
    x, y = x[:600, :, :, None], y[:600]

    def run(seed):
        seed_everything(seed)
        model = keras.Sequential([
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(8, 3, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dropout(0.3),               # random masks: seeded
            keras.layers.Dense(10, activation="softmax"),
        ])                                           # random initial weights: seeded
        model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy", metrics=["accuracy"])
        hist = model.fit(x, y, validation_split=0.25, shuffle=True,   # random batch order: seeded
                         epochs=3, batch_size=64, verbose=0)
        weights = hashlib.sha256(b"".join(w.tobytes() for w in model.get_weights())).hexdigest()
        return {"history": hist.history, "weights": weights}

    print("RESULT", json.dumps([run(int(seed)) for seed in sys.argv[1:]]))

    # The documented way out on a GPU without deterministic kernels: does it switch determinism off?
    from tensorflow.python.framework import config
    seed_everything(0, deterministic=False)
    print("DETERMINISM_AFTER_FALSE", config.is_op_determinism_enabled())
    """
)


def _env(**extra):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "TOOLKIT_FAST": "1", "TOOLKIT_OFFLINE": "1", "MPLBACKEND": "Agg"}
    env.update(extra)
    return env


def _parallel(commands, timeout):
    procs = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=ROOT)
             for c in commands]
    outs = []
    for proc in procs:
        out, err = proc.communicate(timeout=timeout)
        assert proc.returncode == 0, err[-3000:]
        outs.append(out)
    return outs


@pytest.fixture(scope="module")
def trainings():
    """Two fresh interpreters at once: seeds 0, 0, 1 in one, seed 0 in the other."""
    outs = _parallel([[sys.executable, "-c", TRAINING, "0", "0", "1"], [sys.executable, "-c", TRAINING, "0"]], timeout=280)
    runs, after_false = [], []
    for out in outs:
        line = next(ln for ln in out.splitlines() if ln.startswith("RESULT "))
        runs.append(json.loads(line[len("RESULT "):]))
        after_false.append(next(ln for ln in out.splitlines() if ln.startswith("DETERMINISM_AFTER_FALSE ")).split()[1])
    return runs, after_false


@pytest.mark.timeout(300)
def test_seed_everything_gives_identical_histories_in_and_across_processes(trainings):
    runs, _ = trainings
    (a, a_again, a_other_seed), (b,) = runs
    assert len(a["history"]["loss"]) == 3 and "val_accuracy" in a["history"]
    assert a == a_again, "the same seed twice in one process must give the same history and weights"
    assert a == b, "the same seed in another process must give the same history and weights"
    assert a_other_seed["history"] != a["history"] and a_other_seed["weights"] != a["weights"], (
        "another seed must give another run, or the comparison above proves nothing"
    )


@pytest.mark.timeout(300)
def test_seed_everything_deterministic_false_switches_determinism_off(trainings):
    _, after_false = trainings
    assert after_false == ["False", "False"], f"op determinism still on after deterministic=False: {after_false}"


# One notebook executed twice ----------------------------------------------------------------

RUN_NOTEBOOK = textwrap.dedent(
    """
    import json, sys
    import nbformat
    from nbclient import NotebookClient

    path, last = sys.argv[1], int(sys.argv[2])
    nb = nbformat.read(path, as_version=4)
    nb.cells = nb.cells[: last + 1]          # nothing after the last checked cell is needed
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(__import__("pathlib").Path(path).parent)}}).execute()
    print("OUTPUTS", json.dumps([cell.get("outputs", []) for cell in nb.cells]))
    """
)


def _checked_notebooks():
    found = []
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        checked = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and CHECK_TAG in c.source]
        if checked:
            found.append((path, nb, checked))
    return found


def comparable(outputs) -> list:
    """What nbval compares: text streams, plain-text results and error names (no images, no timings)."""
    shown = []
    for out in outputs:
        kind = out.get("output_type")
        if kind == "stream":
            shown.append(("stream", out.get("name"), out.get("text", "")))
        elif kind in ("execute_result", "display_data"):
            shown.append(("data", out.get("data", {}).get("text/plain", "")))
        elif kind == "error":
            shown.append(("error", out.get("ename"), out.get("evalue")))
    return shown


@pytest.mark.timeout(600)
def test_a_notebook_executed_twice_prints_the_same_checked_outputs():
    notebooks = _checked_notebooks()
    chosen = [n for n in notebooks if n[0] == PREFERRED_NOTEBOOK] or notebooks[:1]
    if not chosen:
        pytest.skip(f"no notebook has a {CHECK_TAG!r} cell yet (expected one in {PREFERRED_NOTEBOOK.name})")
    path, nb, checked = chosen[0]
    last = max(checked)
    command = [sys.executable, "-c", RUN_NOTEBOOK, str(path), str(last)]
    first, second = (json.loads(next(ln for ln in out.splitlines() if ln.startswith("OUTPUTS "))[len("OUTPUTS "):])
                     for out in _parallel([command, command], timeout=580))
    for i in checked:
        label = f"{path.name} cell {i}"
        assert comparable(first[i]), f"{label} is checked but printed nothing"
        assert comparable(first[i]) == comparable(second[i]), f"{label} printed different outputs in two runs"
        assert comparable(first[i]) == comparable(nb.cells[i].outputs), (
            f"{label} printed something else than the outputs recorded in the notebook"
        )


def test_the_output_comparison_sees_a_changed_number():
    a = [{"output_type": "stream", "name": "stdout", "text": "accuracy 0.912\n"}]
    b = [{"output_type": "stream", "name": "stdout", "text": "accuracy 0.913\n"}]
    image = {"output_type": "display_data", "data": {"image/png": "AAAA", "text/plain": "<Figure>"}}
    assert comparable(a) != comparable(b)
    assert comparable(a + [image]) == comparable(a + [{**image, "data": {"image/png": "BBBB", "text/plain": "<Figure>"}}])


# Where a notebook catches UnimplementedError --------------------------------------------------

RUNS_OPS = (".fit(", ".predict(", ".evaluate(", "train_on_batch(", "fast_mnist_recipe(")


def misplaced_unimplemented_catches(code: str) -> list[str]:
    """``try`` blocks that catch UnimplementedError but run no op that could raise it.

    ``enable_op_determinism()`` (inside ``seed_everything``) never raises: an
    op without a deterministic GPU kernel raises when it *runs*, i.e. in
    ``fit``/``predict``/``evaluate``. A ``try`` around ``seed_everything``
    alone catches nothing.
    """
    import ast

    found = []
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Try) and any(
            h.type is not None and "UnimplementedError" in ast.unparse(h.type) for h in node.handlers
        ):
            body = "\n".join(ast.unparse(stmt) for stmt in node.body)
            if not any(call in body for call in RUNS_OPS):
                found.append(body.splitlines()[0])
    return found


def test_notebooks_catch_unimplemented_error_where_ops_run():
    from IPython.core.inputtransformer2 import TransformerManager

    found = {}
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        for i, cell in enumerate(nbformat.read(path, as_version=4).cells):
            if cell.cell_type == "code" and "UnimplementedError" in cell.source:
                if bad := misplaced_unimplemented_catches(TransformerManager().transform_cell(cell.source)):
                    found[f"{path.name} cell {i}"] = bad
    assert not found, f"these try blocks catch UnimplementedError around code that runs no op: {found}"


def test_the_unimplemented_error_lint_can_fail():
    wrong = "try:\n    seed_everything(SEED)\nexcept tf.errors.UnimplementedError:\n    seed_everything(SEED, deterministic=False)"
    right = ("try:\n    history = model.fit(x, y, verbose=0)\nexcept tf.errors.UnimplementedError as err:\n"
             "    print('no deterministic kernel:', err.message)")
    assert misplaced_unimplemented_catches(wrong) == ["seed_everything(SEED)"]
    assert misplaced_unimplemented_catches(right) == []



# fit_or_retry: the one helper for the GPU's UnimplementedError -------------------------------------

DEPTHWISE_MESSAGE = ("A deterministic GPU implementation of DepthwiseConvBackpropFilter is not currently available. "
                     "[Op:DepthwiseConv2dNativeBackpropFilter]")


@pytest.fixture
def determinism_on():
    from tensorflow.python.framework import config

    from toolkit.determinism import seed_everything

    was_on = config.is_op_determinism_enabled()
    seed_everything(0)
    yield config
    # Leave op determinism as this process had it: later tests compare in-process runs with subprocess runs.
    seed_everything(0, deterministic=was_on)


def _failing_once(model, error):
    """model.fit raises ``error`` on its first call (as a GPU op would, when it runs), then trains for real."""
    real_fit, calls = model.fit, []

    def fit(*args, **kwargs):
        calls.append(kwargs.get("epochs"))
        if len(calls) == 1:
            model.train_function = "traced with determinism on"
            raise error
        return real_fit(*args, **kwargs)

    model.fit = fit
    return calls


def test_fit_or_retry_switches_determinism_off_says_so_and_trains(determinism_on, tiny_data, tiny_model, capsys):
    import tensorflow as tf

    from toolkit.determinism import fit_or_retry

    x, y = tiny_data
    model = tiny_model()
    calls = _failing_once(model, tf.errors.UnimplementedError(None, None, DEPTHWISE_MESSAGE))
    assert determinism_on.is_op_determinism_enabled()
    history = fit_or_retry(model, x, y, epochs=2, verbose=0)
    assert calls == [2, 2], "fit must be called again with the same arguments"
    assert len(history.history["loss"]) == 2 and history.history["loss"][1] < history.history["loss"][0]
    assert not determinism_on.is_op_determinism_enabled(), "op determinism must be off after the retry"
    assert model.train_function != "traced with determinism on", "the traced train function must be dropped"
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("NOTICE: no deterministic GPU kernel here (A deterministic GPU")
    assert "op determinism is now OFF" in out[0] and "training again" in out[0]


@pytest.mark.parametrize("error", [
    "an UnimplementedError about something else",
    "a ValueError that mentions determinism",
])
def test_fit_or_retry_lets_other_errors_through(determinism_on, tiny_data, tiny_model, error, capsys):
    import tensorflow as tf

    from toolkit.determinism import fit_or_retry

    raised = (tf.errors.UnimplementedError(None, None, "Cast string to complex is not supported")
              if "Unimplemented" in error else ValueError("bad determinism setting"))
    x, y = tiny_data
    model = tiny_model()
    calls = _failing_once(model, raised)
    with pytest.raises(type(raised)):
        fit_or_retry(model, x, y, epochs=1, verbose=0)
    assert calls == [1] and determinism_on.is_op_determinism_enabled() and capsys.readouterr().out == ""


def test_fit_or_retry_refuses_a_non_model():
    from toolkit.determinism import fit_or_retry

    with pytest.raises(TypeError, match="`model` must be a compiled keras.Model.*Received: model="):
        fit_or_retry("model", [1], [1])


def test_no_notebook_carries_its_own_copy_of_the_fallback():
    """The notebooks train through fit_or_retry; none catches UnimplementedError itself."""
    own, users = {}, []
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        code = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
        if "UnimplementedError" in code:
            own[path.name] = "catches UnimplementedError"
        if "fit_or_retry(" in code:
            users.append(path.stem[:2])
    assert not own, f"use toolkit.determinism.fit_or_retry instead: {own}"
    assert {"02", "07"} <= set(users), f"02 (the CNN) and 07 (depthwise convolutions) must use fit_or_retry: {users}"
