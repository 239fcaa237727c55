import keras
import pytest

import toolkit.exercises as exercises
from toolkit.exercises import Feedback, checker


@checker("Sigmoid of zero", placeholder_message="Replace ... with a number.")
def check_sigmoid_zero(answer):
    ok = abs(float(answer) - 0.5) < 1e-6
    hint = "sigmoid(0) = 1 / (1 + e^0)." if float(answer) != -0.5 else "Check the sign."
    return ok, "sigmoid(0) checked.", hint


def test_placeholder_is_not_answered_yet():
    fb = check_sigmoid_zero(...)
    assert isinstance(fb, Feedback) and fb.passed is False and fb.answered is False
    assert "not answered yet" in str(fb) and "not answered yet" in fb._repr_html_()


def test_right_answer_passes_with_a_tick():
    fb = check_sigmoid_zero(0.5)
    assert fb.passed and str(fb).startswith("✓") and fb.hint == ""


def test_wrong_answer_gets_the_specific_hint():
    fb = check_sigmoid_zero(-0.5)
    assert not fb.passed and str(fb).startswith("✗") and "sign" in fb.hint
    assert "Hint" in fb._repr_html_()


def test_checker_never_raises():
    fb = check_sigmoid_zero("not a number")
    assert not fb.passed and fb.answered and "could not be checked" in fb.message


# Every checker of the course ---------------------------------------------------------------

ALL_CHECKS = [getattr(exercises, name) for name in exercises.__all__ if name.startswith("check_")]


def test_every_checker_is_exported():
    assert len(ALL_CHECKS) >= 2 * 8, "every notebook has 2-4 exercises, each with a checker"


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: c.__name__)
def test_every_checker_says_not_answered_yet_for_the_placeholder(check):
    for feedback in (check(...), check(None), check()):
        assert isinstance(feedback, Feedback) and not feedback.answered and not feedback.passed
        assert "not answered yet" in str(feedback)


@pytest.mark.parametrize("junk", ["a string", -12345.678, [1, 2, 3], {"a": 1}, object(), keras.layers.Dense(3)],
                         ids=["str", "number", "list", "dict", "object", "layer"])
@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: c.__name__)
def test_every_checker_refuses_junk_without_raising(check, junk):
    feedback = check(junk)
    assert feedback.answered and not feedback.passed and feedback.message


# Strict readers: no object talks its way into a pass -------------------------------------------

import functools  # noqa: E402
import hashlib  # noqa: E402
import importlib  # noqa: E402
import math  # noqa: E402
import pkgutil  # noqa: E402
import re  # noqa: E402
import types  # noqa: E402

import numpy as np  # noqa: E402

from toolkit.exercises import feedback as fb_module  # noqa: E402
from toolkit.exercises.feedback import (  # noqa: E402
    AnswerError, answer_digest, as_array, as_choice, as_count, as_mapping, as_number, describe_exception, matches,
    normalize_answer, safe_repr,
)
from exercise_solutions import load_solutions  # noqa: E402


class Universal:
    """Equal to everything, true, callable, iterable: the object a checker must not believe."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __lt__ = __le__ = __gt__ = __ge__ = __eq__
    __hash__ = object.__hash__

    def __bool__(self):
        return True

    def __float__(self):
        return 0.0

    def __int__(self):
        return 0

    __index__ = __int__

    def __call__(self, *args, **kwargs):
        return self

    def __iter__(self):
        return iter([Universal(), Universal()])

    def __len__(self):
        return 2

    def __contains__(self, item):
        return True

    def __getitem__(self, key):
        return Universal()


class EverythingStr(str):
    """A str whose ``==`` says yes to every other object."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = str.__hash__


class LyingDict(dict):
    """A dict that claims to hold every key, each mapped to a universal object."""

    def __contains__(self, key):
        return True

    def __getitem__(self, key):
        return Universal()

    def get(self, key, default=None):
        return Universal()

    def __len__(self):
        return 10


class LyingFloat(float):
    """A float whose ``__eq__``, ``__float__`` and ``__index__`` all lie."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = float.__hash__

    def __float__(self):
        return 0.5

    def __index__(self):
        return 3


class LyingInt(int):
    """An int equal to every other object."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = int.__hash__


class Explode(BaseException):
    """A BaseException subclass that is neither Exception nor KeyboardInterrupt."""


class UnprintableError(Exception):
    """An exception whose ``__str__`` raises."""

    def __str__(self):
        raise RuntimeError("no text for you")


