"""The oxygen vacancies in the film's field, with their space charge fed back into Gauss's law.

:func:`solve_with_vacancies` reads as its steps: the log-density space and its space
charge → the (u, P, φ) solve with that charge (:mod:`flexotip.fem.electromechanical_problem`)
→ the film region and the surface condition → one of three solves:

* steady, blocking film: the Poisson–Boltzmann problem (:func:`_poisson_boltzmann`);
* steady, fixed surface: the steady Nernst–Planck equations (:func:`_steady_nernst_planck`);
* transient: backward-Euler Nernst–Planck steps from c = c0
  (:mod:`flexotip.fem.vacancy_transient`).

ρ = z·e·(c − c0): the initial uniform density is neutral (c0 is the compensating
background). The discretisation is :mod:`flexotip.fem.vacancies`.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable

import dolfinx.fem
import numpy as np
import ufl

from flexotip.fem import solvers, vacancies
from flexotip.fem.bcs import dofs_outside
from flexotip.fem.electromechanical_problem import (
    ElectromechanicalParameters,
    ElectromechanicalSolution,
    solve_electromechanics,
)
from flexotip.fem.postprocess import assemble_scalar, global_max, global_min
from flexotip.fem.scan_problem import MovingTip
from flexotip.fem.time_stepping import AdaptiveStepper, History
from flexotip.fem.tip_problem import TipLoadSolution
from flexotip.fem.vacancy_checkpoint import Checkpointing
from flexotip.fem.vacancy_transient import run_transient
from flexotip.geometry.mesh import StackMesh
from flexotip.materials import VacancyMaterial
from flexotip.units import Scales

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class VacancyParameters:
    """What the vacancy solve needs, SI (built by :mod:`flexotip.pipeline.parameters`).

    Attributes:
        material: The vacancies' density, diffusivity, charge and temperature.
        degree: Lagrange degree of ln(c/c0) (the potential's).
        transient: Step in time from c = c0 instead of solving the steady state.
        surface: "blocking" (no flux through the film top) or "fixed" (c = c0 there).
        relative_permittivity: κ_b + χ, for the reported Debye length.
        first_step: First time step, s; None: a tenth of the diffusion time across the
            smallest cell.
        time_tolerance: Largest estimated error of ln c per step.
        quasi_steady_rtol: Quasi-steady when max|Δc| per step ≤ this × max c.
        max_steps: Largest number of accepted steps.
        t_end: End time, s; None: until quasi-steady.
        options: The user's PETSc options of the Nernst–Planck Newton solve.
        max_step: Largest time step, s (a scan's: the tip moves a fraction of the contact
            radius per step).
        stops: Times (s) steps end on exactly (a scan's turns, the saved maps).
        until_steady: Stop once quasi-steady (off for a scan, which runs to ``t_end``).
    """

    material: VacancyMaterial
    degree: int
    transient: bool = False
    surface: str = "blocking"
    relative_permittivity: float = 1.0
    first_step: float | None = None
    time_tolerance: float = 1e-3
    quasi_steady_rtol: float = 1e-6
    max_steps: int = 1000
    t_end: float | None = None
    options: dict = dataclasses.field(default_factory=dict)
    max_step: float = math.inf
    stops: tuple[float, ...] = ()
    until_steady: bool = True

    @property
    def boltzmann(self) -> bool:
        """Whether the steady state is the Poisson–Boltzmann one (steady, blocking film)."""
        return not self.transient and self.surface == "blocking"


@dataclasses.dataclass(frozen=True)
class VacancyReport:
    """What the vacancy solve did (summary.json keys) and, for a transient, its history.

    Attributes:
        debye_length_m: Screening length of the vacancies alone, m.
        thermal_voltage_V: k_B·T/(z·e), V.
        solver: "boltzmann", "steady" or "transient".
        rounds: Fixed-point rounds of a steady solve, else None.
        newton_iterations: Nernst–Planck Newton iterations (None for Poisson–Boltzmann).
        em_updates: Re-solves of (u, P, φ) after the space charge changed (or the tip moved).
        time_s: Wall time, s.
        time_em_updates_s: The part of it spent re-solving (u, P, φ), s.
        history: The transient's steps, else None.
    """

    debye_length_m: float
    thermal_voltage_V: float  # noqa: N815 — the unit V, as in the summary key
    solver: str
    rounds: int | None
    newton_iterations: int | None
    em_updates: int
    time_s: float
    history: History | None = None
    time_em_updates_s: float = 0.0

    def summary(self) -> dict:
        """The keys of summary.json."""
        keys = {"vacancy_debye_length_m": self.debye_length_m,
                "vacancy_thermal_voltage_V": self.thermal_voltage_V, "vacancy_solver": self.solver}
        if self.history is not None:
            history = self.history
            keys |= {"vacancy_steps": len(history), "vacancy_rejected_steps": history.rejected,
                     "vacancy_t_final_s": history.times[-1] if len(history) else 0.0,
                     "t_quasi_steady_s": history.t_quasi_steady}
            drift, c_min = history.columns.get("total_relative_change"), history.columns.get("c_min_relative")
            if drift:  # the guards' worst values (vacancy_transient), reported whether or not they fired
                keys |= {"vacancy_total_drift_max": max(abs(d) for d in drift),
                         "vacancy_c_min_relative_min": min(c_min)}
        else:
            keys["vacancy_rounds"] = self.rounds
        if self.newton_iterations is not None:
            keys["vacancy_newton_iterations"] = self.newton_iterations
        return keys | {"vacancy_em_updates": self.em_updates, "time_vacancies_s": self.time_s,
                       "time_vacancy_em_updates_s": self.time_em_updates_s}


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
        report: What the solve did.
    """

    w: dolfinx.fem.Function
    material: VacancyMaterial
    dx: ufl.Measure
    film_dofs: np.ndarray
    outside: np.ndarray
    total_initial: float
    total_final: float
    report: VacancyReport

    @property
    def history(self) -> History | None:
        """The transient's history, None for a steady solve."""
        return self.report.history


@dataclasses.dataclass
class _Coupling:
    """The electromechanical state the vacancies live in, re-solved after each density change.

    With a moving tip the load moves too: the tip is placed where it is at the step's end and
    (u, P, φ) re-solved by Newton from the previous state (two or three iterations). A frozen
    Jacobian does not serve here: the electrostrictive stiffness of P (Q·σ, of the order of
    α1 under the tip) moves with the tip, and updates with the old factorisation converged
    by only ×0.25–0.5 per step (measured on the scan tests' mesh).
    """

    em: ElectromechanicalSolution
    tip: MovingTip | None = None
    updates: int = 0
    time_s: float = 0.0

    def update(self, t: float | None = None) -> None:
        start = time.perf_counter()
        if self.tip is not None and t is not None:
            self.tip.place(t)
            self.em.solver.solve()
        else:
            self.em.solver.update()
        self.updates += 1
        self.time_s += time.perf_counter() - start


def solve_with_vacancies(stack: StackMesh, params: VacancyParameters, em_params: ElectromechanicalParameters,
                         scales: Scales, tip: TipLoadSolution, contact_radius: float,
                         observe: Callable | None = None, initial: Callable | None = None,
                         tip_motion: MovingTip | None = None, checkpoints: Checkpointing | None = None
                         ) -> tuple[ElectromechanicalSolution, VacancySolution]:
    """(u, P, φ) and the oxygen vacancies, with the vacancy space charge in Gauss's law.

    Args:
        stack: The mesh.
        params: The vacancies' material and solve.
        em_params: The (u, P, φ) material and solve.
        scales: Unit scales.
        tip: The solved tip load.
        contact_radius: Radius (length scale) of the disc held at the tip's potential.
        observe: Called as observe(t, w) after each accepted transient step (and once at
            t = 0); the dict it returns (SI, named columns) is added to the history's row.
        initial: Sets ln(c/c0) at t = 0 (a Function on the potential's space), before the
            first (u, P, φ) solve; None: uniform c = c0.
        tip_motion: A scanning tip, moved to where it is at the end of each transient step.
        checkpoints: A transient's checkpoints, and the state it resumes from
            (:mod:`flexotip.fem.vacancy_checkpoint`).

    Raises:
        SolverError: If a Newton solve fails (a transient step only after Δt was
            quartered ten times), or a steady fixed point does not settle in 30 rounds.
    """
    material = params.material
    V = dolfinx.fem.functionspace(stack.msh, ("Lagrange", params.degree))  # the potential's space
    w = dolfinx.fem.Function(V, name="log_density")
    if initial is not None:
        initial(w)
    shift = dolfinx.fem.Constant(stack.msh, dolfinx.default_scalar_type(0.0))
    thermal_voltage = material.thermal_voltage / scales.potential

    def space_charge(phi):
        relative = ufl.exp(shift - phi / thermal_voltage) if params.boltzmann else ufl.exp(w)
        return material.space_charge(relative, scales)

    coupling = _Coupling(solve_electromechanics(stack, em_params, scales, tip, contact_radius,
                                                space_charge=space_charge), tip_motion)
    em = coupling.em
    if not np.array_equal(em.phi.function_space.dofmap.list, V.dofmap.list):
        raise RuntimeError("the vacancy and potential spaces must share their dof layout")
    dx = em.domains.dx_film(metadata={"quadrature_degree": vacancies.quadrature_degree(params.degree)})
    outside = dofs_outside(V, em.domains.dx_film)
    film_dofs = np.setdiff1d(np.arange(V.dofmap.index_map.size_local, dtype=np.int32), outside)
    total_initial = assemble_scalar(dolfinx.fem.form(ufl.exp(w) * dx))
    start = time.perf_counter()
    rounds = newton = history = None
    if params.boltzmann:
        rounds = _poisson_boltzmann(w, shift, coupling, dx, thermal_voltage, total_initial, outside)
    else:
        transport = vacancies.NernstPlanck(w, em.phi, dx, material, scales,
                                           _boundary_conditions(stack, V, outside, params.surface),
                                           params.options)
        if params.transient:
            history = run_transient(_stepper(stack, params, scales), transport, w, film_dofs, coupling,
                                    observe, checkpoints)
        else:
            rounds = _steady_nernst_planck(transport, w, film_dofs, coupling, thermal_voltage, outside)
        newton = transport.solver.newton_iterations
    solver = "boltzmann" if params.boltzmann else "transient" if params.transient else "steady"
    report = VacancyReport(material.debye_length(params.relative_permittivity), material.thermal_voltage,
                           solver, rounds, newton, coupling.updates, time.perf_counter() - start, history,
                           coupling.time_s)
    total_final = assemble_scalar(dolfinx.fem.form(ufl.exp(w) * dx))
    return em, VacancySolution(w, material, dx, film_dofs, outside, total_initial, total_final, report)


def _stepper(stack: StackMesh, params: VacancyParameters, scales: Scales) -> AdaptiveStepper:
    """The transient's stepper; the first step is a tenth of the diffusion time across the smallest cell."""
    msh = stack.msh
    cells = np.arange(msh.topology.index_map(msh.topology.dim).size_local, dtype=np.int32)
    h_min = global_min(msh.h(msh.topology.dim, cells), msh.comm) * scales.length
    first_step = params.first_step or 0.1 * h_min**2 / params.material.diffusivity
    return AdaptiveStepper(first_step=min(first_step, params.max_step), t_end=params.t_end,
                           rtol=params.quasi_steady_rtol, max_steps=params.max_steps,
                           tolerance=params.time_tolerance, max_step=params.max_step, stops=params.stops,
                           until_steady=params.until_steady)


def _boundary_conditions(stack: StackMesh, V: dolfinx.fem.FunctionSpace, outside: np.ndarray,
                         surface: str) -> list[dolfinx.fem.DirichletBC]:
    """Dirichlet conditions: ln c pinned off the film, and ln c = 0 (c = c0) on a fixed film top."""
    bcs = [dolfinx.fem.dirichletbc(dolfinx.default_scalar_type(0.0), outside, V)]
    if surface == "fixed":
        top = dolfinx.fem.locate_dofs_topological(V, stack.msh.topology.dim - 1, stack.film_top_facets())
        bcs.append(dolfinx.fem.dirichletbc(dolfinx.default_scalar_type(0.0), top, V))
    return bcs


def _poisson_boltzmann(w: dolfinx.fem.Function, shift: dolfinx.fem.Constant, coupling: _Coupling,
                       dx: ufl.Measure, thermal_voltage: float, total_initial: float,
                       outside: np.ndarray) -> int:
    """The Poisson–Boltzmann steady state of a blocking film; returns the rounds taken.

    c = c0·exp(λ − φ/V_T) is in Gauss's law and Newton solves (u, P, φ) for a fixed λ; λ is
    then updated to restore the total, λ += ln(N0/N(λ)), and (u, P, φ) re-solved by a
    linearised step, until λ changes by less than 1e-13 (three or four rounds: λ_D ≫ film,
    the feedback is weak). w = λ − φ/V_T is the discrete steady state of the transient
    scheme (:mod:`flexotip.fem.vacancies`).
    """
    phi = coupling.em.phi
    boltzmann_total = dolfinx.fem.form(ufl.exp(shift - phi / thermal_voltage) * dx)

    def round_(number: int) -> bool:
        correction = math.log(total_initial / assemble_scalar(boltzmann_total))
        shift.value += correction
        log.info("Poisson–Boltzmann round %d: λ = %.15g (change %.3e)", number, float(shift.value),
                 correction)
        if abs(correction) < 1e-13:
            return True
        coupling.update()
        return False

    rounds = solvers.fixed_point(round_, solver="poisson_boltzmann", what="λ")
    vacancies.set_boltzmann(w, phi, thermal_voltage, float(shift.value), outside)
    return rounds


def _steady_nernst_planck(transport: vacancies.NernstPlanck, w: dolfinx.fem.Function,
                          film_dofs: np.ndarray, coupling: _Coupling, thermal_voltage: float,
                          outside: np.ndarray) -> int:
    """The steady Nernst–Planck state with a fixed film top, alternated with the (u, P, φ) update.

    Starts from the Boltzmann distribution (exact for a uniform top potential) and stops when
    w moves by less than 1e-10 in a round; returns the rounds taken.
    """
    vacancies.set_boltzmann(w, coupling.em.phi, thermal_voltage, 0.0, outside)
    comm = w.function_space.mesh.comm

    def round_(_number: int) -> bool:
        previous = w.x.array.copy()
        transport.solve_steady()
        coupling.update()
        return global_max(np.abs(w.x.array - previous)[film_dofs], comm) < 1e-10

    return solvers.fixed_point(round_, solver="vacancies_steady", what="ln c")
