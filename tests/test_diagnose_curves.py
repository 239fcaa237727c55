"""The curve rules of the training doctor, on curves generated in families.

Each family draws a run the way the lecture sketches it (healthy, overfitting,
diverging, noisy, too slow, underfitting, mismatched, NaN) over several
lengths, noise levels and loss scales, and checks both directions: the rule
names its own problem, and the other families (a healthy run above all) are
not called by that name.
"""

import itertools
import math

import numpy as np
import pytest

from toolkit.diagnose import diagnose
from toolkit.diagnose import curves, fitting

K = 10
CHANCE = math.log(K)


def _noisy(clean, noise, rng):
    """Multiplicative noise: a loss of any scale wobbles by the same share."""
    return clean * (1 + noise * rng.standard_normal(len(clean)))


def _acc_from(loss, scale):
    """An accuracy that tracks a loss: chance at the loss of guessing, towards 1 as it falls."""
    frac = np.clip(loss / scale, 0, 1)
    return 1 / K + (1 - 1 / K) * (1 - frac) ** 1.5


def healthy(n, noise=0.0, scale=CHANCE, seed=0, gap=0.1):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    clean = scale * (0.03 + 0.97 * np.exp(-t / max(n / 4, 1)))
    loss = _noisy(clean, noise, rng)
    val = _noisy(clean * (1 + gap) + 0.02 * scale, noise, rng)
    return {
        "loss": loss, "val_loss": val,
        "accuracy": _acc_from(clean, scale), "val_accuracy": _acc_from(clean * (1 + gap) + 0.02 * scale, scale),
    }


def overfitting(n, rise, noise=0.0, scale=CHANCE, seed=0, min_at=0.4):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    m = int(min_at * (n - 1))
    train = scale * (0.01 + 0.99 * np.exp(-t / max(n / 5, 1)))
    val_min = scale * 0.2
    after = np.clip((t - m) / max(n - 1 - m, 1), 0, None)
    fall = np.exp(-t / max(m / 3, 0.5))
    val = np.where(t <= m, val_min + (scale - val_min) * (fall - fall[m]) / (1 - fall[m]), val_min * (1 + rise * after))
    return {"loss": _noisy(train, noise, rng), "val_loss": _noisy(val, noise, rng)}


def diverging(n, growth, noise=0.0, scale=CHANCE, seed=0, turn=0.5):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    m = int(turn * (n - 1))
    low = scale * 0.4
    loss = np.where(t <= m, scale - (scale - low) * t / max(m, 1), low * growth ** ((t - m) / max(n - 1 - m, 1)))
    return {"loss": _noisy(loss, noise, rng), "val_loss": _noisy(loss * 1.1, noise, rng)}


def slow(n, rate, noise=0.0, seed=0):
    """LR too low: a straight, slow fall from the loss of guessing."""
    rng = np.random.default_rng(seed)
    loss = CHANCE * (1 - rate * np.arange(n))
    return {
        "loss": _noisy(loss, noise, rng), "val_loss": _noisy(loss * 1.02, noise, rng),
        "accuracy": _acc_from(loss, CHANCE), "val_accuracy": _acc_from(loss * 1.02, CHANCE),
    }


