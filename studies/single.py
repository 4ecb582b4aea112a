"""One run: config → mesh → elastic tip solve → summary, profiles and ParaView fields.

This is what ``flexotip run CONFIG --out DIR`` does. The film/substrate stack is loaded
by the tip: the prescribed Hertz/Sneddon pressure (``load = "hertz"``) or the solved
frictionless contact with the rigid tip profile (``load = "contact"``). The
displacement, stress, strain, strain gradient (and contact pressure) are written for
ParaView, the axis and surface profiles as CSV, and the DESIGN.md §6 keys to
``summary.json``.
"""

from __future__ import annotations

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
from flexotip.fem import coupled, electromechanics, io, mechanics, postprocess, solvers
from flexotip.fem.contact import ApproachNotFoundError
from flexotip.fem.coupled import TipLoadSolution
from flexotip.fem.kinematics import strain, strain_gradient_magnitude
from flexotip.geometry import names
from flexotip.geometry.mesh import StackMesh, build_mesh
from flexotip.geometry.stack import StackGeometry
from flexotip.units import Scales

log = logging.getLogger(__name__)

PROFILE_SAMPLES = 161
"""Points of the axis and surface profiles."""
PROFILE_EXTENT = 4.0
"""Length of the axis and surface profiles, in contact radii."""


def stack_geometry(config: Config, scales: Scales,
                   contact_radius: float | None = None) -> StackGeometry:
    """The scaled gmsh geometry described by a config.

    A prescribed flat-punch pressure gets an extra circle one contact-edge cell inside
    its edge, so that the regularised pressure (:mod:`flexotip.fem.loads`) is smooth in
    every cell. A solved contact gets a refined band of ``contact_band`` relative
    half-width around the predicted contact radius (extended outwards by a punch's
    fillet radius), since its edge is not known before the solve.

    Args:
        config: The run's config.
        scales: Unit scales.
        contact_radius: Centre of the refined band (m) instead of the predicted radius
            (used by the re-mesh).
    """
    L = scales.length
    film, mesh = config.film, config.mesh
    radius = (contact_radius or config.contact_radius) / L
    solved = config.tip.load == "contact"
    punch = config.tip.shape == "flat" and not solved
    band = None
    if solved:
        # The contact disc then spans the whole band, so that no mesh circle sits at the
        # predicted edge for the computed edge to lock onto.
        width = mesh.contact_band * radius
        band = (radius - width, radius + width + config.tip.edge_radius / L)
        radius = band[1]
    return StackGeometry(
        film_thickness=film.thickness / L,
        substrate_thickness=film.substrate_thickness / L,
        air_thickness=film.air_thickness / L,
        half_width=film.half_width / L,
        contact_radius=radius,
        contact_center=(config.tip.position[0] / L, config.tip.position[1] / L),
        contact_size=mesh.contact_size / L,
        far_size=mesh.far_size / L,
        growth=mesh.growth,
        symmetry=film.symmetry,
        edge_band=mesh.contact_size / L if punch else None,
        refine_band=band,
    )


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
              scales: Scales | None = None, contact_radius: float | None = None) -> StackMesh:
    """Build the mesh of a config and write it with its tags (``mesh.xdmf``, ``mesh.msh``).

    ``contact_radius`` (m) re-centres the refinement of a solved contact (re-mesh).
    """
    scales = scales or Scales()
    log.info("meshing: film %.4g nm on %.4g nm substrate, %s domain of half-width %.4g nm, "
             "contact radius %.4g nm, edge cells %.3g nm",
             config.film.thickness * 1e9, config.film.substrate_thickness * 1e9,
             config.film.symmetry, config.film.half_width * 1e9,
             (contact_radius or config.contact_radius) * 1e9, config.mesh.contact_size * 1e9)
    geometry = stack_geometry(config, scales, contact_radius)
    stack = build_mesh(comm, geometry, msh_file=outdir / "mesh.msh")
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


