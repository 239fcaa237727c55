"""Checkers for the exercises of notebook 04 (optimizers).

The student writes one optimizer step as a NumPy function; the checker runs
it for a few steps on fixed gradients and compares the path of ``theta``
with Keras's formula (and with the usual slips, to give a precise hint).
"""

from __future__ import annotations

import functools

import numpy as np

from toolkit.exercises.feedback import as_array, checker, type_name

#: Fixed gradients for the checks: several steps, magnitudes from 1e-4 to 1, both signs
#: (tiny ones make the place of epsilon visible).
_GRADS = np.array(
    [
        [0.5, -1.0, 1e-4, -3e-4],
        [0.4, -0.8, 2e-4, -1e-4],
        [-0.2, -0.5, 1e-4, 2e-4],
        [0.3, 0.1, -1e-4, -2e-4],
        [0.1, -0.3, 3e-4, 1e-4],
    ]
)
_THETA0 = np.array([1.0, -2.0, 0.5, 0.0])


def _run(step, n_state: int, *, initial_state: float = 0.0, **hyper):
    """Chain ``step`` over the fixed gradients; return the thetas after each step."""
    theta = _THETA0.copy()
    state = [np.full_like(theta, initial_state) for _ in range(n_state)]
    path = []
    for t, grad in enumerate(_GRADS, start=1):
        args = (theta, grad.copy(), *state) + ((t,) if n_state == 2 else ())
        out = step(*args, **hyper)
        if type(out) not in (tuple, list) or len(out) != 1 + n_state:
            raise ValueError(f"the function must return {1 + n_state} arrays, got {type_name(out)}")
        theta, *state = (as_array(o, finite=False) for o in out)
        if theta.shape != _THETA0.shape:
            raise ValueError(f"theta must keep its shape {_THETA0.shape}, got {theta.shape}")
        path.append(theta.copy())
    return np.array(path)


def _same(a, b) -> bool:
    return a.shape == b.shape and bool(np.all(np.isfinite(a))) and np.allclose(a, b, rtol=1e-4, atol=1e-9)


def _placeholder_aware(check, sample_args):
    """Treat a student function whose body is still ``...`` (it returns None) as not answered."""

    @functools.wraps(check)
    def wrapper(answer=Ellipsis, **kwargs):
        if callable(answer):
            try:
                out = answer(*sample_args())
                if out is None or out is Ellipsis:  # identity: an answer's __eq__ is never asked
                    answer = Ellipsis
            except KeyboardInterrupt:
                raise
            except BaseException:  # noqa: BLE001 - a real attempt that fails (even with SystemExit): the check reports it
                pass
        return check(answer, **kwargs)

    wrapper.exercise = check.exercise
    return wrapper


# Adam --------------------------------------------------------------------------------


def _adam(theta, grad, m, v, t, *, lr, beta_1, beta_2, epsilon, variant="keras"):
    m = beta_1 * m + (1 - beta_1) * grad
    v = beta_2 * v + (1 - beta_2) * grad**2
    m_hat, v_hat = m / (1 - beta_1**t), v / (1 - beta_2**t)
    if variant == "keras":  # lr folded with both corrections; epsilon added to sqrt(v)
        update = lr * np.sqrt(1 - beta_2**t) / (1 - beta_1**t) * m / (np.sqrt(v) + epsilon)
    elif variant == "paper":  # Kingma & Ba: epsilon added to sqrt(v_hat)
        update = lr * m_hat / (np.sqrt(v_hat) + epsilon)
    elif variant == "no_correction":
        update = lr * m / (np.sqrt(v) + epsilon)
    elif variant == "no_v_correction":
        update = lr * m_hat / (np.sqrt(v) + epsilon)
    elif variant == "no_m_correction":
        update = lr * m / (np.sqrt(v_hat) + epsilon)
    elif variant == "eps_inside":
        update = lr * m_hat / np.sqrt(v_hat + epsilon)
    elif variant == "sign":
        update = -lr * np.sqrt(1 - beta_2**t) / (1 - beta_1**t) * m / (np.sqrt(v) + epsilon)
    elif variant == "sign_paper":
        update = -lr * m_hat / (np.sqrt(v_hat) + epsilon)
    elif variant == "t_minus_1":
        with np.errstate(divide="ignore", invalid="ignore"):
            update = lr * (m / (1 - beta_1 ** (t - 1))) / (np.sqrt(v / (1 - beta_2 ** (t - 1))) + epsilon)
    else:  # pragma: no cover
        raise ValueError(variant)
    return theta - update, m, v


