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

Run: ``mpiexec -n 2 python benchmarks/electromechanics.py``.
"""

from __future__ import annotations

import dataclasses
import pathlib
import sys
import tempfile
import time

from mpi4py import MPI

from flexotip import config as config_module
from flexotip.fem import coupled
from flexotip.geometry.mesh import build_mesh
from flexotip.studies import single
from flexotip.units import Scales

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import report
from elastic_tip import peak_memory_mb, reset_peak_memory

LEVELS = ((0.7e-9, 0.3), (0.5e-9, 0.15), (0.35e-9, 0.075), (0.25e-9, 0.05))
"""(contact-edge cell size m, growth per unit distance): each level refines the edge and
the whole neighbourhood of the tip."""
SOLVERS = ("direct", "block")


def run_case(comm: MPI.Comm, contact_size: float, growth: float, solver: str) -> dict:
    """Elastic and coupled solves on one mesh; return the measurements."""
    config = config_module.from_dict({
        "film": {"symmetry": "quarter"},
        "mesh": {"contact_size": contact_size, "growth": growth},
        "solve": {"electromechanics_solver": solver},
    }, source="benchmark")
    scales = Scales()
    reset_peak_memory()
    stack = build_mesh(comm, single.stack_geometry(config, scales))
    comm.Barrier()
    start = time.perf_counter()
    tip = coupled.solve_prescribed(stack, config, scales)
    comm.Barrier()
    time_elastic = time.perf_counter() - start
    start = time.perf_counter()
    em = coupled.solve_electromechanics(stack, config, scales, tip, stack.geometry.contact_radius)
    comm.Barrier()
    time_em = time.perf_counter() - start
    problem = em.solver.problem
    start = time.perf_counter()
    problem.solver.computeJacobian(problem.x, problem.A)
    comm.Barrier()
    time_jacobian = time.perf_counter() - start
    outdir = pathlib.Path(tempfile.gettempdir()) / f"flexotip_em_{solver}_{contact_size * 1e9:.2f}nm"
    if comm.rank == 0:
        outdir.mkdir(parents=True, exist_ok=True)
    comm.Barrier()
    quiet = dataclasses.replace(config, output=dataclasses.replace(config.output, fields=[]))
    keys = single.electric_outputs(stack, em, quiet, scales, outdir, stack.geometry.contact_radius)
    max_rank, total = peak_memory_mb(comm)
    s = em.stats
    return {
        "solver": solver, "contact_size_m": contact_size, "growth": growth, "n_cells": stack.report.n_cells,
        "n_dofs": s["em_n_dofs"], "n_dofs_displacement": s["n_dofs_displacement"],
        "n_dofs_polarization": s["n_dofs_polarization"], "n_dofs_potential": s["n_dofs_potential"],
        "time_elastic_s": time_elastic, "ksp_iterations_elastic": tip.stats["ksp_iterations"],
        "time_electromechanics_s": time_em, "time_ratio": time_em / time_elastic,
        "time_jacobian_s": time_jacobian,
        "newton_iterations": s["em_newton_iterations"], "linear_iterations": s["em_linear_iterations"],
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
    """Run the cases, write JSON and the README table (rank 0)."""
    comm = MPI.COMM_WORLD
    results = [run_case(comm, size, growth, solver) for solver in SOLVERS for size, growth in LEVELS]
    if comm.rank == 0:
        report.write("electromechanics", comm.size, "cases", results, markdown_table(results))


if __name__ == "__main__":
    main()
