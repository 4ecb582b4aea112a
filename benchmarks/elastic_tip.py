"""Benchmark: the default sphere case (4 µN, a = 8 nm, cubic STO, P1) at three mesh levels.

Records cells, displacement dofs, mesh time (gmsh + distribution), assembly time, solve
time (GAMG setup + CG: PETSc's own PCSetUp and KSPSolve event times), the wall time of the
whole elastic solve (:func:`flexotip.fem.tip_problem.solve_prescribed`: spaces, forms,
boundary conditions, assembly, solve), KSP iterations and peak memory, and writes
``benchmarks/results/elastic_tip.json`` and the table in ``benchmarks/README.md``.

Run: ``make benchmark`` (2 ranks), or ``mpiexec -n N python benchmarks/elastic_tip.py``;
``--smoke [--out DIR]``: one coarse level, the JSON to DIR, README untouched.
"""

from __future__ import annotations

import contextlib
import gc
import json
import pathlib
import resource
import sys
import time

from mpi4py import MPI
from petsc4py import PETSc

import flexotip  # noqa: F401  (loads MPI first for the pip wheel)
from flexotip import config as config_module
from flexotip.fem.tip_problem import solve_prescribed
from flexotip.geometry.mesh import build_mesh
from flexotip.pipeline import parameters
from flexotip.units import Scales

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import report
from report import plain_mesh_sections

LEVELS = [
    {"contact_size": 0.25e-9, "growth": 0.10},
    {"contact_size": 0.15e-9, "growth": 0.06},
    {"contact_size": 0.09e-9, "growth": 0.045},
]
SMOKE_LEVELS = [{"contact_size": 0.6e-9, "growth": 0.2}]
"""One coarse level (~18 k dofs): a few seconds."""
SOLVE_EVENTS = ("PCSetUp", "KSPSolve")
"""PETSc log events of the solve: GAMG setup (outside KSPSolve's event) and CG."""


def reset_peak_memory() -> None:
    """Restart the peak-memory count at the current resident size (Linux; no-op elsewhere).

    Writing 5 to /proc/self/clear_refs resets the kernel's high-water mark VmHWM, so that
    a benchmark running several cases in one process can measure each one's peak.
    """
    gc.collect()
    with contextlib.suppress(OSError):
        pathlib.Path("/proc/self/clear_refs").write_text("5")


def peak_memory_mb(comm: MPI.Comm) -> tuple[float, float]:
    """(largest per-rank, summed) peak resident memory, MB, since the last reset (Linux) or start."""
    try:
        status = pathlib.Path("/proc/self/status").read_text().splitlines()
        mine = next(float(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        mine = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return comm.allreduce(mine, op=MPI.MAX), comm.allreduce(mine, op=MPI.SUM)


def event_time(comm: MPI.Comm, names: tuple[str, ...]) -> float:
    """Summed time of PETSc log events so far, s, the largest over the ranks (needs PETSc.Log.begin)."""
    mine = sum(PETSc.Log.Event(name).getPerfInfo()["time"] for name in names)
    return comm.allreduce(mine, op=MPI.MAX)


def run_level(comm: MPI.Comm, level: dict) -> dict:
    """Mesh and solve one level; return its measurements."""
    config = config_module.from_dict(plain_mesh_sections({"mesh": level}), source="benchmark level")
    scales = Scales()
    reset_peak_memory()
    comm.Barrier()
    start = time.perf_counter()
    stack = build_mesh(comm, parameters.stack_geometry(config, scales))
    comm.Barrier()
    time_mesh = time.perf_counter() - start
    solve_before = event_time(comm, SOLVE_EVENTS)
    start = time.perf_counter()
    solution = solve_prescribed(stack, parameters.tip_problem(config), scales)
    comm.Barrier()
    time_elastic = time.perf_counter() - start
    time_solve = event_time(comm, SOLVE_EVENTS) - solve_before
    report = solution.report
    max_rank, total = peak_memory_mb(comm)
    return {
        "contact_size_m": level["contact_size"], "growth": level["growth"],
        "n_cells": stack.report.n_cells, "n_dofs": report.n_dofs,
        "time_gmsh_s": stack.report.time_s, "time_mesh_s": time_mesh,
        "time_assemble_s": report.time_assemble_s, "time_solve_s": time_solve,
        "time_elastic_s": time_elastic,
        "ksp_iterations": report.ksp_iterations, "ksp_type": report.ksp_type,
        "pc_type": report.pc_type,
        "peak_memory_per_rank_MB": max_rank, "peak_memory_total_MB": total,
    }


def markdown_table(results: list[dict]) -> str:
    """The measurements as a Markdown table."""
    lines = ["| contact size (nm) | cells | dofs | mesh (s) | assembly (s) | solve (s) "
             "| elastic solve, all (s) | CG iterations | peak memory/rank (MB) |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(
            f"| {r['contact_size_m'] * 1e9:.2f} | {r['n_cells']:,} | {r['n_dofs']:,} "
            f"| {r['time_mesh_s']:.1f} | {r['time_assemble_s']:.1f} | {r['time_solve_s']:.1f} "
            f"| {r['time_elastic_s']:.1f} | {r['ksp_iterations']} | {r['peak_memory_per_rank_MB']:.0f} |")
    return "\n".join(lines)


def main() -> None:
    """Run every level (or the smoke level) and write the JSON and the README table (rank 0)."""
    args = report.arguments(__doc__)
    comm = MPI.COMM_WORLD
    PETSc.Log.begin()
    results = []
    for level in SMOKE_LEVELS if args.smoke else LEVELS:
        results.append(run_level(comm, level))
        if comm.rank == 0:
            print(json.dumps(results[-1]), flush=True)
    if comm.rank == 0:
        report.write("elastic_tip", comm.size, "levels", results, markdown_table(results),
                     smoke_dir=args.out, smoke=args.smoke)


if __name__ == "__main__":
    main()
