"""Checkers for the exercises of notebook 04 (optimizers).

The student writes one optimizer step as a NumPy function; the checker runs
it for a few steps on fixed gradients and compares the path of ``theta``
with Keras's formula (and with the usual slips, to give a precise hint).
"""

from __future__ import annotations

import functools

import numpy as np

from toolkit.exercises.feedback import checker

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
        if not isinstance(out, (tuple, list)) or len(out) != 1 + n_state:
            raise ValueError(f"the function must return {1 + n_state} arrays, got {type(out).__name__}")
        theta, *state = (np.asarray(o, dtype=float) for o in out)
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
                if answer(*sample_args()) in (None, Ellipsis):
                    answer = Ellipsis
            except Exception:  # a real attempt that fails: the check reports it
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