class NotAStrError(Exception):
    def __str__(self):
        return 42


def _bomb(make_exc):
    """An object whose every use runs student code raising ``make_exc()``."""

    def boom(*args, **kwargs):
        raise make_exc()

    names = ["__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__bool__", "__float__", "__int__",
             "__index__", "__iter__", "__len__", "__contains__", "__getitem__", "__call__", "__array__", "__str__",
             "__repr__", "__format__", "__getattr__", "__abs__", "__neg__", "__add__", "__radd__", "__sub__",
             "__rsub__", "__mul__", "__rmul__", "__truediv__", "__rtruediv__", "__pow__", "__rpow__"]
    namespace = {name: boom for name in names}
    namespace["__hash__"] = object.__hash__
    return type(f"Bomb{make_exc.__name__}", (), namespace)()


STUDENT_EXCEPTIONS = [SystemExit, GeneratorExit, Explode, UnprintableError, NotAStrError, ZeroDivisionError]
ACTIVATIONS = ["relu", "leaky_relu", "elu", "tanh", "sigmoid", "selu"]
EVERY_KEY = ["A", "B", "C", "D", *ACTIVATIONS, *range(10)]


class _FinderCurve:
    """An LR-finder-shaped curve, so that check_lr_from_finder reaches its comparison."""

    def __init__(self):
        self.lrs = list(np.geomspace(1e-6, 3.0, 120))
        log_lr = np.log10(self.lrs)
        self.losses = list(2.3 - 2.0 / (1 + np.exp(-3.0 * (log_lr + 2.5)))
                           + np.where(log_lr > -0.3, 8.0 * (log_lr + 0.3) ** 2, 0.0))


#: The data some checkers need besides the answer (the notebook passes it).
CHECK_KWARGS = {
    "check_lr_from_finder": lambda: {"finder": _FinderCurve()},
    "check_class_weights": lambda: {"counts": [108, 106, 105, 18, 107, 109, 106, 108, 18, 107]},
}


def _run_check(check, answer):
    kwargs = CHECK_KWARGS.get(check.__name__, dict)()
    return check(answer, **kwargs)


def _assert_refused(feedback, what):
    assert isinstance(feedback, Feedback), f"{what}: got {feedback!r}"
    assert feedback.answered and not feedback.passed, f"{what} passed: {feedback}"
    assert isinstance(feedback.message, str) and feedback.message, f"{what}: no reason given"
    assert "Traceback" not in feedback.message


TRICKS = {
    "universal": Universal,
    "str-subclass": lambda: EverythingStr("overfitting"),
    "lying-dict": LyingDict,
    "dict-of-universals": lambda: {key: Universal() for key in EVERY_KEY},
    "dict-of-str-subclasses": lambda: {key: EverythingStr("he") for key in EVERY_KEY},
    "list-of-universals": lambda: [Universal()] * 5,
    "lying-float": lambda: LyingFloat(12345.678),
    "lying-int": lambda: LyingInt(-7),
    "array-of-objects": lambda: _object_array(Universal(), Universal()),
}


def _object_array(*items):
    """An object array holding ``items`` (np.array would unpack them: a Universal is an endless sequence)."""
    arr = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        arr[i] = item
    return arr


@pytest.mark.parametrize("trick", list(TRICKS), ids=list(TRICKS))
@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: c.__name__)
def test_no_checker_is_fooled_by_an_object_equal_to_everything(check, trick):
    containers = {"lying-dict", "dict-of-universals", "dict-of-str-subclasses", "list-of-universals", "array-of-objects"}
    assert trick in containers or TRICKS[trick]() == object()  # the trick is real
    _assert_refused(_run_check(check, TRICKS[trick]()), f"{check.__name__}({trick})")


@pytest.mark.parametrize("exc", STUDENT_EXCEPTIONS, ids=lambda e: e.__name__)
@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: c.__name__)
def test_no_checker_lets_an_exception_of_student_code_escape(check, exc):
    _assert_refused(_run_check(check, _bomb(exc)), f"{check.__name__}(bomb raising {exc.__name__})")


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: c.__name__)
def test_keyboard_interrupt_in_student_code_stops_the_check(check):
    """Ctrl-C (the notebook's stop button) must still stop a runaway answer."""
    bomb = _bomb(KeyboardInterrupt)
    try:
        feedback = _run_check(check, bomb)
    except KeyboardInterrupt:
        return
    # A checker that never touches this kind of answer refuses it on its type alone.
    _assert_refused(feedback, check.__name__)
    assert "checked: KeyboardInterrupt" not in feedback.message  # never swallowed


