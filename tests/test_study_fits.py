"""Boltzmann-sigmoid fits: recovery of known parameters, honest errors, onset, equivalence, bad input."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from flexotip.studies import fits

pytestmark = pytest.mark.serial  # NumPy and lmfit only

NOISE = 0.01
"""Standard deviation of the synthetic noise on y (NVC units)."""
BIAS = {"A1": 0.86, "A2": 0.03, "x0": 2.6, "M": 0.6}
"""Like the paper's NVC-against-bias fit (x in V)."""
FORCE = {"A1": 0.93, "A2": 0.004, "x0": 6.8, "M": 1.9}
"""Like the paper's NVC-against-force fit (x in µN)."""
CASES = {"bias": (BIAS, 5.0), "force": (FORCE, 15.0)}
"""Each case: true parameters and the largest x (the sweep is 0..x_max, 25 points)."""


def _points(case: str, noise: float = 0.0, seed: int = 615) -> tuple[np.ndarray, np.ndarray]:
    true, x_max = CASES[case]
    x = np.linspace(0.0, x_max, 25)
    y = fits.boltzmann(x, **true) + noise * np.random.default_rng(seed).standard_normal(x.size)
    return x, y


@pytest.mark.parametrize("case", CASES)
def test_noisy_fit_recovers_the_parameters_and_its_errors_cover_them(case):
    true = CASES[case][0]
    fit = fits.fit_boltzmann(*_points(case, NOISE))
    assert fit.success and fit.n_points == 25
    assert fit.A1 == pytest.approx(true["A1"], rel=0.02)
    assert fit.x0 == pytest.approx(true["x0"], rel=0.02)
    assert fit.A2 == pytest.approx(true["A2"], abs=0.02)  # near zero: absolute
    # M is the least determined: its standard error is ≈ 3 % at this noise, so 2 % would be a
    # coin toss; 10 % is ≈ 3 standard errors.
    assert fit.M == pytest.approx(true["M"], rel=0.10)
    for name in fits.PARAMETERS:
        stderr = getattr(fit, f"{name}_stderr")
        informative = 0.02 if name == "A2" else 0.1 * true[name]  # the coverage test below is not empty
        assert stderr is not None and 0.0 < stderr < informative, name
        assert abs(getattr(fit, name) - true[name]) < 3.0 * stderr, name
    # The residuals are the noise: reduced chi-square ≈ NOISE² (unweighted).
    assert fit.reduced_chi_square == pytest.approx(NOISE**2, rel=0.6)


@pytest.mark.parametrize("case", CASES)
def test_exact_fit_recovers_the_parameters_and_the_onset(case):
    true = CASES[case][0]
    fit = fits.fit_boltzmann(*_points(case))
    for name in fits.PARAMETERS:
        assert getattr(fit, name) == pytest.approx(true[name], rel=1e-6), name
    assert fit.x_onset is not None
    assert fits.boltzmann(fit.x_onset, fit.A1, fit.A2, fit.x0, fit.M) == pytest.approx(
        0.9 * fit.A1, abs=1e-8)
    assert fit.x_onset < fit.x0  # a falling curve reaches 0.9·A1 before its centre


def test_onset_is_none_where_the_curve_never_reaches_nine_tenths_of_A1():
    fit = fits.fit_boltzmann(*_points("bias"))
    assert dataclasses.replace(fit, A1=0.5, A2=0.48).x_onset is None  # 0.9·A1 below both plateaus
    assert dataclasses.replace(fit, A1=0.1, A2=0.9).x_onset is None  # rising from 0.1: never 0.09
    assert dataclasses.replace(fit, A1=0.5, A2=0.45).x_onset is None  # only reached at x = ∞


def test_equivalence_factor_is_the_ratio_of_centres_with_a_propagated_error():
    value, _ = fits.equivalence_factor(fits.fit_boltzmann(*_points("bias")),
                                       fits.fit_boltzmann(*_points("force")))
    assert value == pytest.approx(2.6 / 6.8, rel=1e-6)
    # Noisy fits, with independent noise draws (another seed for the force).
    bias, force = fits.fit_boltzmann(*_points("bias", NOISE)), fits.fit_boltzmann(*_points("force", NOISE, 2))
    value, stderr = fits.equivalence_factor(bias, force)
    assert stderr is not None and np.isfinite(stderr) and stderr > 0.0
    expected = value * np.hypot(bias.x0_stderr / bias.x0, force.x0_stderr / force.x0)
    assert stderr == pytest.approx(expected, rel=1e-12)
    assert abs(value - 2.6 / 6.8) < 3.0 * stderr
    assert fits.equivalence_factor(dataclasses.replace(bias, x0_stderr=None), force)[1] is None


