"""The command line end to end on a small case: outputs, read-back, failures, MPI."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest
from helpers import read_summary, read_vtx

from flexotip import cli
from flexotip import config as config_module

SMALL_CASE = """
[film]
half_width = 200e-9
substrate_thickness = 150e-9
symmetry = "quarter"
[tip]
force = 4.0e-6
[mesh]
contact_size = 1.0e-9
far_size = 50e-9
growth = 0.3
surface_size = 0.0
"""

DOCUMENTED_KEYS = [  # docs/outputs.md, "summary.json"
    "status", "flexotip_version", "dolfinx_version", "petsc_version", "n_ranks", "n_cells",
    "n_dofs", "h_min_m", "h_max_m", "force_N", "contact_radius_m", "approach_m",
    "max_pressure_Pa", "axis_displacement_m", "max_shear_stress_Pa", "max_shear_depth_m",
    "time_mesh_s", "time_solve_s", "time_total_s",
]


def write_config(outdir: pathlib.Path, text: str, comm, name: str = "case.toml") -> pathlib.Path:
    path = outdir / name
    if comm.rank == 0:
        path.write_text(text)
    comm.Barrier()
    return path


@pytest.fixture
def small_run(outdir, comm):
    path = write_config(outdir, SMALL_CASE, comm)
    status = cli.main(["run", str(path), "--out", str(outdir / "run"), "--quiet"])
    return status, outdir / "run", path


def test_run_writes_the_output_contract(small_run, comm):
    status, run, config_path = small_run
    assert status == 0
    summary = read_summary(run)
    missing = [key for key in DOCUMENTED_KEYS if key not in summary]
    assert not missing
    assert summary["status"] == "complete"
    assert summary["n_ranks"] == comm.size
    assert summary["axis_displacement_m"] < 0 < summary["approach_m"]
    assert config_module.load(run / "config.toml") == config_module.load(config_path)
    assert (run / "log.txt").read_text().strip()


def test_fields_read_back(small_run, comm):
    _, run, _ = small_run
    if comm.rank != 0:
        return
    summary = read_summary(run)
    u = read_vtx(run / "displacement.bp", "displacement").reshape(-1, 3)
    x = read_vtx(run / "displacement.bp", "geometry").reshape(-1, 3)
    # SI: coordinates in metres, displacement in metres, largest push at the axis.
    assert x.max() == pytest.approx(200e-9, rel=1e-9)
    assert u[:, 2].min() == pytest.approx(summary["axis_displacement_m"], rel=0.02)
    stress = read_vtx(run / "mechanics.bp", "stress").reshape(-1, 9)
    assert -stress[:, 8].min() == pytest.approx(summary["max_pressure_Pa"], rel=0.25)
    gradient = read_vtx(run / "strain_gradient.bp", "strain_gradient")
    assert 1e6 < gradient.max() < 1e9  # 1/m: Hertz strain gradients are ~1e7 /m


def test_mesh_tags_read_back(small_run, comm):
    _, run, _ = small_run
    from mpi4py import MPI

    import dolfinx.io

    with dolfinx.io.XDMFFile(comm, run / "mesh.xdmf", "r") as xdmf:
        msh = xdmf.read_mesh()
        msh.topology.create_connectivity(2, 3)
        facets = xdmf.read_meshtags(msh, name="boundaries")
        cells = xdmf.read_meshtags(msh, name="regions")
    owned = msh.topology.index_map(3).size_local
    n_tagged = comm.allreduce(int((cells.indices < owned).sum()), op=MPI.SUM)
    bottom = comm.allreduce(msh.geometry.x[:, 2].min(), op=MPI.MIN)
    tags = set(np.concatenate(comm.allgather(np.unique(facets.values))).tolist())
    assert n_tagged == read_summary(run)["n_cells"]
    assert bottom == pytest.approx(-(46.86e-9 + 150e-9), rel=1e-9)
    assert len(tags) == 8  # contact, film_top, interface, bottom, 2 walls, 2 symmetry planes


def test_xdmf_output(outdir, comm):
    xdmf = '[output]\nformat = "xdmf"\nfields = ["displacement", "stress"]\n'
    path = write_config(outdir, SMALL_CASE + xdmf, comm)
    assert cli.main(["run", str(path), "--out", str(outdir / "run"), "--quiet"]) == 0
    if comm.rank == 0:
        import h5py

        with h5py.File(outdir / "run" / "displacement.h5") as h5:
            (u,) = (h5["Function/displacement"][key][()] for key in h5["Function/displacement"])
        assert u[:, 2].min() == pytest.approx(read_summary(outdir / "run")["axis_displacement_m"], rel=0.02)


def test_vtkhdf_output_opens_in_vtk(outdir, comm):
    """VTKHDF: one file per field, read by the VTK that PyVista uses (no ADIOS2 needed)."""
    vtkhdf = '[output]\nformat = "vtkhdf"\nfields = ["displacement", "stress"]\n'
    path = write_config(outdir, SMALL_CASE + vtkhdf, comm)
    assert cli.main(["run", str(path), "--out", str(outdir / "run"), "--quiet"]) == 0
    if comm.rank == 0:
        import pyvista

        grid = pyvista.read(outdir / "run" / "displacement.vtkhdf")
        summary = read_summary(outdir / "run")
        assert grid.n_cells == summary["n_cells"]
        assert grid.points[:, 0].max() == pytest.approx(200e-9, rel=1e-9)  # metres
        assert grid.point_data["displacement"][:, 2].min() == pytest.approx(summary["axis_displacement_m"],
                                                                            rel=0.02)
        stress = pyvista.read(outdir / "run" / "stress.vtkhdf").point_data["stress"]
        assert stress.shape[1] == 9
        assert -stress[:, 8].min() == pytest.approx(summary["max_pressure_Pa"], rel=0.25)


def test_mesh_command(outdir, comm):
    path = write_config(outdir, SMALL_CASE, comm)
    assert cli.main(["mesh", str(path), "--out", str(outdir / "mesh"), "--quiet"]) == 0
    summary = read_summary(outdir / "mesh")
    assert summary["status"] == "complete" and summary["n_cells"] > 1000
    assert (outdir / "mesh" / "mesh.xdmf").exists()
    assert not (outdir / "mesh" / "displacement.bp").exists()


def test_solver_failure_is_reported(outdir, comm, capsys):
    text = SMALL_CASE + "[solve]\npetsc_options = { ksp_max_it = 2 }\n"
    path = write_config(outdir, text, comm)
    status = cli.main(["run", str(path), "--out", str(outdir / "run"), "--quiet"])
    assert status == cli.EXIT_SOLVER_FAILED
    summary = read_summary(outdir / "run")
    assert summary["status"] == "failed"
    assert summary["failed_solver"] == "flexotip_mech"
    assert summary["failure_reason"] in ("DIVERGED_ITS", "DIVERGED_MAX_IT")  # aliases
    assert "max_shear_stress_Pa" not in summary
    if comm.rank == 0:
        err = capsys.readouterr().err
        assert f"flexotip_mech did not converge: {summary['failure_reason']}" in err
        assert str(outdir / "run") in err


CONTACT = '[tip]\nload = "contact"\nshape = "sphere"\n'


def test_direct_solver_agrees_with_iterative(outdir, comm):
    """LU (MUMPS) and CG + GAMG (rtol 1e-9) give the same summary within 1e-6."""
    path = write_config(outdir, SMALL_CASE, comm)
    direct = write_config(outdir, SMALL_CASE + '[solve]\nlinear_solver = "direct"\n', comm,
                          "direct.toml")
    assert cli.main(["run", str(path), "--out", str(outdir / "cg"), "--quiet"]) == 0
    assert cli.main(["run", str(direct), "--out", str(outdir / "lu"), "--quiet"]) == 0
    cg, lu = read_summary(outdir / "cg"), read_summary(outdir / "lu")
    assert lu["ksp_type"] == "preonly" and lu["pc_type"] == "lu"
    for key in ("axis_displacement_m", "approach_m", "max_shear_stress_Pa"):
        assert lu[key] == pytest.approx(cg[key], rel=1e-6), key


@pytest.mark.parametrize("remesh", [True, False])
def test_contact_edge_outside_the_band(outdir, comm, remesh):
    """A wrong predicted radius puts the edge outside the refined band: re-mesh once, or warn."""
    text = SMALL_CASE.replace("[tip]\n", CONTACT + "contact_radius = 5.0e-9\n").replace(
        "[mesh]\n", f"[mesh]\ncontact_band = 0.2\nremesh = {'true' if remesh else 'false'}\n")
    path = write_config(outdir, text, comm)
    assert cli.main(["run", str(path), "--out", str(outdir / "run"), "--quiet"]) == 0
    summary = read_summary(outdir / "run")
    assert summary["remeshed"] is remesh
    assert summary["contact_edge_in_band"] is remesh
    inner, outer = summary["contact_band_inner_m"], summary["contact_band_outer_m"]
    if remesh:  # the new band is centred on the computed edge
        assert inner < summary["contact_radius_m"] < outer
    else:
        assert summary["contact_radius_m"] > outer
        assert "lies outside the refined band" in (outdir / "run" / "log.txt").read_text()
