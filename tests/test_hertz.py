"""Hertz validation: isotropic half-space (E = 300 GPa, ν = 0.3) under the Hertz pressure.

Film and substrate are one isotropic material; the box is 100 contact radii wide and
deep so that the clamped bottom and roller walls act as a half-space. P2 displacement,
quarter domain. Checks: axis displacement π·p0·a·(1−ν²)/(2E) within 3 %, the surface
profile for r ≤ 3a within 5 % pointwise, max shear on the axis 0.31·p0 at 0.48·a within
10 % each, and the load integral equal to F within 1e-3.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import MECHANICS_ONLY, read_csv, run_case, shared_dir

from flexotip import analytic

YOUNG, POISSON = 300e9, 0.3
FORCE = 4.0e-6
CONTACT_RADIUS = 8e-9


def hertz_sections(contact_size: float, degree: int = 2, growth: float = 0.12) -> dict:
    return {
        "material": {"elasticity": "isotropic", "young": YOUNG, "poisson": POISSON},
        "film": {"half_width": 800e-9, "substrate_thickness": 800e-9 - 46.86e-9,
                 "symmetry": "quarter"},
        "tip": {"shape": "sphere", "force": FORCE, "contact_radius": CONTACT_RADIUS},
        "physics": MECHANICS_ONLY,
        "mesh": {"surface_size": 0.0,
                 "contact_size": contact_size, "far_size": 60e-9, "degree": degree,
                 "growth": growth},
        "output": {"fields": ["displacement"]},
    }


@pytest.fixture(scope="module")
def hertz_run(tmp_path_factory):
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    outdir = shared_dir(tmp_path_factory, "hertz")
    summary = run_case(comm, hertz_sections(0.6e-9), outdir)
    return summary, outdir


def modulus() -> float:
    return YOUNG / (1 - POISSON**2)


def test_load_integrates_to_force(hertz_run):
    summary, _ = hertz_run
    assert summary["status"] == "complete"
    assert abs(summary["load_force_relative_error"]) < 1e-3


def test_axis_displacement(hertz_run):
    summary, _ = hertz_run
    expected = analytic.hertz_surface_displacement(0.0, FORCE, CONTACT_RADIUS, modulus())
    print(f"Hertz axis displacement {-summary['axis_displacement_m']:.5e} m, half-space "
          f"{expected:.5e} m, relative error {-summary['axis_displacement_m'] / expected - 1:+.4f}")
    assert -summary["axis_displacement_m"] == pytest.approx(expected, rel=0.03)
    assert expected == pytest.approx(math.pi * analytic.hertz_peak_pressure(FORCE, CONTACT_RADIUS)
                                     * CONTACT_RADIUS * (1 - POISSON**2) / (2 * YOUNG))


def test_surface_profile(hertz_run):
    _, outdir = hertz_run
    profile = read_csv(outdir / "surface_profile.csv")
    r = np.array(profile["r_m"])
    computed = -np.array(profile["u_z_m"])
    keep = r <= 3 * CONTACT_RADIUS
    expected = analytic.hertz_surface_displacement(r[keep], FORCE, CONTACT_RADIUS, modulus())
    error = np.abs(computed[keep] / expected - 1)
    inside = r[keep] <= CONTACT_RADIUS
    print(f"surface profile: max relative error {error[inside].max():.4f} inside, "
          f"{error[~inside].max():.4f} outside (r ≤ 3a)")
    assert error[inside].max() < 0.05
    assert error[~inside].max() < 0.05


def test_max_shear_on_axis(hertz_run):
    summary, _ = hertz_run
    ratio, depth = analytic.hertz_axis_max_shear(POISSON)
    assert ratio == pytest.approx(0.31, abs=0.005)
    assert depth == pytest.approx(0.48, abs=0.005)
    p0 = analytic.hertz_peak_pressure(FORCE, CONTACT_RADIUS)
    print(f"max shear {summary['max_shear_stress_Pa'] / p0:.4f} p0 at "
          f"{summary['max_shear_depth_m'] / CONTACT_RADIUS:.4f} a (exact {ratio:.4f}, {depth:.4f})")
    assert summary["max_shear_stress_Pa"] == pytest.approx(ratio * p0, rel=0.10)
    assert summary["max_shear_depth_m"] == pytest.approx(depth * CONTACT_RADIUS, rel=0.10)


@pytest.mark.convergence
def test_axis_displacement_converges(outdir, comm):
    """The error of the Hertz depth falls as the mesh is refined (P1).

    Each level halves the contact-edge cell size and grades the mesh more gently, so
    that the whole region under the tip is refined with it.
    """
    expected = analytic.hertz_surface_displacement(0.0, FORCE, CONTACT_RADIUS, modulus())
    rows = []
    for level, (size, growth) in enumerate(((1.6e-9, 0.3), (0.8e-9, 0.2), (0.4e-9, 0.13))):
        summary = run_case(comm, hertz_sections(size, degree=1, growth=growth), outdir / f"level{level}")
        error = abs(-summary["axis_displacement_m"] / expected - 1)
        rows.append((size, summary["n_dofs"], error))
    print("\ncontact_size [nm]   dofs   relative error of the Hertz depth")
    for size, dofs, error in rows:
        print(f"{size * 1e9:12.2f} {dofs:9d}   {error:.4e}")
    errors = [row[2] for row in rows]
    assert errors[0] > errors[1] > errors[2]
