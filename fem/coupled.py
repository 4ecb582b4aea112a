"""Drivers that compose the physics modules and the solvers for one tip load.

* :func:`solve_prescribed` — elasticity under the analytical Hertz/Sneddon pressure.
* :func:`solve_contact` — frictionless Signorini contact with the rigid tip profile,
  force-controlled: the approach δ is found so that the contact force equals the force.

Both return a :class:`TipLoadSolution` in scaled units (see :mod:`flexotip.units`).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable

import dolfinx.fem
import dolfinx.mesh
import numpy as np
import ufl

from flexotip import tips
from flexotip.config import Config
from flexotip.fem import electromechanics, mechanics, solvers, vacancies
from flexotip.fem.bcs import dofs_outside, mechanical_bcs, polarization_bcs, potential_bcs
from flexotip.fem.contact import NitscheContact, contact_residual, find_approach
from flexotip.fem.loads import TipPressure
from flexotip.fem.postprocess import (
    PointEvaluator,
    assemble_scalar,
    global_max,
    global_min,
    largest_nodal_norm,
    recover_on_boundary,
)
from flexotip.geometry import names
from flexotip.geometry.mesh import StackMesh
from flexotip.materials import VacancyMaterial
from flexotip.units import Scales

log = logging.getLogger(__name__)

SAMPLE_DEPTH = 1e-6
"""Depth (length scale) below the film top at which the pressure is sampled, so that the
point lies in a cell with a face on the top."""

CONTACT_QUADRATURE_DEGREE = 6
"""Quadrature degree of the contact terms: [·]₋ is only piecewise smooth."""


@dataclasses.dataclass
class TipLoadSolution:
    """A solved tip load (scaled units).

    Attributes:
        uh: Displacement.
        stiffness: Scaled Voigt stiffness Constant.
        ds_load: Surface measure where the load acts.
        pressure: UFL expression of the pressure on the film top (stress scale), defined
            in the cells next to the top.
        applied_force: ∫ pressure ds over the meshed part (force scale), computed.
        approach: Rigid approach δ (length scale) for a solved contact, else None.
        stats: Solver statistics for summary.json (SI-free numbers and names).
        prescribed: The prescribed load, or None for a solved contact.
        contact: The Nitsche contact, or None for a prescribed load.
        dx_solid: Film and substrate cells when the mesh has an air layer, else None (the
            whole mesh is solid).
    """

    uh: dolfinx.fem.Function
    stiffness: dolfinx.fem.Constant
    ds_load: ufl.Measure
    pressure: ufl.core.expr.Expr
    applied_force: float
    approach: float | None
    stats: dict
    prescribed: TipPressure | None = None
    contact: NitscheContact | None = None
    dx_solid: ufl.Measure | None = None


def tip_shape(config: Config, length: float) -> tips.Tip:
    """The rigid tip of a config, in units of ``length`` metres."""
    tip = config.tip
    if tip.shape == "sphere":
        return tips.SphereTip(tip.radius / length)
    if tip.shape == "flat":
        return tips.FlatTip(tip.radius / length, tip.edge_radius / length)
    return tips.ProfileTip.from_file(tip.profile, scale=1.0 / length)


def tip_height(tip: tips.Tip, msh, center: tuple[float, float], ceiling: float,
               degree: int) -> ufl.core.expr.Expr:
    """h(r) of a tip on the mesh, capped at ``ceiling`` (all in the mesh length unit).

    Sphere and flat punch are exact UFL expressions of the coordinate: the Nitsche term
    multiplies the gap by γ ~ E/h, so an interpolation error of the profile (r²/(8R)
    per cell for P1) would show up as a pressure error of γ·r²/(8R). A measured profile
    is interpolated on the displacement's space after a continuous, steep extension past
    its last point (a jump would make higher-degree interpolation overshoot).
    """
    x = ufl.SpatialCoordinate(msh)
    r = ufl.sqrt((x[0] - center[0]) ** 2 + (x[1] - center[1]) ** 2)
    if isinstance(tip, tips.SphereTip):
        R = tip.radius
        cap = ufl.sqrt(ufl.max_value(R**2 - r**2, 0.0))
        return ufl.conditional(ufl.lt(r, R), ufl.min_value(R - cap, ceiling), ceiling)
    if isinstance(tip, tips.FlatTip):
        a, re = tip.radius, tip.edge_radius
        fillet = re - ufl.sqrt(ufl.max_value(re**2 - (r - a) ** 2, 0.0))
        return ufl.conditional(ufl.le(r, a), 0.0,
                               ufl.conditional(ufl.lt(r, a + re), fillet, ceiling))
    radii, heights = np.asarray(tip.radii), np.asarray(tip.heights)
    steep = 10.0 * max((heights[-1] - heights[-2]) / (radii[-1] - radii[-2]), 1.0)

    def profile(points):
        rho = np.hypot(points[0] - center[0], points[1] - center[1])
        inside = np.interp(rho, radii, heights)
        beyond = heights[-1] + steep * np.clip(rho - radii[-1], 0.0, None)
        return np.minimum(np.where(rho <= radii[-1], inside, beyond), ceiling)

    V = dolfinx.fem.functionspace(msh, ("Lagrange", degree))
    height = dolfinx.fem.Function(V, name="tip_height")
    height.interpolate(profile)
    return height


def _user_options(config: Config, solver: str) -> dict:
    """The user's PETSc options for one solver: the flat ones, then its own sub-table."""
    options = config.solve.petsc_options
    flat = {k: v for k, v in options.items() if not isinstance(v, dict)}
    return {**flat, **options.get(solver, {})}