def elastic_outputs(stack: StackMesh, solution: TipLoadSolution, config: Config,
                    scales: Scales, outdir: pathlib.Path) -> dict:
    """Profiles (CSV), fields (ParaView) and the mechanics keys of summary.json."""
    msh, uh = stack.msh, solution.uh
    comm = msh.comm
    L, S = scales.length, scales.stress
    geometry = stack.geometry
    x0, y0 = geometry.contact_center
    fraction = config.symmetry_fraction
    solved = solution.contact is not None

    applied = solution.applied_force / fraction
    force = config.tip.force / scales.force
    load_error = applied / force - 1 if force > 0 else 0.0
    log.info("load: ∫p dA = %.6g N for a force of %.6g N (relative error %.2e)",
             applied * scales.force, config.tip.force, load_error)

    a = geometry.contact_radius
    keys: dict = {}
    extent = min(PROFILE_EXTENT * a, geometry.half_width - max(abs(x0), abs(y0)))
    radius = np.linspace(0.0, extent, PROFILE_SAMPLES)
    surface_points = np.c_[x0 + radius, np.full_like(radius, y0), 0 * radius]
    surface_u = postprocess.PointEvaluator(msh, surface_points)(uh)
    axis_uz = float(surface_u[0, 2])
    if solved:
        pressure_at = coupled.surface_pressure(solution)
        edge = coupled.contact_edge(pressure_at, geometry)
        support, peak = edge.radius_along, edge.peak_pressure
        area_radius = coupled.contact_area_radius(solution, fraction)
        a = edge.radius
        pressure_values = pressure_at(surface_points)
        inner, outer = geometry.refine_band
        keys |= {"contact_radius_100_m": support["100"] * L, "contact_radius_110_m": support["110"] * L,
                 "contact_radius_area_m": area_radius * L,
                 "contact_band_inner_m": inner * L, "contact_band_outer_m": outer * L,
                 "contact_edge_in_band": bool(inner <= a <= outer),
                 "force_balance_error": load_error, **solution.stats}
        approach = solution.approach
        log.info("contact radius %.4g nm along [100], %.4g nm along [110] (%.4g nm from the "
                 "contact area); peak pressure %.4g GPa", support["100"] * L * 1e9,
                 support["110"] * L * 1e9, area_radius * L * 1e9, peak * S * 1e-9)
    else:
        pressure_values = solution.prescribed.pressure_values(radius)
        peak = solution.prescribed.peak_pressure()
        keys |= solution.stats
        if config.tip.shape == "flat":  # the punch moves as a whole: mean over the disc
            approach = -float(np.mean(surface_u[radius <= a * (1 - 1e-9), 2]))
        else:  # the sphere's apex sits on the axis
            approach = -axis_uz

    sigma = mechanics.stress(uh, solution.stiffness)
    degree = config.mesh.degree
    T_exact = dolfinx.fem.functionspace(msh, ("Discontinuous Lagrange", degree - 1, (3, 3)))
    sigma_exact = dolfinx.fem.Function(T_exact)
    sigma_exact.interpolate(dolfinx.fem.Expression(sigma, T_exact.element.interpolation_points))

    depth = np.linspace(0.0, PROFILE_EXTENT * a, PROFILE_SAMPLES)
    if solution.dx_solid is not None:  # the top point in a film cell, not an air cell
        depth[0] = coupled.SAMPLE_DEPTH
    axis = postprocess.PointEvaluator(msh, np.c_[np.full_like(depth, x0), np.full_like(depth, y0), -depth])
    axis_stress = axis(sigma_exact)
    axis_u = axis(uh)
    shear = postprocess.max_shear(axis_stress)
    shear_max, shear_depth = postprocess.depth_of_maximum(depth, shear)

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
        "max_pressure_Pa": peak * S,
        "axis_displacement_m": axis_uz * L,
        "max_shear_stress_Pa": shear_max * S,
        "max_shear_depth_m": shear_depth * L,
        "tip_shape": config.tip.shape,
        "tip_load": config.tip.load,
        "tip_radius_m": config.tip.radius,
        "contact_modulus_Pa": config.contact_modulus,
        **keys,
    }