_ADAM_HINTS = {
    "sign": "Your steps go uphill: Adam subtracts lr · m̂ / (√v̂ + ε) from theta.",
    "sign_paper": "Your steps go uphill: Adam subtracts lr · m̂ / (√v̂ + ε) from theta.",
    "no_correction": "The first steps are too small: m and v start at 0, so divide them by (1 − β1^t) and "
    "(1 − β2^t) (bias correction) before using them.",
    "no_v_correction": "You corrected m but not v: divide v by (1 − β2^t) as well.",
    "no_m_correction": "You corrected v but not m: divide m by (1 − β1^t) as well.",
    "eps_inside": "You put ε inside the square root, as the slide writes it. Keras adds ε after the square root: "
    "√v̂ + ε (with tiny gradients √(v̂ + ε) is much larger).",
    "t_minus_1": "The step counter t starts at 1 for the first step, so the corrections are 1 − β^t with t = 1, 2, ...",
}


def _adam_sample():
    z = np.zeros(2)
    return (np.ones(2), np.ones(2), z, z, 1)


@checker("One Adam step", placeholder_message="Write the body of adam_step.")
def _check_adam_step(answer, *, lr: float = 0.01, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7):
    if not callable(answer):
        return False, "The answer must be the function adam_step.", "Pass the function itself: check_adam_step(adam_step)."
    hyper = dict(lr=lr, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon)
    with np.errstate(all="ignore"):  # a slip may divide by zero: the check says so, not a warning
        got = _run(answer, 2, **hyper)
    if not np.all(np.isfinite(got)):
        return False, "theta became NaN or infinite.", _ADAM_HINTS["t_minus_1"] + " (0 division at the first step?)"
    for variant in ("keras", "paper"):
        if _same(got, _run(functools.partial(_adam, variant=variant, **hyper), 2)):
            return True, f"Five Adam steps match Keras's formula (lr={lr}, β1={beta_1}, β2={beta_2}, ε={epsilon}).", ""
    for variant, hint in _ADAM_HINTS.items():
        with np.errstate(all="ignore"):
            if _same(got, _run(functools.partial(_adam, variant=variant, **hyper), 2)):
                return False, "theta does not follow Adam's path.", hint
    first = _run(functools.partial(_adam, variant="keras", **hyper), 2)[0]
    if _same(got[:1], first[None]):
        return False, "Your first step is right but later ones drift.", "Return the UPDATED m and v, and keep t counting."
    return False, "theta does not follow Adam's path.", (
        "Check each line: m is an average of gradients, v of squared gradients (β2), both bias-corrected, "
        "and theta moves by lr · m̂ / (√v̂ + ε)."
    )


check_adam_step = _placeholder_aware(_check_adam_step, _adam_sample)
check_adam_step.__doc__ = """Check ``adam_step(theta, grad, m, v, t, *, lr, beta_1, beta_2, epsilon) -> (theta, m, v)``."""


# Adagrad ------------------------------------------------------------------------------------


#: keras.optimizers.Adagrad starts its accumulator at this value (``initial_accumulator_value``).
ADAGRAD_INITIAL_ACCUMULATOR = 0.1


def _adagrad(theta, grad, accumulator, *, lr, epsilon, variant="keras"):
    if variant == "keras":  # accumulate, then epsilon inside the square root
        accumulator = accumulator + grad**2
        return theta - lr * grad / np.sqrt(accumulator + epsilon), accumulator
    if variant == "sign":
        accumulator = accumulator + grad**2
        return theta + lr * grad / np.sqrt(accumulator + epsilon), accumulator
    if variant == "rmsprop":
        accumulator = 0.9 * accumulator + 0.1 * grad**2
        return theta - lr * grad / np.sqrt(accumulator + epsilon), accumulator
    if variant == "no_memory":
        return theta - lr * grad / np.sqrt(grad**2 + epsilon), accumulator
    if variant == "no_sqrt":
        accumulator = accumulator + grad**2
        return theta - lr * grad / (accumulator + epsilon), accumulator
    if variant == "update_after":
        new_theta = theta - lr * grad / np.sqrt(accumulator + epsilon)
        return new_theta, accumulator + grad**2
    raise ValueError(variant)  # pragma: no cover