def solid_measure(stack: StackMesh) -> ufl.Measure | None:
    """Film and substrate cells when the mesh has an air layer; None when it has none."""
    if names.AIR not in stack.groups:
        return None
    dx = ufl.Measure("dx", domain=stack.msh, subdomain_data=stack.cell_tags)
    return dx((stack.groups[names.FILM], stack.groups[names.SUBSTRATE]))


def contact_measure(stack: StackMesh) -> ufl.Measure:
    """The contact disc: exterior facets, or interior ones (film below, air above)."""
    kind = "dS" if names.AIR in stack.groups else "ds"
    return ufl.Measure(kind, domain=stack.msh, subdomain_data=stack.facet_tags)(stack.groups[names.CONTACT])


def top_measure(stack: StackMesh) -> ufl.Measure:
    """The whole film top, the contact disc included (exterior facets, or interior under air)."""
    kind = "dS" if names.AIR in stack.groups else "ds"
    groups = stack.groups
    return ufl.Measure(kind, domain=stack.msh, subdomain_data=stack.facet_tags)(
        (groups[names.FILM_TOP], groups[names.CONTACT]))


def _elastic_setup(stack: StackMesh, config: Config, scales: Scales):
    msh = stack.msh
    V = dolfinx.fem.functionspace(msh, ("Lagrange", config.mesh.degree, (3,)))
    stiffness = mechanics.stiffness_constant(msh, config.material.elastic_constants().voigt(),
                                             scales.stress)
    ds = ufl.Measure("ds", domain=msh, subdomain_data=stack.facet_tags)
    return V, stiffness, ds, mechanical_bcs(V, stack, solid_measure(stack))


def solve_prescribed(stack: StackMesh, config: Config, scales: Scales,
                     contact_radius: float | None = None, profile: str | None = None) -> TipLoadSolution:
    """Elasticity under the Hertz (sphere) or Sneddon (flat) pressure on the contact disc.

    Args:
        stack: The mesh.
        config: The run's config.
        scales: Unit scales.
        contact_radius: Radius of the pressure (length scale) if not the mesh's contact
            disc (the first guess of a solved contact uses the predicted radius).
        profile: A pressure profile of :mod:`flexotip.fem.loads` in place of the tip
            shape's; "gaussian" (the spectral cross-check's smooth load) acts on the
            whole film top.

    Raises:
        solvers.SolverError: If the linear solver does not converge.
    """
    msh = stack.msh
    V, stiffness, _, bcs = _elastic_setup(stack, config, scales)
    geometry = stack.geometry
    band = geometry.edge_band or (config.mesh.contact_size / scales.length if contact_radius else 0.0)
    profile = profile or ("punch" if config.tip.shape == "flat" else "hertz")
    load = TipPressure.create(
        msh, profile,
        force=config.tip.force / scales.force,
        contact_radius=contact_radius or geometry.contact_radius,
        center=geometry.contact_center, edge_band=band)
    ds_contact = top_measure(stack) if profile == "gaussian" else contact_measure(stack)
    dx_solid = solid_measure(stack)
    a, L = mechanics.elastic_forms(V, stiffness, load, ds_contact, dx_solid)
    if dx_solid is not None:  # the air's (pinned) dofs keep their place in the sparsity
        zero = dolfinx.fem.Constant(msh, dolfinx.default_scalar_type(0.0))
        dx = ufl.Measure("dx", domain=msh, subdomain_data=stack.cell_tags)
        a += zero * ufl.inner(ufl.TrialFunction(V), ufl.TestFunction(V)) * dx(stack.groups[names.AIR])
    uh = dolfinx.fem.Function(V, name="displacement")
    options = solvers.petsc_options(solvers.LINEAR_SOLVERS[config.solve.linear_solver],
                                    _user_options(config, "mech"))
    log.info("solving elasticity: %d displacement dofs, P%d, %s solver",
             V.dofmap.index_map.size_global * 3, config.mesh.degree, config.solve.linear_solver)
    report = solvers.solve_linear(a, L, uh, bcs, prefix=solvers.MECHANICS_PREFIX,
                                  options=options, near_nullspace=True)
    applied = assemble_scalar(mechanics.applied_force_form(load, ds_contact))
    stats = {"n_dofs": report.n_dofs, "ksp_type": report.ksp_type, "pc_type": report.pc_type,
             "ksp_iterations": report.iterations, "ksp_reason": report.reason,
             "time_assemble_s": report.time_assemble_s}
    x = ufl.SpatialCoordinate(msh)
    return TipLoadSolution(uh, stiffness, ds_contact, load.pressure(x), applied, None, stats,
                           prescribed=load, dx_solid=dx_solid)