def plateau(n, level, noise=0.0, seed=0):
    """Underfitting: a quick fall to a high plateau near the loss of guessing."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    loss = CHANCE * (level + (1.05 - level) * np.exp(-t / 1.5))
    return {
        "loss": _noisy(loss, noise, rng), "val_loss": _noisy(loss * 1.03, noise, rng),
        "accuracy": _acc_from(loss, CHANCE), "val_accuracy": _acc_from(loss * 1.03, CHANCE),
    }


LENGTHS = (5, 8, 15, 40, 120)
NOISES = (0.0, 0.01, 0.04)
SCALES = (0.05, 1.0, CHANCE, 300.0)
SEEDS = (0, 1, 2)


# healthy -------------------------------------------------------------------------------


@pytest.mark.parametrize("n,noise,scale,seed", list(itertools.product(LENGTHS, NOISES, SCALES, SEEDS)))
def test_a_healthy_run_is_healthy(n, noise, scale, seed):
    hist = healthy(n, noise, scale, seed)
    kwargs = {"num_classes": K} if scale == CHANCE else {}
    if scale != CHANCE:  # the accuracy of the generator is built against ln k
        hist = {k: v for k, v in hist.items() if "acc" not in k}
    report = diagnose(hist, **kwargs)
    assert report.problems == ["healthy"], str(report)


@pytest.mark.parametrize("n", (1, 2, 3))
def test_a_tiny_healthy_run_is_healthy_with_a_note(n):
    report = diagnose({"loss": [0.9, 0.5, 0.4][:n], "val_loss": [0.6, 0.45, 0.42][:n]}, num_classes=K)
    assert report.problems == ["healthy"]
    assert any("trends" in note for note in report.notes)
    assert "Too few epochs" in report["healthy"].evidence


def test_a_tiny_run_at_chance_is_told_to_train_longer():
    report = diagnose({"loss": [2.3, 2.28], "accuracy": [0.1, 0.11]}, num_classes=K)
    assert report.problems == ["underfitting"]
    assert report["underfitting"].severity == "low"
    assert "train longer" in report["underfitting"].evidence
    assert report["underfitting"].remedies[0].startswith("train for more epochs")


# overfitting -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "n,rise,noise,scale,min_at",
    # a rise must clear the noise: the smallest rise (30%) is tested at the lower noise levels
    [c for c in itertools.product((10, 20, 60), (0.3, 1.0, 3.0), (0.0, 0.02, 0.05), (1.0, CHANCE, 300.0), (0.3, 0.6))
     if c[1] >= 10 * c[2]],
)
def test_val_loss_climbing_from_a_falling_loss_is_overfitting(n, rise, noise, scale, min_at):
    report = diagnose(overfitting(n, rise, noise, scale, seed=n, min_at=min_at))
    assert "overfitting" in report, str(report)
    assert "diverging" not in report and "healthy" not in report
    assert "val_loss rose" in report["overfitting"].evidence


def test_overfitting_evidence_has_the_run_numbers():
    hist = {"loss": [1.0, 0.6, 0.4, 0.3, 0.2, 0.15, 0.1, 0.08], "val_loss": [1.0, 0.7, 0.55, 0.5, 0.56, 0.62, 0.68, 0.72]}
    finding = diagnose(hist)["overfitting"]
    # smoothed minimum (0.55+0.5+0.56)/3 = 0.537 at epoch 4; end = mean(0.68, 0.72) = 0.70 -> +30%
    assert "epoch 4" in finding.evidence and "30%" in finding.evidence and "0.537" in finding.evidence
    assert finding.severity == "medium"


@pytest.mark.parametrize("rise", (0.0, 0.03))
@pytest.mark.parametrize("noise", (0.0, 0.03))
def test_a_val_loss_that_only_flattens_is_not_overfitting(rise, noise):
    report = diagnose(overfitting(30, rise, noise, seed=3))
    assert "overfitting" not in report, str(report)


@pytest.mark.parametrize("noise", (0.0, 0.03))
def test_a_small_steady_climb_is_possible_overfitting_at_most(noise):
    # +6% over the 18 epochs after the minimum (index int(0.4 * 29) = 11, epoch 12): a trend when it is clean
    # (every step up), noise when it is not; either way too small to be confident about.
    report = diagnose(overfitting(30, 0.06, noise, seed=3))
    if noise == 0.0:
        assert report["overfitting"].severity == "low", str(report)
        assert "rose in 18 of the 18 validations since its minimum 0.461 at epoch 12" in report["overfitting"].evidence
        assert str(report).startswith("Training doctor: possible overfitting (30 epochs)")
    else:
        assert "overfitting" not in report or report["overfitting"].severity == "low", str(report)


def test_a_train_accuracy_far_above_val_accuracy_is_overfitting():
    n = 12
    hist = healthy(n)
    hist["accuracy"] = np.linspace(0.6, 1.0, n)
    hist["val_accuracy"] = np.linspace(0.5, 0.72, n)
    report = diagnose(hist, num_classes=K)
    assert "overfitting" in report and "points above" in report["overfitting"].evidence
    hist["val_accuracy"] = hist["accuracy"] - 0.05  # a small gap is normal
    assert "overfitting" not in diagnose(hist, num_classes=K)


# diverging ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "n,growth,noise,scale", list(itertools.product((6, 12, 40), (1.6, 5.0, 1e4), (0.0, 0.02, 0.05), (1.0, CHANCE, 300.0)))
)
def test_a_rising_loss_is_diverging(n, growth, noise, scale):
    report = diagnose(diverging(n, growth, noise, scale, seed=n))
    assert "diverging" in report, str(report)
    assert "healthy" not in report and "underfitting" not in report and "lr_too_low" not in report


@pytest.mark.parametrize("n", (2, 3, 8))
def test_an_exploding_spike_is_diverging_even_in_a_short_run(n):
    loss = list(np.linspace(2.3, 1.0, n - 1)) + [40.0]
    report = diagnose({"loss": loss})
    assert "diverging" in report and report["diverging"].severity == "high"
    assert "x its best value" in report["diverging"].evidence


def test_a_loss_far_above_guessing_is_diverging():
    report = diagnose({"loss": [14.0, 15.1]}, num_classes=K)
    assert "diverging" in report and "loss of guessing" in report["diverging"].evidence


@pytest.mark.parametrize("noise", (0.05, 0.1, 0.2))
@pytest.mark.parametrize("n", (10, 30, 80))
@pytest.mark.parametrize("seed", SEEDS)
def test_a_noisy_but_converging_run_is_not_diverging(noise, n, seed):
    report = diagnose(healthy(n, noise, seed=seed), num_classes=K)
    assert "diverging" not in report and "overfitting" not in report, str(report)


# noisy ---------------------------------------------------------------------------------------


def noisy(n, noise, scale=1.0, seed=0):
    """A loss that falls to a visible plateau and jumps around it (e.g. an LR on the high side)."""
    rng = np.random.default_rng(seed)
    clean = scale * (0.3 + 0.7 * np.exp(-np.arange(n) / max(n / 6, 1)))
    return {"loss": _noisy(clean, noise, rng), "val_loss": _noisy(clean * 1.1, noise, rng)}


@pytest.mark.parametrize("noise", (0.2, 0.3, 0.45))
@pytest.mark.parametrize("n", (12, 30, 80))
@pytest.mark.parametrize("scale", (1.0, 300.0))
@pytest.mark.parametrize("seed", SEEDS)
def test_large_swings_are_noisy(noise, n, scale, seed):
    report = diagnose(noisy(n, noise, scale, seed=seed))
    assert "noisy" in report, str(report)
    assert "jumps up and down" in report["noisy"].evidence


@pytest.mark.parametrize("noise", (0.0, 0.01, 0.03))
@pytest.mark.parametrize("n", (5, 12, 60))
def test_small_swings_are_not_noisy(noise, n):
    assert "noisy" not in diagnose(healthy(n, noise, seed=n), num_classes=K)


def test_a_converged_loss_wobbling_near_zero_is_not_noisy():
    loss = np.r_[2.0, 1.0, 0.5, 0.2, 0.1, 0.05, np.tile([0.004, 0.002], 6)]
    assert "noisy" not in diagnose({"loss": loss})


def test_one_bump_is_not_noisy():
    loss = [2.0, 1.5, 1.2, 1.5, 1.0, 0.8, 0.7, 0.65, 0.6, 0.58]
    assert "noisy" not in diagnose({"loss": loss})


# lr_too_low and underfitting ---------------------------------------------------------------------


@pytest.mark.parametrize("n,rate", [(n, r) for n in (6, 12, 25) for r in (0.003, 0.01, 0.02) if n * r < 0.45])
@pytest.mark.parametrize("noise", (0.0, 0.0005))
@pytest.mark.parametrize("with_accuracy", (True, False))
def test_a_slow_steady_fall_far_from_converged_is_lr_too_low(n, rate, noise, with_accuracy):
    hist = slow(n, rate, noise, seed=n)
    if not with_accuracy:
        hist = {k: v for k, v in hist.items() if "acc" not in k}
    report = diagnose(hist, num_classes=K)
    assert report.problems[0] == "lr_too_low", str(report)
    assert "underfitting" not in report and "healthy" not in report


@pytest.mark.parametrize("n", (6, 20, 60))
def test_a_fast_fall_that_converges_is_not_lr_too_low(n):
    report = diagnose(healthy(n), num_classes=K)
    assert "lr_too_low" not in report


@pytest.mark.parametrize("level", (0.6, 0.75, 0.9))
@pytest.mark.parametrize("n", (5, 10, 30))
@pytest.mark.parametrize("noise", (0.0, 0.01, 0.03))
@pytest.mark.parametrize("with_accuracy", (True, False))
def test_a_high_plateau_near_chance_is_underfitting(level, n, noise, with_accuracy):
    hist = plateau(n, level, noise, seed=n)
    if not with_accuracy:
        hist = {k: v for k, v in hist.items() if "acc" not in k}
    report = diagnose(hist, num_classes=K)
    assert "underfitting" in report, str(report)
    assert "lr_too_low" not in report and "overfitting" not in report and "healthy" not in report


@pytest.mark.parametrize("n", (5, 10, 30))
def test_a_plateau_is_underfitting_without_the_number_of_classes(n):
    hist = {"loss": plateau(n, 0.9)["loss"]}
    assert diagnose(hist).problems == ["underfitting"]


@pytest.mark.parametrize("level", (0.05, 0.2, 0.35))
def test_a_low_plateau_is_not_underfitting(level):
    assert "underfitting" not in diagnose(plateau(20, level), num_classes=K)


def test_a_diverging_run_is_not_also_called_underfitting():
    report = diagnose(diverging(12, 20.0), num_classes=K)
    assert "diverging" in report and "underfitting" not in report and "lr_too_low" not in report


# train_val_mismatch ---------------------------------------------------------------------------------


@pytest.mark.parametrize("gap", (0.12, 0.2, 0.35))
@pytest.mark.parametrize("n", (4, 10, 30))
def test_train_accuracy_well_below_val_accuracy_is_a_mismatch(gap, n):
    hist = healthy(n)
    hist["val_accuracy"] = np.clip(hist["accuracy"] + gap, 0, 1)
    hist["accuracy"] = hist["val_accuracy"] - gap
    report = diagnose(hist, num_classes=K)
    assert "train_val_mismatch" in report, str(report)
    assert "points below" in report["train_val_mismatch"].evidence


@pytest.mark.parametrize("gap", (-0.05, 0.0, 0.04, 0.08))
def test_a_small_dropout_gap_is_not_a_mismatch(gap):
    hist = healthy(15)
    hist["val_accuracy"] = np.clip(hist["accuracy"] + gap, 0, 1)
    assert "train_val_mismatch" not in diagnose(hist, num_classes=K)


def test_an_early_epoch_lag_is_not_a_mismatch():
    # epoch-mean training accuracy lags the end-of-epoch validation accuracy in the first epochs
    hist = {"loss": [1.5, 0.6, 0.4], "accuracy": [0.55, 0.82, 0.88], "val_loss": [0.7, 0.45, 0.38], "val_accuracy": [0.8, 0.87, 0.9]}
    assert "train_val_mismatch" not in diagnose(hist, num_classes=K)


# nan -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n,first_bad", [(1, 0), (3, 0), (3, 2), (10, 4), (10, 9)])
@pytest.mark.parametrize("bad", (np.nan, np.inf))
def test_nan_or_inf_is_nan(n, first_bad, bad):
    hist = healthy(n)
    hist["loss"] = hist["loss"].copy()
    hist["loss"][first_bad:] = bad
    report = diagnose(hist, num_classes=K)
    assert report.problems[0] == "nan", str(report)
    assert f"epoch {first_bad + 1}" in report["nan"].evidence
    assert "healthy" not in report


def test_nan_in_val_loss_only_is_nan():
    hist = healthy(8)
    hist["val_loss"] = hist["val_loss"].copy()
    hist["val_loss"][6] = np.nan
    report = diagnose(hist)
    assert "nan" in report and "val_loss became NaN at epoch 7" in report["nan"].evidence


def test_rules_read_the_epochs_before_the_nan():
    loss = [2.3, 1.4, 1.0, 6.0, 80.0, np.nan, np.nan]
    report = diagnose({"loss": loss})
    assert report.problems[:2] == ["nan", "diverging"], str(report)
    assert any("before the first NaN" in n for n in report.notes)


def test_monitor_nans_are_not_a_nan_problem():
    hist = healthy(6)
    hist["grad_norm/dense"] = [np.nan, 0.1, np.nan, 0.1, np.nan, 0.1]
    hist["grad_norm/out"] = [np.nan, 0.2, np.nan, 0.2, np.nan, 0.2]
    assert diagnose(hist, num_classes=K).problems == ["healthy"]


# thresholds -------------------------------------------------------------------------------------------


def test_thresholds_are_named_and_sensible():
    assert curves.MIN_TREND_EPOCHS >= 3
    assert 0 < curves.OVERFIT_RISE < curves.DIVERGE_RISE < 1
    assert 0 < fitting.MISMATCH_GAP < curves.OVERFIT_ACC_GAP < 0.5
    assert curves.EXPLODE_FACTOR >= 10 and curves.CHANCE_DIVERGE > 1


def test_the_logged_learning_rate_is_part_of_the_evidence():
    hist = slow(12, 0.01)
    hist["learning_rate"] = [1e-5] * 12
    assert "(learning rate 1e-05)" in diagnose(hist, num_classes=K)["lr_too_low"].evidence
    hist = diverging(12, 50.0)
    hist["learning_rate"] = list(np.geomspace(0.01, 1.0, 12))
    assert "(learning rate 0.01 to 1)" in diagnose(hist)["diverging"].evidence


# scale-aware, windowed rules (issue 17) ------------------------------------------------------------


@pytest.mark.parametrize("k", (2, 3, 10, 100, 1000))
def test_the_chance_level_is_recognized_without_num_classes(k):
    # A loss at ln k with accuracy 1/k is a uniform guess among k classes: 2.302 = ln 10 and 0.1 = 1/10.
    from toolkit.diagnose.run import chance_classes

    assert chance_classes(math.log(k) * 1.01, 1.0 / k) == k
    assert chance_classes(math.log(k) * 0.8, 1.0 / k) is None  # the loss moved away from the guess
    assert chance_classes(math.log(k), 1.5 / k) is None  # the accuracy did


def test_a_flat_run_at_ln_10_is_underfitting_without_num_classes():
    # The shape of a real stuck CIFAR-10 run: loss 2.3030 -> 2.3029, accuracy 0.10 every epoch.
    rng = np.random.default_rng(0)
    hist = {"loss": 2.3030 - 1e-5 * np.arange(10), "val_loss": np.full(10, 2.3026),
            "accuracy": 0.1 + 0.002 * rng.standard_normal(10), "val_accuracy": np.full(10, 0.1)}
    report = diagnose(hist)
    assert report.problems == ["underfitting"], str(report)
    assert report["underfitting"].severity == "high"
    assert "ln 10 = 2.3" in report["underfitting"].evidence
    assert any("num_classes=10 was read off the chance level" in n for n in report.notes)


def test_jitter_of_a_near_zero_loss_is_not_diverging():
    # 0.00087 -> 0.0094 is 11x, but after a fall from 0.65 it gives back 1% of the ground gained.
    rng = np.random.default_rng(1)
    loss = np.concatenate([0.65 * np.exp(-np.arange(20) / 3), 0.003 + 0.002 * rng.random(30)])
    loss[35], loss[36] = 0.00087, 0.0094
    assert "diverging" not in diagnose({"loss": loss}), str(diagnose({"loss": loss}))
    loss[40] = 0.4  # a jump back to 60% of the start undoes training: 0.4 - 0.00087 is 62% of 0.65 - 0.00087
    report = diagnose({"loss": loss[:41]})
    assert report.problems[0] == "diverging" and report["diverging"].severity == "high", str(report)


def test_a_slow_smooth_val_loss_rise_is_overfitting():
    # val_loss 0.313 -> 0.363 over 13 epochs (16%, every step up) while loss halves.
    fall = 0.313 + 0.4 * np.exp(-np.arange(12) / 2.0) - 0.4 * np.exp(-11 / 2.0)
    val = np.concatenate([fall, np.linspace(0.313, 0.363, 14)[1:]])
    loss = np.linspace(0.8, 0.1, len(val))
    report = diagnose({"loss": loss, "val_loss": val})
    assert "overfitting" in report and "healthy" not in report, str(report)
    assert "0.363" in report["overfitting"].evidence or "0.35" in report["overfitting"].evidence


def test_a_short_run_whose_val_loss_rises_three_epochs_in_a_row_is_overfitting():
    val = [0.9, 0.6, 0.5, 0.45, 0.48, 0.50, 0.527]  # +17% over the last 3 epochs, each one up
    loss = [1.0, 0.62, 0.48, 0.40, 0.34, 0.30, 0.27]
    report = diagnose({"loss": loss, "val_loss": val})
    assert "overfitting" in report, str(report)


def test_a_mismatch_survives_one_noisy_epoch():
    # Heavy augmentation: training accuracy 0.1-0.3 below validation, one epoch (13) where it is only 0.05 below.
    val_acc = np.linspace(0.5, 0.85, 15)
    acc = val_acc - 0.2
    acc[12] = val_acc[12] - 0.05
    loss = np.linspace(2.0, 0.8, 15)
    hist = {"loss": loss, "val_loss": loss * 0.5, "accuracy": acc, "val_accuracy": val_acc}
    report = diagnose(hist)
    assert "train_val_mismatch" in report, str(report)
    assert "below it in 7 of them" in report["train_val_mismatch"].evidence  # hand count: last 7 validations


def test_probabilities_read_as_logits_keep_the_loss_high():
    # Softmax output + from_logits=True: accuracy 0.975, loss stuck near ln(9 + e) - 1 = 1.461.
    acc = np.linspace(0.6, 0.975, 30)
    loss = 1.461 + 0.8 * np.exp(-np.arange(30) / 6)
    report = diagnose({"loss": loss, "accuracy": acc}, num_classes=10)
    assert report.problems == ["underfitting"], str(report)
    assert "from_logits" in report["underfitting"].remedies[0]
    assert "1.46 = ln(9 + e) - 1" in report["underfitting"].evidence
    healthy_run = {"loss": 0.05 + 2.0 * np.exp(-np.arange(30) / 6), "accuracy": acc}
    assert diagnose(healthy_run, num_classes=10).problems == ["healthy"]


def test_vanished_then_recovered_gradients_are_low_vanishing_not_exploding():
    # Tiny init: the first layer's norm starts at 1e-4 of the last layer's, recovers after 3 epochs.
    first = np.array([1e-7, 2e-7, 5e-7, 0.3, 0.5, 0.6, 0.6, 0.6])
    last = np.full(8, 0.4)
    hist = healthy(8)
    hist.update({"grad_norm/dense": first, "grad_norm/dense_1": last})
    report = diagnose(hist, num_classes=K)
    assert "exploding_gradients" not in report, str(report)
    assert report["vanishing_gradients"].severity == "low"
    assert "from epoch 1 to 3" in report["vanishing_gradients"].evidence


def test_two_vanished_epochs_at_the_chance_level_are_low_vanishing():
    # Two measured epochs at 1e-4 of the last layer's norm while the loss sits at ln 10 = 2.303 with accuracy
    # 0.09 (1/11: read as 10 classes, the loss's count): the lost epochs show in the loss too.
    first = np.array([1e-4 * 0.4, 5e-4 * 0.4, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6])
    last = np.full(8, 0.4)
    loss = np.array([2.304, 2.303, 1.8, 1.4, 1.1, 0.9, 0.8, 0.75])
    acc = np.array([0.09, 0.093, 0.4, 0.55, 0.65, 0.7, 0.72, 0.74])
    hist = {"loss": loss, "accuracy": acc, "grad_norm/dense": first, "grad_norm/dense_1": last}
    report = diagnose(hist)
    assert report["vanishing_gradients"].severity == "low", str(report)
    evidence = report["vanishing_gradients"].evidence
    assert "from epoch 1 to 2 (2 measured epochs)" in evidence and "ln 10 = 2.3" in evidence
    # The same two epochs while the loss already falls fast: not enough to call it (VANISHED_EPOCHS = 3).
    hist.update(loss=np.array([1.5, 1.0, 0.8, 0.6, 0.5, 0.45, 0.42, 0.4]), accuracy=np.linspace(0.5, 0.9, 8))
    assert "vanishing_gradients" not in diagnose(hist), str(diagnose(hist))


def test_a_spike_that_falls_back_is_possible_noisy():
    # batch size 1: val_loss 0.273 -> 0.716 (2.6x) in one epoch, then back to 0.23; every other step is smooth.
    val = np.array([0.63, 0.44, 0.273, 0.716, 0.485, 0.44, 0.36, 0.30, 0.27, 0.25, 0.235, 0.227])
    loss = np.array([0.99, 0.36, 0.19, 0.14, 0.11, 0.09, 0.07, 0.05, 0.03, 0.02, 0.015, 0.012])
    report = diagnose({"loss": loss, "val_loss": val})
    assert report.problems == ["noisy"] and report["noisy"].severity == "low", str(report)
    # (0.716 - 0.273) / (0.63 - 0.273) = 124% of the progress before it, by hand
    assert "from 0.273 at epoch 3 to 0.716 at epoch 4 (2.6x), undoing 124%" in report["noisy"].evidence
    # A jump that stays up is a climb, not a spike; a jump near zero undoes nothing (0.002 after 0.63 -> 0.001).
    stays = np.r_[val[:4], np.full(8, 0.72)]
    assert "noisy" not in diagnose({"loss": loss, "val_loss": stays}), str(diagnose({"loss": loss, "val_loss": stays}))
    tiny = np.r_[0.63, 0.3, 0.1, 0.01, 0.001, 0.002, 0.001, 0.001, 0.0009, 0.0009]
    assert "noisy" not in diagnose({"loss": tiny}), str(diagnose({"loss": tiny}))


@pytest.mark.parametrize("top,gap,severity", [(1.6, 0.0, "low"), (0.64, 0.0, "medium"), (1.6, 0.12, "medium")])
def test_overfitting_is_confident_when_it_costs(top, gap, severity):
    # val_loss falls from `top` to 0.4, then climbs by 40% to 0.58 while loss falls. From 1.6 the climb gives
    # back less than a quarter of what val_loss had gained (early overfitting: low), from 0.64 about two thirds
    # (medium); an accuracy gap of 12 points confirms even the small give-back (medium).
    fall = 0.4 + (top - 0.4) * np.exp(-np.arange(10) / 2.0)
    val = np.r_[fall - (fall[-1] - 0.4), np.linspace(0.4, 0.58, 11)[1:]]
    loss = np.linspace(1.0, 0.1, 20)
    hist = {"loss": loss, "val_loss": val, "accuracy": np.full(20, 0.97), "val_accuracy": np.full(20, 0.97 - gap)}
    finding = diagnose(hist)["overfitting"]
    assert finding.severity == severity, str(finding)
    assert ("less than a quarter" in finding.evidence) == (top == 1.6), str(finding)
    assert ("12 points above" in finding.evidence) == (gap > 0), str(finding)


def test_a_doubled_val_loss_is_high_overfitting_however_much_it_had_gained():
    # From 5.25 to 0.3, then to 1.3: it gives back less than a quarter of its gains, but val_loss more than
    # doubled (measured against a tenth of its first value, 0.525, the floor of a run that started that high).
    fall = 0.3 + 5.0 * np.exp(-np.arange(8) / 1.5)
    val = np.r_[fall - (fall[-1] - 0.3), np.linspace(0.3, 1.3, 9)[1:]]
    report = diagnose({"loss": np.linspace(2.0, 0.05, 16), "val_loss": val})
    assert report["overfitting"].severity == "high", str(report)
    assert "less than a quarter" in report["overfitting"].evidence


def test_a_slow_fall_hidden_in_noise_is_still_lr_too_low():
    # A creep of 0.05% per epoch with noise twice a step: single steps point either way, the slope does not.
    rng = np.random.default_rng(1)
    loss = 1.65 - 0.0008 * np.arange(50) + 0.0015 * rng.standard_normal(50)
    assert np.mean(np.diff(loss) < 0) < fitting.STEADY_FRACTION  # the steps alone would not show it
    report = diagnose({"loss": loss, "val_loss": loss + 0.0002})
    assert report.problems[0] == "lr_too_low", str(report)


def test_the_number_of_classes_is_read_off_the_loss_when_the_accuracy_is_off():
    from toolkit.diagnose.run import chance_classes

    assert chance_classes(2.304, 0.0856) == 10  # 1/0.0856 = 11.7, but e^2.304 = 10.0 fits both
    assert chance_classes(2.303, 0.0931) == 10  # 11 would fit too; 10 fits better on both counts
    assert chance_classes(1.2, 0.0856) is None  # neither 12 nor e^1.2 = 3 is at both chance levels
