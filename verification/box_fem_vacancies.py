"""Finite-element side of the FEM ↔ spectral cross-check: vacancies in a box with blocking walls.

Backward-Euler steps of the log-density Nernst–Planck equation
(:class:`flexotip.fem.vacancies.NernstPlanck`) in a fixed Gaussian potential, from the
uniform c = c0 between blocking walls (the mirror box of :mod:`flexotip.verification.box_fem`),
then its steady state. SI at the interface; inside, :class:`flexotip.units.Scales`.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Sequence

from mpi4py import MPI

import dolfinx.fem
import numpy as np
import ufl

from flexotip.fem import vacancies
from flexotip.fem.postprocess import PointEvaluator
from flexotip.materials import VacancyMaterial
from flexotip.units import Scales
from flexotip.verification.box_fem import Bump, box_mesh, origin_dofs


@dataclasses.dataclass(frozen=True)
class BoxVacancies:
    """The vacancy density c/c0 sampled at the requested points, SI.

    Attributes:
        times: The requested times, s, shape (m,).
        density: c/c0 at each time and point, shape (m, n).
        steady: c/c0 of the steady state with the same total, shape (n,).
        total_initial: ∫c dx at t = 0, c0·Lx·Ly·Lz (number of vacancies in the box).
        totals: ∫c dx at each time, shape (m,).
        total_steady: ∫c dx of the steady state.
        stats: n_dofs, steps, newton_iterations (time steps and steady solve), time_s.
    """

    times: np.ndarray
    density: np.ndarray
    steady: np.ndarray
    total_initial: float
    totals: np.ndarray
    total_steady: float
    stats: dict



def _step_counts(times: Sequence[float], dt: float) -> np.ndarray:
    """Number of steps of ``dt`` (s) to reach each of ``times`` (s), which must be multiples of it.

    Raises:
        ValueError: If the times are not increasing, positive multiples of ``dt``.
    """
    times = np.asarray(times, dtype=float)
    counts = np.rint(times / dt).astype(int)
    if dt <= 0 or np.any(counts < 1) or np.any(np.diff(counts) < 0) \
            or not np.allclose(counts * dt, times, rtol=1e-9, atol=0.0):
        raise ValueError(f"times {times.tolist()} s must be increasing positive multiples of dt = {dt} s")
    return counts


def solve_box_nernst_planck(comm: MPI.Comm, lengths: Sequence[float], cells: Sequence[int], degree: int,
                            material: VacancyMaterial, potential: Bump,
                            times: Sequence[float], dt: float, points: np.ndarray,
                            options: dict | None = None) -> BoxVacancies:
    """Relax the vacancies from c = c0 in a fixed Gaussian potential between blocking walls.

    Collective. Backward-Euler steps of Δt = ``dt`` from t = 0, c/c0 sampled at each of
    ``times``, then the steady state. The potential is interpolated into the Lagrange space
    of w = ln(c/c0): the scheme's steady state is then exactly the nodal Boltzmann
    distribution w = λ − φ_h/V_T (:mod:`flexotip.fem.vacancies`), on any mesh, so that the
    density is compared with the spectral one at the nodes with the error of the transient
    alone (the interpolation error of φ, O(h^(k+1)), is that of any discrete potential).

    The steady state: with blocking walls the steady equations fix w only up to a
    constant (their Jacobian is singular), so ``NernstPlanck.solve_steady`` runs from the
    last state with w held at its value at the corner x = 0, and the constant is then
    shifted to restore the conserved total (∇w, hence the steady equations, unchanged).

    Args:
        comm: Communicator of the mesh.
        lengths: (Lx, Ly, Lz), m.
        cells: (nx, ny, nz), cells per side.
        degree: Lagrange degree of w.
        material: Vacancy constants (SI).
        potential: Gaussian φ(x) (amplitude V).
        times: Sampling times, s, increasing multiples of ``dt``.
        dt: Time step, s.
        points: Where to sample, shape (n, 3), m.
        options: PETSc options over :data:`flexotip.fem.solver_options.NERNST_PLANCK`.

    Returns:
        c/c0 at ``points`` at each time and at steady state, the totals, statistics.

    Raises:
        ValueError: If ``times`` are not multiples of ``dt``.
        SolverError: If a Newton solve fails.
    """
    counts = _step_counts(times, dt)
    start = time.perf_counter()
    scales = Scales()
    msh = box_mesh(comm, lengths, cells, scales)
    V = dolfinx.fem.functionspace(msh, ("Lagrange", degree))
    phi = dolfinx.fem.Function(V, name="potential")
    phi.interpolate(lambda x: potential(x.T * scales.length) / scales.potential)
    w = dolfinx.fem.Function(V, name="log_density")
    dx = ufl.Measure("dx", msh, metadata={"quadrature_degree": vacancies.quadrature_degree(degree)})
    transport = vacancies.NernstPlanck(w, phi, dx, material, scales, [], options=options)
    evaluator = PointEvaluator(msh, np.asarray(points, dtype=float).reshape(-1, 3) / scales.length)
    to_number = material.c0 * scales.length**3

    # c0·V is the exact discrete initial total (e^0 = 1 at every quadrature point); assembling
    # it would add identical cell contributions, whose rounding errors pile up (6e-13 measured).
    total_initial = material.c0 * float(np.prod(lengths))
    densities, totals, done = [], [], 0
    for count in counts:
        for _ in range(count - done):
            transport.step(dt)
        done = count
        densities.append(np.exp(evaluator(w)[:, 0]))
        totals.append(transport.total() * to_number)
    steady_iterations = _steady_state(w, phi, dx, material, scales, transport.total(),
                                      np.asarray(lengths, dtype=float) / scales.length, options)
    stats = {"n_dofs": V.dofmap.index_map.size_global, "steps": int(done),
             "newton_iterations": transport.solver.newton_iterations + steady_iterations}
    result = BoxVacancies(times=np.asarray(times, dtype=float), density=np.array(densities),
                          steady=np.exp(evaluator(w)[:, 0]), total_initial=total_initial,
                          totals=np.asarray(totals), total_steady=transport.total() * to_number,
                          stats=stats)
    stats["time_s"] = time.perf_counter() - start
    return result


def _steady_state(w: dolfinx.fem.Function, phi: dolfinx.fem.Function, dx: ufl.Measure,
                  material: VacancyMaterial, scales: Scales, total: float,
                  upper: np.ndarray, options: dict | None) -> int:
    """Replace ``w`` by the steady state with ∫e^w dx = ``total`` (scaled); returns Newton iterations.

    ``upper``: the box's far corner in the mesh unit; ``options``: PETSc overrides.
    """
    V = w.function_space
    held = dolfinx.fem.Function(V)
    held.x.array[:] = w.x.array
    pin = dolfinx.fem.dirichletbc(held, origin_dofs(V, upper))
    steady = vacancies.NernstPlanck(w, phi, dx, material, scales, [pin], options=options)
    steady.solve_steady()
    w.x.array[:] += math.log(total / steady.total())
    w.x.scatter_forward()
    return steady.solver.newton_iterations
