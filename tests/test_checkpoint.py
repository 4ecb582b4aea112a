"""checkpoint.h5 (io4dolfinx) and ``[vacancies] initial = "from_run"``.

A run with vacancies writes its final ln(c/c0) with its mesh; a run that starts from it gets
the same field on the same mesh (exactly: the dofs are matched, not interpolated), and on a
finer mesh the interpolated field scaled to the source's total (1e-10). Also run on 2 ranks:
the file is written from a serial copy and read by every rank on its own.
"""

from __future__ import annotations

import pathlib

from mpi4py import MPI

import dolfinx.fem
import numpy as np
import pytest
import ufl
from helpers import read_summary, run_case, shared_dir
from scipy.spatial import cKDTree

from flexotip import config as config_module
from flexotip.fem import checkpoint, vacancies
from flexotip.fem.domains import film_domains
from flexotip.fem.postprocess import assemble_scalar
from flexotip.pipeline.meshing import mesh
from flexotip.units import Scales

SOURCE = {
    "film": {"half_width": 40e-9, "thickness": 12e-9, "substrate_thickness": 20e-9},
    "mesh": {"contact_size": 3e-9, "far_size": 12e-9, "surface_size": 0.0, "growth": 0.4},
    "output": {"fields": []},
    "tip": {"bias": -1.0},
    "solve": {"mode": "transient", "polarization_dynamics": "quasi_static", "t_end": 0.02},
}
"""A short poling: the −1 V tip gathers the vacancies under it (max |ln c| 0.24 after 20 ms)."""


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    folder = shared_dir(tmp_path_factory, "source")
    return run_case(MPI.COMM_WORLD, SOURCE, folder), folder


def _log_density(stack) -> dolfinx.fem.Function:
    return dolfinx.fem.Function(dolfinx.fem.functionspace(stack.msh, ("Lagrange", 1)))


def _stack(tmp_path_factory, name: str, mesh_keys: dict):
    config = config_module.from_dict(SOURCE | {"mesh": SOURCE["mesh"] | mesh_keys})
    return mesh(MPI.COMM_WORLD, config, shared_dir(tmp_path_factory, name), Scales())


def test_same_mesh_gives_the_same_field(source, tmp_path_factory):
    _, folder = source
    stack = _stack(tmp_path_factory, "same", {})
    w = _log_density(stack)
    initial = checkpoint.InitialFromRun(folder, stack, 3.66e20, Scales().length, 0.25)
    initial(w)
    assert initial.same_mesh and initial.correction == 1.0
    saved, attributes = checkpoint.read(folder / "checkpoint.h5")
    _, index = cKDTree(saved.function_space.tabulate_dof_coordinates()).query(
        w.function_space.tabulate_dof_coordinates())
    assert np.max(np.abs(saved.x.array)) > 0.1  # the poling moved vacancies
    assert np.array_equal(w.x.array, saved.x.array[index])
    assert attributes["time_s"] == pytest.approx(SOURCE["solve"]["t_end"])


def test_finer_mesh_keeps_the_total(source, tmp_path_factory):
    summary, folder = source
    stack = _stack(tmp_path_factory, "finer", {"contact_size": 2e-9, "far_size": 8e-9})
    w = _log_density(stack)
    initial = checkpoint.InitialFromRun(folder, stack, 3.66e20, Scales().length, 0.25)
    initial(w)
    assert not initial.same_mesh
    dx = film_domains(stack).dx_film(metadata={"quadrature_degree": vacancies.quadrature_degree(1)})
    total = assemble_scalar(dolfinx.fem.form(ufl.exp(w) * dx)) * 3.66e20 * Scales().length**3 / 0.25
    print(f"\ninterpolated total scaled by {initial.correction:.10f}")
    assert total == pytest.approx(summary["vacancies_final"], rel=1e-10)
    assert abs(initial.correction - 1.0) < 0.05


def test_run_from_run(source, tmp_path_factory):
    """A run starting from the poled state on a finer mesh starts with its total and keeps it."""
    _, folder = source
    target = shared_dir(tmp_path_factory, "target")
    sections = SOURCE | {"mesh": SOURCE["mesh"] | {"contact_size": 2e-9},
                         "tip": {"bias": 0.0}, "physics": {"flexoelectric": False},
                         "vacancies": {"initial": "from_run", "initial_run": str(folder)},
                         "solve": SOURCE["solve"] | {"t_end": 0.005}}
    summary = run_case(MPI.COMM_WORLD, sections, target)
    assert summary["vacancies_initial"] == pytest.approx(read_summary(folder)["vacancies_final"], rel=1e-10)
    assert abs(summary["vacancies_relative_change"]) < 1e-10
    assert (pathlib.Path(target) / "checkpoint.h5").is_file()


def test_quarter_source_unfolds_onto_the_full_box(source, tmp_path_factory):
    """The quarter-box poling, read on the full box: mirror-symmetric, and 4× the quarter's total."""
    summary, folder = source
    config = config_module.from_dict(SOURCE | {"film": SOURCE["film"] | {"symmetry": "full"}})
    stack = mesh(MPI.COMM_WORLD, config, shared_dir(tmp_path_factory, "full"), Scales())
    w = _log_density(stack)
    initial = checkpoint.InitialFromRun(folder, stack, 3.66e20, Scales().length, 1.0)
    initial(w)
    dx = film_domains(stack).dx_film(metadata={"quadrature_degree": vacancies.quadrature_degree(1)})
    total = assemble_scalar(dolfinx.fem.form(ufl.exp(w) * dx)) * 3.66e20 * Scales().length**3
    assert total == pytest.approx(summary["vacancies_final"], rel=1e-10)  # the whole film's, both counted so
    x = ufl.SpatialCoordinate(stack.msh)
    left = assemble_scalar(dolfinx.fem.form(ufl.conditional(ufl.lt(x[0], 0.0), ufl.exp(w), 0.0) * dx))
    right = assemble_scalar(dolfinx.fem.form(ufl.conditional(ufl.gt(x[0], 0.0), ufl.exp(w), 0.0) * dx))
    print(f"\nunfolded: factor {initial.correction:.6f}, left/right {left / right:.6f}")
    assert left == pytest.approx(right, rel=0.02)  # mirror images on a mesh that is not one
