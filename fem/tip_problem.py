"""The tip's load on the film: elasticity under a prescribed pressure, or the solved contact.

* :func:`solve_prescribed` — elasticity under the analytical Hertz (sphere) or Sneddon
  (flat punch) pressure on the contact disc.
* :func:`solve_contact` — frictionless Signorini contact with the rigid tip profile
  (:mod:`flexotip.fem.contact`), force-controlled: the approach δ is found so that the
  contact force equals the tip's force.

Both take the mesh, the :class:`TipProblemParameters` (SI) and the unit scales, and return
a :class:`TipLoadSolution` in scaled units (:mod:`flexotip.units`) with a report of the
solver's work.
"""

from __future__ import annotations

import dataclasses
import logging

import dolfinx.fem
import numpy as np
import ufl

from flexotip import tips
from flexotip.fem import mechanics, solver_options, solvers
from flexotip.fem.bcs import mechanical_bcs
from flexotip.fem.contact import NitscheContact, contact_residual, find_approach
from flexotip.fem.domains import contact_measure, solid_measure, top_measure
from flexotip.fem.loads import TipPressure
from flexotip.fem.postprocess import PointEvaluator, assemble_scalar
from flexotip.geometry import names
from flexotip.geometry.mesh import StackMesh
from flexotip.materials import CubicElasticity
from flexotip.units import Scales

log = logging.getLogger(__name__)

CONTACT_QUADRATURE_DEGREE = 6
"""Quadrature degree of the contact terms: [·]₋ is only piecewise smooth."""


@dataclasses.dataclass(frozen=True)
class TipProblemParameters:
    """What the tip-load solve needs, SI (built from a config by :mod:`flexotip.pipeline.parameters`).

    Attributes:
        elasticity: Elastic constants of film and substrate, Pa.
        degree: Lagrange degree of the displacement.
        shape: "sphere", "flat" or "profile".
        load: "hertz" (prescribed Hertz/Sneddon pressure) or "contact" (solved).
        tip: The rigid tip's height profile h(r), m.
        tip_radius: Sphere (or punch) radius, m.
        force: Force on the whole tip, N.
        symmetry_fraction: Share of the tip's footprint in the meshed domain (1, 1/2, 1/4).
        contact_radius: Predicted contact radius, m (Hertz, or the punch radius).
        contact_modulus: Contact modulus E* of tip and film, Pa.
        cell_size: Cell size at the contact edge, m: the width of the punch pressure's edge
            band when the pressure disc is not the mesh's.
        linear_solver: "iterative" (CG + GAMG) or "direct" (MUMPS).
        contact_gamma: Nitsche parameter γ0.
        contact_theta: Nitsche variant θ (1, 0, −1).
        contact_force_rtol: Relative tolerance of the force control.
        mechanics_options: The user's PETSc options for the elastic solve (over the defaults).
        contact_options: The user's PETSc options for the contact solve.
        moving: The tip scans: its pressure acts on the whole film top (it leaves the
            mesh's contact disc), not on the disc.
    """

    elasticity: CubicElasticity
    degree: int
    shape: str
    load: str
    tip: tips.Tip
    tip_radius: float
    force: float
    symmetry_fraction: float
    contact_radius: float
    contact_modulus: float
    cell_size: float
    linear_solver: str = "iterative"
    contact_gamma: float = 100.0
    contact_theta: int = 1
    contact_force_rtol: float = 1e-6
    mechanics_options: dict = dataclasses.field(default_factory=dict)
    contact_options: dict = dataclasses.field(default_factory=dict)
    moving: bool = False

    @property
    def pressure_profile(self) -> str:
        """The prescribed pressure of the shape: "punch" (Sneddon) or "hertz"."""
        return "punch" if self.shape == "flat" else "hertz"


@dataclasses.dataclass(frozen=True)
class PrescribedLoadReport:
    """The elastic solve under a prescribed pressure (its summary.json keys)."""

    n_dofs: int
    ksp_type: str
    pc_type: str
    ksp_iterations: int
    ksp_reason: str
    time_assemble_s: float

    def summary(self) -> dict:
        """The keys of summary.json."""
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class ContactReport:
    """The force-controlled contact solve (its summary.json keys)."""

    n_dofs: int
    newton_iterations: int
    initial_guess_ksp_iterations: int
    linear_iterations: int
    contact_solves: int
    force_balance_error: float
    contact_gamma: float
    contact_theta: int

    def summary(self) -> dict:
        """The keys of summary.json."""
        return dataclasses.asdict(self)


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
        report: What the solver did.
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
    report: PrescribedLoadReport | ContactReport
    prescribed: TipPressure | None = None
    contact: NitscheContact | None = None
    dx_solid: ufl.Measure | None = None


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


