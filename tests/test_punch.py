"""Sneddon validation: rigid flat punch on an isotropic half-space (E = 300 GPa, ν = 0.3).

The punch pressure F/(2πa·sqrt(a² − r²)) is applied with its edge singularity averaged
over one contact-edge cell (force preserved). Checks: the load integrates to F within
1e-3; the contact disc (r ≤ a − w, inside the averaging band of width w) moves
uniformly within 5 %; its displacement equals
F(1 − ν²)/(2aE) within 5 %; outside, the surface follows (2δ/π)·arcsin(a/r).
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import MECHANICS_ONLY, read_csv, run_case, shared_dir

from flexotip import analytic

YOUNG, POISSON = 300e9, 0.3
FORCE = 4.0e-6
PUNCH_RADIUS = 8e-9
CONTACT_SIZE = 0.4e-9


@pytest.fixture(scope="module")
def punch_run(tmp_path_factory):
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    outdir = shared_dir(tmp_path_factory, "punch")
    sections = {
        "material": {"elasticity": "isotropic", "young": YOUNG, "poisson": POISSON},
        "film": {"half_width": 800e-9, "substrate_thickness": 800e-9 - 46.86e-9,
                 "symmetry": "quarter"},
        "tip": {"shape": "flat", "radius": PUNCH_RADIUS, "force": FORCE},
        "physics": MECHANICS_ONLY,
        "mesh": {"surface_size": 0.0,
                 "contact_size": CONTACT_SIZE, "far_size": 60e-9, "degree": 2, "growth": 0.12},
        "output": {"fields": ["displacement"]},
    }
    return run_case(comm, sections, outdir), outdir


def test_load_integrates_to_force(punch_run):
    summary, _ = punch_run
    print(f"punch load: relative error {summary['load_force_relative_error']:.2e}")
    assert abs(summary["load_force_relative_error"]) < 1e-3


def test_disc_displacement_uniform_and_sneddon(punch_run):
    summary, outdir = punch_run
    profile = read_csv(outdir / "surface_profile.csv")
    r = np.array(profile["r_m"])
    uz = -np.array(profile["u_z_m"])
    disc = uz[r <= PUNCH_RADIUS - CONTACT_SIZE]
    expected = analytic.punch_approach(FORCE, PUNCH_RADIUS, YOUNG / (1 - POISSON**2))
    spread = (disc.max() - disc.min()) / disc.mean()
    print(f"punch: disc displacement {disc.mean():.4e} m (Sneddon {expected:.4e} m), "
          f"spread {spread:.4f}; at the edge r = a: {uz[np.argmin(abs(r - PUNCH_RADIUS))]:.4e} m")
    assert spread < 0.05
    assert summary["approach_m"] == pytest.approx(expected, rel=0.05)
    assert disc.min() == pytest.approx(expected, rel=0.05)
    assert disc.max() == pytest.approx(expected, rel=0.05)


def test_surface_outside_punch(punch_run):
    _, outdir = punch_run
    profile = read_csv(outdir / "surface_profile.csv")
    r = np.array(profile["r_m"])
    keep = (r > 1.2 * PUNCH_RADIUS) & (r <= 3 * PUNCH_RADIUS)
    expected = analytic.punch_surface_displacement(r[keep], FORCE, PUNCH_RADIUS,
                                                   YOUNG / (1 - POISSON**2))
    error = np.abs(-np.array(profile["u_z_m"])[keep] / expected - 1)
    assert error.max() < 0.05
