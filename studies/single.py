"""One run: config → mesh → elastic tip solve → summary, profiles and ParaView fields.

This is what ``flexotip run CONFIG --out DIR`` does. The film/substrate stack is loaded
on the contact disc by the prescribed tip pressure (Hertz for the sphere, Sneddon for
the flat punch); the displacement, stress, strain and strain gradient are written for
ParaView, the axis and surface profiles as CSV, and the DESIGN.md §6 keys to
``summary.json``.
"""

from __future__ import annotations

import dataclasses
import logging
import pathlib
import time

from mpi4py import MPI
from petsc4py import PETSc

import dolfinx
import dolfinx.fem
import numpy as np
import ufl

import flexotip
from flexotip import config as config_module
from flexotip.config import Config
from flexotip.fem import io, mechanics, postprocess, solvers
from flexotip.fem.bcs import mechanical_bcs
from flexotip.fem.kinematics import strain, strain_gradient_magnitude
from flexotip.fem.loads import TipPressure
from flexotip.geometry import names
from flexotip.geometry.mesh import StackMesh, build_mesh
from flexotip.geometry.stack import StackGeometry
from flexotip.units import Scales

log = logging.getLogger(__name__)

PROFILE_SAMPLES = 161
"""Points of the axis and surface profiles."""
PROFILE_EXTENT = 4.0
"""Length of the axis and surface profiles, in contact radii."""


def stack_geometry(config: Config, scales: Scales) -> StackGeometry:
    """The scaled gmsh geometry described by a config.

    The flat punch gets an extra circle one contact-edge cell inside its edge, so that
    the regularised punch pressure (see :mod:`flexotip.fem.loads`) is smooth in every cell.
    """
    L = scales.length
    film, mesh = config.film, config.mesh
    punch = config.tip.shape == "flat"
    return StackGeometry(
        film_thickness=film.thickness / L,
        substrate_thickness=film.substrate_thickness / L,
        air_thickness=film.air_thickness / L,
        half_width=film.half_width / L,
        contact_radius=config.contact_radius / L,
        contact_center=(config.tip.position[0] / L, config.tip.position[1] / L),
        contact_size=mesh.contact_size / L,
        far_size=mesh.far_size / L,
        growth=mesh.growth,
        symmetry=film.symmetry,
        edge_band=mesh.contact_size / L if punch else None,
    )


def _user_options(config: Config, solver: str) -> dict:
    """The user's PETSc options for one solver: the flat ones, then its own sub-table."""
    options = config.solve.petsc_options
    flat = {k: v for k, v in options.items() if not isinstance(v, dict)}
    return {**flat, **options.get(solver, {})}


def mesh_summary(stack: StackMesh, scales: Scales) -> dict:
    """Mesh keys of summary.json (SI)."""
    report = stack.report
    return {
        "n_cells": report.n_cells,
        "n_vertices": report.n_vertices,
        "h_min_m": report.h_min * scales.length,
        "h_max_m": report.h_max * scales.length,
        "mesh_min_quality": report.min_quality,
        "time_mesh_s": report.time_s,
    }


def _versions(comm: MPI.Comm) -> dict:
    return {
        "flexotip_version": flexotip.__version__,
        "dolfinx_version": dolfinx.__version__,
        "petsc_version": ".".join(map(str, PETSc.Sys.getVersion())),
        "n_ranks": comm.size,
    }


def prepare_output(comm: MPI.Comm, config: Config, outdir: pathlib.Path) -> None:
    """Create the output folder and write the resolved config (collective)."""
    if comm.rank == 0:
        outdir.mkdir(parents=True, exist_ok=True)
        (outdir / "config.toml").write_text(config_module.to_toml(config))
    comm.Barrier()


def mesh_case(comm: MPI.Comm, config: Config, outdir: pathlib.Path,
              scales: Scales | None = None) -> StackMesh:
    """Build the mesh of a config and write it with its tags (``mesh.xdmf``, ``mesh.msh``)."""
    scales = scales or Scales()
    log.info("meshing: film %.4g nm on %.4g nm substrate, %s domain of half-width %.4g nm, "
             "contact radius %.4g nm, edge cells %.3g nm",
             config.film.thickness * 1e9, config.film.substrate_thickness * 1e9,
             config.film.symmetry, config.film.half_width * 1e9,
             config.contact_radius * 1e9, config.mesh.contact_size * 1e9)
    stack = build_mesh(comm, stack_geometry(config, scales), msh_file=outdir / "mesh.msh")
    io.write_mesh_tags(outdir / "mesh.xdmf", stack, scales.length)
    return stack


def mesh_only(comm: MPI.Comm, config: Config, outdir: pathlib.Path) -> dict:
    """Build and write the mesh of a config (``flexotip mesh``); return the summary."""
    start = time.perf_counter()
    scales = Scales()
    outdir = pathlib.Path(outdir)
    prepare_output(comm, config, outdir)
    stack = mesh_case(comm, config, outdir, scales)
    summary = {"status": "complete", **_versions(comm), **mesh_summary(stack, scales),
               "time_total_s": time.perf_counter() - start}
    io.write_summary(outdir / "summary.json", summary, comm)
    return summary


