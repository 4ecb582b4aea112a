"""The Boltzmann sigmoid fitted to a study's curves, its onset, and the force–voltage equivalence.

Das et al., Nat. Commun. 8, 615 (2017), Table 1, fit the normalised vacancy concentration
(NVC) against the tip bias and against the tip force with the Boltzmann sigmoid

    f(x) = A2 + (A1 − A2) / (1 + exp((x − x0)/M)),

A1 the plateau at small x, A2 the plateau at large x, x0 the centre (f halfway between the
plateaus) and M the width. With A1 taken at small x, M > 0 for a falling curve and a rising
one alike; the pair (A1, A2, x0, M) and (A2, A1, x0, −M) is the same curve.

Units: x, x0, M and the onset are in whatever units the caller gives x; A1, A2 in those of
y. The studies (:mod:`flexotip.studies.collect`) pass the bias in V and the force in µN, the
units of the paper's Table 1, so that :func:`equivalence_factor` is in V/µN.

The least-squares fit is lmfit's (Levenberg–Marquardt); standard errors come from its
covariance, scaled by the reduced chi-square (lmfit's default), so that a given ``sigma``
weights the points relative to one another and the errors reflect the scatter of the data.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Protocol

import lmfit
import numpy as np

PARAMETERS = ("A1", "A2", "x0", "M")
"""The sigmoid's parameters, in the order of :func:`boltzmann`'s arguments."""
ONSET_FRACTION = 0.9
"""The onset is where the sigmoid has fallen (or risen) to this fraction of A1."""
MIN_POINTS = 4
"""A sigmoid has four parameters: fewer points leave it undetermined."""
_EXP_LIMIT = 700.0  # exp(700) ≈ 1e304: clipping keeps exp finite without changing f


def boltzmann(x, A1: float, A2: float, x0: float, M: float):
    """The Boltzmann sigmoid A2 + (A1 − A2)/(1 + exp((x − x0)/M)) at x (array or float)."""
    return A2 + (A1 - A2) / (1.0 + np.exp(np.clip((np.asarray(x) - x0) / M, -_EXP_LIMIT, _EXP_LIMIT)))


@dataclasses.dataclass(frozen=True)
class SigmoidFit:
    """A Boltzmann-sigmoid fit: best values, one-standard-error uncertainties, quality.

    Attributes:
        A1, A2: Plateaus at small and at large x (units of y).
        x0: Centre, where f = (A1 + A2)/2 (units of x).
        M: Width (units of x); f goes from 27 % to 73 % of the step over x0 ± M.
        A1_stderr, A2_stderr, x0_stderr, M_stderr: Standard errors, None where lmfit could
            not estimate them (singular covariance).
        reduced_chi_square: χ²/(n − 4) of the (weighted) residuals.
        n_points: Number of points fitted.
        success: lmfit's success flag.
        message: lmfit's message.
    """

    A1: float
    A2: float
    x0: float
    M: float
    A1_stderr: float | None
    A2_stderr: float | None
    x0_stderr: float | None
    M_stderr: float | None
    reduced_chi_square: float
    n_points: int
    success: bool
    message: str
    resolved: bool = True
    """False when a parameter ends on the edge of where the data determine it (:func:`_bounds`):
    the points do not resolve the transition, and x0 and the onset are not results."""

    @property
    def x_onset(self) -> float | None:
        """Where f = 0.9·A1 (units of x): x0 + M·ln((A1 − A2)/(0.9·A1 − A2) − 1).

        None when 0.9·A1 is not strictly between A2 and A1 (the curve never reaches it), or
        when the fit does not resolve its transition (an extrapolation, not a result).
        """
        if not self.resolved:
            return None
        below = ONSET_FRACTION * self.A1 - self.A2
        if below == 0.0:
            return None
        ratio = (1.0 - ONSET_FRACTION) * self.A1 / below  # = (A1 − A2)/(0.9·A1 − A2) − 1
        return self.x0 + self.M * math.log(ratio) if ratio > 0.0 else None

    def as_dict(self) -> dict:
        """JSON-ready: floats (None for a missing or non-finite value), the flag and message."""
        entry = {}
        for name in PARAMETERS:
            entry[name] = _finite_or_none(getattr(self, name))
            entry[f"{name}_stderr"] = _finite_or_none(getattr(self, f"{name}_stderr"))
        return entry | {"reduced_chi_square": _finite_or_none(self.reduced_chi_square),
                        "n_points": self.n_points, "success": self.success, "resolved": self.resolved,
                        "message": self.message,
                        "x_onset": _finite_or_none(self.x_onset)}


def fit_boltzmann(x: Sequence[float], y: Sequence[float], *, sigma: Sequence[float] | None = None,
                  initial: Mapping[str, float] | None = None) -> SigmoidFit:
    """Least-squares fit of :func:`boltzmann` to the points (x, y), by lmfit.

    Args:
        x: Abscissae (any units; the studies use V for the bias, µN for the force).
        y: Ordinates (units of A1, A2), as many as x.
        sigma: Per-point uncertainties (units of y, > 0): the residuals are weighted by 1/sigma.
        initial: Starting values for some of A1, A2, x0, M; the others are guessed from the
            data (A1, A2: y at the smallest and largest x; x0: where y crosses halfway; M: a
            tenth of the x range).

    Returns:
        The fit; check ``success``: a fit that did not converge is returned, not raised.

    Raises:
        ValueError: Fewer than 4 points, lengths that differ, non-finite values (saying
            which array and where), a sigma ≤ 0, x without spread, or an unknown initial name.
    """
    x_data, y_data = _checked("x", x), _checked("y", y)
    arrays = {"x": x_data, "y": y_data}
    if sigma is not None:
        arrays["sigma"] = _checked("sigma", sigma)
    if len({a.size for a in arrays.values()}) > 1:
        raise ValueError(f"{', '.join(arrays)} have different lengths: "
                         + ", ".join(f"{name} {a.size}" for name, a in arrays.items()))
    if x_data.size < MIN_POINTS:
        raise ValueError(f"{x_data.size} points; a sigmoid (4 parameters) needs {MIN_POINTS} or more")
    if sigma is not None and np.any(arrays["sigma"] <= 0.0):
        bad = np.flatnonzero(arrays["sigma"] <= 0.0).tolist()
        raise ValueError(f"sigma must be > 0; it is not at indices {bad}")
    if np.ptp(x_data) == 0.0:
        raise ValueError(f"all x are equal ({x_data[0]}): no sigmoid can be fitted")
    initial = dict(initial or {})
    unknown = set(initial) - set(PARAMETERS)
    if unknown:
        raise ValueError(f"unknown initial parameters {sorted(unknown)}; expected some of {PARAMETERS}")
    if not all(math.isfinite(value) for value in initial.values()) or initial.get("M") == 0.0:
        raise ValueError(f"initial values must be finite, and M non-zero; got {initial}")

    model = lmfit.Model(boltzmann)
    params = model.make_params(**(_initial_guess(x_data, y_data) | initial))
    for name, (low, high) in _bounds(x_data, y_data).items():
        params[name].set(min=low, max=high, value=min(max(params[name].value, low), high))
    weights = None if sigma is None else 1.0 / arrays["sigma"]
    result = model.fit(y_data, params, x=x_data, weights=weights)
    best = result.params
    # With as many points as parameters the curve interpolates them: no residual is left
    # to estimate the scatter from, and lmfit's standard errors would be round-off.
    determined = x_data.size > len(PARAMETERS)
    message = str(result.message) if determined else (
        f"{x_data.size} points for {len(PARAMETERS)} parameters: the curve interpolates them, "
        "no standard errors")
    at_bound = [name for name, (low, high) in _bounds(x_data, y_data).items()
                if min(best[name].value - low, high - best[name].value) <= 1e-6 * (high - low)]
    if at_bound:
        message += ("; at the edge of the data: " + ", ".join(at_bound)
                    + " (the transition is not resolved by these points)")
    return SigmoidFit(**{name: float(best[name].value) for name in PARAMETERS},
                      **{f"{name}_stderr": _finite_or_none(best[name].stderr) if determined else None
                         for name in PARAMETERS},
                      reduced_chi_square=float(result.redchi) if determined else math.nan,
                      n_points=int(x_data.size), success=bool(result.success), message=message,
                      resolved=not at_bound)


class HasCentre(Protocol):
    """Anything with a centre and its standard error (a :class:`SigmoidFit`, or a fit's dict wrapped)."""

    x0: float
    x0_stderr: float | None


def equivalence_factor(bias_fit: HasCentre, force_fit: HasCentre) -> tuple[float, float | None]:
    """x0(bias)/x0(force): the bias that acts like a unit of force, and its standard error.

    In the units the two fits were made in: bias in V and force in µN give V/µN. The error
    is propagated to first order from the two x0 errors, taken as independent; it is None if
    either is None.

    Raises:
        ValueError: The force fit's x0 is zero.
    """
    bias_x0, force_x0 = bias_fit.x0, force_fit.x0
    if force_x0 == 0.0:
        raise ValueError("the force fit's x0 is 0: no equivalence factor")
    value = bias_x0 / force_x0
    if bias_fit.x0_stderr is None or force_fit.x0_stderr is None:
        return value, None
    stderr = math.hypot(bias_fit.x0_stderr / force_x0, bias_x0 * force_fit.x0_stderr / force_x0**2)
    return value, stderr


def _checked(name: str, values: Sequence[float]) -> np.ndarray:
    """``values`` as a 1-D float array; ValueError naming the array and indices if not finite."""
    array = np.asarray(values, dtype=float)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional; it has shape {array.shape}")
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        raise ValueError(f"{name} has non-finite values (NaN or inf) at indices {bad.tolist()}")
    return array


def _bounds(x: np.ndarray, y: np.ndarray) -> dict[str, tuple[float, float]]:
    """The box in which the data determine a sigmoid.

    Its centre among the points, its width at most their range (and at least a
    ten-thousandth of it), its plateaus within one range of the values.
    """
    x_span = float(np.ptp(x))
    y_span = float(np.ptp(y)) or max(abs(float(y.max())), 1.0)
    plateau = (float(y.min()) - y_span, float(y.max()) + y_span)
    return {"A1": plateau, "A2": plateau, "x0": (float(x.min()), float(x.max())),
            "M": (1e-4 * x_span, x_span)}


def _initial_guess(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """A1, A2 from the ends, x0 where y first crosses halfway, M a tenth of the x range (> 0)."""
    order = np.argsort(x, kind="stable")
    x_sorted, y_sorted = x[order], y[order]
    A1, A2 = float(y_sorted[0]), float(y_sorted[-1])
    above = y_sorted - 0.5 * (A1 + A2) > 0.0
    crossings = np.flatnonzero(above[1:] != above[:-1])
    if crossings.size:
        i = crossings[0]
        y_left, y_right = y_sorted[i] - 0.5 * (A1 + A2), y_sorted[i + 1] - 0.5 * (A1 + A2)
        x0 = float(x_sorted[i] + (x_sorted[i + 1] - x_sorted[i]) * y_left / (y_left - y_right))
    else:
        x0 = float(np.median(x_sorted))
    return {"A1": A1, "A2": A2, "x0": x0, "M": float(np.ptp(x_sorted)) / 10.0}


def _finite_or_none(value: float | None) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None
