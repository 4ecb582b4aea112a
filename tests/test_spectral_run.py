"""``[solve] solver = "spectral"``: a config run by the spectral reference gives the FEM's summary.

The mechanics of a prescribed tip pressure on the quarter film box (W = H = 100 nm): the
spectral run (exact per mode, 128² modes) and a P2 FEM run (0.35 nm edge cells) agree on
the summary keys, and both write the same profile columns. Configs the spectral solver
cannot run yet are refused before anything is solved.
"""

from __future__ import annotations

import pytest
from helpers import read_csv, read_summary, run_case

from flexotip import config as config_module

pytestmark = pytest.mark.serial  # the spectral run is NumPy on every rank; one rank is enough

BOX = {"half_width": 100e-9, "substrate_thickness": 100e-9 - 46.86e-9, "symmetry": "quarter"}


def sections(solver: str, shape: str) -> dict:
    return {"film": BOX, "tip": {"shape": shape}, "physics": {"flexoelectric": False},
            "solve": {"solver": solver} | ({"spectral_modes": 128} if solver == "spectral" else {}),
            "mesh": {"surface_size": 0.0,
                 "contact_size": 0.35e-9, "far_size": 20e-9, "growth": 0.12, "degree": 2},
            "output": {"fields": []}}


@pytest.mark.parametrize("shape", ["sphere", "flat"])
def test_spectral_run_matches_the_fem(comm, tmp_path, shape):
    fem = run_case(comm, sections("fem", shape), tmp_path / "fem")
    spectral = run_case(comm, sections("spectral", shape), tmp_path / "spectral")
    assert spectral["status"] == "complete" and spectral["solver"] == "spectral"
    print(f"\n{shape}: approach spectral {spectral['approach_m']:.6e} / FEM {fem['approach_m']:.6e} m; "
          f"max shear {spectral['max_shear_stress_Pa']:.4e} / {fem['max_shear_stress_Pa']:.4e} Pa at "
          f"{spectral['max_shear_depth_m']:.3e} / {fem['max_shear_depth_m']:.3e} m; "
          f"{spectral['time_total_s']:.1f} / {fem['time_total_s']:.1f} s")
    assert spectral["approach_m"] == pytest.approx(fem["approach_m"], rel=2e-3)
    assert spectral["max_shear_stress_Pa"] == pytest.approx(fem["max_shear_stress_Pa"], rel=0.03)
    assert spectral["max_shear_depth_m"] == pytest.approx(fem["max_shear_depth_m"], rel=0.05)
    assert spectral["applied_force_N"] == pytest.approx(spectral["force_N"], rel=1e-12)
    for name in ("axis_profile.csv", "surface_profile.csv"):
        assert set(read_csv(tmp_path / "spectral" / name)) == set(read_csv(tmp_path / "fem" / name))
    assert read_summary(tmp_path / "spectral")["spectral_modes"] == 128


def test_spectral_solver_refuses_what_it_cannot_run():
    expected = (r"solver = 'spectral' solves, for now, the mechanics .* this config has "
                r"\[physics\] flexoelectric = true, \[tip\] bias = 0.1")
    with pytest.raises(config_module.ConfigError, match=expected):
        config_module.from_dict({"solve": {"solver": "spectral"}, "tip": {"bias": 0.1}})
    with pytest.raises(config_module.ConfigError, match=r"\[solve\] spectral_modes = 4: must be"):
        config_module.from_dict({"solve": {"solver": "spectral", "spectral_modes": 4},
                                 "physics": {"flexoelectric": False}})