FUNCTION_CHECKS = {
    "check_perceptron_update": 2,
    "check_adam_step": 3,
    "check_adagrad_step": 2,
}


@pytest.mark.parametrize("exc", STUDENT_EXCEPTIONS + [KeyboardInterrupt], ids=lambda e: e.__name__)
@pytest.mark.parametrize("name", list(FUNCTION_CHECKS))
def test_a_student_function_that_raises_gets_a_cross(name, exc):
    def student(*args, **kwargs):
        raise exc()

    check = getattr(exercises, name)
    if exc is KeyboardInterrupt:
        with pytest.raises(KeyboardInterrupt):
            check(student)
        return
    feedback = check(student)
    _assert_refused(feedback, f"{name} with a function raising {exc.__name__}")
    assert "could not be checked" in feedback.message and exc.__name__ in feedback.message


@pytest.mark.parametrize("name", list(FUNCTION_CHECKS))
def test_a_student_function_returning_universal_objects_gets_a_cross(name):
    n_out = FUNCTION_CHECKS[name]
    for out in (lambda: tuple(Universal() for _ in range(n_out)), lambda: [Universal()] * n_out, Universal):
        _assert_refused(getattr(exercises, name)(lambda *a, _out=out, **k: _out()), name)


def test_the_wrapper_turns_every_base_exception_into_a_cross():
    @checker("Raises")
    def check_raises(answer):
        raise answer()

    for exc in STUDENT_EXCEPTIONS:
        feedback = check_raises(exc)
        _assert_refused(feedback, exc.__name__)
        assert feedback.message.startswith(f"Your answer could not be checked: {exc.__name__}")
    with pytest.raises(KeyboardInterrupt):
        check_raises(KeyboardInterrupt)


def test_the_wrapper_shows_an_answer_error_in_words():
    @checker("Count")
    def check_count(answer):
        return as_count(answer) == 3, "Checked.", "Count again."

    feedback = check_count(3.0)
    assert not feedback.passed
    assert feedback.message == "Your answer could not be checked: an integer count (a whole number, of type int) " \
                               "is asked. Received: answer=3.0 (float)"
    assert "without the .0" in feedback.hint and "AnswerError" not in str(feedback)
    assert check_count(3).passed and check_count(np.int16(3)).passed


# describe_exception and safe_repr ---------------------------------------------------------------


@pytest.mark.parametrize(
    "exc, text",
    [
        (ValueError("bad value"), "ValueError: bad value"),
        (SystemExit(3), "SystemExit: 3"),
        (Explode(), "Explode"),
        (UnprintableError("hidden"), "UnprintableError"),
        (NotAStrError(), "NotAStrError"),
        (KeyError("k"), "KeyError: 'k'"),
    ],
)
def test_describe_exception(exc, text):
    assert describe_exception(exc) == text


def test_describe_exception_survives_a_str_subclass_and_a_long_text():
    class Shouty(str):
        def strip(self, *args):
            raise RuntimeError("not called: the text is read as a plain str")

    class ShoutyError(Exception):
        def __str__(self):
            return Shouty("  loud  ")

    assert describe_exception(ShoutyError()) == "ShoutyError: loud"
    long = describe_exception(ValueError("x" * 10_000))
    assert long.startswith("ValueError: xxx") and len(long) < 250


def test_safe_repr_never_raises():
    assert safe_repr(_bomb(SystemExit)).startswith("<BombSystemExit")
    assert safe_repr("a" * 500).endswith("…") and len(safe_repr("a" * 500)) == 80
    assert safe_repr(np.zeros((3, 4))) == "array of shape (3, 4)"
    assert safe_repr([4690]) == "[4690]"


# as_count, as_number, as_array ---------------------------------------------------------------------


@pytest.mark.parametrize("value", [3, np.int64(3), np.uint8(3), np.int32(-3)], ids=repr)
def test_as_count_accepts_integers(value):
    got = as_count(value)
    assert type(got) is int and got == int(np.asarray(value))


@pytest.mark.parametrize(
    "value",
    [3.0, np.float64(3.0), True, np.bool_(True), "3", [3], np.array(3), np.array([3]), LyingInt(3), Universal(),
     LyingFloat(3.0), 3 + 0j],
    ids=["float", "np.float64", "bool", "np.bool_", "str", "list", "0-d array", "array", "int-subclass",
         "universal", "float-subclass", "complex"],
)
def test_as_count_refuses_anything_but_an_integer(value):
    with pytest.raises(ValueError, match="integer count"):
        as_count(value)


