"""The vacancy transient: backward-Euler Nernst–Planck steps under the adaptive stepper, with its guards.

:func:`run_transient` steps ln(c/c0) from its initial state (or a checkpoint's) with the
:class:`~flexotip.fem.time_stepping.AdaptiveStepper`; :class:`VacancyTransient` is the
stepped problem. Guards: a step that leaves ln c not finite (NaN/Inf) fails like a Newton
failure (the stepper retries it with a quarter of the step, a bounded number of times);
after a step, (u, P, φ) not finite or a vacancy total that drifts from its initial value by
more than :data:`TOTAL_DRIFT_TOLERANCE` stop the run with the step, the time and the
reason (:class:`~flexotip.errors.SolverError`). The worst drift and the smallest c/c0 are
in the history and the summary whether or not a guard fires.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Protocol

from mpi4py import MPI

import dolfinx.fem
import numpy as np

from flexotip.errors import SolverError
from flexotip.fem import solvers, vacancies, vacancy_checkpoint
from flexotip.fem.electromechanical_problem import ElectromechanicalSolution
from flexotip.fem.postprocess import global_max, global_min
from flexotip.fem.time_stepping import CHANGE, AdaptiveStepper, History
from flexotip.fem.vacancy_checkpoint import Checkpointing

log = logging.getLogger(__name__)

TOTAL_DRIFT_TOLERANCE = 1e-8
"""Largest |∫c(t)/∫c(0) − 1| before the run stops: the scheme conserves to round-off (~1e-14)."""


class Coupling(Protocol):
    """The (u, P, φ) state the vacancies live in (:class:`flexotip.fem.vacancy_problem._Coupling`)."""

    em: ElectromechanicalSolution
    updates: int
    time_s: float

    def update(self, t: float | None = None) -> None:
        """Re-solve (u, P, φ) after the density changed (and place a moving tip at ``t``)."""


def run_transient(stepper: AdaptiveStepper, transport: vacancies.NernstPlanck, w: dolfinx.fem.Function,
                  film_dofs: np.ndarray, coupling: Coupling, observe: Callable | None,
                  checkpoints: Checkpointing | None) -> History:
    """Backward-Euler steps from t = 0 (or a checkpoint) under ``stepper`` (its tolerance, its end)."""
    transient = VacancyTransient(transport, w, film_dofs, coupling, stepper.tolerance, observe)
    if observe is not None:  # the t = 0 record (a resumed run's observer then puts back the rest)
        observe(0.0, w)
    resume = checkpoints.resume if checkpoints is not None else None
    progress = None
    if resume is not None:
        progress = vacancy_checkpoint.restore(resume, transient)
        checkpoints.resumed()
    after_step = None if checkpoints is None else lambda p, last: checkpoints.after_step(
        p, lambda: vacancy_checkpoint.capture(p, transient), last)
    return stepper.run(transient, progress, after_step)


class VacancyTransient:
    """Backward-Euler Nernst–Planck steps in the current φ, as a stepped problem.

    Each accepted step is followed by the linearised (u, P, φ) update with the new space
    charge (φ lags one step). P is quasi-static in this loop: its TDGL relaxation (ps) has
    run before, and Δt ≫ 1 ps makes its backward-Euler step the steady solve. Δt keeps the
    error estimate max|ln c − predictor|·Δt/(Δt + Δt_old) (linear predictor from the last
    two states; half the change for the first step) below the tolerance, growing at most
    ×2 per step. The change per step is max|c − c_old|/max c.

    Args:
        transport: The Nernst–Planck stepper of ``w``.
        w: ln(c/c0), updated in place.
        film_dofs: Owned dofs of w in the film.
        coupling: The (u, P, φ) state to update after each step.
        tolerance: Largest error estimate (the step size follows it).
        observe: observe(t, w) → extra history columns, or None.
    """

    name = "vacancies"

    def __init__(self, transport: vacancies.NernstPlanck, w: dolfinx.fem.Function, film_dofs: np.ndarray,
                 coupling: Coupling, tolerance: float, observe: Callable | None):
        self.transport, self.w, self.film_dofs, self.coupling = transport, w, film_dofs, coupling
        self.tolerance, self.observe = tolerance, observe
        self.comm = w.function_space.mesh.comm
        self.total_initial = transport.total()
        self.start: np.ndarray | None = None
        self.older: np.ndarray | None = None
        self.accepted = 0

    def save(self) -> np.ndarray:  # noqa: D102
        self.start = self.w.x.array.copy()
        return self.start

    def restore(self, saved: np.ndarray) -> None:  # noqa: D102
        self.w.x.array[:] = saved

    def step(self, dt: float) -> solvers.NonlinearReport:  # noqa: D102
        report = self.transport.step(dt)
        if not _finite(self.w, self.comm):  # a failed step: the stepper retries it with Δt/4
            raise SolverError(self.transport.solver.name, f"ln c is not finite (NaN/Inf) after a step of "
                              f"{dt:.3g} s", report.iterations)
        return report

    def error(self, dt: float, dt_old: float | None) -> float:  # noqa: D102
        new, start = self.w.x.array[self.film_dofs], self.start[self.film_dofs]
        if self.older is None:
            return 0.5 * global_max(np.abs(new - start), self.comm)
        predictor = start + dt / dt_old * (start - self.older)
        return global_max(np.abs(new - predictor), self.comm) * dt / (dt + dt_old)

    def accept(self, t: float, dt: float, report: solvers.NonlinearReport, error: float) -> dict:  # noqa: D102
        where = f"at vacancy step {self.accepted + 1}, t = {t:.6g} s"
        self.coupling.update(t)
        em = self.coupling.em
        if not all(_finite(field, self.comm) for field in (em.u, em.P, em.phi)):
            raise SolverError(self.coupling.em.solver.name, f"(u, P, φ) is not finite (NaN/Inf) {where}", 0)
        drift = self.transport.total() / self.total_initial - 1
        if not abs(drift) <= TOTAL_DRIFT_TOLERANCE:
            raise SolverError("vacancy_conservation", f"the vacancy total drifted by {drift:.3e} (more than "
                              f"{TOTAL_DRIFT_TOLERANCE:g}) {where}", self.accepted)
        new, start = self.w.x.array[self.film_dofs], self.start[self.film_dofs]
        c_new, c_start = np.exp(new), np.exp(start)
        c_max = global_max(c_new, self.comm)
        row = {"total_relative_change": drift,
               "c_min_relative": global_min(c_new, self.comm), "c_max_relative": c_max,
               CHANGE: global_max(np.abs(c_new - c_start), self.comm) / c_max,
               "error_estimate": error, "newton_iterations": report.iterations}
        if self.observe is not None:
            row |= self.observe(t, self.w)
        self.accepted += 1
        log.info("vacancy step %3d: t = %.4g s, Δt = %.3g s, c/c0 in [%.4g, %.4g], change %.2e, "
                 "error %.2e", self.accepted, t, dt, row["c_min_relative"], c_max, row[CHANGE], error)
        self.older = start
        return row

    def growth(self, report: solvers.NonlinearReport, error: float) -> float:  # noqa: D102
        return min(2.0, 0.9 * math.sqrt(self.tolerance / max(error, 1e-300)))


def _finite(function: dolfinx.fem.Function, comm) -> bool:
    """Whether every value of ``function`` on every rank is finite (collective)."""
    return bool(comm.allreduce(bool(np.all(np.isfinite(function.x.array))), op=MPI.LAND))