@dataclasses.dataclass
class ElasticSolution:
    """The solved displacement with what post-processing needs (scaled units)."""

    uh: dolfinx.fem.Function
    stiffness: dolfinx.fem.Constant
    load: TipPressure
    ds_contact: ufl.Measure
    report: solvers.SolveReport


def solve_elastic(stack: StackMesh, config: Config, scales: Scales) -> ElasticSolution:
    """Solve the elastic stack under the prescribed tip pressure.

    Raises:
        solvers.SolverError: If the linear solver does not converge.
    """
    msh = stack.msh
    V = dolfinx.fem.functionspace(msh, ("Lagrange", config.mesh.degree, (3,)))
    stiffness = mechanics.stiffness_constant(msh, config.material.elastic_constants().voigt(),
                                             scales.stress)
    geometry = stack.geometry
    load = TipPressure.create(
        msh, "punch" if config.tip.shape == "flat" else "hertz",
        force=config.tip.force / scales.force, contact_radius=geometry.contact_radius,
        center=geometry.contact_center, edge_band=geometry.edge_band or 0.0)
    ds = ufl.Measure("ds", domain=msh, subdomain_data=stack.facet_tags)
    ds_contact = ds(stack.groups[names.CONTACT])
    a, L = mechanics.elastic_forms(V, stiffness, load, ds_contact)
    uh = dolfinx.fem.Function(V, name="displacement")
    options = solvers.petsc_options(solvers.LINEAR_SOLVERS[config.solve.linear_solver],
                                    _user_options(config, "mech"))
    log.info("solving elasticity: %d displacement dofs, P%d, %s solver",
             V.dofmap.index_map.size_global * 3, config.mesh.degree, config.solve.linear_solver)
    report = solvers.solve_linear(a, L, uh, mechanical_bcs(V, stack),
                                  prefix=solvers.MECHANICS_PREFIX, options=options,
                                  near_nullspace=True)
    return ElasticSolution(uh, stiffness, load, ds_contact, report)


def elastic_outputs(stack: StackMesh, solution: ElasticSolution, config: Config,
                    scales: Scales, outdir: pathlib.Path) -> dict:
    """Profiles (CSV), fields (ParaView) and the mechanics keys of summary.json."""
    msh, uh = stack.msh, solution.uh
    comm = msh.comm
    L, S = scales.length, scales.stress
    geometry = stack.geometry
    a = geometry.contact_radius
    x0, y0 = geometry.contact_center
    fraction = config.symmetry_fraction

    applied = postprocess.assemble_scalar(
        mechanics.applied_force_form(solution.load, solution.ds_contact)) / fraction
    force = config.tip.force / scales.force
    load_error = applied / force - 1 if force > 0 else 0.0
    log.info("load: ∫p dA = %.6g N for a force of %.6g N (relative error %.2e)",
             applied * scales.force, config.tip.force, load_error)

    sigma = mechanics.stress(uh, solution.stiffness)
    degree = config.mesh.degree
    T_exact = dolfinx.fem.functionspace(msh, ("Discontinuous Lagrange", degree - 1, (3, 3)))
    sigma_exact = dolfinx.fem.Function(T_exact)
    sigma_exact.interpolate(dolfinx.fem.Expression(sigma, T_exact.element.interpolation_points))

    depth = np.linspace(0.0, PROFILE_EXTENT * a, PROFILE_SAMPLES)
    axis = postprocess.PointEvaluator(msh, np.c_[np.full_like(depth, x0), np.full_like(depth, y0), -depth])
    axis_stress = axis(sigma_exact)
    axis_u = axis(uh)
    shear = postprocess.max_shear(axis_stress)
    shear_max, shear_depth = postprocess.depth_of_maximum(depth, shear)

    radius = np.linspace(0.0, min(PROFILE_EXTENT * a, geometry.half_width - abs(x0)),
                         PROFILE_SAMPLES)
    surface = postprocess.PointEvaluator(msh, np.c_[x0 + radius, np.full_like(radius, y0), 0 * radius])
    surface_u = surface(uh)
    pressure_values = solution.load.pressure_values(radius)

    axis_uz = float(surface_u[0, 2])
    if config.tip.shape == "flat":
        disc = radius <= a * (1 - 1e-9)
        approach = -float(np.mean(surface_u[disc, 2]))
    else:
        approach = -axis_uz

    io.write_csv(outdir / "axis_profile.csv", {
        "depth_m": depth * L,
        "u_z_m": axis_u[:, 2] * L,
        "sigma_xx_Pa": axis_stress[:, 0] * S, "sigma_yy_Pa": axis_stress[:, 4] * S,
        "sigma_zz_Pa": axis_stress[:, 8] * S, "sigma_xz_Pa": axis_stress[:, 2] * S,
        "max_shear_Pa": shear * S,
    }, comm)
    io.write_csv(outdir / "surface_profile.csv", {
        "r_m": radius * L, "pressure_Pa": pressure_values * S,
        "u_x_m": surface_u[:, 0] * L, "u_y_m": surface_u[:, 1] * L, "u_z_m": surface_u[:, 2] * L,
    }, comm)

    _write_fields(stack, solution, config, scales, outdir)

    return {
        "force_N": config.tip.force,
        "applied_force_N": applied * scales.force,
        "load_force_relative_error": load_error,
        "contact_radius_m": a * L,
        "approach_m": approach * L,
        "max_pressure_Pa": solution.load.peak_pressure() * S,
        "axis_displacement_m": axis_uz * L,
        "max_shear_stress_Pa": shear_max * S,
        "max_shear_depth_m": shear_depth * L,
        "tip_shape": config.tip.shape,
        "tip_radius_m": config.tip.radius,
        "contact_modulus_Pa": config.contact_modulus,
    }