def test_as_number_reads_the_stored_value_not_the_dunders():
    assert as_number(LyingFloat(3.0)) == 3.0  # __float__ says 0.5: not asked
    assert as_number(LyingInt(-7)) == -7.0
    assert as_number(np.float32(0.25)) == 0.25 and as_number([2]) == 2.0 and as_number(np.array([[1.5]])) == 1.5
    for bad in (Universal(), [Universal()], _object_array(Universal()), "0.5", True, np.bool_(False),
                float("nan"), math.inf, [1.0, 2.0], [], None, 1 + 2j):
        with pytest.raises(ValueError):
            as_number(bad)


def test_as_number_reads_a_tensor():
    import keras

    assert as_number(keras.ops.convert_to_tensor(0.125)) == 0.125


def test_as_array_is_element_wise_strict():
    np.testing.assert_array_equal(as_array([[1, 2], (3, 4.5)]), [[1.0, 2.0], [3.0, 4.5]])
    assert as_array([LyingFloat(2.0), 1]).tolist() == [2.0, 1.0]

    class LyingList(list):
        def __iter__(self):
            return iter([0.25, 0.75])

    assert as_array(LyingList([1.0, 2.0])).tolist() == [1.0, 2.0]  # the stored items, not what __iter__ says
    assert as_array([np.nan], finite=False).shape == (1,)
    for bad, match in ((["a", 1.0], "number"), ([[1.0], [1.0, 2.0]], "different lengths"), ([np.inf], "finite"),
                       ([0.5, 0.5], r"shape \(3,\)")):
        with pytest.raises(ValueError, match=match):
            as_array(bad, shape=(3,) if "shape" in match else None)


# as_choice and as_mapping ----------------------------------------------------------------------


def test_as_choice():
    assert as_choice("  LR too-low ", ["healthy", "lr_too_low"]) == "lr_too_low"
    assert as_choice("Whatever", None) == "whatever"
    for bad in (EverythingStr("healthy"), b"healthy", Universal(), 3):
        with pytest.raises(ValueError, match="a word"):
            as_choice(bad, ["healthy"])
    with pytest.raises(ValueError, match="not one of: healthy, noisy"):
        as_choice("overfit", ["healthy", "noisy"])


def test_as_mapping():
    got = as_mapping({"A": 1, np.int64(2): "two", "Z": 0, Universal(): 5}, ["A", 2])
    assert got == {"A": 1, 2: "two"} and type(got) is dict
    assert as_mapping({"A": 1}, ["A", "B"], allow_missing=True) == {"A": 1}
    with pytest.raises(ValueError, match=r"\['B', 'C'\] are missing"):
        as_mapping({"A": 1}, ["A", "B", "C"])
    for bad in (LyingDict(), [("A", 1)], Universal(), "A"):
        with pytest.raises(ValueError, match="must be a dict"):
            as_mapping(bad, ["A"])


def test_a_lying_key_does_not_answer_for_a_real_one():
    class AKey:
        def __hash__(self):
            return hash("A")

        def __eq__(self, other):
            return True

    plain = {AKey(): "overfitting"}
    assert plain["A"] == "overfitting"  # a plain dict lookup is fooled by the key's __eq__ ...
    assert as_mapping(plain, ["A"], allow_missing=True) == {}  # ... the reader is not


# Hidden answers -----------------------------------------------------------------------------------


def test_digest_is_the_salted_sha256_of_the_normalized_answer():
    text = f"{fb_module._SALT}\n08.curves.A\nlr_too_low"
    assert answer_digest("08.curves.A", "  LR too low") == hashlib.sha256(text.encode()).hexdigest()
    assert answer_digest("08.curves.A", "x") != answer_digest("08.curves.B", "x")  # a different digest per key
    assert normalize_answer(np.int64(4690)) == normalize_answer(4690) == "4690"
    assert normalize_answer(["He", 3]) == "he,3"


def test_matches():
    digest = answer_digest("k", "overfitting")
    assert matches("k", " Overfitting ", digest)
    assert not matches("k", "underfitting", digest) and not matches("other", "overfitting", digest)
    for bad in (EverythingStr("overfitting"), Universal(), 3.0, None, LyingInt(1)):
        assert not matches("k", bad, digest)
    count = answer_digest("steps", 4690)
    assert matches("steps", np.int32(4690), count) and not matches("steps", 4690.0, count)


