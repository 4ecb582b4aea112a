"""The flexoelectric state (u, P, φ) of the film under the tip: steady, or relaxed by TDGL.

:func:`solve_electromechanics` reads as its steps: scaled constants and domains → fields
(u from the tip-load solution, P and φ from zero) → residuals (derivatives of the free
energy of :mod:`flexotip.fem.electromechanics`, plus the tip pressure, the TDGL drag and
an optional space charge) → boundary conditions → Newton solver → the steady solve or the
TDGL relaxation (:class:`TDGLRelaxation` under :class:`~flexotip.fem.time_stepping.AdaptiveStepper`).
:func:`applied_potential` splits off the field of the tip bias alone.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable

import dolfinx.fem
import ufl

from flexotip.errors import SolverError
from flexotip.fem import electromechanics, mechanics, solver_options, solvers, vacancies
from flexotip.fem.bcs import mechanical_bcs, polarization_bcs, potential_bcs
from flexotip.fem.domains import film_domains, solid_measure, tip_facets
from flexotip.fem.postprocess import assemble_scalar, largest_nodal_norm
from flexotip.fem.time_stepping import CHANGE, AdaptiveStepper, History
from flexotip.fem.tip_problem import TipLoadSolution
from flexotip.geometry.mesh import StackMesh
from flexotip.materials import ElectromechanicalMaterial
from flexotip.units import Scales

log = logging.getLogger(__name__)

ENERGY_RISE_TOLERANCE = 1e-9
"""Largest rise of the TDGL free energy in a step, relative to it, before the run stops (round-off)."""

TDGL_MAX_STEPS = 400
"""Largest number of accepted TDGL steps."""


@dataclasses.dataclass(frozen=True)
class ElectromechanicalParameters:
    """What the (u, P, φ) solve needs, SI (built by :mod:`flexotip.pipeline.parameters`).

    Attributes:
        material: The film's electromechanical constants.
        degree: Lagrange degree of u, P and φ.
        bubbles: Enrich P with interior bubbles (``[mesh] polarization_element = "bubble"``).
        bias: Potential of the tip (the contact disc), V.
        electric_bc: "short-circuit", "air-gap" or "open" (the film top's condition).
        block_solver: FGMRES with the block preconditioner instead of MUMPS.
        options: The user's PETSc options of the (u, P, φ) Newton solve.
        applied_options: The user's PETSc options of the applied-potential solve.
        transient: Relax P by TDGL from P = 0 instead of solving the steady state.
        kinetic_coefficient: TDGL kinetic coefficient L, C/(V·m·s).
        first_step: First TDGL step, s; None: a tenth of the relaxation time.
        t_end: End of the relaxation, s; None: until quasi-steady.
        quasi_steady_rtol: Quasi-steady when max|ΔP| per step ≤ this × max|P|.
    """

    material: ElectromechanicalMaterial
    degree: int
    bubbles: bool = False
    bias: float = 0.0
    electric_bc: str = "short-circuit"
    block_solver: bool = False
    options: dict = dataclasses.field(default_factory=dict)
    applied_options: dict = dataclasses.field(default_factory=dict)
    transient: bool = False
    kinetic_coefficient: float = 2.7e3
    first_step: float | None = None
    t_end: float | None = None
    quasi_steady_rtol: float = 1e-9

    @property
    def relaxation_time(self) -> float:
        """1/(2·α1·L), s: the linear paraelectric's TDGL relaxation time."""
        return 1.0 / (2 * self.material.alpha1 * self.kinetic_coefficient)


@dataclasses.dataclass(frozen=True)
class TDGLReport:
    """The TDGL relaxation: its steps and its history (SI)."""

    steps: int
    relaxation_time_s: float
    t_final_s: float
    t_quasi_steady_s: float | None
    history: History
    energy_rise_max: float | None = None
    """The largest rise of the free energy in a step, relative to it (≤ 0, or round-off: it fell
    every step); the energy guard's worst value (None when the energy is not computed)."""

    def summary(self) -> dict:
        """The keys of summary.json."""
        return {"tdgl_steps": self.steps, "tdgl_relaxation_time_s": self.relaxation_time_s,
                "t_final_s": self.t_final_s, "t_quasi_steady_s": self.t_quasi_steady_s,
                "tdgl_t_quasi_steady_s": self.t_quasi_steady_s,
                "tdgl_energy_rise_max_relative": self.energy_rise_max}


@dataclasses.dataclass(frozen=True)
class ElectromechanicalReport:
    """What the (u, P, φ) solve did (summary.json keys), and the TDGL relaxation if any."""

    em_n_dofs: int
    em_newton_iterations: int
    em_linear_iterations: int
    em_reason: str
    time_em_s: float
    n_dofs_displacement: int
    n_dofs_polarization: int
    n_dofs_potential: int
    tdgl: TDGLReport | None = None

    def summary(self) -> dict:
        """The keys of summary.json."""
        keys = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "tdgl"}
        return (self.tdgl.summary() if self.tdgl is not None else {}) | keys