def _write_fields(stack: StackMesh, solution: TipLoadSolution, config: Config,
                  scales: Scales, outdir: pathlib.Path) -> None:
    """The displacement and the recovered (P1) stress, strain and strain gradient, in SI.

    VTX puts one element per file: ``displacement`` (degree of the run), ``mechanics``
    (the 3×3 tensors), ``strain_gradient`` (a scalar) and, for a solved contact,
    ``contact_pressure`` (a scalar on the film top, zero elsewhere).
    """
    msh, uh = stack.msh, solution.uh
    wanted = set(config.output.fields)
    displacement, tensors, scalars = [], [], []
    if "displacement" in wanted:
        u_si = dolfinx.fem.Function(uh.function_space, name="displacement")
        u_si.x.array[:] = uh.x.array * scales.length
        displacement.append(u_si)
    T1 = dolfinx.fem.functionspace(msh, ("Lagrange", 1, (3, 3)))
    S1 = dolfinx.fem.functionspace(msh, ("Lagrange", 1))
    if "stress" in wanted:
        sigma_si = mechanics.stress(uh, solution.stiffness) * scales.stress
        tensors.append(postprocess.recover(sigma_si, T1, "stress", solution.dx_solid))
    if wanted & {"strain", "strain_gradient"}:
        recovered_strain = postprocess.recover(strain(uh), T1, "strain", solution.dx_solid)
        if "strain" in wanted:
            tensors.append(recovered_strain)
        if "strain_gradient" in wanted:
            magnitude = strain_gradient_magnitude(recovered_strain) / scales.length
            scalars.append(postprocess.recover(magnitude, S1, "strain_gradient", solution.dx_solid))
    pressure = []
    if solution.contact is not None and "contact_pressure" in wanted:
        pressure.append(postprocess.recover_on_boundary(
            solution.pressure * scales.stress, S1, solution.ds_load, "contact_pressure"))
    groups = {"displacement": displacement, "mechanics": tensors, "strain_gradient": scalars,
              "contact_pressure": pressure}
    paths = io.write_fields(outdir, groups, config.output.format, scales.length)
    log.info("fields written: %s", ", ".join(p.name for p in paths))


def needs_electromechanics(config: Config) -> bool:
    """Whether a run solves (u, P, φ): flexoelectricity on, or a biased tip."""
    return config.physics.flexoelectric or config.tip.bias != 0.0