#: The discrete answers of the course, from solutions/ (each exercise's right words and counts).
_SOLUTIONS = {stem: load_solutions(stem) for stem in ("02_mnist_cnn", "03_initialization", "05_lr_schedules",
                                                      "08_diagnosing_training")}
ANSWER_PAIRS = {
    *_SOLUTIONS["08_diagnosing_training"].NAME_THE_PROBLEM.items(),
    *_SOLUTIONS["03_initialization"].initializer_choice.items(),
}
ANSWER_COUNTS = {_SOLUTIONS["02_mnist_cnn"].conv_params, _SOLUTIONS["05_lr_schedules"].ONECYCLE_TOTAL_STEPS}


def _leaks(namespace: dict) -> list[str]:
    """Where ``namespace`` (a module's globals) shows a right (key, answer) pair or count in clear text.

    Walks every constant, container, function default and attribute of the
    functions and classes the module defines itself.
    """
    found, seen = [], set()
    home = namespace.get("__name__")

    def walk(value, where, depth=0):
        if id(value) in seen or depth > 6:
            return
        seen.add(id(value))
        if isinstance(value, (str, bytes)):
            text = value.decode(errors="ignore") if isinstance(value, bytes) else value
            for key, answer in ANSWER_PAIRS:
                if re.search(rf"\b{re.escape(key)}\W{{1,4}}{re.escape(answer)}\b", text):
                    found.append(f"{where}: the text pairs {key!r} with {answer!r}")
        elif isinstance(value, (bool, float)):
            return
        elif isinstance(value, (int, np.integer)):
            if int(value) in ANSWER_COUNTS:
                found.append(f"{where}: the count {int(value)}")
        elif isinstance(value, dict):
            for key, item in value.items():
                if (key, item) in ANSWER_PAIRS if isinstance(key, str) and isinstance(item, str) else False:
                    found.append(f"{where}[{key!r}] = {item!r}")
                walk(key, f"{where} key", depth + 1)
                walk(item, f"{where}[{key!r}]", depth + 1)
        elif isinstance(value, (list, tuple, set, frozenset)):
            items = list(value)
            if len(items) == 2 and all(isinstance(i, str) for i in items) and tuple(items) in ANSWER_PAIRS:
                found.append(f"{where} = {tuple(items)!r}")
            for i, item in enumerate(items):
                walk(item, f"{where}[{i}]", depth + 1)
        elif isinstance(value, np.ndarray) and value.dtype.kind in "iuUSO":
            walk(value.tolist(), where, depth + 1)
        elif isinstance(value, (types.FunctionType, functools.partial)) or callable(value):
            for attr in ("__defaults__", "__kwdefaults__", "__wrapped__", "__dict__", "keywords", "args"):
                inner = getattr(value, attr, None)
                if isinstance(inner, types.MappingProxyType):  # a class: its own attributes, if it is the module's
                    if getattr(value, "__module__", None) == home:
                        walk(dict(inner), f"{where}.{attr}", depth + 1)
                elif inner is not None:
                    walk(inner, f"{where}.{attr}", depth + 1)

    for name, value in namespace.items():
        if not isinstance(value, types.ModuleType):
            walk(value, name)
    return found


def test_the_leak_finder_finds_the_old_answer_tables():
    """The finder is not blind: the tables the checkers used to keep are caught."""
    old = {
        "_CURVE_ANSWERS": {"A": "overfitting", "B": "lr_too_low", "C": "underfitting", "D": "diverging"},
        "_TABLE": {"relu": "he", "tanh": "glorot"},
        "_PAIRS": [("selu", "lecun")],
        "STEPS": 4690,
        "NOTE": "the answer: A -> overfitting",
        "check": (lambda answer, _want={"B": "lr_too_low"}: answer),
        "Table": type("Table", (), {"__module__": "fake", "ROWS": {"elu": "he"}}),
        "__name__": "fake",
    }
    leaks = _leaks(old)
    for name in set(old) - {"__name__"}:
        assert any(leak.startswith(name) for leak in leaks), (name, leaks)


EXERCISE_MODULES = sorted(
    f"toolkit.exercises.{info.name}" for info in pkgutil.iter_modules(exercises.__path__) if not info.ispkg
)