def solve_contact(stack: StackMesh, config: Config, scales: Scales) -> TipLoadSolution:
    """Force-controlled frictionless contact of the rigid tip with the film top (Nitsche).

    The tip height h(r) enters the gap exactly (:func:`tip_height`), capped at the depth
    of the box, a gap no film surface can close. The approach δ is found by
    :func:`flexotip.fem.contact.find_approach`, each step a SNES solve that starts from
    the previous displacements (secant predictor).

    Raises:
        solvers.SolverError: If a Newton solve does not converge.
        flexotip.fem.contact.ApproachNotFoundError: If the force is not reached.
    """
    msh = stack.msh
    V, stiffness, ds, bcs = _elastic_setup(stack, config, scales)
    geometry = stack.geometry
    tip = tip_shape(config, scales.length)
    x0, y0 = geometry.contact_center
    ceiling = geometry.film_thickness + geometry.substrate_thickness
    height = tip_height(tip, msh, (x0, y0), ceiling, config.mesh.degree)
    modulus = config.contact_modulus / scales.stress
    force = config.tip.force * config.symmetry_fraction / scales.force

    def constant(value):
        return dolfinx.fem.Constant(msh, dolfinx.default_scalar_type(value))

    contact = NitscheContact(height, constant(0.0), constant(config.solve.contact_gamma), modulus,
                             theta=config.solve.contact_theta)
    top = (stack.groups[names.CONTACT], stack.groups[names.FILM_TOP])
    ds_top = ds(top, metadata={"quadrature_degree": CONTACT_QUADRATURE_DEGREE})
    uh = dolfinx.fem.Function(V, name="displacement")
    residual = contact_residual(uh, stiffness, contact, ds_top)
    options = solvers.petsc_options(
        {**solvers.LINEAR_SOLVERS[config.solve.linear_solver], **solvers.NEWTON},
        _user_options(config, "contact"))
    solver = solvers.NonlinearSolver(residual, uh, bcs, prefix=solvers.CONTACT_PREFIX,
                                     options=options, near_nullspace=True)
    force_form = dolfinx.fem.form(contact.pressure(uh, stiffness) * ds_top)

    # Start from the displacement under the predicted (Hertz or Sneddon) pressure: its
    # contact set is nearly right, so Newton does not crawl towards it one ring of
    # facets per iteration; its indentation is the first approach.
    guess = solve_prescribed(stack, config, scales, config.contact_radius / scales.length)
    uh.x.array[:] = guess.uh.x.array
    centre = PointEvaluator(msh, np.array([[x0, y0, 0.0]]))
    initial = max(-float(centre(uh)[0, 2]), 1e-6 * geometry.contact_radius)
    exponent = 1.0 if isinstance(tip, tips.FlatTip) else 1.5
    converged: list[tuple[float, np.ndarray]] = []

    def force_at(delta: float) -> float:
        if len(converged) >= 2:  # secant predictor from the last two solutions
            (d0, u0), (d1, u1) = converged[-2:]
            uh.x.array[:] = u1 + (delta - d1) / (d1 - d0) * (u1 - u0)
        contact.approach.value = delta
        solver.solve()
        converged.append((delta, uh.x.array.copy()))
        return assemble_scalar(force_form)

    log.info("solving contact: %d displacement dofs, P%d, Nitsche γ0 = %g, θ = %d, first "
             "approach %.4g nm", V.dofmap.index_map.size_global * 3, config.mesh.degree,
             config.solve.contact_gamma, config.solve.contact_theta, initial * scales.length * 1e9)
    search = find_approach(force_at, force, initial, exponent, rtol=config.solve.contact_force_rtol)
    stats = {"n_dofs": solver.n_dofs, "newton_iterations": solver.newton_iterations,
             "initial_guess_ksp_iterations": guess.stats["ksp_iterations"],
             "linear_iterations": solver.linear_iterations, "contact_solves": search.iterations,
             "force_balance_error": search.force / force - 1,
             "contact_gamma": config.solve.contact_gamma, "contact_theta": config.solve.contact_theta}
    log.info("contact: approach %.5g nm after %d solves, %d Newton and %d linear iterations",
             search.approach * scales.length * 1e9, search.iterations, solver.newton_iterations,
             solver.linear_iterations)
    return TipLoadSolution(uh, stiffness, ds_top, contact.pressure(uh, stiffness), search.force,
                           search.approach, stats, contact=contact)


def contact_area_radius(solution: TipLoadSolution, fraction: float) -> float:
    """Radius of the disc with the area where the contact pressure is positive (length scale).

    Args:
        solution: A solved contact.
        fraction: Share of the tip's footprint in the meshed domain (1, 1/2, 1/4).
    """
    indicator = ufl.conditional(ufl.gt(solution.pressure, 0.0), 1.0, 0.0)
    area = assemble_scalar(indicator * solution.ds_load)
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


def surface_pressure(solution: TipLoadSolution) -> Callable[[np.ndarray], np.ndarray]:
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
    msh = solution.uh.function_space.mesh
    degree = solution.uh.function_space.ufl_element().embedded_superdegree
    if degree >= 2:
        V = dolfinx.fem.functionspace(msh, ("Discontinuous Lagrange", degree))
        pressure = dolfinx.fem.Function(V)
        pressure.interpolate(dolfinx.fem.Expression(solution.pressure, V.element.interpolation_points))
        shift = np.array([0.0, 0.0, SAMPLE_DEPTH])
    else:
        V = dolfinx.fem.functionspace(msh, ("Lagrange", 1))
        pressure = recover_on_boundary(solution.pressure, V, solution.ds_load)
        shift = np.zeros(3)

    def evaluate(points: np.ndarray) -> np.ndarray:
        return np.clip(PointEvaluator(msh, points - shift)(pressure)[:, 0], 0.0, None)

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


