"""Benchmark: the solved contact against the prescribed-pressure solve on the same mesh.

The paper's sphere (cubic STO, 4 µN, R = 51.5 nm) on the default box, P1 and P2, with the
contact band meshed in both cases. Records Newton and linear iterations, wall times and
their ratio; writes ``benchmarks/results/contact_tip.json`` and the table in
``benchmarks/README.md``. Goal: a contact solve costs ≤ 5× one linear elastic solve.

Run: ``mpiexec -n 2 python benchmarks/contact_tip.py``; ``--smoke [--out DIR]``: P1 on a
coarse mesh, the JSON to DIR, README untouched.
"""

from __future__ import annotations

import pathlib
import sys
import time

from mpi4py import MPI

import flexotip  # noqa: F401  (loads MPI first for the pip wheel)
from flexotip import config as config_module
from flexotip.fem.tip_problem import solve_contact, solve_prescribed
from flexotip.geometry.mesh import build_mesh
from flexotip.pipeline import parameters
from flexotip.units import Scales

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import report
from report import plain_mesh_sections

CASES = [{"degree": 1, "contact_size": 0.5e-9}, {"degree": 2, "contact_size": 0.5e-9}]
SMOKE_CASES = [{"degree": 1, "contact_size": 1.0e-9, "growth": 0.3}]
"""P1 on a coarse mesh: seconds."""


def run_case(comm: MPI.Comm, mesh: dict) -> dict:
    """Prescribed and solved contact on one mesh; return the measurements."""
    config = config_module.from_dict(plain_mesh_sections({"tip": {"load": "contact"}, "mesh": mesh}),
                                    source="benchmark")
    scales = Scales()
    tip = parameters.tip_problem(config)
    stack = build_mesh(comm, parameters.stack_geometry(config, scales))
    comm.Barrier()
    start = time.perf_counter()
    prescribed = solve_prescribed(stack, tip, scales, config.contact_radius / scales.length)
    comm.Barrier()
    time_prescribed = time.perf_counter() - start
    start = time.perf_counter()
    contact = solve_contact(stack, tip, scales)
    comm.Barrier()
    time_contact = time.perf_counter() - start
    report = contact.report
    return {
        "degree": mesh["degree"], "contact_size_m": mesh["contact_size"],
        "n_cells": stack.report.n_cells, "n_dofs": report.n_dofs,
        "time_prescribed_s": time_prescribed,
        "ksp_iterations_prescribed": prescribed.report.ksp_iterations,
        "time_contact_s": time_contact, "contact_solves": report.contact_solves,
        "newton_iterations": report.newton_iterations, "linear_iterations": report.linear_iterations,
        "time_ratio": time_contact / time_prescribed,
        "approach_m": contact.approach * scales.length,
        "force_balance_error": report.force_balance_error,
    }


def markdown_table(results: list[dict]) -> str:
    """The measurements as a Markdown table."""
    lines = ["| degree | dofs | prescribed (s) | contact (s) | ratio | force-control solves "
             "| Newton steps | CG iterations (contact / prescribed) |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(
            f"| P{r['degree']} | {r['n_dofs']:,} | {r['time_prescribed_s']:.1f} "
            f"| {r['time_contact_s']:.1f} | {r['time_ratio']:.1f} | {r['contact_solves']} "
            f"| {r['newton_iterations']} | {r['linear_iterations']} / {r['ksp_iterations_prescribed']} |")
    return "\n".join(lines)


def main() -> None:
    """Run the cases (or the smoke case), write JSON and the README table (rank 0)."""
    args = report.arguments(__doc__)
    comm = MPI.COMM_WORLD
    results = [run_case(comm, case) for case in (SMOKE_CASES if args.smoke else CASES)]
    if comm.rank == 0:
        report.write("contact_tip", comm.size, "cases", results, markdown_table(results),
                     smoke_dir=args.out, smoke=args.smoke)


if __name__ == "__main__":
    main()
