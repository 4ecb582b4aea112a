"""A run's output folder: created with the resolved config, closed by summary.json.

summary.json says ``status = "running"`` from the start (so a folder reused for a new run,
or a run killed without warning, never looks complete) and is rewritten once at the end:
with ``status = "complete"``; ``"failed"``, the solver that failed and PETSc's reason; or
``"interrupted"`` (SIGTERM/SIGINT), the time reached, the checkpoint and the command that
resumes. Every file is written under a staging name and renamed when complete
(:func:`flexotip.files.staged`), and summary.json last. docs/outputs.md lists the keys.
"""

from __future__ import annotations

import logging
import pathlib
import time

from mpi4py import MPI
from petsc4py import PETSc

import dolfinx

import flexotip
from flexotip import config as config_module
from flexotip.config import Config
from flexotip.config_values import CHECKPOINT_NAME
from flexotip.errors import RunInterrupted
from flexotip.fem import checkpoint, io
from flexotip.fem.vacancy_problem import VacancySolution
from flexotip.files import staged
from flexotip.geometry.mesh import StackMesh
from flexotip.units import Scales

log = logging.getLogger(__name__)


def versions(comm: MPI.Comm) -> dict:
    """The versions and rank count of summary.json."""
    return {
        "flexotip_version": flexotip.__version__,
        "dolfinx_version": dolfinx.__version__,
        "petsc_version": ".".join(map(str, PETSc.Sys.getVersion())),
        "n_ranks": comm.size,
    }


def mesh_summary(stack: StackMesh, scales: Scales) -> dict:
    """The mesh keys of summary.json (SI)."""
    report = stack.report
    return {
        "n_cells": report.n_cells,
        "n_vertices": report.n_vertices,
        "h_min_m": report.h_min * scales.length,
        "h_max_m": report.h_max * scales.length,
        "mesh_min_quality": report.min_quality,
        "mesh_from_cache": report.from_cache,
        "max_dihedral_angle_deg": report.max_dihedral_angle_deg,
        "max_aspect_ratio": report.max_aspect_ratio,
        "surface_layers_max_dihedral_angle_deg": report.layers_max_dihedral_angle_deg,
        "surface_layers_max_aspect_ratio": report.layers_max_aspect_ratio,
        "n_surface_layers": report.n_surface_layers,
        "surface_size_m": stack.geometry.surface_size * scales.length,
        "time_mesh_s": report.time_s,
    }


def resume_command(comm: MPI.Comm, outdir: pathlib.Path) -> str:
    """The command that continues the run in ``outdir`` from its checkpoint."""
    launcher = f"mpiexec -n {comm.size} " if comm.size > 1 else ""
    return f"{launcher}flexotip run {outdir / 'config.toml'} --out {outdir} --resume"


def prepare(comm: MPI.Comm, config: Config, outdir: pathlib.Path) -> None:
    """Create the output folder; write config.toml (resolved) and the status "running" (collective)."""
    if comm.rank == 0:
        outdir.mkdir(parents=True, exist_ok=True)
        with staged(outdir / "config.toml") as target:
            target.write_text(config_module.to_toml(config))
    io.write_summary(outdir / "summary.json", {"status": "running", **versions(comm)}, comm)


def write_complete(comm: MPI.Comm, summary: dict, start: float, outdir: pathlib.Path) -> dict:
    """Close the run: summary.json with ``status = "complete"`` and the total time."""
    summary["status"] = "complete"
    summary["time_total_s"] = time.perf_counter() - start
    io.write_summary(outdir / "summary.json", summary, comm)
    return summary


def write_failure(comm: MPI.Comm, summary: dict, error: Exception, start: float, outdir: pathlib.Path,
                  partial: str) -> None:
    """summary.json with status "failed", the solver and its reason; log where the rest is."""
    checkpoint_path = outdir / CHECKPOINT_NAME
    last_checkpoint = str(checkpoint_path) if comm.bcast(checkpoint_path.is_file(), root=0) else None
    summary |= {"status": "failed",
                "failed_solver": getattr(error, "solver", "force control"),
                "failure_reason": getattr(error, "reason", str(error)),
                "failure_iterations": getattr(error, "iterations", None),
                "last_checkpoint": last_checkpoint,
                "time_total_s": time.perf_counter() - start}
    io.write_summary(outdir / "summary.json", summary, comm)
    log.error("%s; partial results (%s) are in %s%s", error, partial, outdir,
              f"; the last checkpoint is {last_checkpoint}" if last_checkpoint else "")


def write_interrupted(comm: MPI.Comm, summary: dict, stop: RunInterrupted, start: float,
                      outdir: pathlib.Path) -> None:
    """summary.json with status "interrupted", the signal, the time reached and how to resume."""
    resumable = stop.checkpoint is not None
    summary |= {"status": "interrupted", "interrupted_by": stop.signal_name, "t_reached_s": stop.t,
                "last_checkpoint": str(stop.checkpoint) if resumable else None,
                "resume_command": resume_command(comm, outdir) if resumable else None,
                "time_total_s": time.perf_counter() - start}
    io.write_summary(outdir / "summary.json", summary, comm)
    log.warning("%s; %s", stop, f"checkpoint in {stop.checkpoint}; continue with: {summary['resume_command']}"
                if resumable else "no checkpoint (the run was not in a transient): run it again")


def write_checkpoint(outdir: pathlib.Path, vac: VacancySolution, scales: Scales,
                     symmetry_fraction: float) -> None:
    """The final vacancies in ``checkpoint.h5``, for a run that starts from them (collective)."""
    time = vac.history.times[-1] if vac.history is not None and len(vac.history) else None
    checkpoint.write(outdir / CHECKPOINT_NAME, vac.w, c0=vac.material.c0, length_scale=scales.length,
                     time=time, total=vac.total_final, symmetry_fraction=symmetry_fraction)