@dataclasses.dataclass
class ElectromechanicalSolution:
    """The steady (u, P, φ) of the film under the tip (scaled units).

    Attributes:
        u: Displacement (length scale).
        P: Polarisation (polarisation scale), zero off the film.
        phi: Electric potential (potential scale), zero in the grounded substrate.
        constants: The scaled material constants of the forms.
        stiffness: Scaled Voigt stiffness Constant.
        domains: Integration domains of the energy.
        stats: Solver statistics for summary.json.
        solver: The Newton solver, to update the state after its data (the space
            charge) changed.
    """

    u: dolfinx.fem.Function
    P: dolfinx.fem.Function
    phi: dolfinx.fem.Function
    constants: electromechanics.ScaledConstants
    stiffness: dolfinx.fem.Constant
    domains: electromechanics.Domains
    stats: dict
    solver: solvers.NonlinearSolver | None = None


@dataclasses.dataclass
class RelaxationHistory:
    """Time history of a TDGL relaxation (SI).

    Attributes:
        times: Time after each accepted step, s.
        steps: The accepted step sizes, s.
        max_abs_P: Largest nodal |P| after each step, C/m².
        change: max|P − P_old| / max|P| of each step.
        t_quasi_steady: Time at which the change first fell below the tolerance, s
            (None if it did not before t_end).
        last_report: The last Newton report.
    """

    times: list
    steps: list
    max_abs_P: list  # noqa: N815 — P is the physics symbol
    change: list
    t_quasi_steady: float | None
    last_report: solvers.NonlinearReport


def relax_tdgl(solver: solvers.NonlinearSolver, P: dolfinx.fem.Function,
               P_previous: dolfinx.fem.Function, drag: dolfinx.fem.Constant, mobility: float,
               scales: Scales, first_step: float, t_end: float | None, rtol: float,
               degree: int, max_steps: int = 400) -> RelaxationHistory:
    """Time-dependent Ginzburg–Landau ∂P/∂t = −L·δF/δP, backward Euler with adaptive Δt.

    u and φ stay in equilibrium with P (quasi-static: they have no dynamics of their
    own). Each step is one Newton solve of the monolithic system with the drag
    (P − P_old)/(L·Δt) in the P equation. Δt doubles after a step that Newton took in at
    most 4 iterations and is quartered (the step retried from the old state) when Newton
    fails. The relaxation stops at ``t_end`` or when max|P − P_old| ≤ rtol·max|P|
    (quasi-steady). As Δt grows past the relaxation time the step tends to the steady
    solve, which is why the long-time limit equals it.

    Args:
        solver: The Newton solver whose P residual carries ``drag``·(P − P_previous).
        P: Polarisation (the solver's unknown), updated in place.
        P_previous: The state at the start of the step (set here).
        drag: Constant multiplying (P − P_previous); set to P0²/(σ0·L·Δt) per step.
        mobility: Kinetic coefficient L, C/(V·m·s).
        scales: Unit scales.
        first_step: First Δt, s.
        t_end: Stop time, s; None: run until quasi-steady.
        rtol: Quasi-steady tolerance on the relative change per step.
        degree: Lagrange degree at whose nodes |P| is measured.
        max_steps: Largest number of accepted steps.

    Raises:
        solvers.SolverError: If Newton fails even with Δt reduced a million-fold.
    """
    unknowns = solver.problem.u
    state = list(unknowns) if isinstance(unknowns, list | tuple) else [unknowns]
    factor = scales.polarization**2 / scales.stress
    change_of_step = dolfinx.fem.Function(P.function_space)

    t, dt = 0.0, first_step
    history = RelaxationHistory([], [], [], [], None, None)
    while len(history.times) < max_steps:
        if t_end is not None:
            dt = min(dt, t_end - t)
        P_previous.x.array[:] = P.x.array
        saved = [w.x.array.copy() for w in state]
        drag.value = factor / (mobility * dt)
        try:
            report = solver.solve()
        except solvers.SolverError:
            for w, values in zip(state, saved, strict=True):
                w.x.array[:] = values
            dt /= 4
            if dt < first_step * 1e-6:
                raise
            log.warning("TDGL: Newton failed; retrying with Δt = %.3g s", dt)
            continue
        t += dt
        largest, _ = largest_nodal_norm(P, degree)
        change_of_step.x.array[:] = P.x.array - P_previous.x.array
        change = largest_nodal_norm(change_of_step, degree)[0] / max(largest, 1e-300)
        for series, value in ((history.times, t), (history.steps, dt),
                              (history.max_abs_P, largest * scales.polarization),
                              (history.change, change)):
            series.append(value)
        history.last_report = report
        log.info("TDGL step %3d: t = %.4g s, Δt = %.3g s, max|P| = %.6g C/m², change %.2e",
                 len(history.times), t, dt, largest * scales.polarization, change)
        if change <= rtol:
            history.t_quasi_steady = t
            break
        if t_end is not None and t >= t_end * (1 - 1e-12):
            break
        if report.iterations <= 4:
            dt *= 2
    drag.value = 0.0
    return history


