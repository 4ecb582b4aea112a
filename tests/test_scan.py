"""A scanning tip: its path, the vacancies it leaves, and the properties of the scheme.

The runs are on a coarse 12 nm film (3 nm cells): each property below is one of the moving
scheme, not of a converged surface map (docs/scanning.md has the resolved scans).

* a tip scanned with zero force over a uniform film leaves c = c0 (1e-12);
* the total is conserved to 1e-10 at every step of a trace and retrace, c > 0;
* a scan along +x on a mesh and along −x on its mirror image give mirror-image maps (1e-8);
* at high speed the change the scan leaves falls like 1/v;
* the lateral and vertical fractions of a step start add up to one (conservation);
* (the slow-scan limit, the static steady state, is flexotip.verification.slow_scan: ~80 s).

That 1, 2 and 3 ranks give the same scan is test_rank_identity's.
"""

from __future__ import annotations

import dataclasses
import pathlib

from mpi4py import MPI

import numpy as np
import pytest
from helpers import read_csv, shared_dir

from flexotip import config as config_module
from flexotip.config_checks import scan_lines
from flexotip.fem.scan_problem import ScanPath

pytestmark = pytest.mark.serial  # one-rank runs

COARSE = {
    "film": {"half_width": 40e-9, "thickness": 12e-9, "substrate_thickness": 20e-9},
    "mesh": {"contact_size": 3e-9, "far_size": 12e-9, "surface_size": 0.0, "growth": 0.4},
    "output": {"fields": []},
}
LINE = {"start": [-12e-9, 0.0], "end": [12e-9, 0.0], "passes": "trace-retrace", "frames": 3}
SPEED = 1e-6
"""m/s: v·a/D = 6.5e4 with the 8 nm contact, the experiment's regime."""


def _config(scan: dict, tip: dict | None = None, vacancies: dict | None = None):
    sections = COARSE | {"scan": LINE | scan, "tip": tip or {}, "vacancies": vacancies or {}}
    return config_module.from_dict(sections, source="scan test")


def _scan(tmp_path_factory, name: str, config, stack=None) -> tuple[dict, pathlib.Path]:
    from flexotip.pipeline import scan_run

    folder = shared_dir(tmp_path_factory, name)
    return scan_run.run(MPI.COMM_WORLD, config, folder, stack=stack), folder


def _maps(folder: pathlib.Path) -> dict:
    return dict(np.load(folder / "scan_maps.npz"))


@pytest.fixture(scope="module")
def pressed(tmp_path_factory):
    """Trace and retrace at 1 µm/s with the paper's 4 µN sphere over a uniform film."""
    return _scan(tmp_path_factory, "pressed", _config({"speed": SPEED}))


def test_path_of_a_raster():
    lines = scan_lines((0.0, 0.0), (10e-9, 0.0), 2, 4e-9)
    assert np.ravel(lines[1]) == pytest.approx([0.0, 4e-9, 10e-9, 4e-9])  # to the left of +x
    path = ScanPath.raster(lines, 1e-9, "trace-retrace", "trace", 2e-9, 0.25)
    assert [s.name for s in path.segments] == ["trace", "retrace"] * 2
    assert [s.pressed for s in path.segments] == [True, False] * 2
    assert path.duration == pytest.approx(40.0) and path.max_step == pytest.approx(0.5)
    assert path.position(5.0) == pytest.approx((5e-9, 0.0))
    assert path.position(15.0) == pytest.approx((5e-9, 0.0))  # on the way back
    assert path.position(20.0) == pytest.approx((0.0, 4e-9))  # a turn: the next line begins
    assert path.position(40.0) == pytest.approx((0.0, 4e-9))
    assert not path.pressed(10.0) and path.pressed(9.999)