def electric_outputs(stack: StackMesh, em: coupled.ElectromechanicalSolution, config: Config,
                     scales: Scales, outdir: pathlib.Path, contact_radius: float) -> dict:
    """Polarisation and field profiles (CSV), fields (ParaView) and summary keys.

    E = −∇φ, the flexoelectric field E^fl = −f:∇ε and the strain gradient are recovered
    onto P1 (lumped L2 projection over the film and substrate) before sampling. The
    summary's field keys follow DESIGN.md §6: ``Ez_below_tip_V_per_m`` is the mean of E_z
    on the axis over a/4 ≤ −z ≤ a, ``Ez_contact_edge_V_per_m`` the area mean of E_z over
    the annulus a ≤ r ≤ 1.5a at z = −a/4 (within the meshed part of the annulus).
    """
    msh = stack.msh
    comm = msh.comm
    L = scales.length
    E_unit, P_unit, V_unit = scales.electric_field, scales.polarization, scales.potential
    geometry = stack.geometry
    x0, y0 = geometry.contact_center
    a = contact_radius
    thickness = geometry.film_thickness
    V1 = dolfinx.fem.functionspace(msh, ("Lagrange", 1, (3,)))
    T1 = dolfinx.fem.functionspace(msh, ("Lagrange", 1, (3, 3)))
    field = postprocess.recover(-ufl.grad(em.phi) * E_unit, V1, "electric_field")
    strain_p1 = postprocess.recover(strain(em.u), T1, dx=coupled.solid_measure(stack))
    flexo = postprocess.recover(electromechanics.flexo_field(ufl.grad(strain_p1), em.constants)
                                * em.domains.film_indicator * E_unit, V1, "flexo_field")
    depolarization = dolfinx.fem.Function(V1, name="depolarization_field")
    applied, phi_applied = None, None
    if config.tip.bias != 0.0:  # E = E_applied + E_depolarisation (coupled.applied_potential)
        phi_applied = coupled.applied_potential(stack, config, scales, em, contact_radius)
        applied = postprocess.recover(-ufl.grad(phi_applied) * E_unit, V1, "applied_field")
    for vector in (field, flexo, applied):  # odd components vanish on mirror planes; one-sided
        if vector is not None:  # cell averages there miss that
            _zero_normal_on_symmetry_planes(vector, stack)
    depolarization.x.array[:] = field.x.array - (applied.x.array if applied is not None else 0.0)

    # Axis: the whole film depth, densely; the DESIGN averages over a/4 ≤ −z ≤ a.
    depth = np.linspace(0.0, thickness, 4 * PROFILE_SAMPLES)
    depth[-1] *= 1 - 1e-9
    axis = postprocess.PointEvaluator(msh, np.c_[np.full_like(depth, x0), np.full_like(depth, y0), -depth])
    P_axis, E_axis = axis(em.P) * P_unit, axis(field)
    phi_axis, flexo_axis = axis(em.phi)[:, 0] * V_unit, axis(flexo)
    E_dep_axis = axis(depolarization)
    below = (depth >= a / 4) & (depth <= a)
    Ez_below = float(np.mean(E_axis[below, 2]))

    # Line along +x at z = −a/4 (the paper's maps are x–z sections through the axis).
    radius = np.linspace(0.0, min(PROFILE_EXTENT * a, geometry.half_width - abs(x0)), PROFILE_SAMPLES)
    line = postprocess.PointEvaluator(msh, np.c_[x0 + radius, np.full_like(radius, y0),
                                                 np.full_like(radius, -a / 4)])
    E_line, P_line, phi_line = line(field), line(em.P) * P_unit, line(em.phi)[:, 0] * V_unit
    extremum = int(np.nanargmin(E_line[:, 0]))

    # Annulus a ≤ r ≤ 1.5a at z = −a/4, over the meshed sector, area-weighted.
    start, span = {"full": (0.0, 2 * np.pi), "half": (-np.pi / 2, np.pi), "quarter": (0.0, np.pi / 2)}[
        geometry.symmetry]
    rr, tt = np.meshgrid(np.linspace(a, 1.5 * a, 11), start + span * (np.arange(48) + 0.5) / 48)
    ring = postprocess.PointEvaluator(msh, np.c_[x0 + (rr * np.cos(tt)).ravel(),
                                                 y0 + (rr * np.sin(tt)).ravel(),
                                                 np.full(rr.size, -a / 4)])
    Ez_ring, Ez_dep_ring = ring(field)[:, 2], ring(depolarization)[:, 2]
    weights = rr.ravel() * np.isfinite(Ez_ring)
    Ez_edge = float(np.nansum(Ez_ring * weights) / weights.sum())
    Ez_dep_edge = float(np.nansum(Ez_dep_ring * weights) / weights.sum())

    # The film top's potential (0 when short-circuited; free off the contact under an air
    # gap or an open top), sampled on a square of ±4a around the tip.
    side = np.linspace(-1.0, 1.0, 65) * min(PROFILE_EXTENT * a, geometry.half_width)
    gx, gy = np.meshgrid(x0 + side, y0 + side, indexing="ij")
    phi_top = postprocess.PointEvaluator(msh, np.c_[gx.ravel(), gy.ravel(), 0 * gx.ravel()])(em.phi)[:, 0]
    film_nodes = _film_nodal_values(em, scales, config.mesh.degree)
    io.write_csv(outdir / "axis_electric.csv", {
        "depth_m": depth * L, "P_x_C_per_m2": P_axis[:, 0], "P_y_C_per_m2": P_axis[:, 1],
        "P_z_C_per_m2": P_axis[:, 2], "phi_V": phi_axis, "E_x_V_per_m": E_axis[:, 0],
        "E_z_V_per_m": E_axis[:, 2], "E_flexo_z_V_per_m": flexo_axis[:, 2],
        "E_depolarization_z_V_per_m": E_dep_axis[:, 2],
        "phi_applied_V": (axis(phi_applied)[:, 0] * V_unit if phi_applied is not None
                          else np.zeros_like(depth)),
    }, comm)
    io.write_csv(outdir / "line_electric.csv", {
        "r_m": radius * L, "z_m": np.full_like(radius, -a / 4) * L,
        "P_x_C_per_m2": P_line[:, 0], "P_z_C_per_m2": P_line[:, 2], "phi_V": phi_line,
        "E_x_V_per_m": E_line[:, 0], "E_z_V_per_m": E_line[:, 2],
    }, comm)
    _write_electric_fields(em, [field, depolarization, applied, flexo], config, scales, outdir)
    P_magnitude = np.linalg.norm(P_axis, axis=1)
    return {
        "P_axis_max_C_per_m2": float(np.nanmax(P_magnitude)),
        "P_axis_max_depth_m": float(depth[np.nanargmax(P_magnitude)] * L),
        "max_abs_P_C_per_m2": film_nodes["max_abs_P"],
        "max_abs_P_position_m": film_nodes["max_abs_P_position"],
        "Ez_below_tip_V_per_m": Ez_below,
        "Ez_contact_edge_V_per_m": Ez_edge,
        "Ez_below_tip_depolarization_V_per_m": float(np.mean(E_dep_axis[below, 2])),
        "Ez_contact_edge_depolarization_V_per_m": Ez_dep_edge,
        "Ex_line_min_V_per_m": float(E_line[extremum, 0]),
        "Ex_line_min_radius_m": float(radius[extremum] * L),
        "phi_min_V": film_nodes["phi_min"], "phi_max_V": film_nodes["phi_max"],
        "phi_top_min_V": float(np.nanmin(phi_top)) * V_unit,
        "phi_top_max_V": float(np.nanmax(phi_top)) * V_unit,
        "susceptibility": config.electromechanical_material().susceptibility,
        "flexo_f11_V": config.material.f11, "flexo_f12_V": config.material.f12,
        "flexo_f44_V": config.material.f44, "electric_bc": config.physics.electric_bc,
        "tip_bias_V": config.tip.bias,
    }