def film_domains(stack: StackMesh) -> electromechanics.Domains:
    """Integration domains of the electromechanical energy on a flexotip stack mesh."""
    msh, groups = stack.msh, stack.groups
    dx = ufl.Measure("dx", domain=msh, subdomain_data=stack.cell_tags)
    dS = ufl.Measure("dS", domain=msh, subdomain_data=stack.facet_tags)
    indicator = dolfinx.fem.Function(dolfinx.fem.functionspace(msh, ("Discontinuous Lagrange", 0)),
                                     name="film_indicator")
    indicator.x.array[stack.cells(names.FILM)] = 1.0
    indicator.x.scatter_forward()
    air = names.AIR in groups
    # The film's faces inside the mesh: its bottom, and its top under an air layer.
    interface = ((groups[names.FILM_SUBSTRATE], groups[names.FILM_TOP], groups[names.CONTACT]) if air
                 else groups[names.FILM_SUBSTRATE])
    # The film's physical surfaces: under air its top is interior (in the interface measure);
    # the symmetry planes and lateral walls are mirror planes, not surfaces.
    top = None if air else top_measure(stack)
    return electromechanics.Domains(
        dx_film=dx(groups[names.FILM]), dx_rest=dx(groups[names.SUBSTRATE]),
        dx_air=dx(groups[names.AIR]) if air else None,
        ds=top, dS_interface=dS(interface), film_indicator=indicator)


def applied_potential(stack: StackMesh, config: Config, scales: Scales,
                      em: ElectromechanicalSolution, contact_radius: float) -> dolfinx.fem.Function:
    """The potential of the tip bias alone (potential scale): the applied field's.

    Laplace's equation in the background dielectric (film ε0·κ_b, air ε0) with the run's
    electrodes (the contact disc at the bias, the grounded ones at 0), without P or space
    charge. The rest of the solved potential, φ − φ_applied, is that of the bound and
    space charges with every electrode grounded: the depolarisation potential. Both are
    exact parts of φ, since Gauss's law is linear in φ.

    Raises:
        solvers.SolverError: If the linear solve fails.
    """
    V = em.phi.function_space
    domains, c = em.domains, em.constants
    trial, test = ufl.TrialFunction(V), ufl.TestFunction(V)
    a = electromechanics.dielectric_form(trial, test, c.permittivity, c, domains)
    L = c.zero * test * domains.dx_film
    bias = dolfinx.fem.Constant(stack.msh, dolfinx.default_scalar_type(config.tip.bias / scales.potential))
    bcs = potential_bcs(V, stack, domains.dielectric, config.physics.electric_bc, bias,
                        tip_facets(stack, contact_radius))
    phi = dolfinx.fem.Function(V, name="applied_potential")
    solvers.solve_linear(a, L, phi, bcs, prefix=solvers.APPLIED_POTENTIAL_PREFIX,
                         options=solvers.petsc_options(solvers.DIRECT, _user_options(config, "phi")))
    return phi


def tip_facets(stack: StackMesh, radius: float) -> np.ndarray:
    """Facets of the film top within ``radius`` (length scale) of the tip axis: the contact."""
    msh = stack.msh
    x0, y0 = stack.geometry.contact_center
    top = stack.film_top_facets()
    inside = dolfinx.mesh.locate_entities(  # interior facets too, under an air layer
        msh, msh.topology.dim - 1,
        lambda x: (np.hypot(x[0] - x0, x[1] - y0) <= radius * (1 + 1e-9) + 1e-12) & np.isclose(x[2], 0.0))
    return np.intersect1d(top, inside).astype(np.int32)


