"""S(t) → D (studies/decay.py): Fick's second law fitted to the relaxation of a poled region.

* noise-free synthetic S(t) gives back D and δ (1e-6);
* noisy synthetic data gives D within three of the fit's standard errors, for several seeds;
* the shipped study poled_decay at a coarse resolution: the D fitted to the simulated maps
  is the D each member ran with, within 5 %;
* ``flexotip analyse-decay`` on a user's .npz, and its refusals.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import shipped

from flexotip import cli
from flexotip.studies import decay

pytestmark = pytest.mark.serial  # NumPy and lmfit only, or a study run on its own ranks

THICKNESS, SENSING, D_PAPER, DEPTH = 46.86e-9, 1e-9, 1.23e-19, 2e-9
TIMES = np.r_[0.0, np.geomspace(0.3, 2e4, 24)]


def _synthetic(noise: float = 0.0, seed: int = 0) -> np.ndarray:
    shape = decay.relaxed_fraction_shape(TIMES, D_PAPER, DEPTH, THICKNESS, SENSING)
    return 0.05 + 0.8 * shape + np.random.default_rng(seed).normal(0.0, noise, TIMES.size)


def test_shape_starts_at_one_and_relaxes():
    shape = decay.relaxed_fraction_shape(np.array([0.0, 1e9]), D_PAPER, DEPTH, THICKNESS, SENSING)
    assert shape == pytest.approx([1.0, 0.0], abs=1e-9)


def test_noise_free_fit_recovers_d_and_depth():
    fit = decay.fit_decay(TIMES, _synthetic(), THICKNESS, SENSING)
    assert fit.diffusivity == pytest.approx(D_PAPER, rel=1e-6)
    assert fit.depth == pytest.approx(DEPTH, rel=1e-6)
    assert fit.relaxed(TIMES, _synthetic())[0] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("seed", range(5))
def test_noisy_fit_is_within_its_uncertainty(seed):
    """0.5 % noise on the contrast: D within three standard errors (they are ~8 % of D)."""
    fit = decay.fit_decay(TIMES, _synthetic(0.004, seed), THICKNESS, SENSING)
    print(f"\nseed {seed}: D = {fit.diffusivity:.4g} ± {fit.diffusivity_stderr:.2g} "
          f"({(fit.diffusivity - D_PAPER) / fit.diffusivity_stderr:+.2f} σ)")
    assert fit.diffusivity_stderr < 0.2 * D_PAPER
    assert abs(fit.diffusivity - D_PAPER) < 3 * fit.diffusivity_stderr


def test_analyse_decay_on_a_users_maps(tmp_path, capsys):
    """KPFM-like maps (any unit, a pristine border) with their times; the region and reference by box."""
    x = np.linspace(-2e-6, 2e-6, 9)
    contrast = _synthetic(0.002, seed=7)
    maps = np.zeros((TIMES.size, x.size, x.size))
    maps[:, 2:7, 2:7] = 40.0 * contrast[:, None, None]  # mV; the poled square in the middle
    maps += 3.0  # an offset of the probe, in the reference too
    np.savez(tmp_path / "kpfm.npz", t_s=TIMES, s=maps, x_m=x, y_m=x)
    status = cli.main(["analyse-decay", str(tmp_path / "kpfm.npz"), "--out", str(tmp_path / "out"),
                       "--thickness", str(THICKNESS), "--sensing-depth", str(SENSING),
                       "--region=-1e-6,1e-6,-1e-6,1e-6", "--reference=1.5e-6,2e-6,-2e-6,2e-6"])
    assert status == 0
    result = json.loads((tmp_path / "out" / "decay.json").read_text())
    error = result["decay_diffusivity_m2_per_s"] - D_PAPER
    assert abs(error) < 3 * result["decay_diffusivity_stderr_m2_per_s"]
    assert (tmp_path / "out" / "decay.png").stat().st_size > 10_000
    table = np.loadtxt(tmp_path / "out" / "decay.csv", delimiter=",", skiprows=1)
    assert table.shape == (TIMES.size, 5) and table[-1, 2] == pytest.approx(1.0, abs=0.02)
    assert "D = " in capsys.readouterr().out


@pytest.mark.parametrize(("arguments", "message"), [
    (["missing.npz"], "no such file or folder"),
    (["kpfm.npz"], "give the film thickness"),
    (["kpfm.npz", "--thickness", "1e-9", "--sensing-depth", "2e-9"], "must lie between 0 and the film"),
    (["kpfm.npz", "--thickness", "5e-8", "--sensing-depth", "1e-9", "--region", "5,6,5,6"],
     "holds no map point"),
])
def test_analyse_decay_refuses(tmp_path, capsys, arguments, message):
    np.savez(tmp_path / "kpfm.npz", t_s=TIMES, s=np.ones((TIMES.size, 2, 2)), x_m=[0.0, 1.0], y_m=[0.0, 1.0])
    arguments = [str(tmp_path / arguments[0]), *arguments[1:]]
    assert cli.main(["analyse-decay", *arguments, "--out", str(tmp_path / "out")]) == cli.EXIT_USER_ERROR
    assert message in capsys.readouterr().err


COARSE_POLED = {"film": {"half_width": 8e-9, "substrate_thickness": 10e-9},
                "tip": {"force": 0.0, "contact_radius": 3e-9},
                "mesh": {"contact_size": 1.5e-9, "far_size": 4e-9}, "vacancies": {"time_tolerance": 1e-2}}
"""The shipped study's film on a narrow box (the relaxation is into the depth): 2.6 k cells."""


@pytest.mark.slow
def test_shipped_poled_decay_recovers_its_diffusivity(tmp_path):
    status, study, out, rows = shipped.run("poled_decay", tmp_path, coarse=COARSE_POLED)
    assert status == 0 and all(row["status"] == "complete" for row in rows)
    for row, member in zip(rows, study.members, strict=True):
        wanted = member.values["vacancies.diffusivity"]
        fitted = shipped.number(row, "decay_diffusivity_m2_per_s")
        print(f"\n{member.name}: D fitted {fitted:.4g} m²/s from {row['decay_points']} maps, ran with "
              f"{wanted:.4g} ({fitted / wanted - 1:+.2%})")
        assert fitted == pytest.approx(wanted, rel=0.05)
        assert abs(shipped.number(row, "vacancies_relative_change")) < 1e-10
        assert (out / "members" / member.name / "decay" / "decay.png").is_file()