def _zero_normal_on_symmetry_planes(vector: dolfinx.fem.Function, stack: StackMesh) -> None:
    """Set the normal component of a recovered vector field to 0 on the symmetry planes."""
    fdim = stack.msh.topology.dim - 1
    for name, component in ((names.SYMMETRY_X, 0), (names.SYMMETRY_Y, 1)):
        if name in stack.groups:
            sub = vector.function_space.sub(component)
            dofs = dolfinx.fem.locate_dofs_topological(sub, fdim, stack.facets(name))
            vector.x.array[dofs] = 0.0


def _film_nodal_values(em: coupled.ElectromechanicalSolution, scales: Scales, degree: int) -> dict:
    """Largest nodal |P| (and where) and the extremes of φ over the nodes, on every rank."""
    comm = em.P.function_space.mesh.comm
    value, position = postprocess.largest_nodal_norm(em.P, degree)
    m = em.phi.function_space.dofmap.index_map.size_local
    phi = em.phi.x.array[:m] * scales.potential
    return {"max_abs_P": value * scales.polarization,
            "max_abs_P_position": [float(c) * scales.length for c in position],
            "phi_min": postprocess.global_min(phi, comm), "phi_max": postprocess.global_max(phi, comm)}


def _write_electric_fields(em, vectors: list, config: Config, scales: Scales,
                           outdir: pathlib.Path) -> None:
    """polarization.bp (P, φ at the run's degree) and electric.bp (P1 vectors, SI).

    ``vectors``: E, its depolarisation part, its applied part (None without a bias) and
    E^fl, written under the ``electric_field`` and ``flexo_field`` output choices.
    """
    wanted = set(config.output.fields)
    primary = []
    if "polarization" in wanted:  # interpolated from the bubble-enriched space to Lagrange
        V = dolfinx.fem.functionspace(em.P.function_space.mesh, ("Lagrange", config.mesh.degree, (3,)))
        P_si = dolfinx.fem.Function(V, name="polarization")
        P_si.interpolate(em.P)
        P_si.x.array[:] *= scales.polarization
        primary.append(P_si)
    if "potential" in wanted:
        phi_si = dolfinx.fem.Function(em.phi.function_space, name="potential")
        phi_si.x.array[:] = em.phi.x.array * scales.potential
        primary.append(phi_si)
    field, depolarization, applied, flexo = vectors
    derived = [f for name, f in (("electric_field", field), ("electric_field", depolarization),
                                 ("electric_field", applied), ("flexo_field", flexo))
               if name in wanted and f is not None]
    groups = {"potential": [f for f in primary if f.name == "potential"],
              "polarization": [f for f in primary if f.name == "polarization"],
              "electric": derived}
    paths = io.write_fields(outdir, groups, config.output.format, scales.length)
    log.info("fields written: %s", ", ".join(p.name for p in paths))