def solve_electromechanics(stack: StackMesh, config: Config, scales: Scales,
                           tip: TipLoadSolution, contact_radius: float,
                           space_charge: Callable | None = None) -> ElectromechanicalSolution:
    """Steady (u, P, φ): the stationary point of the free energy under the tip load.

    The tip load is the pressure of ``tip`` (prescribed Hertz/Sneddon, or the solved
    contact's pressure, held fixed: the converse flexoelectric stress changes the
    displacement by a few per cent near the edge and the contact set by less than a
    cell, which this one-way load neglects). u starts from the elastic solution, P and φ
    from zero; Newton on the monolithic block system, each step solved by MUMPS or, with
    `electromechanics_solver = "block"`, by FGMRES with the block preconditioner of
    :mod:`flexotip.fem.preconditioners`.

    Args:
        stack: The mesh.
        config: The run's config.
        scales: Unit scales.
        tip: The solved tip load (its pressure is the mechanical load).
        contact_radius: Radius (length scale) of the disc held at the tip's potential.
        space_charge: ρ(φ), the film's space charge (charge-density scale) as a UFL
            expression of the potential (the vacancies'), or None; integrated with the
            vacancies' quadrature degree.

    Raises:
        solvers.SolverError: If Newton (or MUMPS) fails, with PETSc's reason.
    """
    msh = stack.msh
    degree = config.mesh.degree
    material = config.electromechanical_material()
    constants = electromechanics.ScaledConstants(msh, material, scales)
    domains = film_domains(stack)
    V_u = tip.uh.function_space
    V_P = dolfinx.fem.functionspace(msh, electromechanics.polarization_element(
        degree, bubbles=config.mesh.polarization_element == "bubble"))
    V_phi = dolfinx.fem.functionspace(msh, ("Lagrange", degree))
    u = dolfinx.fem.Function(V_u, name="displacement")
    u.x.array[:] = tip.uh.x.array
    P = dolfinx.fem.Function(V_P, name="polarization")
    phi = dolfinx.fem.Function(V_phi, name="potential")
    P_previous = dolfinx.fem.Function(V_P)
    # Backward-Euler TDGL drag (P − P_old)/(L·Δt) in the P residual; zero for the steady solve,
    # so both solves share one compiled form.
    drag = dolfinx.fem.Constant(msh, dolfinx.default_scalar_type(0.0))

    energy = electromechanics.free_energy(u, P, phi, tip.stiffness, constants, domains,
                                          flexoelectric=material.flexoelectric)
    load_measure = tip.ds_load(metadata={"quadrature_degree": mechanics.LOAD_QUADRATURE_DEGREE})
    energy += mechanics.on_surface(tip.pressure * u[2], load_measure) * load_measure
    unknowns = [u, P, phi]
    residuals = [ufl.derivative(energy, w, ufl.TestFunction(w.function_space)) for w in unknowns]
    residuals[1] += drag * ufl.inner(P - P_previous, ufl.TestFunction(V_P)) * domains.dx_film
    if space_charge is not None:  # +ρ·ψ, the derivative of ∫G(φ) with G' = ρ
        dx_charge = domains.dx_film(metadata={"quadrature_degree": vacancies.quadrature_degree(degree)})
        residuals[2] += space_charge(phi) * ufl.TestFunction(V_phi) * dx_charge

    tip_potential = dolfinx.fem.Constant(msh, dolfinx.default_scalar_type(config.tip.bias / scales.potential))
    bcs = (mechanical_bcs(V_u, stack, solid_measure(stack)) + polarization_bcs(V_P, stack, domains.dx_film)
           + potential_bcs(V_phi, stack, domains.dielectric, config.physics.electric_bc, tip_potential,
                           tip_facets(stack, contact_radius)))
    block = config.solve.electromechanics_solver == "block"
    defaults = solvers.ELECTROMECHANICS_BLOCK if block else solvers.ELECTROMECHANICS
    options = solvers.petsc_options(defaults, _user_options(config, "em"))
    solver = solvers.NonlinearSolver(residuals, unknowns, bcs, prefix=solvers.ELECTROMECHANICS_PREFIX,
                                     options=options, split_names=["u", "P", "phi"] if block else None)
    log.info("solving electromechanics: %d dofs (u %d, P %d, φ %d), P%d, %s Landau, "
             "electrostriction %s, electric BC %s", solver.n_dofs,
             3 * V_u.dofmap.index_map.size_global, 3 * V_P.dofmap.index_map.size_global,
             V_phi.dofmap.index_map.size_global, degree, material.landau,
             "on" if material.electrostriction else "off", config.physics.electric_bc)
    stats = {}
    start = time.perf_counter()
    if config.solve.mode == "transient":
        solve = config.solve
        mobility = solve.tdgl_kinetic_coefficient
        tau = 1.0 / (2 * config.material.alpha1 * mobility)
        history = relax_tdgl(solver, P, P_previous, drag, mobility, scales,
                             first_step=solve.dt or 0.1 * tau, t_end=solve.t_end,
                             rtol=solve.quasi_steady_rtol, degree=degree)
        report = history.last_report
        stats |= {"tdgl_steps": len(history.times), "tdgl_relaxation_time_s": tau,
                  "t_final_s": float(history.times[-1]),
                  "t_quasi_steady_s": history.t_quasi_steady, "tdgl_history": history}
    else:
        report = solver.solve()
    stats |= {"em_n_dofs": solver.n_dofs, "em_newton_iterations": solver.newton_iterations,
             "em_linear_iterations": solver.linear_iterations, "em_reason": report.reason,
             "time_em_s": time.perf_counter() - start,
             "n_dofs_displacement": 3 * V_u.dofmap.index_map.size_global,
             "n_dofs_polarization": 3 * V_P.dofmap.index_map.size_global,
             "n_dofs_potential": V_phi.dofmap.index_map.size_global}
    return ElectromechanicalSolution(u, P, phi, constants, tip.stiffness, domains, stats, solver)


@dataclasses.dataclass
class VacancyHistory:
    """Time history of the vacancy transient (SI; densities relative to c0).

    Attributes:
        times: Time after each accepted step, s.
        steps: Accepted step sizes, s.
        total_change: ∫c/∫c(t = 0) − 1 after each step.
        c_min: Smallest nodal c/c0 after each step.
        c_max: Largest nodal c/c0 after each step.
        change: max|c − c_old|/max c of each step.
        error: The step's error estimate, max|ln c − predictor|·Δt/(Δt + Δt_old).
        newton: Newton iterations of each step.
        rejected: Steps rejected (error or Newton failure).
        observed: What the ``observe`` callback returned after each step.
        t_quasi_steady: Time at which the change first fell below the tolerance, s.
    """

    times: list = dataclasses.field(default_factory=list)
    steps: list = dataclasses.field(default_factory=list)
    total_change: list = dataclasses.field(default_factory=list)
    c_min: list = dataclasses.field(default_factory=list)
    c_max: list = dataclasses.field(default_factory=list)
    change: list = dataclasses.field(default_factory=list)
    error: list = dataclasses.field(default_factory=list)
    newton: list = dataclasses.field(default_factory=list)
    rejected: int = 0
    observed: list = dataclasses.field(default_factory=list)
    t_quasi_steady: float | None = None