def test_the_fit_follows_the_data_not_the_initial_guess():
    x = np.linspace(0.0, 10.0, 30)
    y = fits.boltzmann(x, 0.8, 0.1, 4.0, 0.7)
    assert fits.fit_boltzmann(x, y).x0 == pytest.approx(4.0, rel=1e-6)
    started_elsewhere = fits.fit_boltzmann(x, y, initial={"x0": 6.0, "M": 1.5})
    assert started_elsewhere.x0 == pytest.approx(4.0, rel=1e-6)
    assert started_elsewhere.M == pytest.approx(0.7, rel=1e-6)


def test_a_rising_curve_has_A1_below_A2_and_a_positive_width():
    x = np.linspace(-3.0, 3.0, 20)
    fit = fits.fit_boltzmann(x[::-1], fits.boltzmann(x, 0.2, 1.1, 0.5, 0.4)[::-1])  # order does not matter
    assert (fit.A1, fit.A2, fit.x0, fit.M) == pytest.approx((0.2, 1.1, 0.5, 0.4), rel=1e-6)


def test_sigma_weights_the_points():
    x, y = _points("bias", NOISE)
    unweighted = fits.fit_boltzmann(x, y)
    uniform = fits.fit_boltzmann(x, y, sigma=np.full(x.size, NOISE))
    assert uniform.x0 == pytest.approx(unweighted.x0, rel=1e-6)
    assert uniform.reduced_chi_square == pytest.approx(1.0, rel=0.6)  # residuals in units of sigma
    # A point with a huge error bar no longer pulls the fit; with an ordinary one it does.
    y_outlier = y.copy()
    y_outlier[12] += 0.3
    sigma = np.full(x.size, NOISE)
    sigma[12] = 1e3
    assert fits.fit_boltzmann(x, y_outlier, sigma=sigma).x0 == pytest.approx(unweighted.x0, abs=0.02)
    assert abs(fits.fit_boltzmann(x, y_outlier).x0 - unweighted.x0) > 0.05


def test_as_dict_is_json_ready():
    entry = fits.fit_boltzmann(*_points("force", NOISE)).as_dict()
    for name in fits.PARAMETERS:
        assert isinstance(entry[name], float) and isinstance(entry[f"{name}_stderr"], float)
    assert {"reduced_chi_square", "n_points", "success", "message", "x_onset"} <= set(entry)
    assert json.loads(json.dumps(entry, allow_nan=False)) == entry


@pytest.mark.parametrize(("x", "y", "kwargs", "message"), [
    ([0.0, 1.0, 2.0], [1.0, 0.5, 0.0], {}, "3 points"),
    ([0.0, 1.0, 2.0, 3.0], [1.0, np.nan, 0.5, 0.0], {}, r"y has non-finite values .* \[1\]"),
    ([0.0, np.inf, 2.0, 3.0], [1.0, 0.8, 0.5, 0.0], {}, r"x has non-finite"),
    ([0.0, 1.0, 2.0, 3.0, 4.0], [1.0, 0.8, 0.5, 0.0], {}, "different lengths: x 5, y 4"),
    ([0.0, 1.0, 2.0, 3.0], [1.0, 0.8, 0.5, 0.0], {"sigma": [0.1, 0.1, 0.1]}, "different lengths"),
    ([0.0, 1.0, 2.0, 3.0], [1.0, 0.8, 0.5, 0.0], {"sigma": [0.1, 0.0, 0.1, 0.1]}, "sigma must be > 0"),
    ([1.0, 1.0, 1.0, 1.0], [1.0, 0.8, 0.5, 0.0], {}, "all x are equal"),
    ([0.0, 1.0, 2.0, 3.0], [1.0, 0.8, 0.5, 0.0], {"initial": {"dx": 1.0}}, "unknown initial"),
    ([0.0, 1.0, 2.0, 3.0], [1.0, 0.8, 0.5, 0.0], {"initial": {"M": 0.0}}, "M non-zero"),
])
def test_bad_input_is_refused_with_a_message_naming_the_problem(x, y, kwargs, message):
    with pytest.raises(ValueError, match=message):
        fits.fit_boltzmann(x, y, **kwargs)


def test_a_transition_outside_the_points_is_flagged_not_resolved():
    """A step before the first point (a Boltzmann decay at mV against a V-spaced sweep)."""
    x = np.array([0.0, 0.5, 1.0, 2.0, 3.0, 5.0])
    y = np.exp(-x / 0.013) + 1e-3
    result = fits.fit_boltzmann(x, y)
    assert not result.resolved and "x0" in result.message
    assert result.x_onset is None and result.as_dict()["x_onset"] is None  # no extrapolated onset
    grid = np.linspace(0.0, 5.0, 12)
    assert fits.fit_boltzmann(grid, fits.boltzmann(grid, 0.9, 0.1, 2.5, 0.4)).resolved


def test_as_many_points_as_parameters_give_no_standard_errors():
    x = np.array([0.0, 1.0, 2.0, 3.0])
    result = fits.fit_boltzmann(x, fits.boltzmann(x, 1.0, 0.0, 1.5, 0.5))
    assert result.x0 == pytest.approx(1.5, rel=1e-6)
    assert result.x0_stderr is None and "interpolates" in result.message