@dataclasses.dataclass
class ElectromechanicalSolution:
    """The (u, P, φ) of the film under the tip (scaled units).

    Attributes:
        u: Displacement (length scale).
        P: Polarisation (polarisation scale), zero off the film.
        phi: Electric potential (potential scale), zero in the grounded substrate.
        constants: The scaled material constants of the forms.
        stiffness: Scaled Voigt stiffness Constant.
        domains: Integration domains of the energy.
        report: What the solve did.
        solver: The Newton solver, to update the state after its data (the space
            charge) changed.
    """

    u: dolfinx.fem.Function
    P: dolfinx.fem.Function
    phi: dolfinx.fem.Function
    constants: electromechanics.ScaledConstants
    stiffness: dolfinx.fem.Constant
    domains: electromechanics.Domains
    report: ElectromechanicalReport
    solver: solvers.NonlinearSolver | None = None


@dataclasses.dataclass
class _Fields:
    """The unknowns and the TDGL state of one solve."""

    u: dolfinx.fem.Function
    P: dolfinx.fem.Function
    phi: dolfinx.fem.Function
    P_previous: dolfinx.fem.Function
    drag: dolfinx.fem.Constant

    @property
    def unknowns(self) -> list[dolfinx.fem.Function]:
        return [self.u, self.P, self.phi]


def solve_electromechanics(stack: StackMesh, params: ElectromechanicalParameters, scales: Scales,
                           tip: TipLoadSolution, contact_radius: float,
                           space_charge: Callable | None = None) -> ElectromechanicalSolution:
    """Steady (u, P, φ): the stationary point of the free energy under the tip load.

    The tip load is the pressure of ``tip`` (prescribed Hertz/Sneddon, or the solved
    contact's pressure, held fixed: the converse flexoelectric stress changes the
    displacement by a few per cent near the edge and the contact set by less than a
    cell, which this one-way load neglects). u starts from the elastic solution, P and φ
    from zero; Newton on the monolithic block system, each step solved by MUMPS or, with
    the block solver, by FGMRES with the preconditioner of
    :mod:`flexotip.fem.preconditioners`. A transient run relaxes P by TDGL instead.

    Args:
        stack: The mesh.
        params: Material, discretisation and solver.
        scales: Unit scales.
        tip: The solved tip load (its pressure is the mechanical load).
        contact_radius: Radius (length scale) of the disc held at the tip's potential.
        space_charge: ρ(φ), the film's space charge (charge-density scale) as a UFL
            expression of the potential (the vacancies'), or None; integrated with the
            vacancies' quadrature degree.

    Raises:
        SolverError: If Newton (or MUMPS) fails, with PETSc's reason.
    """
    constants = electromechanics.ScaledConstants(stack.msh, params.material, scales)
    domains = film_domains(stack)
    fields = _fields(stack, params, tip)
    residuals, energy = _residuals(fields, tip, constants, domains, params, space_charge)
    bcs = _boundary_conditions(stack, fields, domains, params, scales, contact_radius)
    solver = _newton_solver(residuals, fields, bcs, params)
    start = time.perf_counter()
    if params.transient:  # the energy is the whole one only without the vacancies' charge
        tdgl, newton = _relax(solver, fields, params, scales, energy if space_charge is None else None)
    else:
        tdgl, newton = None, solver.solve()
    V_u, V_P, V_phi = (f.function_space for f in fields.unknowns)
    report = ElectromechanicalReport(
        solver.n_dofs, solver.newton_iterations, solver.linear_iterations, newton.reason,
        time.perf_counter() - start, 3 * V_u.dofmap.index_map.size_global,
        3 * V_P.dofmap.index_map.size_global, V_phi.dofmap.index_map.size_global, tdgl=tdgl)
    return ElectromechanicalSolution(fields.u, fields.P, fields.phi, constants, tip.stiffness, domains,
                                     report, solver)


