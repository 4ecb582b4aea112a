"""Benchmark: the coupled (u, P, φ) steady solve against the elastic solve on the same mesh.

The paper's sphere (cubic STO, 4 µN, Hertz pressure, short circuit, default coefficients)
on the default box with quarter symmetry, P1, at four contact-edge cell sizes, with the
direct (MUMPS) and the block-preconditioned FGMRES solver (fem/preconditioners.py).
Records dofs per field, Newton and linear iterations, wall times, their ratio to the
elastic CG solve, the time of one Jacobian assembly (times the Newton steps, the part of
the cost that no linear solver removes), peak memory and the summary quantities (their
change under refinement is the mesh sensitivity of the calibrated P_axis_max). Writes
``benchmarks/results/electromechanics.json`` and the table in ``benchmarks/README.md``.
Goal (issue 4): the coupled solve costs ≤ 4× the elastic solve, with iteration counts
nearly flat under refinement.

Run: ``mpiexec -n 2 python benchmarks/electromechanics.py``; ``--smoke [--out DIR]``: both
solvers on one coarse level, the JSON to DIR, README untouched.
"""

from __future__ import annotations

import pathlib
import sys
import time

from mpi4py import MPI

import flexotip  # noqa: F401  (loads MPI first for the pip wheel)
from flexotip import config as config_module
from flexotip.exports.electric import ElectricCuts, ElectricFields
from flexotip.fem.electromechanical_problem import solve_electromechanics
from flexotip.fem.tip_problem import solve_prescribed
from flexotip.geometry.mesh import build_mesh
from flexotip.pipeline import parameters
from flexotip.units import Scales

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import report
from elastic_tip import peak_memory_mb, reset_peak_memory
from report import plain_mesh_sections

LEVELS = ((0.7e-9, 0.3), (0.5e-9, 0.15), (0.35e-9, 0.075), (0.25e-9, 0.05))
"""(contact-edge cell size m, growth per unit distance): each level refines the edge and
the whole neighbourhood of the tip."""
SMOKE_LEVELS = ((1.0e-9, 0.4),)
"""One level coarser than the first: seconds per solver."""
SOLVERS = ("direct", "block")


def run_case(comm: MPI.Comm, contact_size: float, growth: float, solver: str) -> dict:
    """Elastic and coupled solves on one mesh; return the measurements."""
    config = config_module.from_dict(plain_mesh_sections({
        "film": {"symmetry": "quarter"},
        "mesh": {"contact_size": contact_size, "growth": growth},
        "solve": {"electromechanics_solver": solver},
    }), source="benchmark")
    scales = Scales()
    reset_peak_memory()
    stack = build_mesh(comm, parameters.stack_geometry(config, scales))
    em_params = parameters.electromechanical_problem(config)
    comm.Barrier()
    start = time.perf_counter()
    tip = solve_prescribed(stack, parameters.tip_problem(config), scales)
    comm.Barrier()
    time_elastic = time.perf_counter() - start
    radius = stack.geometry.contact_radius
    start = time.perf_counter()
    em = solve_electromechanics(stack, em_params, scales, tip, radius)
    comm.Barrier()
    time_em = time.perf_counter() - start
    problem = em.solver.problem
    start = time.perf_counter()
    problem.solver.computeJacobian(problem.x, problem.A)
    comm.Barrier()
    time_jacobian = time.perf_counter() - start
    electric = ElectricFields.recover(stack, em, scales)
    keys = ElectricCuts(stack, em_params, scales).compute(em, electric, radius).summary
    max_rank, total = peak_memory_mb(comm)
    r = em.report
    return {
        "solver": solver, "contact_size_m": contact_size, "growth": growth, "n_cells": stack.report.n_cells,
        "n_dofs": r.em_n_dofs, "n_dofs_displacement": r.n_dofs_displacement,
        "n_dofs_polarization": r.n_dofs_polarization, "n_dofs_potential": r.n_dofs_potential,
        "time_elastic_s": time_elastic, "ksp_iterations_elastic": tip.report.ksp_iterations,
        "time_electromechanics_s": time_em, "time_ratio": time_em / time_elastic,
        "time_jacobian_s": time_jacobian,
        "newton_iterations": r.em_newton_iterations, "linear_iterations": r.em_linear_iterations,
        "peak_memory_per_rank_MB": max_rank, "peak_memory_total_MB": total,
        **{k: keys[k] for k in ("P_axis_max_C_per_m2", "max_abs_P_C_per_m2", "Ez_below_tip_V_per_m",
                                "Ez_contact_edge_V_per_m")},
    }


def markdown_table(results: list[dict]) -> str:
    """The measurements as a Markdown table."""
    lines = ["| solver | edge cells (nm), growth | dofs (u / P / φ) | elastic (s) | coupled (s) | ratio "
             "| one Jacobian (s) | Newton | linear its | peak MB/rank | P_axis_max (C/m²) "
             "| max\\|P\\| (C/m²) "
             "| E_z below tip (V/m) | E_z edge (V/m) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(
            f"| {r['solver']} | {r['contact_size_m'] * 1e9:.2f}, {r['growth']} "
            f"| {r['n_dofs_displacement']:,} / {r['n_dofs_polarization']:,} / {r['n_dofs_potential']:,} "
            f"| {r['time_elastic_s']:.1f} "
            f"| {r['time_electromechanics_s']:.1f} | {r['time_ratio']:.0f} | {r['time_jacobian_s']:.2f} "
            f"| {r['newton_iterations']} "
            f"| {r['linear_iterations']} | {r['peak_memory_per_rank_MB']:.0f} "
            f"| {r['P_axis_max_C_per_m2']:.4f} | {r['max_abs_P_C_per_m2']:.3f} "
            f"| {r['Ez_below_tip_V_per_m']:.3e} | {r['Ez_contact_edge_V_per_m']:.3e} |")
    return "\n".join(lines)


def main() -> None:
    """Run the cases (or the smoke level), write JSON and the README table (rank 0)."""
    args = report.arguments(__doc__)
    comm = MPI.COMM_WORLD
    levels = SMOKE_LEVELS if args.smoke else LEVELS
    results = [run_case(comm, size, growth, solver) for solver in SOLVERS for size, growth in levels]
    if comm.rank == 0:
        report.write("electromechanics", comm.size, "cases", results, markdown_table(results),
                     smoke_dir=args.out, smoke=args.smoke)


if __name__ == "__main__":
    main()
