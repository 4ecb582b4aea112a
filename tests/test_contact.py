"""Solved frictionless contact (Nitsche, force-controlled) against Hertz and Sneddon.

Isotropic half-space stand-in (E = 300 GPa, ν = 0.3, film and substrate one material),
quarter domain 400 nm wide and deep, P2, cells of a/16 in the band around the contact
edge. The box is 50–100 contact radii large: its clamped bottom stiffens the
indentation by ≈ 0.7·a/H (1–1.5 %), inside the tolerances below.
"""

from __future__ import annotations

import math
import pathlib

import numpy as np
import pytest
from conftest import read_csv, run_case

from flexotip import analytic

YOUNG, POISSON = 300e9, 0.3
MODULUS = YOUNG / (1 - POISSON**2)
SPHERE_RADIUS = 50e-9
FORCES = (0.5e-6, 4.0e-6)


def hertz_radius(force: float) -> float:
    return (3 * force * SPHERE_RADIUS / (4 * MODULUS)) ** (1 / 3)


def sections(tip: dict, contact_size: float, solve: dict | None = None) -> dict:
    return {
        "material": {"elasticity": "isotropic", "young": YOUNG, "poisson": POISSON},
        "film": {"half_width": 400e-9, "substrate_thickness": 400e-9 - 46.86e-9,
                 "symmetry": "quarter"},
        "tip": {"load": "contact", **tip},
        "mesh": {"contact_size": contact_size, "far_size": 50e-9, "growth": 0.2, "degree": 2},
        "solve": solve or {},
        "output": {"fields": ["displacement", "contact_pressure"]},
    }


def shared_dir(tmp_path_factory, name: str) -> pathlib.Path:
    from mpi4py import MPI

    return pathlib.Path(MPI.COMM_WORLD.bcast(str(tmp_path_factory.mktemp(name)), root=0))


@pytest.fixture(scope="module")
def sphere_runs(tmp_path_factory):
    from mpi4py import MPI

    outdir = shared_dir(tmp_path_factory, "sphere")
    runs = {}
    for force in FORCES:
        tip = {"shape": "sphere", "radius": SPHERE_RADIUS, "force": force}
        folder = outdir / f"F{force:g}"
        runs[force] = run_case(MPI.COMM_WORLD, sections(tip, hertz_radius(force) / 16), folder)
        runs[force]["folder"] = str(folder)
    return runs


@pytest.mark.serial
@pytest.mark.parametrize("force", FORCES)
def test_sphere_matches_hertz(sphere_runs, force):
    summary = sphere_runs[force]
    a = hertz_radius(force)
    p0 = analytic.hertz_peak_pressure(force, a)
    print(f"F = {force:.1e} N: a = {summary['contact_radius_m']:.4e} m (Hertz {a:.4e}), "
          f"δ = {summary['approach_m']:.4e} m (Hertz {a**2 / SPHERE_RADIUS:.4e}), "
          f"p_max = {summary['max_pressure_Pa']:.4e} Pa (Hertz {p0:.4e}); "
          f"{summary['contact_solves']} solves, {summary['newton_iterations']} Newton steps, "
          f"force error {summary['force_balance_error']:.1e}")
    assert summary["status"] == "complete"
    assert abs(summary["force_balance_error"]) < 1e-5
    assert summary["contact_radius_m"] == pytest.approx(a, rel=0.03)
    assert summary["approach_m"] == pytest.approx(a**2 / SPHERE_RADIUS, rel=0.03)
    assert summary["max_pressure_Pa"] == pytest.approx(p0, rel=0.05)
    assert summary["contact_edge_in_band"]


@pytest.mark.serial
def test_contact_radius_scales_as_cube_root_of_force(sphere_runs):
    small, large = (sphere_runs[f]["contact_radius_m"] for f in FORCES)
    exponent = math.log(large / small) / math.log(FORCES[1] / FORCES[0])
    print(f"fitted exponent of a(F): {exponent:.4f}")
    assert exponent == pytest.approx(1 / 3, abs=0.01)


@pytest.mark.serial
def test_sphere_pressure_profile(sphere_runs, tmp_path_factory):
    """The contact pressure along the surface follows p0·sqrt(1 − r²/a²)."""
    force = FORCES[1]
    summary = sphere_runs[force]
    a = summary["contact_radius_m"]
    profile = read_csv(pathlib.Path(summary["folder"]) / "surface_profile.csv")
    r, p = np.array(profile["r_m"]), np.array(profile["pressure_Pa"])
    inside = r < 0.8 * a
    expected = analytic.hertz_peak_pressure(force, a) * np.sqrt(1 - r[inside] ** 2 / a**2)
    assert np.max(np.abs(p[inside] - expected)) < 0.05 * expected.max()