@dataclasses.dataclass
class VacancySolution:
    """The vacancy density in the film (scaled units inside, c/c0 = exp(w)).

    Attributes:
        w: ln(c/c0) on the potential's Lagrange space; 0 off the film.
        material: Vacancy constants (SI).
        dx: Film measure with the vacancies' quadrature degree.
        film_dofs: Owned dofs of w in the film.
        outside: Local dofs (owned and ghost) off the film, which carry no vacancies.
        total_initial: ∫c/c0 dx at t = 0 (length scale cubed).
        total_final: ∫c/c0 dx at the end.
        history: The transient's history, None for a steady solve.
        stats: Solver statistics for summary.json.
    """

    w: dolfinx.fem.Function
    material: VacancyMaterial
    dx: ufl.Measure
    film_dofs: np.ndarray
    outside: np.ndarray
    total_initial: float
    total_final: float
    history: VacancyHistory | None
    stats: dict


def solve_with_vacancies(stack: StackMesh, config: Config, scales: Scales, tip: TipLoadSolution,
                         contact_radius: float, observe: Callable | None = None
                         ) -> tuple[ElectromechanicalSolution, VacancySolution]:
    """(u, P, φ) and the oxygen vacancies, with the vacancy space charge in Gauss's law.

    ρ = z·e·(c − c0): the initial uniform density is neutral (c0 is the compensating
    background).

    * ``mode = "steady"``, blocking film: the Poisson–Boltzmann problem. c = c0·exp(λ − φ/V_T)
      is put in Gauss's law and Newton solves (u, P, φ) for a fixed λ; λ is then updated to
      restore the total, λ += ln(N0/N(λ)), and (u, P, φ) re-solved by a linearised step, until
      λ changes by less than 1e-13 (three or four rounds: λ_D ≫ film, the feedback is weak).
      w = λ − φ/V_T is the discrete steady state of the transient scheme (see
      :mod:`flexotip.fem.vacancies`).
    * ``mode = "steady"``, fixed surface: the steady Nernst–Planck equations with c = c0 on
      the film top, alternated with the linearised (u, P, φ) update until w settles.
    * ``mode = "transient"``: backward-Euler Nernst–Planck steps from c = c0 in the current
      φ, each followed by the linearised (u, P, φ) update with the new space charge (φ lags
      one step). P is quasi-static in this loop: its TDGL relaxation (ps) has run before,
      and Δt ≫ 1 ps makes its backward-Euler step the steady solve. Δt is adapted to keep
      the error estimate max|ln c − predictor|·Δt/(Δt + Δt_old) (linear predictor from the
      last two states) below ``[vacancies] time_tolerance``, growing at most ×2 per step.
      The run stops at ``t_end``, at quasi-steady (max|Δc| ≤ ``quasi_steady_rtol``·max c per
      step) or after ``max_steps``.

    Args:
        stack: The mesh.
        config: The run's config.
        scales: Unit scales.
        tip: The solved tip load.
        contact_radius: Radius (length scale) of the disc held at the tip's potential.
        observe: Called as observe(t, w) after each accepted transient step; whatever it
            returns is kept in the history (e.g. the surface-map extremes).

    Raises:
        solvers.SolverError: If a Newton solve fails (a transient step only after Δt was
            cut a million-fold).
    """
    msh, comm = stack.msh, stack.msh.comm
    degree = config.mesh.degree
    material = config.vacancy_material()
    settings = config.vacancies
    V = dolfinx.fem.functionspace(msh, ("Lagrange", degree))  # the potential's space
    w = dolfinx.fem.Function(V, name="log_density")
    shift = dolfinx.fem.Constant(msh, dolfinx.default_scalar_type(0.0))
    thermal_voltage = material.thermal_voltage / scales.potential
    boltzmann = config.solve.mode == "steady" and settings.surface == "blocking"

    def space_charge(phi):
        relative = ufl.exp(shift - phi / thermal_voltage) if boltzmann else ufl.exp(w)
        return material.space_charge(relative, scales)

    em = solve_electromechanics(stack, config, scales, tip, contact_radius, space_charge=space_charge)
    if not np.array_equal(em.phi.function_space.dofmap.list, V.dofmap.list):
        raise RuntimeError("the vacancy and potential spaces must share their dof layout")
    domains = em.domains
    dx = domains.dx_film(metadata={"quadrature_degree": vacancies.quadrature_degree(degree)})
    outside = dofs_outside(V, domains.dx_film)
    owned = V.dofmap.index_map.size_local
    film_dofs = np.setdiff1d(np.arange(owned, dtype=np.int32), outside)
    bcs = [dolfinx.fem.dirichletbc(dolfinx.default_scalar_type(0.0), outside, V)]
    if settings.surface == "fixed":
        surface = dolfinx.fem.locate_dofs_topological(V, msh.topology.dim - 1, stack.film_top_facets())
        bcs.append(dolfinx.fem.dirichletbc(dolfinx.default_scalar_type(0.0), surface, V))
    total_form = dolfinx.fem.form(ufl.exp(w) * dx)
    total_initial = assemble_scalar(dolfinx.fem.form(1.0 * dx))
    options = _user_options(config, "np")
    stats: dict = {"vacancy_debye_length_m": material.debye_length(
        config.material.eps_background + config.electromechanical_material().susceptibility),
        "vacancy_thermal_voltage_V": material.thermal_voltage}
    start = time.perf_counter()
    updates = 0

    def update_electromechanics():
        nonlocal updates
        em.solver.update()
        updates += 1

    history = None
    if boltzmann:
        boltzmann_total = dolfinx.fem.form(ufl.exp(shift - em.phi / thermal_voltage) * dx)
        for rounds in range(1, 31):
            integral = assemble_scalar(boltzmann_total)
            correction = math.log(total_initial / integral)
            shift.value += correction
            log.info("Poisson–Boltzmann round %d: λ = %.15g (change %.3e)", rounds,
                     float(shift.value), correction)
            if abs(correction) < 1e-13:
                break
            update_electromechanics()
        else:
            raise solvers.SolverError("poisson_boltzmann", "λ did not settle in 30 rounds", 30)
        vacancies.set_boltzmann(w, em.phi, thermal_voltage, float(shift.value), outside)
        stats |= {"vacancy_solver": "boltzmann", "vacancy_rounds": rounds}
    else:
        transport = vacancies.NernstPlanck(w, em.phi, dx, material, scales, bcs, options)
        if config.solve.mode == "steady":
            # The start is exact for a uniform top potential.
            vacancies.set_boltzmann(w, em.phi, thermal_voltage, 0.0, outside)
            for rounds in range(1, 31):  # noqa: B007 — the count is reported
                previous = w.x.array.copy()
                transport.solve_steady()
                update_electromechanics()
                moved = global_max(np.abs(w.x.array - previous)[film_dofs], comm)
                if moved < 1e-10:
                    break
            stats |= {"vacancy_solver": "steady", "vacancy_rounds": rounds}
        else:
            history = _vacancy_transient(transport, w, film_dofs, settings, config.solve.t_end,
                                         update_electromechanics, observe, stack, scales, material)
            stats |= {"vacancy_solver": "transient", "vacancy_steps": len(history.times),
                      "vacancy_rejected_steps": history.rejected,
                      "vacancy_t_final_s": history.times[-1] if history.times else 0.0,
                      "t_quasi_steady_s": history.t_quasi_steady}
        stats |= {"vacancy_newton_iterations": transport.solver.newton_iterations}
    stats |= {"vacancy_em_updates": updates, "time_vacancies_s": time.perf_counter() - start}
    solution = VacancySolution(w, material, dx, film_dofs, outside, total_initial,
                               assemble_scalar(total_form), history, stats)
    return em, solution