_ADAGRAD_HINTS = {
    "sign": "Your steps go uphill: Adagrad subtracts lr · g / √(s + ε) from theta.",
    "rmsprop": "That is RMSProp: it forgets old gradients (a decaying average). Adagrad keeps the plain SUM "
    "of all squared gradients, which is why its steps keep shrinking.",
    "no_memory": "The accumulator must remember past steps: s ← s + g², and return the new s.",
    "no_sqrt": "Divide by the square root of the accumulated squares, √(s + ε), not by s itself.",
    "update_after": "Add this step's g² to s first, then use the new s in the update.",
}


def _adagrad_sample():
    return (np.ones(2), np.ones(2), np.full(2, ADAGRAD_INITIAL_ACCUMULATOR))


@checker("One Adagrad step", placeholder_message="Write the body of adagrad_step.")
def _check_adagrad_step(answer, *, lr: float = 0.1, epsilon: float = 1e-7):
    if not callable(answer):
        return False, "The answer must be the function adagrad_step.", "Pass the function itself."
    hyper = dict(lr=lr, epsilon=epsilon, initial_state=ADAGRAD_INITIAL_ACCUMULATOR)
    with np.errstate(all="ignore"):
        got = _run(answer, 1, **hyper)
        reference = functools.partial(_run, n_state=1, lr=lr, epsilon=epsilon, initial_state=ADAGRAD_INITIAL_ACCUMULATOR)
        if _same(got, reference(functools.partial(_adagrad, variant="keras"))):
            return True, f"Five Adagrad steps match keras.optimizers.Adagrad(lr={lr}, epsilon={epsilon}).", ""
        for variant, hint in _ADAGRAD_HINTS.items():
            if _same(got, reference(functools.partial(_adagrad, variant=variant))):
                return False, "theta does not follow Adagrad's path.", hint
    return False, "theta does not follow Adagrad's path.", "s ← s + g², then θ ← θ − lr · g / √(s + ε); return both."


check_adagrad_step = _placeholder_aware(_check_adagrad_step, _adagrad_sample)
check_adagrad_step.__doc__ = """Check ``adagrad_step(theta, grad, accumulator, *, lr, epsilon) -> (theta, accumulator)``."""


# Predict, run, explain: momentum on the well (exercise 3) ----------------------------------------

from toolkit.exercises.feedback import as_choice, as_number, is_placeholder  # noqa: E402

#: The 1-D loss of notebook 04's momentum section: f(x) = (x² − 1)² − WELL["tilt"]·x, and its run.
WELL = {"tilt": 0.3, "x0": -2.0, "lr": 0.01, "steps": 300}
_WELL_OUTCOMES = ("shallow", "deep", "still moving")


def well_points(tilt: float = WELL["tilt"]) -> tuple[float, float, float]:
    """``(shallow_minimum, bump, deep_minimum)``: where the slope 4x³ − 4x − tilt of the well is zero."""
    shallow, bump, deep = np.sort(np.roots([4.0, 0.0, -4.0, -tilt]).real)
    return float(shallow), float(bump), float(deep)


def roll_on_well(alpha: float, *, x0=WELL["x0"], lr=WELL["lr"], steps=WELL["steps"], tilt=WELL["tilt"]) -> np.ndarray:
    """The positions (start included) of gradient descent with momentum ``alpha`` on the well.

    The update is Keras's SGD with momentum: m ← α·m − lr·f'(x), x ← x + m.

    Example:

    >>> roll_on_well(0.0)[-1]  # plain gradient descent stops in the shallow minimum
    """
    x, m, positions = float(x0), 0.0, [float(x0)]
    for _ in range(int(steps)):
        m = alpha * m - lr * (4 * x * (x**2 - 1) - tilt)
        x = x + m
        positions.append(x)
    return np.array(positions)