def _fields(stack: StackMesh, params: ElectromechanicalParameters, tip: TipLoadSolution) -> _Fields:
    """The unknowns (u from the elastic solution, P and φ zero) and the TDGL drag (zero: steady)."""
    msh = stack.msh
    V_P = dolfinx.fem.functionspace(msh, electromechanics.polarization_element(
        params.degree, bubbles=params.bubbles))
    V_phi = dolfinx.fem.functionspace(msh, ("Lagrange", params.degree))
    u = dolfinx.fem.Function(tip.uh.function_space, name="displacement")
    u.x.array[:] = tip.uh.x.array
    # Backward-Euler TDGL drag (P − P_old)/(L·Δt) in the P residual; zero for the steady solve,
    # so both solves share one compiled form.
    drag = dolfinx.fem.Constant(msh, dolfinx.default_scalar_type(0.0))
    return _Fields(u, dolfinx.fem.Function(V_P, name="polarization"),
                   dolfinx.fem.Function(V_phi, name="potential"), dolfinx.fem.Function(V_P), drag)


def _residuals(fields: _Fields, tip: TipLoadSolution, constants: electromechanics.ScaledConstants,
               domains: electromechanics.Domains, params: ElectromechanicalParameters,
               space_charge: Callable | None) -> tuple[list[ufl.Form], ufl.Form]:
    """δF/δ(u, P, φ) of the free energy with the tip pressure, the TDGL drag and ρ(φ), and F.

    F includes the load's potential energy but not ρ(φ)'s; energy-density scale × length³.
    """
    u, P, phi = fields.unknowns
    energy = electromechanics.free_energy(u, P, phi, tip.stiffness, constants, domains,
                                          flexoelectric=params.material.flexoelectric)
    load_measure = tip.ds_load(metadata={"quadrature_degree": mechanics.LOAD_QUADRATURE_DEGREE})
    energy += mechanics.on_surface(tip.pressure * u[2], load_measure) * load_measure
    residuals = [ufl.derivative(energy, w, ufl.TestFunction(w.function_space)) for w in fields.unknowns]
    residuals[1] += fields.drag * ufl.inner(P - fields.P_previous, ufl.TestFunction(P.function_space)) \
        * domains.dx_film
    if space_charge is not None:  # +ρ·ψ, the derivative of ∫G(φ) with G' = ρ
        degree = vacancies.quadrature_degree(params.degree)
        dx_charge = domains.dx_film(metadata={"quadrature_degree": degree})
        residuals[2] += space_charge(phi) * ufl.TestFunction(phi.function_space) * dx_charge
    return residuals, energy


def _boundary_conditions(stack: StackMesh, fields: _Fields, domains: electromechanics.Domains,
                         params: ElectromechanicalParameters, scales: Scales,
                         contact_radius: float) -> list[dolfinx.fem.DirichletBC]:
    """Mechanical supports; P and φ pinned off the film; φ at the bias on the contact disc."""
    u, P, phi = fields.unknowns
    tip_potential = dolfinx.fem.Constant(stack.msh,
                                         dolfinx.default_scalar_type(params.bias / scales.potential))
    return (mechanical_bcs(u.function_space, stack, solid_measure(stack))
            + polarization_bcs(P.function_space, stack, domains.dx_film)
            + potential_bcs(phi.function_space, stack, domains.dielectric, params.electric_bc, tip_potential,
                            tip_facets(stack, contact_radius)))


