"""``[solve] solver = "spectral"``: one config run by the spectral reference instead of the FEM.

For now the mechanics of a prescribed tip pressure (Hertz under a sphere, Sneddon under a
flat punch) on the film/substrate box: the box's roller walls are mirror planes, its
bottom is clamped, and :mod:`flexotip.spectral.elasticity` solves it exactly per cosine
mode; the pressure's amplitudes come from its exact 2D Fourier transform
(:func:`flexotip.spectral.grid.axisymmetric_coefficients`), so the only approximation is
the truncation at ``[solve] spectral_modes`` modes per direction. The polarised film
(:mod:`flexotip.spectral.film_dynamics`) is refused by the config: at the in-plane
resolution the contact edge needs, it costs far more than the FEM (benchmarks/README.md,
spectral_film).

Outputs are those of the FEM run where they exist: ``summary.json`` with the mechanics
keys of docs/outputs.md (plus ``solver`` and ``spectral_modes``), ``axis_profile.csv`` and
``surface_profile.csv`` with the same columns, ``surface_displacement.npz`` (u on the
top, on the grid) and ``config.toml``. The computation is NumPy on every rank (it is
small); rank 0 writes.
"""

from __future__ import annotations

import logging
import math
import pathlib
import time

from mpi4py import MPI

import numpy as np

from flexotip import analytic
from flexotip.config import Config
from flexotip.exports.sampling import PROFILE_EXTENT, PROFILE_SAMPLES
from flexotip.fem import io
from flexotip.fem.postprocess import depth_of_maximum, max_shear
from flexotip.materials import VOIGT_INDEX
from flexotip.pipeline import output_folder
from flexotip.spectral import elasticity, grid

log = logging.getLogger(__name__)

AXIS_SAMPLES = 41
"""Depths of the axis profile (0 to 4a)."""


def film_box(config: Config) -> grid.FilmBox:
    """The box of a config's film and substrate (full, half or quarter), m."""
    film = config.film
    W, H = film.half_width, film.thickness + film.substrate_thickness
    if film.symmetry == "full":
        return grid.FilmBox.centred(W, H)
    if film.symmetry == "quarter":
        return grid.FilmBox.quarter(W, H)
    return grid.FilmBox(-W, W, 0.0, W, H)  # half: y ≥ 0


def punch_transform(wavenumber: np.ndarray, force: float, contact_radius: float) -> np.ndarray:
    """2D Fourier transform of Sneddon's pressure F/(2πa·√(a² − r²)): F·sin(K·a)/(K·a), N."""
    return force * np.sinc(np.asarray(wavenumber) * contact_radius / math.pi)


def pressure_modes(config: Config, box: grid.FilmBox) -> np.ndarray:
    """Cosine amplitudes (Pa) of the tip pressure, ``spectral_modes`` per direction."""
    n = config.solve.spectral_modes
    a, F = config.contact_radius, config.tip.force
    transform = grid.hertz_transform if config.tip.shape == "sphere" else punch_transform
    return grid.axisymmetric_coefficients(box, (n, n), lambda k: transform(k, F, a), a,
                                          centre=tuple(config.tip.position))


def run(comm: MPI.Comm, config: Config, outdir: pathlib.Path) -> dict:
    """Solve a config with the spectral reference and write its outputs; return the summary."""
    start = time.perf_counter()
    outdir = pathlib.Path(outdir)
    output_folder.prepare(comm, config, outdir)
    box = film_box(config)
    n = config.solve.spectral_modes
    a = config.contact_radius
    x0, y0 = config.tip.position
    log.info("spectral solve: %d × %d modes over %.4g × %.4g nm, %.4g nm deep (%s box)", n, n,
             box.lengths[0] * 1e9, box.lengths[1] * 1e9, box.thickness * 1e9, config.film.symmetry)
    solve_start = time.perf_counter()
    solution = elasticity.solve_modes(config.material.elastic_constants(), box, pressure_modes(config, box))
    fraction = config.symmetry_fraction
    extent = min(PROFILE_EXTENT * a, box.x_max - x0, box.y_max - y0)
    radius = np.linspace(0.0, extent, PROFILE_SAMPLES)
    surface_u = solution.displacement_at(x0 + radius, np.full_like(radius, y0))
    # Each depth costs one evaluation of every mode's depth profile: fewer depths than the FEM's.
    depth = np.linspace(0.0, PROFILE_EXTENT * a, AXIS_SAMPLES)
    axis = [solution.fields_at([x0], [y0], -d) for d in depth]
    axis_uz = np.array([u[0, 2] for u, _ in axis])
    axis_stress = np.array([stress[0] for _, stress in axis])
    time_solve = time.perf_counter() - solve_start
    tensors = axis_stress[:, VOIGT_INDEX]
    shear = max_shear(tensors.reshape(-1, 9))
    shear_max, shear_depth = depth_of_maximum(depth, shear)
    if config.tip.shape == "sphere":
        pressure = grid.hertz_pressure(radius, config.tip.force, a)
        peak = analytic.hertz_peak_pressure(config.tip.force, a)
        approach = -float(surface_u[0, 2])
    else:  # Sneddon; its edge pressure is unbounded: report the mean over the outermost grid cell
        F = config.tip.force
        inside = radius < a
        pressure = np.zeros_like(radius)
        pressure[inside] = F / (2 * math.pi * a * np.sqrt(a**2 - radius[inside] ** 2))
        band = box.lengths[0] / n
        peak = F * math.sqrt(1 - (1 - band / a) ** 2) / (math.pi * (a**2 - (a - band) ** 2))
        approach = -float(np.mean(surface_u[radius < a, 2]))
    applied = solution.force / fraction
    io.write_csv(outdir / "axis_profile.csv", {
        "depth_m": depth, "u_z_m": axis_uz, "sigma_xx_Pa": axis_stress[:, 0],
        "sigma_yy_Pa": axis_stress[:, 1], "sigma_zz_Pa": axis_stress[:, 2],
        "sigma_xz_Pa": axis_stress[:, 4], "max_shear_Pa": shear}, comm)
    io.write_csv(outdir / "surface_profile.csv", {
        "r_m": radius, "pressure_Pa": pressure, "u_x_m": surface_u[:, 0], "u_y_m": surface_u[:, 1],
        "u_z_m": surface_u[:, 2]}, comm)
    if comm.rank == 0:
        x, y = box.cell_centres(n, n)
        with io.staged(outdir / "surface_displacement.npz") as target:
            np.savez_compressed(target, x_m=x, y_m=y, displacement_m=solution.displacement(0.0))
    summary = {
        "status": "complete", **output_folder.versions(comm), "solver": "spectral", "spectral_modes": n,
        "physics_solved": ["mechanics"],
        "force_N": config.tip.force, "applied_force_N": applied,
        "load_force_relative_error": applied / config.tip.force - 1,
        "contact_radius_m": a, "approach_m": approach, "max_pressure_Pa": peak,
        "axis_displacement_m": float(surface_u[0, 2]), "max_shear_stress_Pa": shear_max,
        "max_shear_depth_m": shear_depth, "tip_shape": config.tip.shape, "tip_load": config.tip.load,
        "tip_radius_m": config.tip.radius, "contact_modulus_Pa": config.contact_modulus,
        "time_solve_s": time_solve, "time_total_s": time.perf_counter() - start,
    }
    io.write_summary(outdir / "summary.json", summary, comm)
    log.info("spectral: done in %.1f s: axis displacement %.4g m, max shear %.4g Pa at depth %.4g m",
             summary["time_total_s"], summary["axis_displacement_m"], shear_max, shear_depth)
    return summary