@pytest.mark.parametrize("module_name", EXERCISE_MODULES)
def test_no_module_shows_a_reference_answer(module_name):
    module = importlib.import_module(module_name)
    assert not _leaks(vars(module)), _leaks(vars(module))
    # And a plain import of the package does not show one either.
    assert not _leaks(vars(exercises))


# Counts, choices and dicts in the real checkers ------------------------------------------------------


COUNT_ANSWERS = [
    ("check_conv_params", _SOLUTIONS["02_mnist_cnn"].conv_params),
    ("check_onecycle_total_steps", _SOLUTIONS["05_lr_schedules"].ONECYCLE_TOTAL_STEPS),
    ("check_avoided_class", _SOLUTIONS["08_diagnosing_training"].AVOIDED_CLASS),
]


@pytest.mark.parametrize("name, right", COUNT_ANSWERS, ids=[n for n, _ in COUNT_ANSWERS])
def test_a_count_must_be_an_integer(name, right):
    check = getattr(exercises, name)
    assert check(right).passed and check(np.int64(right)).passed
    for dressed in (float(right), np.float64(right), LyingInt(right + 1), str(right), [right], np.array(right)):
        feedback = check(dressed)
        _assert_refused(feedback, f"{name}({dressed!r})")
        assert re.search(r"\bint\b|integer|whole number", feedback.message + feedback.hint), str(feedback)


def test_the_right_words_in_a_str_subclass_are_refused():
    names = _SOLUTIONS["08_diagnosing_training"].NAME_THE_PROBLEM
    table = _SOLUTIONS["03_initialization"].initializer_choice
    assert exercises.check_name_the_problem(dict(names)).passed
    assert exercises.check_initializer_choice(dict(table)).passed
    _assert_refused(exercises.check_name_the_problem({k: EverythingStr(v) for k, v in names.items()}), "names")
    _assert_refused(exercises.check_initializer_choice({k: EverythingStr(v) for k, v in table.items()}), "table")
    for lying in (LyingDict(names), LyingDict(table)):
        _assert_refused(exercises.check_name_the_problem(lying), "lying dict")
        _assert_refused(exercises.check_initializer_choice(lying), "lying dict")


def test_class_weights_read_numbers_and_numpy_keys():
    counts = [108, 106, 105, 18, 107, 109, 106, 108, 18, 107]
    right = {np.int64(c): np.float32(1000.0 / n) for c, n in enumerate(counts)}  # np.unique keys, NumPy weights
    assert exercises.check_class_weights(right, counts=counts).passed
    _assert_refused(exercises.check_class_weights({c: Universal() for c in range(10)}, counts=counts), "universal")
    _assert_refused(exercises.check_class_weights({c: LyingFloat(-1.0) for c in range(10)}, counts=counts), "lying")


def test_keras_answers_with_lying_attributes_are_refused():
    import keras

    layer = keras.layers.Dense(64, activation="relu", kernel_regularizer=keras.regularizers.L2(1e-4))
    assert exercises.check_l2_layer(layer).passed
    fake_units = keras.layers.Dense(32, activation="relu", kernel_regularizer=keras.regularizers.L2(1e-4))
    fake_units.units = Universal()
    _assert_refused(exercises.check_l2_layer(fake_units), "units equal to everything")

    def relu(x):  # named relu, serialized as "relu", but the identity
        return x

    _assert_refused(exercises.check_l2_layer(keras.layers.Dense(64, activation=relu,
                                                                kernel_regularizer=keras.regularizers.L2(1e-4))),
                    "a fake relu")
    fake_l2 = keras.layers.Dense(64, activation="relu", kernel_regularizer=keras.regularizers.L2(1e-2))
    fake_l2.kernel_regularizer.l2 = Universal()
    _assert_refused(exercises.check_l2_layer(fake_l2), "an L2 strength equal to everything")

    good = dict(monitor="val_loss", patience=5, restore_best_weights=True)
    assert exercises.check_early_stopping(keras.callbacks.EarlyStopping(**good)).passed
    for field, value in (("monitor", EverythingStr("loss")), ("patience", Universal()), ("patience", 5.0),
                         ("patience", LyingInt(9)), ("restore_best_weights", Universal())):
        callback = keras.callbacks.EarlyStopping(**good)
        setattr(callback, field, value)
        _assert_refused(exercises.check_early_stopping(callback), f"{field}={value!r}")


def test_answer_error_is_a_value_error():
    error = AnswerError("text", hint="a hint")
    assert isinstance(error, ValueError) and error.hint == "a hint" and str(error) == "text"