SURFACE_MAP_SAMPLES = 129
"""Grid points per side of the surface vacancy map (odd: a point sits on the tip axis)."""


def surface_map_sampler(stack: StackMesh, config: Config, scales: Scales,
                        contact_radius: float) -> postprocess.SurfaceMap:
    """The surface-map grid: ±4 contact radii around the tip (within the film's half width)."""
    geometry = stack.geometry
    extent = min(PROFILE_EXTENT * contact_radius, geometry.half_width)
    return postprocess.SurfaceMap(stack.msh, geometry.contact_center, extent, SURFACE_MAP_SAMPLES,
                                  config.vacancies.sensing_depth / scales.length)


def _unfold(values: np.ndarray) -> np.ndarray:
    """Fill the unmeshed mirror images of a map on a grid centred on the mirror planes."""
    values = np.where(np.isnan(values), values[::-1, :], values)
    return np.where(np.isnan(values), values[:, ::-1], values)


def vacancy_outputs(stack: StackMesh, vac: coupled.VacancySolution, config: Config, scales: Scales,
                    outdir: pathlib.Path, contact_radius: float,
                    surface_map: postprocess.SurfaceMap) -> dict:
    """Surface vacancy map (CSV, NPZ, PNG), depth profiles, history, field and summary keys.

    Totals count the vacancies of the whole film (the meshed part divided by the symmetry
    fraction). The map s(x, y) (DESIGN.md §6) is written on the grid around the tip,
    unfolded across the symmetry planes in the NPZ and PNG.
    """
    msh, comm = stack.msh, stack.msh.comm
    L, c0 = scales.length, vac.material.c0
    per_film = c0 * L**3 / config.symmetry_fraction
    values = surface_map(vac.w)
    extremes = surface_map.extremes(values, contact_radius)
    w_film = vac.w.x.array[vac.film_dofs]
    c_min = postprocess.global_min(np.exp(w_film), comm) * c0
    c_max = postprocess.global_max(np.exp(w_film), comm) * c0
    gx, gy = np.meshgrid(surface_map.x, surface_map.y, indexing="ij")
    meshed = np.isfinite(values)
    io.write_csv(outdir / "surface_map.csv", {"x_m": gx[meshed] * L, "y_m": gy[meshed] * L,
                                              "s": values[meshed]}, comm)
    full = _unfold(values)
    if comm.rank == 0:
        np.savez(outdir / "surface_map.npz", x_m=surface_map.x * L, y_m=surface_map.y * L, s=full,
                 contact_radius_m=contact_radius * L, sensing_depth_m=config.vacancies.sensing_depth)
        _plot_surface_map(outdir / "surface_map.png", surface_map.x * L, surface_map.y * L, full,
                          contact_radius * L, stack.geometry.contact_center, L)
    # Depth profiles of c/c0 on the axis and through the enrichment peak (along x).
    x0, y0 = stack.geometry.contact_center
    depth = np.linspace(0.0, stack.geometry.film_thickness * (1 - 1e-9), 2 * PROFILE_SAMPLES)
    peak = extremes["enrichment_radius"]
    profiles = {name: np.exp(postprocess.PointEvaluator(
        msh, np.c_[np.full_like(depth, x0 + offset), np.full_like(depth, y0), -depth])(vac.w)[:, 0])
        for name, offset in (("axis", 0.0), ("peak", peak))}
    io.write_csv(outdir / "axis_vacancies.csv", {
        "depth_m": depth * L, "c_relative_axis": profiles["axis"],
        "c_relative_enrichment_peak": profiles["peak"]}, comm)
    if vac.history is not None:
        history = vac.history
        observed = history.observed or [{}] * len(history.times)
        io.write_csv(outdir / "vacancy_history.csv", {
            "t_s": history.times, "dt_s": history.steps,
            "total_relative_change": history.total_change, "c_min_relative": history.c_min,
            "c_max_relative": history.c_max, "relative_change": history.change,
            "error_estimate": history.error, "newton_iterations": history.newton,
            "delta_dec": [o.get("delta_dec", np.nan) for o in observed],
            "delta_inc": [o.get("delta_inc", np.nan) for o in observed],
            "delta_axis": [o.get("delta_axis", np.nan) for o in observed],
            "delta_contact_mean": [o.get("delta_contact_mean", np.nan) for o in observed],
            "enrichment_radius_m": [o.get("enrichment_radius", np.nan) * L for o in observed]}, comm)
    if "vacancies" in config.output.fields:
        c = dolfinx.fem.Function(vac.w.function_space, name="vacancy_density")
        c.x.array[:] = c0 * np.exp(vac.w.x.array)
        c.x.array[vac.outside] = 0.0
        relative = dolfinx.fem.Function(vac.w.function_space, name="vacancy_density_relative")
        relative.x.array[:] = c.x.array / c0
        paths = io.write_fields(outdir, {"vacancies": [c, relative]}, config.output.format, L)
        log.info("fields written: %s", ", ".join(p.name for p in paths))
    summary = {
        "vacancies_initial": vac.total_initial * per_film,
        "vacancies_final": vac.total_final * per_film,
        "vacancies_relative_change": vac.total_final / vac.total_initial - 1.0,
        "c_min_per_m3": c_min, "c_max_per_m3": c_max,
        "delta_dec": extremes["delta_dec"], "delta_inc": extremes["delta_inc"],
        "enrichment_radius_m": extremes["enrichment_radius"] * L,
        "delta_axis": extremes["delta_axis"], "delta_contact_mean": extremes["delta_contact_mean"],
        "delta_edge_mean": extremes["delta_edge_mean"],
        "t_quasi_steady_s": None,
        "vacancy_surface": config.vacancies.surface,
        "sensing_depth_m": config.vacancies.sensing_depth,
    }
    log.info("vacancies: c/c0 in [%.4g, %.4g], Δdec = %.4g, Δinc = %.4g at r = %.3g nm, total "
             "change %.2e", c_min / c0, c_max / c0, summary["delta_dec"], summary["delta_inc"],
             summary["enrichment_radius_m"] * 1e9, summary["vacancies_relative_change"])
    return summary | vac.stats