def _newton_solver(residuals: list[ufl.Form], fields: _Fields, bcs: list[dolfinx.fem.DirichletBC],
                   params: ElectromechanicalParameters) -> solvers.NonlinearSolver:
    """Newton on the monolithic (u, P, φ) system, with MUMPS or the block preconditioner."""
    block = params.block_solver
    defaults = solver_options.ELECTROMECHANICS_BLOCK if block else solver_options.ELECTROMECHANICS
    options = solver_options.petsc_options(defaults, params.options)
    solver = solvers.NonlinearSolver(residuals, fields.unknowns, bcs,
                                     prefix=solver_options.ELECTROMECHANICS_PREFIX, options=options,
                                     split_names=["u", "P", "phi"] if block else None)
    V_u, V_P, V_phi = (f.function_space for f in fields.unknowns)
    log.info("solving electromechanics: %d dofs (u %d, P %d, φ %d), P%d, %s Landau, "
             "electrostriction %s, electric BC %s", solver.n_dofs,
             3 * V_u.dofmap.index_map.size_global, 3 * V_P.dofmap.index_map.size_global,
             V_phi.dofmap.index_map.size_global, params.degree, params.material.landau,
             "on" if params.material.electrostriction else "off", params.electric_bc)
    return solver


def _relax(solver: solvers.NonlinearSolver, fields: _Fields, params: ElectromechanicalParameters,
           scales: Scales, energy: ufl.Form | None) -> tuple[TDGLReport, solvers.NonlinearReport]:
    """The TDGL relaxation from P = 0 to ``t_end`` or quasi-steady; its last Newton report."""
    tau = params.relaxation_time
    stepper = AdaptiveStepper(first_step=params.first_step or 0.1 * tau, t_end=params.t_end,
                              rtol=params.quasi_steady_rtol, max_steps=TDGL_MAX_STEPS)
    relaxation = TDGLRelaxation(solver, fields, params.kinetic_coefficient, scales, params.degree, energy)
    history = stepper.run(relaxation)
    fields.drag.value = 0.0
    report = TDGLReport(len(history), tau, float(history.times[-1]), history.t_quasi_steady, history,
                        relaxation.energy_rise_max if energy is not None and len(history) > 1 else None)
    return report, relaxation.last_report