def _vacancy_transient(transport: vacancies.NernstPlanck, w: dolfinx.fem.Function,
                       film_dofs: np.ndarray, settings, t_end: float | None,
                       update_electromechanics: Callable, observe: Callable | None,
                       stack: StackMesh, scales: Scales,
                       material: VacancyMaterial) -> VacancyHistory:
    """The adaptive backward-Euler loop of :func:`solve_with_vacancies`."""
    comm = w.function_space.mesh.comm
    h_min = stack.msh.h(stack.msh.topology.dim, np.arange(
        stack.msh.topology.index_map(stack.msh.topology.dim).size_local, dtype=np.int32))
    h_min = global_min(h_min, comm) * scales.length
    first_step = settings.first_step or 0.1 * h_min**2 / material.diffusivity
    dt = first_step
    tolerance, rtol = settings.time_tolerance, settings.quasi_steady_rtol
    total_initial = transport.total()
    history = VacancyHistory()
    t, dt_old = 0.0, None
    w_older = None
    while len(history.times) < settings.max_steps:
        if t_end is not None:
            dt = min(dt, t_end - t)
        w_start = w.x.array.copy()
        try:
            report = transport.step(dt)
        except solvers.SolverError:
            history.rejected += 1
            dt /= 4
            if dt < 1e-6 * first_step:
                raise
            log.warning("vacancies: Newton failed; retrying with Δt = %.3g s", dt)
            continue
        new = w.x.array[film_dofs]
        if w_older is None:
            error = 0.5 * global_max(np.abs(new - w_start[film_dofs]), comm)
        else:
            predictor = w_start[film_dofs] + dt / dt_old * (w_start[film_dofs] - w_older)
            error = global_max(np.abs(new - predictor), comm) * dt / (dt + dt_old)
        if error > tolerance:
            w.x.array[:] = w_start
            history.rejected += 1
            dt *= max(0.2, 0.9 * math.sqrt(tolerance / error))
            continue
        update_electromechanics()
        t += dt
        c_new, c_start = np.exp(new), np.exp(w_start[film_dofs])
        c_max = global_max(c_new, comm)
        change = global_max(np.abs(c_new - c_start), comm) / c_max
        for series, value in ((history.times, t), (history.steps, dt),
                              (history.total_change, transport.total() / total_initial - 1),
                              (history.c_min, global_min(c_new, comm)), (history.c_max, c_max),
                              (history.change, change), (history.error, error),
                              (history.newton, report.iterations)):
            series.append(value)
        if observe is not None:
            history.observed.append(observe(t, w))
        log.info("vacancy step %3d: t = %.4g s, Δt = %.3g s, c/c0 in [%.4g, %.4g], change %.2e, "
                 "error %.2e", len(history.times), t, dt, history.c_min[-1], c_max, change, error)
        w_older = w_start[film_dofs]
        if change <= rtol:
            history.t_quasi_steady = t
            break
        if t_end is not None and t >= t_end * (1 - 1e-12):
            break
        dt_old = dt
        dt *= min(2.0, 0.9 * math.sqrt(tolerance / max(error, 1e-300)))
    return history
