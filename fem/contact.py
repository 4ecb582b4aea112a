"""Frictionless unilateral (Signorini) contact with a rigid tip, by Nitsche's method.

The forms are UFL; the SNES solve lives in :mod:`flexotip.fem.solvers`, the driver in
:mod:`flexotip.fem.tip_problem`. The force control (finding the approach δ that gives the
requested force) is :func:`find_approach`, a scalar root finder that calls back into a
solve; where the solved contact ends is :func:`contact_edge`.

Signorini conditions on the film top Γ (the plane z = 0, so its outward normal is the
constant n = e_z, which also lets the pressure be evaluated inside cells), the tip surface
at z = h(r) − δ and the gap g(u) = h(r) − δ − u·n:

    g ≥ 0,   σ_n ≤ 0,   σ_n·g = 0,   (σ·n)_tangential = 0        (σ_n = n·σ·n)

are, for any γ > 0, the single equation σ_n = [P_γ(u)]₋ with P_γ(u) = σ_n(u) + γ·g(u)
and [x]₋ = min(x, 0). Nitsche's method (Chouly & Hild, SIAM J. Numer. Anal. 51 (2013)
1295) imposes it weakly: find u with

    a(u, v) − ∫_Γ (θ/γ) σ_n(u) σ_n(v) ds + ∫_Γ (1/γ) [P_γ(u)]₋ (θ σ_n(v) − γ v·n) ds = 0,

γ = γ0·E/h (h the cell diameter, E a modulus of the material). The method is consistent:
the exact solution satisfies it for every γ0, so results converge to the same limit
whatever γ0 is (unlike a penalty), which the tests check. θ = 1 gives a symmetric
Jacobian (needs γ0 large enough, ~10 or more); θ = 0 and θ = −1 are stable for any γ0.
The contact pressure is the Nitsche multiplier p = −[P_γ(u)]₋ ≥ 0, and the force is ∫p ds.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable

import dolfinx.fem
import numpy as np
import ufl

from flexotip.fem.mechanics import elastic_form, stress
from flexotip.fem.postprocess import SAMPLE_DEPTH, PointEvaluator, assemble_scalar, recover_on_boundary

log = logging.getLogger(__name__)

THETAS = (1, 0, -1)


def _negative_part(x: ufl.core.expr.Expr) -> ufl.core.expr.Expr:
    """[x]₋ = min(x, 0), written with abs so that its derivative is defined everywhere."""
    return 0.5 * (x - abs(x))


@dataclasses.dataclass
class NitscheContact:
    """Parameters of the Nitsche contact terms (scaled units).

    Attributes:
        tip_height: h(r) of the tip (length scale), a UFL expression or Function.
        approach: Rigid approach δ of the tip (length scale), a Constant.
        gamma0: Dimensionless Nitsche parameter γ0, a Constant.
        modulus: Reference modulus E in γ = γ0·E/h (stress scale).
        theta: 1 (symmetric), 0 or −1 (skew-symmetric).
    """

    tip_height: ufl.core.expr.Expr
    approach: dolfinx.fem.Constant
    gamma0: dolfinx.fem.Constant
    modulus: float
    theta: int = 1

    def __post_init__(self):
        if self.theta not in THETAS:
            raise ValueError(f"Nitsche theta = {self.theta!r}: must be one of {THETAS}")

    def gamma(self, msh) -> ufl.core.expr.Expr:
        """γ = γ0·E/h, h the diameter of the cell next to the facet."""
        return self.gamma0 * self.modulus / ufl.CellDiameter(msh)

    def gap(self, u: ufl.core.expr.Expr) -> ufl.core.expr.Expr:
        """g(u) = h(r) − δ − u_z (length scale)."""
        return self.tip_height - self.approach - u[2]

    def multiplier(self, u, stiffness) -> ufl.core.expr.Expr:
        """[P_γ(u)]₋ = min(σ_zz(u) + γ·g(u), 0): −(contact pressure), stress scale."""
        msh = u.ufl_function_space().mesh
        return _negative_part(stress(u, stiffness)[2, 2] + self.gamma(msh) * self.gap(u))

    def pressure(self, u, stiffness) -> ufl.core.expr.Expr:
        """Contact pressure p = −[P_γ(u)]₋ ≥ 0 (stress scale)."""
        return -self.multiplier(u, stiffness)

    def residual(self, u: dolfinx.fem.Function, v: ufl.Argument, stiffness,
                 ds_top: ufl.Measure) -> ufl.Form:
        """The Nitsche contact terms of the residual, over the film top ``ds_top``."""
        gamma = self.gamma(u.function_space.mesh)
        sigma_n_u = stress(u, stiffness)[2, 2]
        sigma_n_v = stress(v, stiffness)[2, 2]
        theta = self.theta
        terms = (1 / gamma) * self.multiplier(u, stiffness) * (theta * sigma_n_v - gamma * v[2])
        if theta != 0:
            terms += -(theta / gamma) * sigma_n_u * sigma_n_v
        return terms * ds_top


def contact_residual(u: dolfinx.fem.Function, stiffness, contact: NitscheContact,
                     ds_top: ufl.Measure) -> ufl.Form:
    """Full residual: elastic energy variation plus the Nitsche contact terms (no other load)."""
    v = ufl.TestFunction(u.function_space)
    return elastic_form(u, v, stiffness) + contact.residual(u, v, stiffness, ds_top)


@dataclasses.dataclass
class ApproachSearch:
    """Outcome of the force control.

    Attributes:
        approach: The approach δ found (caller's length unit).
        force: The contact force at δ (caller's force unit).
        iterations: Number of solves (force evaluations).
        history: (δ, force) of every solve.
    """

    approach: float
    force: float
    iterations: int
    history: list[tuple[float, float]]


class ApproachNotFoundError(RuntimeError):
    """The force control did not reach the requested force."""


def find_approach(force_at: Callable[[float], float], target: float, initial: float,
                  exponent: float, rtol: float = 1e-6, max_solves: int = 30) -> ApproachSearch:
    """Find the approach δ at which the contact force equals ``target``.

    The force grows as a power of δ (F ∝ δ^1.5 for a sphere, ∝ δ for a punch), so the
    search is a secant method on ln F(ln δ), started from the power law with the given
    exponent. Each step calls ``force_at(δ)``, a contact solve.

    Args:
        force_at: Solves the contact at approach δ and returns the contact force.
        target: Requested force (> 0).
        initial: First guess of δ (> 0), e.g. Hertz's a²/R.
        exponent: Expected d ln F / d ln δ for the first step.
        rtol: Relative force tolerance |F/target − 1|.
        max_solves: Largest number of solves before giving up.

    Raises:
        ApproachNotFoundError: If the force is not reached within ``max_solves``.
    """
    if target <= 0 or initial <= 0:
        raise ValueError(f"force control needs a positive target force and first approach, "
                         f"got target={target!r}, initial={initial!r}")
    history: list[tuple[float, float]] = []

    def evaluate(delta: float) -> float:
        force = force_at(delta)
        history.append((delta, force))
        log.info("force control: approach %.6g → force %.6g (target %.6g, error %.2e)",
                 delta, force, target, force / target - 1)
        return force

    delta = initial
    force = evaluate(delta)
    while force <= 0:
        if len(history) >= max_solves:
            raise ApproachNotFoundError(f"no contact force at approach up to {delta:.4g}")
        delta *= 2
        force = evaluate(delta)
    slope = exponent
    while abs(force / target - 1) > rtol:
        if len(history) >= max_solves:
            raise ApproachNotFoundError(
                f"force control stopped after {len(history)} solves: force {force:.6g} for "
                f"target {target:.6g} (relative error {force / target - 1:.2e})")
        step = math.log(target / force) / slope
        new_delta = delta * math.exp(float(np.clip(step, -1.0, 1.0)))
        new_force = evaluate(new_delta)
        if new_force > 0 and force > 0 and new_delta != delta:
            secant = math.log(new_force / force) / math.log(new_delta / delta)
            if math.isfinite(secant) and secant > 0.2:
                slope = secant
        delta, force = new_delta, new_force
    return ApproachSearch(delta, force, len(history), history)


def contact_area_radius(pressure: ufl.core.expr.Expr, ds_top: ufl.Measure, fraction: float) -> float:
    """Radius of the disc with the area where the contact pressure is positive (length scale).

    Args:
        pressure: The contact pressure (:meth:`NitscheContact.pressure`).
        ds_top: The film top's measure.
        fraction: Share of the tip's footprint in the meshed domain (1, 1/2, 1/4).
    """
    indicator = ufl.conditional(ufl.gt(pressure, 0.0), 1.0, 0.0)
    area = assemble_scalar(indicator * ds_top)
    return math.sqrt(area / (math.pi * fraction))


@dataclasses.dataclass(frozen=True)
class ContactEdge:
    """Where the solved contact ends (length scale) and its largest pressure (stress scale).

    Attributes:
        radius: Mean of the radii along [100] and [110].
        radius_along: {"100": ..., "110": ...}, the pressure-support radius along the
            x axis and the diagonal from the tip axis.
        peak_pressure: Largest contact pressure sampled on those two lines.
    """

    radius: float
    radius_along: dict[str, float]
    peak_pressure: float


def surface_pressure(uh: dolfinx.fem.Function, pressure: ufl.core.expr.Expr,
                     ds_top: ufl.Measure) -> Callable[[np.ndarray], np.ndarray]:
    """Evaluator of the contact pressure (stress scale) at points on the film top.

    The pressure field is built once; the returned function takes points of shape (n, 3)
    and returns the pressure at them, shape (n,). With quadratic (or higher)
    displacements the film surface follows the curved tip inside each facet, and the
    Nitsche multiplier is evaluated pointwise (interpolated into discontinuous Lagrange of
    the same degree, sampled just under the top face). With P1 the film surface is a
    chord of the tip between nodes, so γ·g swings by about γ·h²/(8R) inside each facet
    and only the mean is meaningful: the pressure is first averaged onto the nodes of the
    film top (lumped L2 projection over the contact facets,
    :func:`~flexotip.fem.postprocess.recover_on_boundary`), which smooths the edge over
    about half a cell.
    """
    msh = uh.function_space.mesh
    degree = uh.function_space.ufl_element().embedded_superdegree
    if degree >= 2:
        V = dolfinx.fem.functionspace(msh, ("Discontinuous Lagrange", degree))
        sampled = dolfinx.fem.Function(V)
        sampled.interpolate(dolfinx.fem.Expression(pressure, V.element.interpolation_points))
        shift = np.array([0.0, 0.0, SAMPLE_DEPTH])
    else:
        V = dolfinx.fem.functionspace(msh, ("Lagrange", 1))
        sampled = recover_on_boundary(pressure, V, ds_top)
        shift = np.zeros(3)

    def evaluate(points: np.ndarray) -> np.ndarray:
        return np.clip(PointEvaluator(msh, points - shift)(sampled)[:, 0], 0.0, None)

    return evaluate


def support_radius(radius: np.ndarray, pressure: np.ndarray) -> float:
    """Outermost radius where a sampled pressure profile is positive.

    Near the edge of a smooth contact p² falls linearly in r (square-root edge), so the
    edge is where the line through the last two positive samples of p² reaches zero,
    kept between the last positive sample and the next one.
    """
    positive = np.flatnonzero(pressure > 1e-9 * pressure.max())
    if positive.size < 2:
        return float(radius[positive[-1]]) if positive.size else 0.0
    i = positive[-1]
    if i + 1 >= radius.size:
        return float(radius[i])
    p2_before, p2_last = pressure[i - 1] ** 2, pressure[i] ** 2
    step = radius[i] - radius[i - 1]
    reach = step * p2_last / (p2_before - p2_last) if p2_before > p2_last else np.inf
    return float(radius[i] + min(reach, radius[i + 1] - radius[i]))


def contact_edge(pressure_at: Callable[[np.ndarray], np.ndarray], geometry,
                 samples: int = 801) -> ContactEdge:
    """The contact edge along [100] and [110] from the tip axis, sampled to 2× the disc radius.

    Args:
        pressure_at: Evaluator of the contact pressure (see :func:`surface_pressure`).
        geometry: The mesh's :class:`~flexotip.geometry.stack.StackGeometry`.
        samples: Points per line.
    """
    x0, y0 = geometry.contact_center
    r = np.linspace(0.0, 2.0 * geometry.contact_radius, samples)
    radii, peak = {}, 0.0
    for name, (cx, cy) in {"100": (1.0, 0.0), "110": (math.sqrt(0.5), math.sqrt(0.5))}.items():
        pressure = pressure_at(np.c_[x0 + cx * r, y0 + cy * r, 0 * r])
        radii[name] = support_radius(r, pressure)
        peak = max(peak, float(pressure.max()))
    return ContactEdge(0.5 * (radii["100"] + radii["110"]), radii, peak)