@pytest.mark.parametrize(("sections", "message"), [
    ({"scan": {"start": [0.0, 0.0]}}, "[scan] start is set but end is not"),
    ({"scan": LINE, "tip": {"load": "contact"}}, "[tip] load = 'contact'"),
    ({"scan": LINE, "tip": {"bias": 1.0}}, "[tip] bias = 1.0"),
    ({"scan": LINE, "tip": {"position": [5e-9, 0.0]}}, "leave [tip] position out"),
    ({"scan": LINE | {"end": [39e-9, 0.0]}}, "[scan] the path with the contact radius"),
    ({"scan": LINE | {"lines": 3}}, "[scan] line_spacing = 0.0"),
    ({"scan": LINE, "film": {"symmetry": "quarter"}}, "[film] symmetry = 'quarter'"),
    ({"scan": LINE, "solve": {"t_end": 1.0}}, "[solve] t_end = 1.0"),
    ({"vacancies": {"initial": "step"}}, "[vacancies] initial = 'step': a steady state"),
    ({"vacancies": {"initial": "from_run"}, "solve": {"mode": "transient"}}, "needs [vacancies] initial_run"),
    ({"vacancies": {"initial_run": "."}}, "no checkpoint.h5"),
])
def test_bad_scan_configs_are_refused(sections, message):
    with pytest.raises(config_module.ConfigError) as error:
        config_module.from_dict(COARSE | sections)
    assert message in str(error.value)


def test_symmetry_of_a_scan():
    assert _config({}).film.symmetry == "full"
    along_axis = config_module.from_dict(COARSE | {"scan": {"start": [0.0, -10e-9], "end": [0.0, 10e-9]}})
    assert along_axis.film.symmetry == "half" and along_axis.tip.position == [0.0, -10e-9]
    reloaded = config_module.from_dict(__import__("tomllib").loads(config_module.to_toml(along_axis)))
    assert reloaded == along_axis


def test_zero_force_leaves_the_vacancies_unchanged(tmp_path_factory):
    """No force, no field: c = c0 to 1e-12 at every step of the trace and retrace."""
    config = _config({"speed": SPEED}, tip={"force": 0.0, "contact_radius": 8e-9})
    summary, folder = _scan(tmp_path_factory, "zero", config)
    history = read_csv(folder / "vacancy_history.csv")
    assert len(history["t_s"]) >= 20
    assert max(abs(c - 1) for c in history["c_max_relative"] + history["c_min_relative"]) < 1e-12
    assert np.max(np.abs(_maps(folder)["s"])) < 1e-12
    assert summary["lateral_fraction"] is None  # a uniform start has no enriched region


def test_conservation_and_positivity_through_trace_and_retrace(pressed):
    summary, folder = pressed
    history = read_csv(folder / "vacancy_history.csv")
    drift = np.max(np.abs(history["total_relative_change"]))
    print(f"\n{len(history['t_s'])} steps, largest |ΔN/N| {drift:.2e}")
    assert summary["scan_duration_s"] == pytest.approx(2 * 24e-9 / SPEED)
    assert history["t_s"][-1] == summary["scan_duration_s"]
    assert max(history["dt_s"]) <= 0.25 * summary["contact_radius_m"] / SPEED * (1 + 1e-9)  # a/4 per step
    assert np.max(np.abs(history["total_relative_change"])) < 1e-10
    assert summary["scan_conservation_error"] < 1e-10
    assert min(history["c_min_relative"]) > 0
    maps = _maps(folder)
    assert maps["s"].shape[0] == 3 and np.allclose(maps["t_s"], [0.0, 24e-3, 48e-3])
    assert maps["tip_x_m"] == pytest.approx([-12e-9, 12e-9, -12e-9])  # start, turn, back
    assert np.max(np.abs(maps["s"][-1])) > 1e-4  # the pressed tip moved vacancies
    for name in ("scan_maps.gif", "scan_profiles.png", "scan_profiles.csv", "scan_frames/scan_map_002.png"):
        assert (folder / name).is_file(), name
    assert (folder / "scan_vacancies.bp").is_dir()