def _displacement_space(stack: StackMesh, params: TipProblemParameters, scales: Scales):
    """The displacement's space, the scaled stiffness and the mechanical boundary conditions."""
    V = dolfinx.fem.functionspace(stack.msh, ("Lagrange", params.degree, (3,)))
    stiffness = mechanics.stiffness_constant(stack.msh, params.elasticity.voigt(), scales.stress)
    return V, stiffness, mechanical_bcs(V, stack, solid_measure(stack))


def solve_prescribed(stack: StackMesh, params: TipProblemParameters, scales: Scales,
                     contact_radius: float | None = None, profile: str | None = None) -> TipLoadSolution:
    """Elasticity under the Hertz (sphere) or Sneddon (flat) pressure on the contact disc.

    Args:
        stack: The mesh.
        params: The tip load.
        scales: Unit scales.
        contact_radius: Radius of the pressure (length scale) if not the mesh's contact
            disc (the first guess of a solved contact uses the predicted radius).
        profile: A pressure profile of :mod:`flexotip.fem.loads` in place of the tip
            shape's; "gaussian" (the spectral cross-check's smooth load) acts on the
            whole film top.

    Raises:
        SolverError: If the linear solver does not converge.
    """
    msh, geometry = stack.msh, stack.geometry
    V, stiffness, bcs = _displacement_space(stack, params, scales)
    band = geometry.edge_band or (params.cell_size / scales.length if contact_radius else 0.0)
    profile = profile or params.pressure_profile
    load = TipPressure.create(
        msh, profile, force=params.force / scales.force,
        contact_radius=contact_radius or geometry.contact_radius,
        center=geometry.contact_center, edge_band=band)
    ds_contact = top_measure(stack) if profile == "gaussian" or params.moving else contact_measure(stack)
    dx_solid = solid_measure(stack)
    a, L = mechanics.elastic_forms(V, stiffness, load, ds_contact, dx_solid)
    if dx_solid is not None:  # the air's (pinned) dofs keep their place in the sparsity
        zero = dolfinx.fem.Constant(msh, dolfinx.default_scalar_type(0.0))
        dx = ufl.Measure("dx", domain=msh, subdomain_data=stack.cell_tags)
        a += zero * ufl.inner(ufl.TrialFunction(V), ufl.TestFunction(V)) * dx(stack.groups[names.AIR])
    uh = dolfinx.fem.Function(V, name="displacement")
    options = solver_options.petsc_options(solver_options.LINEAR_SOLVERS[params.linear_solver],
                                           params.mechanics_options)
    log.info("solving elasticity: %d displacement dofs, P%d, %s solver",
             V.dofmap.index_map.size_global * 3, params.degree, params.linear_solver)
    solve = solvers.solve_linear(a, L, uh, bcs, prefix=solver_options.MECHANICS_PREFIX,
                                 options=options, near_nullspace=True)
    applied = assemble_scalar(mechanics.applied_force_form(load, ds_contact))
    report = PrescribedLoadReport(solve.n_dofs, solve.ksp_type, solve.pc_type, solve.iterations,
                                  solve.reason, solve.time_assemble_s)
    x = ufl.SpatialCoordinate(msh)
    return TipLoadSolution(uh, stiffness, ds_contact, load.pressure(x), applied, None, report,
                           prescribed=load, dx_solid=dx_solid)


