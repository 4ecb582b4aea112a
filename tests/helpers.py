"""Helpers shared by the test modules: runs and their files, error norms, observed rates, constants.

Plain functions and constants; the fixtures are in conftest.py. The norms allreduce, so
every rank calls them alike and gets the same value. DOLFINx and UFL are imported inside
the functions that need them: the NumPy-only tests (the spectral reference) import this
module without loading them.
"""

from __future__ import annotations

import csv
import json
import math
import pathlib

from mpi4py import MPI

import numpy as np

from flexotip import config as config_module
from flexotip.materials import CubicElasticity
from flexotip.spectral import grid

STO = CubicElasticity(3.36e11, 1.07e11, 1.27e11)
"""SrTiO3 at 300 K: c11, c12, c44 (Pa), written out here rather than taken from the config."""


def _integral(form) -> float:
    """∫ of a scalar UFL form over the whole mesh, summed over all ranks."""
    import dolfinx.fem

    compiled = dolfinx.fem.form(form)
    return compiled.mesh.comm.allreduce(dolfinx.fem.assemble_scalar(compiled), op=MPI.SUM)


def error_L2(error, dx) -> float:
    """L2 norm √(∫ e·e dx) of an error expression (scalar or vector), over all ranks.

    Args:
        error: UFL expression of the error, e.g. ``uh - u_exact``.
        dx: Cell measure; give it a quadrature degree above the solution's so that the
            exact solution is integrated accurately.
    """
    import ufl

    return math.sqrt(_integral(ufl.inner(error, error) * dx))


def error_H1(error, dx) -> float:
    """H1 seminorm √(∫ ∇e:∇e dx) of an error expression, over all ranks (``dx`` as in :func:`error_L2`)."""
    import ufl

    return math.sqrt(_integral(ufl.inner(ufl.grad(error), ufl.grad(error)) * dx))


def observed_rates(h, errors) -> np.ndarray:
    """Convergence rates between successive levels, log2(e_i / e_(i+1)) / log2(h_i / h_(i+1)).

    Args:
        h: Mesh sizes (or time steps), one per level, coarse to fine.
        errors: The error at each level.
    """
    h, errors = np.asarray(h, dtype=float), np.asarray(errors, dtype=float)
    return np.log2(errors[:-1] / errors[1:]) / np.log2(h[:-1] / h[1:])


def fitted_rate(h, errors) -> float:
    """Convergence rate over all levels: the least-squares slope of log e against log h."""
    return float(np.polyfit(np.log(h), np.log(errors), 1)[0])


def relative_difference(a: np.ndarray, b: np.ndarray) -> float:
    """Largest |a − b| over the largest |b| (``b`` is the reference)."""
    return float(np.abs(a - b).max() / np.abs(b).max())


def whole_box_domains(msh, metadata: dict | None = None):
    """Electromechanics integration domains of a mesh that is all film.

    The film is every cell, its surface the whole boundary; no substrate, air or inner
    faces.

    Args:
        msh: The mesh.
        metadata: Form compiler options of the measures (e.g. the quadrature degree).

    Returns:
        :class:`flexotip.fem.electromechanics.Domains`.
    """
    import dolfinx.fem
    import ufl

    from flexotip.fem import electromechanics

    indicator = dolfinx.fem.Function(dolfinx.fem.functionspace(msh, ("Discontinuous Lagrange", 0)))
    indicator.x.array[:] = 1.0
    return electromechanics.Domains(
        dx_film=ufl.Measure("dx", domain=msh, metadata=metadata), dx_rest=None, dx_air=None,
        ds=ufl.Measure("ds", domain=msh, metadata=metadata), dS_interface=None, film_indicator=indicator)


def gaussian_pressure_modes(box: grid.FilmBox, n: int) -> np.ndarray:
    """Cosine amplitudes (n × n, Pa) of an axisymmetric Gaussian pressure of 4 µN on a film box.

    Its 2D Fourier transform is 4e-6·exp(−(K·8 nm)²/2) N (a Gaussian of width 8 nm),
    taken as zero beyond r = 96 nm.
    """
    return grid.axisymmetric_coefficients(box, (n, n), lambda k: 4e-6 * np.exp(-((k * 8e-9) ** 2) / 2),
                                          96e-9)


# -- runs and the files they write -------------------------------------------------------

def shared_dir(tmp_path_factory, name: str) -> pathlib.Path:
    """A new folder of a module-scoped fixture, made by rank 0 and shared by all ranks."""
    folder = str(tmp_path_factory.mktemp(name)) if MPI.COMM_WORLD.rank == 0 else None
    return pathlib.Path(MPI.COMM_WORLD.bcast(folder, root=0))


def read_csv(path: pathlib.Path) -> dict[str, list[float]]:
    """Columns of a flexotip CSV table, by header name."""
    with open(path) as handle:
        rows = list(csv.DictReader(handle))
    return {key: [float(row[key]) for row in rows] for key in rows[0]}


def read_vtx(path: pathlib.Path, name: str) -> np.ndarray:
    """All blocks (one per writing rank) of a variable of a VTX (.bp) file, first step."""
    import adios2

    with adios2.FileReader(str(path)) as reader:
        n_blocks = len(reader.all_blocks_info(name)[0])
        blocks = []
        for block in range(n_blocks):
            variable = reader.inquire_variable(name)
            variable.set_block_selection(block)
            blocks.append(reader.read(variable))
    return np.concatenate(blocks)


def read_summary(path: pathlib.Path) -> dict:
    return json.loads((path / "summary.json").read_text())


def run_case(comm, sections: dict, outdir: pathlib.Path) -> dict:
    """Validate a config dict and run it (collective); return the summary."""
    from flexotip.pipeline import run as pipeline

    config = config_module.from_dict(sections, source="test config")
    return pipeline.run(comm, config, outdir)


MECHANICS_ONLY = {"flexoelectric": False}
"""[physics] of the mechanics tests: no (u, P, φ) solve after the elastic one."""