def test_mirror_image_scan(pressed, tmp_path_factory):
    """Along −x on the mirrored mesh: the maps are the +x scan's mirrored, within 1e-8 of their range."""
    from flexotip.pipeline.meshing import mesh
    from flexotip.units import Scales

    mirrored_config = _config({"speed": SPEED, "start": [12e-9, 0.0], "end": [-12e-9, 0.0]})
    folder = shared_dir(tmp_path_factory, "mirror-mesh")
    stack = mesh(MPI.COMM_WORLD, _config({"speed": SPEED}), folder, Scales())
    stack.msh.geometry.x[:, 0] *= -1.0
    geometry = stack.geometry
    stack = dataclasses.replace(stack, geometry=dataclasses.replace(
        geometry, contact_center=(-geometry.contact_center[0], geometry.contact_center[1]),
        scan_lines=tuple(((-a[0], a[1]), (-b[0], b[1])) for a, b in geometry.scan_lines)))
    _, mirror_folder = _scan(tmp_path_factory, "mirror", mirrored_config, stack=stack)
    plus, minus = _maps(pressed[1]), _maps(mirror_folder)
    assert np.allclose(minus["x_m"], -plus["x_m"][::-1], rtol=0, atol=1e-20)
    scale = np.max(np.abs(plus["s"][-1]))
    difference = np.max(np.abs(minus["s"] - plus["s"][:, ::-1, :]))
    print(f"\nlargest mirror difference {difference / scale:.2e} of max|s| = {scale:.3e}")
    assert difference < 1e-8 * scale


def test_change_falls_like_one_over_speed(pressed, tmp_path_factory):
    """Ten times faster, one tenth of the change (the tip's field acts for a tenth of the time)."""
    fast, fast_folder = _scan(tmp_path_factory, "fast", _config({"speed": 10 * SPEED}))
    slow_change = np.sum(np.abs(_maps(pressed[1])["s"][-1]))
    fast_change = np.sum(np.abs(_maps(fast_folder)["s"][-1]))
    ratio = slow_change / fast_change
    print(f"\nΣ|s| after the scan: {slow_change:.4e} at {SPEED} m/s, {fast_change:.4e} at ten times that: "
          f"ratio {ratio:.4f}")
    assert ratio == pytest.approx(10.0, rel=0.03)
    assert fast["scan_peclet"] == pytest.approx(10 * pressed[0]["scan_peclet"])


STEP = {"initial": "step", "step_x": 0.0, "step_excess": 1.0, "step_depth": 2e-9}


def test_step_start_fractions(tmp_path_factory):
    """A pressed trace over a poled border: the fractions add up to one."""
    config = _config({"speed": 1e-8, "passes": "trace", "reference": True}, vacancies=STEP)
    summary, folder = _scan(tmp_path_factory, "step", config)
    print(f"\ndepletion {summary['scan_depletion']:.4g}, gain {summary['scan_gain']:.4g}, lateral "
          f"{summary['lateral_fraction']:.4g}, vertical {summary['vertical_fraction']:.4g}; the tip's own: "
          f"depletion {summary['scan_depletion_tip']:.4g}, lateral {summary['lateral_fraction_tip']}")
    assert summary["scan_removed_vacancies"] > 0
    assert summary["lateral_fraction"] + summary["vertical_fraction"] == pytest.approx(1.0, abs=1e-9)
    # against the lifted reference: the same partition; its total is the scan's
    tip = [summary[k] for k in ("scan_removed_vacancies_tip", "scan_vacancies_past_border_tip",
                                "scan_vacancies_down_tip")]
    assert tip[1] + tip[2] == pytest.approx(tip[0], rel=1e-9, abs=1e-12 * summary["vacancies_initial"])
    maps = _maps(folder)
    band = maps["s"][0][:, np.abs(maps["y_m"]) <= 8e-9]  # the 3 nm cells; they grow away from the line
    x = maps["x_m"]
    # the step at t = 0, beyond the cells that straddle the border
    assert np.all(band[x < -6e-9] > 0.3) and np.all(np.abs(band[x > 6e-9]) < 1e-12)