def well_outcome(positions, *, tilt=WELL["tilt"], settle: int = 50, tolerance: float = 0.02) -> str:
    """Where a run on the well ended: "shallow", "deep", or "still moving" when its last ``settle``
    positions still span more than ``tolerance``."""
    positions = np.asarray(positions, dtype=float)
    _, bump, _ = well_points(tilt)
    if np.ptp(positions[-settle:]) > tolerance:
        return "still moving"
    return "deep" if positions[-1] > bump else "shallow"


_WELL_WHY = {
    "shallow": (
        "With α = {alpha} only {loss:.0%} of the velocity is lost per step (1 − α), against 10% at α = 0.9. The "
        "point rolled over the bump into the deep well, climbed its far wall with speed to spare, came back over "
        "the bump and lost its energy in the shallow hollow. More momentum is less friction: enough of it carries "
        "the parameters out of a good minimum as easily as out of a bad one."
    ),
    "stuck": (
        "With α = {alpha} the velocity gathered on the steep wall was not enough to carry the point over the bump: "
        "like plain gradient descent it stopped in the first hollow it reached."
    ),
    "deep": (
        "With α = {alpha} the velocity gathered on the steep wall carried the point over the bump, and the "
        "friction (1 − α = {loss:.0%} of the velocity lost per step) was enough to keep it in the deep well."
    ),
    "still moving": (
        "With α = {alpha} only {loss:.0%} of the velocity is lost per step: the point keeps swinging between the "
        "wells, and after {steps} steps it has settled in neither. Very high momentum needs many steps (or a "
        "smaller learning rate) to come to rest."
    ),
}


@checker(
    "Predict, run, explain: more momentum on the well",
    placeholder_message='Write "shallow", "deep" or "still moving" before you run the experiment.',
)
def check_momentum_escape(answer, *, x_end=None, alpha: float = 0.95, lr: float = WELL["lr"],
                          x0: float = WELL["x0"], steps: int = WELL["steps"]):
    """``answer``: where momentum ``alpha`` ends on notebook 04's well, predicted before the run.

    The check runs the experiment itself (:func:`roll_on_well`) and compares
    the prediction with what it measured. ``x_end``, the last position of the
    student's own run, must agree with it: that shows the experiment was run
    as given.
    """
    prediction = as_choice(answer, _WELL_OUTCOMES).replace("_", " ")
    positions = roll_on_well(alpha, x0=x0, lr=lr, steps=steps)
    outcome = well_outcome(positions)
    if x_end is None or is_placeholder(x_end):
        return False, "Your prediction is written; now run the experiment.", (
            "Run the cell with roll(0.95) and pass its last position: check_momentum_escape(my_prediction, x_end=xs_095[-1])."
        )
    measured = as_number(x_end)
    if abs(measured - positions[-1]) > 1e-6 * max(1.0, abs(positions[-1])):
        return False, f"x_end = {measured:.4f} is not where the experiment ends (α = {alpha}, lr = {lr}, {steps} steps from x = {x0}).", (
            "Run the experiment cell as given, without changing α, the learning rate or the number of steps, and pass xs_095[-1]."
        )
    shallow, bump, deep = well_points()
    where = {"shallow": f"in the shallow minimum (x ≈ {shallow:.2f})", "deep": f"in the deep minimum (x ≈ {deep:.2f})",
             "still moving": "in neither minimum: it is still moving"}[outcome]
    crossings = int(np.count_nonzero(np.diff(np.sign(positions - bump))))
    story = "stuck" if outcome == "shallow" and crossings == 0 else outcome
    why = _WELL_WHY[story].format(alpha=alpha, loss=1 - alpha, steps=steps)
    measured_text = f"Measured: after {steps} steps the point is at x = {positions[-1]:.3f}, {where}, after crossing the bump {crossings} time(s)."
    if prediction == outcome:
        return True, f"Your prediction holds. {measured_text} {why}", ""
    return False, f"You predicted {prediction!r}. {measured_text}", why