def _plot_surface_map(path: pathlib.Path, x: np.ndarray, y: np.ndarray, values: np.ndarray,
                      contact_radius: float, center, length: float) -> None:
    """surface_map.png: s(x, y) with the contact circle (needs matplotlib; skipped without)."""
    try:
        import matplotlib as mpl

        mpl.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log.info("matplotlib not installed: surface_map.png not drawn (the NPZ has the map)")
        return
    limit = float(np.nanmax(np.abs(values))) or 1.0
    fig, ax = plt.subplots(figsize=(5.2, 4.2))
    image = ax.pcolormesh(x * 1e9, y * 1e9, values.T, cmap="RdBu_r", vmin=-limit, vmax=limit,
                          shading="nearest")
    circle = mpl.patches.Circle((center[0] * length * 1e9, center[1] * length * 1e9),
                                contact_radius * 1e9, fill=False, ls="--", color="k", lw=0.8)
    ax.add_patch(circle)
    ax.set(xlabel="x (nm)", ylabel="y (nm)", aspect="equal",
           title="surface vacancy map: mean c/c0 − 1 over the sensing depth")
    fig.colorbar(image, ax=ax, label="c/c0 − 1")
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)


def _solve(stack: StackMesh, config: Config, scales: Scales) -> TipLoadSolution:
    if config.tip.load == "contact":
        return coupled.solve_contact(stack, config, scales)
    return coupled.solve_prescribed(stack, config, scales)