def solve_contact(stack: StackMesh, params: TipProblemParameters, scales: Scales) -> TipLoadSolution:
    """Force-controlled frictionless contact of the rigid tip with the film top (Nitsche).

    The tip height h(r) enters the gap exactly (:func:`tip_height`), capped at the depth
    of the box, a gap no film surface can close. The first displacement is that under the
    predicted (Hertz or Sneddon) pressure: its contact set is nearly right, so Newton does
    not crawl towards it one ring of facets per iteration, and its indentation is the
    first approach. The approach δ is then found by
    :func:`flexotip.fem.contact.find_approach`, each step a SNES solve that starts from
    the previous displacements (secant predictor).

    Raises:
        SolverError: If a Newton solve does not converge.
        flexotip.fem.contact.ApproachNotFoundError: If the force is not reached.
    """
    V, stiffness, bcs = _displacement_space(stack, params, scales)
    contact, ds_top = _nitsche_contact(stack, params, scales)
    uh = dolfinx.fem.Function(V, name="displacement")
    options = solver_options.petsc_options(
        {**solver_options.LINEAR_SOLVERS[params.linear_solver], **solver_options.NEWTON},
        params.contact_options)
    solver = solvers.NonlinearSolver(contact_residual(uh, stiffness, contact, ds_top), uh, bcs,
                                     prefix=solver_options.CONTACT_PREFIX, options=options,
                                     near_nullspace=True)
    guess = solve_prescribed(stack, params, scales, params.contact_radius / scales.length)
    uh.x.array[:] = guess.uh.x.array
    log.info("solving contact: %d displacement dofs, P%d, Nitsche γ0 = %g, θ = %d",
             V.dofmap.index_map.size_global * 3, params.degree, params.contact_gamma,
             params.contact_theta)
    search = _force_control(stack, params, scales, solver, contact, uh,
                            dolfinx.fem.form(contact.pressure(uh, stiffness) * ds_top))
    report = ContactReport(
        n_dofs=solver.n_dofs, newton_iterations=solver.newton_iterations,
        initial_guess_ksp_iterations=guess.report.ksp_iterations,
        linear_iterations=solver.linear_iterations, contact_solves=search.iterations,
        force_balance_error=search.force / _meshed_force(params, scales) - 1,
        contact_gamma=params.contact_gamma, contact_theta=params.contact_theta)
    log.info("contact: approach %.5g nm after %d solves, %d Newton and %d linear iterations",
             search.approach * scales.length * 1e9, search.iterations, solver.newton_iterations,
             solver.linear_iterations)
    return TipLoadSolution(uh, stiffness, ds_top, contact.pressure(uh, stiffness), search.force,
                           search.approach, report, contact=contact)


def _meshed_force(params: TipProblemParameters, scales: Scales) -> float:
    """The force on the meshed part of the tip's footprint (force scale)."""
    return params.force * params.symmetry_fraction / scales.force


def _nitsche_contact(stack: StackMesh, params: TipProblemParameters,
                     scales: Scales) -> tuple[NitscheContact, ufl.Measure]:
    """The Nitsche contact of the scaled tip and its measure on the whole film top."""
    msh, geometry = stack.msh, stack.geometry
    tip = tips.in_units(params.tip, scales.length)
    ceiling = geometry.film_thickness + geometry.substrate_thickness
    height = tip_height(tip, msh, geometry.contact_center, ceiling, params.degree)

    def constant(value):
        return dolfinx.fem.Constant(msh, dolfinx.default_scalar_type(value))

    contact = NitscheContact(height, constant(0.0), constant(params.contact_gamma),
                             params.contact_modulus / scales.stress, theta=params.contact_theta)
    ds = ufl.Measure("ds", domain=msh, subdomain_data=stack.facet_tags)
    top = (stack.groups[names.CONTACT], stack.groups[names.FILM_TOP])
    return contact, ds(top, metadata={"quadrature_degree": CONTACT_QUADRATURE_DEGREE})


def _force_control(stack: StackMesh, params: TipProblemParameters, scales: Scales,
                   solver: solvers.NonlinearSolver, contact: NitscheContact,
                   uh: dolfinx.fem.Function, force_form):
    """Find the approach whose contact force is the tip's; ``uh`` starts from a guess."""
    geometry = stack.geometry
    x0, y0 = geometry.contact_center
    centre = PointEvaluator(stack.msh, np.array([[x0, y0, 0.0]]))
    initial = max(-float(centre(uh)[0, 2]), 1e-6 * geometry.contact_radius)
    exponent = 1.0 if isinstance(params.tip, tips.FlatTip) else 1.5
    converged: list[tuple[float, np.ndarray]] = []

    def force_at(delta: float) -> float:
        if len(converged) >= 2:  # secant predictor from the last two solutions
            (d0, u0), (d1, u1) = converged[-2:]
            uh.x.array[:] = u1 + (delta - d1) / (d1 - d0) * (u1 - u0)
        contact.approach.value = delta
        solver.solve()
        converged.append((delta, uh.x.array.copy()))
        return assemble_scalar(force_form)

    log.info("force control: first approach %.4g nm", initial * scales.length * 1e9)
    return find_approach(force_at, _meshed_force(params, scales), initial, exponent,
                         rtol=params.contact_force_rtol)