def _write_fields(stack: StackMesh, solution: ElasticSolution, config: Config,
                  scales: Scales, outdir: pathlib.Path) -> None:
    """The displacement and the recovered (P1) stress, strain and strain gradient, in SI.

    VTX puts one element per file: ``displacement`` (degree of the run), ``mechanics``
    (the 3×3 tensors) and ``strain_gradient`` (a scalar).
    """
    msh, uh = stack.msh, solution.uh
    wanted = set(config.output.fields)
    displacement, tensors, scalars = [], [], []
    if "displacement" in wanted:
        u_si = dolfinx.fem.Function(uh.function_space, name="displacement")
        u_si.x.array[:] = uh.x.array * scales.length
        displacement.append(u_si)
    T1 = dolfinx.fem.functionspace(msh, ("Lagrange", 1, (3, 3)))
    if "stress" in wanted:
        sigma_si = mechanics.stress(uh, solution.stiffness) * scales.stress
        tensors.append(postprocess.recover(sigma_si, T1, "stress"))
    if wanted & {"strain", "strain_gradient"}:
        recovered_strain = postprocess.recover(strain(uh), T1, "strain")
        if "strain" in wanted:
            tensors.append(recovered_strain)
        if "strain_gradient" in wanted:
            S1 = dolfinx.fem.functionspace(msh, ("Lagrange", 1))
            magnitude = strain_gradient_magnitude(recovered_strain) / scales.length
            scalars.append(postprocess.recover(magnitude, S1, "strain_gradient"))
    groups = {"displacement": displacement, "mechanics": tensors, "strain_gradient": scalars}
    paths = io.write_fields(outdir, groups, config.output.format, scales.length)
    log.info("fields written: %s", ", ".join(p.name for p in paths))


def run(comm: MPI.Comm, config: Config, outdir: pathlib.Path) -> dict:
    """Mesh, solve and write every output of one config; return the summary.

    On a solver failure the summary is written with ``status = "failed"`` and the
    solver's reason, and the error is raised again for the caller.
    """
    start = time.perf_counter()
    scales = Scales()
    outdir = pathlib.Path(outdir)
    prepare_output(comm, config, outdir)
    summary: dict = {"status": "interrupted", **_versions(comm)}
    stack = mesh_case(comm, config, outdir, scales)
    summary |= mesh_summary(stack, scales)
    solve_start = time.perf_counter()
    try:
        solution = solve_elastic(stack, config, scales)
    except solvers.SolverError as error:
        summary |= {"status": "failed", "failed_solver": error.solver,
                    "failure_reason": error.reason, "failure_iterations": error.iterations,
                    "time_total_s": time.perf_counter() - start}
        io.write_summary(outdir / "summary.json", summary, comm)
        log.error("%s; partial results (config, mesh, log, summary) are in %s", error, outdir)
        raise
    report = solution.report
    summary |= {
        "n_dofs": report.n_dofs,
        "physics_solved": ["mechanics"],
        "ksp_type": report.ksp_type, "pc_type": report.pc_type,
        "ksp_iterations": report.iterations, "ksp_reason": report.reason,
        "time_assemble_s": report.time_assemble_s,
        "time_solve_s": time.perf_counter() - solve_start,
    }
    summary |= elastic_outputs(stack, solution, config, scales, outdir)
    summary["status"] = "complete"
    summary["time_total_s"] = time.perf_counter() - start
    io.write_summary(outdir / "summary.json", summary, comm)
    log.info("done in %.1f s: axis displacement %.4g m, max shear %.4g Pa at depth %.4g m; "
             "results in %s", summary["time_total_s"], summary["axis_displacement_m"],
             summary["max_shear_stress_Pa"], summary["max_shear_depth_m"], outdir)
    return summary