class TDGLRelaxation:
    """Time-dependent Ginzburg–Landau ∂P/∂t = −L·δF/δP, backward Euler, as a stepped problem.

    u and φ stay in equilibrium with P (quasi-static: they have no dynamics of their
    own). Each step is one Newton solve of the monolithic system with the drag
    (P − P_old)/(L·Δt) in the P equation. Δt doubles after a step that Newton took in at
    most 4 iterations; the step size is not error-controlled. The change per step is
    max|P − P_old| / max|P| over the nodes. As Δt grows past the relaxation time the step
    tends to the steady solve, which is why the long-time limit equals it. With ``energy``
    the history also has the free energy after each step, ``free_energy_J`` (of the meshed
    part, with the load's potential energy −∫p·u_z): a gradient flow's, it must not increase.

    Args:
        solver: The Newton solver whose P residual carries ``fields.drag``·(P − P_previous).
        fields: The unknowns, updated in place.
        mobility: Kinetic coefficient L, C/(V·m·s).
        scales: Unit scales.
        degree: Lagrange degree at whose nodes |P| is measured.
        energy: The free energy (energy-density scale × length³), or None.
    """

    name = "TDGL"

    def __init__(self, solver: solvers.NonlinearSolver, fields: _Fields, mobility: float,
                 scales: Scales, degree: int, energy: ufl.Form | None = None):
        self.solver, self.fields, self.mobility, self.scales, self.degree = (
            solver, fields, mobility, scales, degree)
        self.energy = dolfinx.fem.form(energy) if energy is not None else None
        self.factor = scales.polarization**2 / scales.stress
        self.change_of_step = dolfinx.fem.Function(fields.P.function_space)
        self.last_report: solvers.NonlinearReport | None = None
        self.accepted = 0
        self.previous_energy: float | None = None
        self.energy_rise_max = -math.inf

    def save(self) -> list:  # noqa: D102
        return [w.x.array.copy() for w in self.fields.unknowns]

    def restore(self, saved: list) -> None:  # noqa: D102
        for w, values in zip(self.fields.unknowns, saved, strict=True):
            w.x.array[:] = values

    def step(self, dt: float) -> solvers.NonlinearReport:  # noqa: D102
        self.fields.P_previous.x.array[:] = self.fields.P.x.array
        self.fields.drag.value = self.factor / (self.mobility * dt)
        return self.solver.solve()

    def error(self, dt: float, dt_old: float | None) -> None:  # noqa: D102
        return None

    def accept(self, t: float, dt: float, report, error) -> dict:  # noqa: D102
        P = self.fields.P
        largest, _ = largest_nodal_norm(P, self.degree)
        self.change_of_step.x.array[:] = P.x.array - self.fields.P_previous.x.array
        change = largest_nodal_norm(self.change_of_step, self.degree)[0] / max(largest, 1e-300)
        self.last_report = report
        self.accepted += 1
        log.info("TDGL step %3d: t = %.4g s, Δt = %.3g s, max|P| = %.6g C/m², change %.2e",
                 self.accepted, t, dt, largest * self.scales.polarization, change)
        values = {"max_abs_P_C_per_m2": largest * self.scales.polarization, CHANGE: change}
        if self.energy is not None:
            energy_scale = self.scales.stress * self.scales.length**3  # J
            values["free_energy_J"] = assemble_scalar(self.energy) * energy_scale
            self._guard_energy(values["free_energy_J"], t)
        return values

    def _guard_energy(self, energy: float, t: float) -> None:
        """A gradient flow lowers its free energy every step: a rise beyond round-off stops the run."""
        previous, self.previous_energy = self.previous_energy, energy
        if previous is None:
            return
        rise = (energy - previous) / max(abs(energy), abs(previous), 1e-300)
        self.energy_rise_max = max(self.energy_rise_max, rise)
        if rise > ENERGY_RISE_TOLERANCE:
            raise SolverError(self.name, f"the free energy rose by {rise:.3e} of itself (more than "
                              f"{ENERGY_RISE_TOLERANCE:g}) at TDGL step {self.accepted}, t = {t:.6g} s", 0)

    def growth(self, report: solvers.NonlinearReport, error) -> float:  # noqa: D102
        return 2.0 if report.iterations <= 4 else 1.0


def applied_potential(stack: StackMesh, params: ElectromechanicalParameters, scales: Scales,
                      em: ElectromechanicalSolution, contact_radius: float) -> dolfinx.fem.Function:
    """The potential of the tip bias alone (potential scale): the applied field's.

    Laplace's equation in the background dielectric (film ε0·κ_b, air ε0) with the run's
    electrodes (the contact disc at the bias, the grounded ones at 0), without P or space
    charge. The rest of the solved potential, φ − φ_applied, is that of the bound and
    space charges with every electrode grounded: the depolarisation potential. Both are
    exact parts of φ, since Gauss's law is linear in φ.

    Raises:
        SolverError: If the linear solve fails.
    """
    V = em.phi.function_space
    domains, c = em.domains, em.constants
    trial, test = ufl.TrialFunction(V), ufl.TestFunction(V)
    a = electromechanics.dielectric_form(trial, test, c.permittivity, c, domains)
    L = c.zero * test * domains.dx_film
    bias = dolfinx.fem.Constant(stack.msh, dolfinx.default_scalar_type(params.bias / scales.potential))
    bcs = potential_bcs(V, stack, domains.dielectric, params.electric_bc, bias,
                        tip_facets(stack, contact_radius))
    phi = dolfinx.fem.Function(V, name="applied_potential")
    solvers.solve_linear(a, L, phi, bcs, prefix=solver_options.APPLIED_POTENTIAL_PREFIX,
                         options=solver_options.petsc_options(solver_options.DIRECT, params.applied_options))
    return phi
