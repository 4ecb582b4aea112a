"""Benchmark: the solved contact against the prescribed-pressure solve on the same mesh.

The paper's sphere (cubic STO, 4 µN, R = 51.5 nm) on the default box, P1 and P2, with the
contact band meshed in both cases. Records Newton and linear iterations, wall times and
their ratio; writes ``benchmarks/results/contact_tip.json`` and the table in
``benchmarks/README.md``. Goal: a contact solve costs ≤ 5× one linear elastic solve.

Run: ``mpiexec -n 2 python benchmarks/contact_tip.py``.
"""

from __future__ import annotations

import pathlib
import sys
import time

from mpi4py import MPI

from flexotip import config as config_module
from flexotip.fem import coupled
from flexotip.geometry.mesh import build_mesh
from flexotip.studies import single
from flexotip.units import Scales

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import report

CASES = [{"degree": 1, "contact_size": 0.5e-9}, {"degree": 2, "contact_size": 0.5e-9}]


def run_case(comm: MPI.Comm, mesh: dict) -> dict:
    """Prescribed and solved contact on one mesh; return the measurements."""
    config = config_module.from_dict({"tip": {"load": "contact"}, "mesh": mesh}, source="benchmark")
    scales = Scales()
    stack = build_mesh(comm, single.stack_geometry(config, scales))
    comm.Barrier()
    start = time.perf_counter()
    prescribed = coupled.solve_prescribed(stack, config, scales, config.contact_radius / scales.length)
    comm.Barrier()
    time_prescribed = time.perf_counter() - start
    start = time.perf_counter()
    contact = coupled.solve_contact(stack, config, scales)
    comm.Barrier()
    time_contact = time.perf_counter() - start
    stats = contact.stats
    return {
        "degree": mesh["degree"], "contact_size_m": mesh["contact_size"],
        "n_cells": stack.report.n_cells, "n_dofs": stats["n_dofs"],
        "time_prescribed_s": time_prescribed,
        "ksp_iterations_prescribed": prescribed.stats["ksp_iterations"],
        "time_contact_s": time_contact, "contact_solves": stats["contact_solves"],
        "newton_iterations": stats["newton_iterations"], "linear_iterations": stats["linear_iterations"],
        "time_ratio": time_contact / time_prescribed,
        "approach_m": contact.approach * scales.length,
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
    """Run the cases, write JSON and the README table (rank 0)."""
    comm = MPI.COMM_WORLD
    results = [run_case(comm, case) for case in CASES]
    if comm.rank == 0:
        report.write("contact_tip", comm.size, "cases", results, markdown_table(results))


if __name__ == "__main__":
    main()
