"""Benchmark: what a checkpoint of a vacancy transient costs, against a time step.

A transient of the paper's sphere (4 µN, quarter box, ``polarization_dynamics =
"quasi_static"``) on the default mesh (surface layers, ≈ 147 k cells) takes a few steps
with ``[output] checkpoint_steps = 1``: a checkpoint after every step and one at the end.
Records the cells and dofs, the steps, the wall time of a step without its checkpoint, of a
checkpoint (write), of reading it back (``--resume``'s read), the file's size, and the
fraction of the run a checkpoint costs at the default interval (600 s) together with the
shortest interval that keeps it under 2 %. Writes ``benchmarks/results/checkpoint.json`` and
the table in ``benchmarks/README.md``.

Run: ``mpiexec -n 2 python benchmarks/checkpoint.py``; ``--smoke [--out DIR]``: a coarse 12 nm
film, the JSON to DIR, README untouched.
"""

from __future__ import annotations

import pathlib
import shutil
import sys
import tempfile
import time

from mpi4py import MPI

import flexotip  # noqa: F401  (loads MPI first for the pip wheel)
from flexotip import config as config_module
from flexotip.fem import checkpoint
from flexotip.pipeline import run as pipeline

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import report
from elastic_tip import peak_memory_mb

CASES = (("default mesh", {}),)
SMOKE_CASES = (("coarse 12 nm film", {
    "film": {"half_width": 40e-9, "thickness": 12e-9, "substrate_thickness": 20e-9},
    "mesh": {"contact_size": 3e-9, "far_size": 12e-9, "surface_size": 0.0, "growth": 0.4}}),)
STEPS = 4
DEFAULT_INTERVAL = config_module.OutputConfig().checkpoint_interval
"""s: the [output] checkpoint_interval default."""


def run_case(comm: MPI.Comm, name: str, sections: dict) -> dict:
    """One short transient with a checkpoint per step; the measurements."""
    config = config_module.from_dict(sections | {
        "solve": {"mode": "transient", "polarization_dynamics": "quasi_static"},
        "vacancies": {"max_steps": STEPS}, "output": {"fields": [], "checkpoint_steps": 1}},
        source="benchmark")
    folder = tempfile.mkdtemp(prefix="flexotip_checkpoint_") if comm.rank == 0 else None
    folder = pathlib.Path(comm.bcast(folder))
    summary = pipeline.run(comm, config, folder)
    path = folder / "checkpoint.h5"
    comm.Barrier()
    start = time.perf_counter()
    checkpoint.read_state(path, comm)
    read_s = comm.allreduce(time.perf_counter() - start, op=MPI.MAX)
    size_mb = comm.bcast(path.stat().st_size / 1e6 if comm.rank == 0 else None)
    written, checkpoints_s = summary["checkpoints_written"], summary["time_checkpoints_s"]
    write_s = checkpoints_s / written
    step_s = (summary["time_vacancies_s"] - checkpoints_s) / summary["vacancy_steps"]
    max_rank, _ = peak_memory_mb(comm)
    if comm.rank == 0:
        shutil.rmtree(folder, ignore_errors=True)
    return {"case": name, "n_cells": summary["n_cells"], "n_dofs_em": summary["em_n_dofs"],
            "steps": summary["vacancy_steps"], "checkpoints": written, "time_step_s": step_s,
            "time_write_s": write_s, "time_read_s": read_s, "file_MB": size_mb,
            "fraction_at_default_interval": write_s / (DEFAULT_INTERVAL + write_s),
            "interval_for_2_percent_s": 49.0 * write_s, "peak_memory_per_rank_MB": max_rank}


def markdown_table(results: list[dict]) -> str:
    """The measurements as a Markdown table."""
    lines = ["| case | cells | (u, P, φ) dofs | one step (s) | one checkpoint: write (s) | read (s) "
             f"| file (MB) | share of the run at {DEFAULT_INTERVAL:.0f} s | interval for ≤ 2 % (s) "
             "| peak MB/rank |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(
            f"| {r['case']} | {r['n_cells']:,} | {r['n_dofs_em']:,} | {r['time_step_s']:.2f} "
            f"| {r['time_write_s']:.2f} | {r['time_read_s']:.2f} | {r['file_MB']:.1f} "
            f"| {r['fraction_at_default_interval']:.2%} | {r['interval_for_2_percent_s']:.0f} "
            f"| {r['peak_memory_per_rank_MB']:.0f} |")
    return "\n".join(lines)


def main() -> None:
    """Run the cases (or the smoke case), write JSON and the README table (rank 0)."""
    args = report.arguments(__doc__)
    comm = MPI.COMM_WORLD
    results = [run_case(comm, name, sections) for name, sections in (SMOKE_CASES if args.smoke else CASES)]
    if comm.rank == 0:
        report.write("checkpoint", comm.size, "cases", results, markdown_table(results),
                     smoke_dir=args.out, smoke=args.smoke)


if __name__ == "__main__":
    main()