def run(comm: MPI.Comm, config: Config, outdir: pathlib.Path) -> dict:
    """Mesh, solve and write every output of one config; return the summary.

    A solved contact whose edge falls outside the refined band is re-meshed once around
    the computed radius (``[mesh] remesh``), or reported with a warning. On a solver
    failure the summary is written with ``status = "failed"`` and the solver's reason,
    and the error is raised again for the caller.
    """
    if config.solve.solver == "spectral":
        from flexotip.studies import spectral_run

        return spectral_run.run(comm, config, outdir)
    start = time.perf_counter()
    scales = Scales()
    outdir = pathlib.Path(outdir)
    prepare_output(comm, config, outdir)
    summary: dict = {"status": "interrupted", **_versions(comm)}
    stack = mesh_case(comm, config, outdir, scales)
    summary |= mesh_summary(stack, scales)
    solve_start = time.perf_counter()
    try:
        solution = _solve(stack, config, scales)
        if solution.contact is not None:
            stack, solution, remeshed = _check_band(comm, stack, solution, config, scales, outdir)
            summary |= mesh_summary(stack, scales) | {"remeshed": remeshed}
    except (solvers.SolverError, ApproachNotFoundError) as error:
        _write_failure(comm, summary, error, start, outdir, "config, mesh, log, summary")
        raise
    physics_solved = ["mechanics"]
    mechanical = elastic_outputs(stack, solution, config, scales, outdir)
    contact_radius = mechanical["contact_radius_m"] / scales.length
    vac = None
    if needs_electromechanics(config):
        try:
            if config.physics.vacancies:
                surface_map = surface_map_sampler(stack, config, scales, contact_radius)
                observe = (lambda _t, w: surface_map.extremes(surface_map(w), contact_radius)) \
                    if config.solve.mode == "transient" else None
                em, vac = coupled.solve_with_vacancies(stack, config, scales, solution, contact_radius,
                                                       observe=observe)
            else:
                em = coupled.solve_electromechanics(stack, config, scales, solution, contact_radius)
        except solvers.SolverError as error:
            summary |= mechanical
            _write_failure(comm, summary, error, start, outdir,
                           "mechanics fields and profiles, summary")
            raise
        physics_solved += ["polarization", "electrostatics"]
        history = em.stats.pop("tdgl_history", None)
        if history is not None:
            io.write_csv(outdir / "tdgl_history.csv", {
                "t_s": history.times, "dt_s": history.steps,
                "max_abs_P_C_per_m2": history.max_abs_P, "relative_change": history.change}, comm)
            em.stats["tdgl_t_quasi_steady_s"] = em.stats["t_quasi_steady_s"]
        mechanical |= em.stats | electric_outputs(stack, em, config, scales, outdir, contact_radius)
        if vac is not None:
            physics_solved.append("vacancies")
            mechanical |= vacancy_outputs(stack, vac, config, scales, outdir, contact_radius, surface_map)
    elif config.physics.vacancies:
        log.info("vacancies: no field acts on them (no flexoelectricity, no bias): they stay uniform")
    summary |= {"physics_solved": physics_solved, "time_solve_s": time.perf_counter() - solve_start}
    summary |= mechanical
    summary["status"] = "complete"
    summary["time_total_s"] = time.perf_counter() - start
    io.write_summary(outdir / "summary.json", summary, comm)
    log.info("done in %.1f s: axis displacement %.4g m, max shear %.4g Pa at depth %.4g m; "
             "results in %s", summary["time_total_s"], summary["axis_displacement_m"],
             summary["max_shear_stress_Pa"], summary["max_shear_depth_m"], outdir)
    return summary


def _write_failure(comm, summary: dict, error: Exception, start: float, outdir: pathlib.Path,
                   partial: str) -> None:
    """Write summary.json with status "failed", the solver and its reason; log where the rest is."""
    summary |= {"status": "failed",
                "failed_solver": getattr(error, "solver", "force control"),
                "failure_reason": getattr(error, "reason", str(error)),
                "failure_iterations": getattr(error, "iterations", None),
                "time_total_s": time.perf_counter() - start}
    io.write_summary(outdir / "summary.json", summary, comm)
    log.error("%s; partial results (%s) are in %s", error, partial, outdir)


def _check_band(comm, stack, solution, config, scales, outdir):
    """Re-mesh once around the computed contact radius if the edge left the refined band."""
    inner, outer = stack.geometry.refine_band
    radius = coupled.contact_edge(coupled.surface_pressure(solution), stack.geometry).radius
    if inner <= radius <= outer:
        return stack, solution, False
    L = scales.length
    log.warning("contact edge at r = %.4g nm lies outside the refined band [%.4g, %.4g] nm%s",
                radius * L * 1e9, inner * L * 1e9, outer * L * 1e9,
                "; re-meshing around it" if config.mesh.remesh else
                " (set [mesh] remesh = true or widen [mesh] contact_band)")
    if not config.mesh.remesh:
        return stack, solution, False
    stack = mesh_case(comm, config, outdir, scales, contact_radius=radius * L)
    return stack, _solve(stack, config, scales), True
