"""A run's output folder: created with the resolved config, closed by summary.json.

summary.json is written once, at the end: with ``status = "complete"``, or with
``status = "failed"``, the solver that failed and PETSc's reason, so that nothing is
written as if it had succeeded. docs/outputs.md lists the keys.
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
from flexotip.config_checks import CHECKPOINT_NAME
from flexotip.fem import checkpoint, io
from flexotip.fem.vacancy_problem import VacancySolution
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


def prepare(comm: MPI.Comm, config: Config, outdir: pathlib.Path) -> None:
    """Create the output folder and write the resolved config, config.toml (collective)."""
    if comm.rank == 0:
        outdir.mkdir(parents=True, exist_ok=True)
        (outdir / "config.toml").write_text(config_module.to_toml(config))
    comm.Barrier()


def write_complete(comm: MPI.Comm, summary: dict, start: float, outdir: pathlib.Path) -> dict:
    """Close the run: summary.json with ``status = "complete"`` and the total time."""
    summary["status"] = "complete"
    summary["time_total_s"] = time.perf_counter() - start
    io.write_summary(outdir / "summary.json", summary, comm)
    return summary


def write_failure(comm: MPI.Comm, summary: dict, error: Exception, start: float, outdir: pathlib.Path,
                  partial: str) -> None:
    """summary.json with status "failed", the solver and its reason; log where the rest is."""
    summary |= {"status": "failed",
                "failed_solver": getattr(error, "solver", "force control"),
                "failure_reason": getattr(error, "reason", str(error)),
                "failure_iterations": getattr(error, "iterations", None),
                "time_total_s": time.perf_counter() - start}
    io.write_summary(outdir / "summary.json", summary, comm)
    log.error("%s; partial results (%s) are in %s", error, partial, outdir)


def write_checkpoint(outdir: pathlib.Path, vac: VacancySolution, scales: Scales,
                     symmetry_fraction: float) -> None:
    """The final vacancies in ``checkpoint.h5``, for a run that starts from them (collective)."""
    time = vac.history.times[-1] if vac.history is not None and len(vac.history) else None
    checkpoint.write(outdir / CHECKPOINT_NAME, vac.w, c0=vac.material.c0, length_scale=scales.length,
                     time=time, total=vac.total_final, symmetry_fraction=symmetry_fraction)
