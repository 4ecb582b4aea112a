"""Vacancies under the tip: conservation, steady vs transient, and the surface pattern at 10 s.

Das et al. (Nat. Commun. 8, 615 (2017), Fig. 3b): after pressing a sharp tip, the near-surface
vacancy concentration is lower under the tip and higher around the contact edge; a blunt tip
moves the vacancies sideways rather than into the bulk. This model, on surface layers that
resolve the film top (the default mesh sizes), gives at t = 10 s (a time of the order of a
KPFM scan after the pressing) a slightly enriched contact with a depleted rim under the
sphere, and enrichment outside the contact under the blunt tip; on isotropic 0.5 nm cells it
gave the published depletion under the sphere, an artefact of the unresolved surface layer
(docs/model.md, "The surface map: what is robust and what is not"). The pattern tests
therefore run on the layered mesh; conservation over many steps is a property of the scheme
and is tested on the cheaper isotropic mesh.
"""

from __future__ import annotations

from mpi4py import MPI

import numpy as np
import pytest
from helpers import read_csv, run_case, shared_dir

SMALL = {
    "film": {"half_width": 120e-9, "substrate_thickness": 60e-9, "symmetry": "quarter"},
    "mesh": {"surface_size": 0.0, "contact_size": 0.5e-9, "far_size": 20e-9, "growth": 0.2},
    "output": {"fields": []},
}
PATTERN_TIME = 10.0
"""s after the pressing at which the surface pattern is asserted."""


def _run(tmp_path_factory, name: str, tip: dict, solve: dict, vacancies: dict | None = None):
    comm = MPI.COMM_WORLD
    folder = shared_dir(tmp_path_factory, name)
    sections = SMALL | {"tip": tip, "solve": solve} | ({"vacancies": vacancies} if vacancies else {})
    return run_case(comm, sections, folder), folder


@pytest.fixture(scope="module")
def sphere_10s(tmp_path_factory):
    """Sphere, transient to 10 s with a tight step tolerance: over 200 adaptive steps."""
    return _run(tmp_path_factory, "sphere10", {"shape": "sphere"},
                {"mode": "transient", "t_end": PATTERN_TIME}, {"time_tolerance": 2e-4})


@pytest.fixture(scope="module")
def sphere_steady(tmp_path_factory):
    return _run(tmp_path_factory, "steady", {"shape": "sphere"}, {"mode": "steady"})


def test_conservation_and_positivity_over_200_steps(sphere_10s):
    """The total is unchanged within 1e-10 after ≥ 200 adaptive steps; min c > 0 at every step."""
    summary, folder = sphere_10s
    history = read_csv(folder / "vacancy_history.csv")
    steps = len(history["t_s"])
    drift = np.abs(history["total_relative_change"])
    print(f"\n{steps} steps ({summary['vacancy_rejected_steps']} rejected) to t = "
          f"{history['t_s'][-1]:.4g} s, Δt from {min(history['dt_s']):.3g} to {max(history['dt_s']):.3g} s; "
          f"largest |ΔN/N| {drift.max():.2e}; min c/c0 {min(history['c_min_relative']):.4f}")
    assert steps >= 200
    assert drift.max() < 1e-10
    assert abs(summary["vacancies_relative_change"]) < 1e-10
    assert min(history["c_min_relative"]) > 0
    assert summary["c_min_per_m3"] > 0


LAYERED_SMALL = {
    "film": {"half_width": 60e-9, "substrate_thickness": 30e-9},
    "mesh": {"contact_size": 0.5e-9, "far_size": 10e-9, "growth": 0.2},
    "output": {"fields": []},
}
"""A small quarter box with the default surface layers (from 0.025 nm): the 10 s pattern is
local, so it matches the 120 nm box (sphere: s on the axis +0.051 / +0.051, contact mean
+0.183 / +0.185, rim −0.063 / −0.061)."""


def _layered_10s(tmp_path_factory, name: str, tip: dict):
    folder = shared_dir(tmp_path_factory, name)
    sections = LAYERED_SMALL | {"tip": tip, "solve": {"mode": "transient", "t_end": PATTERN_TIME}}
    return run_case(MPI.COMM_WORLD, sections, folder)


@pytest.fixture(scope="module")
def layered_sphere_10s(tmp_path_factory):
    return _layered_10s(tmp_path_factory, "layered_sphere10", {"shape": "sphere"})


@pytest.fixture(scope="module")
def layered_blunt_10s(tmp_path_factory):
    return _layered_10s(tmp_path_factory, "layered_blunt10", {"shape": "flat"})


def _pattern(name: str, summary: dict) -> str:
    return (f"{name}: s on the axis {summary['delta_axis']:+.4f}, contact mean "
            f"{summary['delta_contact_mean']:+.4f}, rim mean {summary['delta_edge_mean']:+.4f}, "
            f"Δdec {summary['delta_dec']:+.4f}, Δinc {summary['delta_inc']:+.4f}")


@pytest.mark.parallel
def test_sphere_on_surface_layers_enriches_the_contact_and_depletes_its_rim(layered_sphere_10s):
    """At 10 s on surface layers: the contact a little enriched, a thin depleted rim at its edge.

    The same to 0.01 in s with layers from 0.1 nm and from 0.025 nm (docs/model.md); the
    isotropic 0.5 nm mesh gave the opposite inside the contact (s = −0.55 on the axis).
    """
    summary = layered_sphere_10s
    print(f"\nsphere at {PATTERN_TIME} s on layers: " + _pattern("sphere", summary))
    assert summary["delta_contact_mean"] > 0.1
    assert summary["delta_edge_mean"] < -0.03 and summary["delta_dec"] < -0.05
    assert abs(summary["vacancies_relative_change"]) < 1e-10 and summary["c_min_per_m3"] > 0


@pytest.mark.parallel
def test_blunt_tip_moves_vacancies_sideways(layered_sphere_10s, layered_blunt_10s):
    """At 10 s on surface layers the blunt tip moves vacancies sideways, not down.

    It leaves its contact nearly unchanged and gathers vacancies outside it (Δinc), where
    the sphere gathers none.
    """
    sphere, blunt = layered_sphere_10s, layered_blunt_10s
    print(f"\nat {PATTERN_TIME} s on layers: " + _pattern("sphere", sphere) + "; " + _pattern("blunt", blunt))
    assert abs(blunt["delta_contact_mean"]) < 0.5 * abs(sphere["delta_contact_mean"])
    assert blunt["delta_inc"] > 0.1 > sphere["delta_inc"]
    assert abs(blunt["vacancies_relative_change"]) < 1e-10 and blunt["c_min_per_m3"] > 0


@pytest.mark.serial  # long; that 1, 2 and 3 ranks agree is tested by test_rank_identity
def test_steady_solver_equals_long_time_transient(sphere_steady, tmp_path_factory):
    """Poisson–Boltzmann Newton vs the transient run to quasi-steady: c on the surface within 1e-4.

    The transient runs with a loose step tolerance: the path to the steady state is not
    what is compared, and its end does not depend on the tolerance.
    """
    steady, steady_dir = sphere_steady
    transient, transient_dir = _run(tmp_path_factory, "transient", {"shape": "sphere"},
                                    {"mode": "transient"}, {"time_tolerance": 5e-2})
    maps = [np.load(folder / "surface_map.npz")["s"] + 1.0 for folder in (steady_dir, transient_dir)]
    difference = np.nanmax(np.abs(maps[1] / maps[0] - 1.0))
    print(f"\nsteady ({steady['vacancy_rounds']} Poisson–Boltzmann rounds, "
          f"{steady['time_vacancies_s']:.2f} s) "
          f"vs transient ({transient['vacancy_steps']} steps to t = {transient['t_quasi_steady_s']:.3g} s, "
          f"{transient['time_vacancies_s']:.1f} s): largest relative difference of surface c "
          f"{difference:.2e}")
    assert transient["t_quasi_steady_s"] is not None
    assert difference < 1e-4
    assert transient["delta_inc"] == pytest.approx(steady["delta_inc"], rel=1e-4)


TINY = {
    "film": {"half_width": 60e-9, "substrate_thickness": 30e-9, "symmetry": "quarter"},
    "mesh": {"surface_size": 0.0, "contact_size": 1.0e-9, "far_size": 15e-9, "growth": 0.4},
    "output": {"fields": []},
}


def test_quasi_static_polarisation_gives_the_tdgl_transient(tmp_path_factory):
    """``polarization_dynamics = "quasi_static"``: the vacancy transient of the TDGL run, without its steps.

    P relaxes in ~1 ps, so over the vacancies' 10 ms the TDGL run (12 relaxation steps first)
    and the quasi-static one (P's steady state directly) move the vacancies alike: the
    surface maps agree within 1e-6 (the TDGL stops at max|ΔP| ≤ 1e-9·max|P|).
    """
    comm, bias = MPI.COMM_WORLD, 1.0
    runs = {}
    for dynamics in ("tdgl", "quasi_static"):
        folder = shared_dir(tmp_path_factory, f"dynamics_{dynamics}")
        sections = TINY | {"tip": {"shape": "sphere", "radius": 25e-9, "force": 0.6e-6, "bias": bias},
                           "solve": {"mode": "transient", "t_end": 0.01, "polarization_dynamics": dynamics}}
        runs[dynamics] = run_case(comm, sections, folder), np.load(folder / "surface_map.npz")["s"]
    (tdgl, s_tdgl), (quasi, s_quasi) = runs["tdgl"], runs["quasi_static"]
    difference = np.nanmax(np.abs(s_quasi - s_tdgl)) / np.nanmax(np.abs(s_tdgl))
    print(f"\nbias {bias} V, t = 0.01 s: TDGL {tdgl['tdgl_steps']} steps + {tdgl['vacancy_steps']} vacancy "
          f"steps, quasi-static {quasi['vacancy_steps']}; contact mean s {tdgl['delta_contact_mean']:+.6e} / "
          f"{quasi['delta_contact_mean']:+.6e}; largest map difference {difference:.2e} of max|s|")
    assert tdgl["tdgl_steps"] > 1 and "tdgl_steps" not in quasi
    assert quasi["vacancy_solver"] == "transient" and quasi["vacancy_t_final_s"] == pytest.approx(0.01)
    assert difference < 1e-6
    assert quasi["P_axis_max_C_per_m2"] == pytest.approx(tdgl["P_axis_max_C_per_m2"], rel=1e-6)


def test_fixed_surface_holds_c0_on_the_top(tmp_path_factory):
    """``surface = "fixed"``: c/c0 = 1 on the film top, here at z = 0 on the axis.

    The steady state is c0·exp(−φ/V_T) (φ = 0 on the short-circuited top).
    """
    summary, folder = _run(tmp_path_factory, "fixed", {"shape": "sphere"}, {"mode": "steady"},
                           {"surface": "fixed"})
    axis = read_csv(folder / "axis_vacancies.csv")
    print(f"\nfixed surface: c/c0 at the top {axis['c_relative_axis'][0]:.12f}, total change "
          f"{summary['vacancies_relative_change']:+.3e}, Δdec {summary['delta_dec']:+.4f}, "
          f"Δinc {summary['delta_inc']:+.4f}")
    assert summary["vacancy_solver"] == "steady"
    assert axis["c_relative_axis"][0] == pytest.approx(1.0, abs=1e-9)
    assert summary["vacancies_relative_change"] > 0  # the ambient fills the potential well


def test_air_gap_surface_map(sphere_steady, tmp_path_factory):
    """The steady surface map under a 1 nm grounded air gap against the short-circuited top.

    How the map depends on the surface condition: this reports it (the numbers are in
    docs/model.md). With the air gap the film top off the contact floats to
    tens of mV, and the steady Boltzmann state follows exp(−φ/V_T) there too.
    """
    short, _ = sphere_steady
    comm = MPI.COMM_WORLD
    folder = shared_dir(tmp_path_factory, "airgap")
    sections = SMALL | {"tip": {"shape": "sphere"}, "solve": {"mode": "steady"},
                        "film": SMALL["film"] | {"air_thickness": 1e-9},
                        "physics": {"electric_bc": "air-gap"}}
    air = run_case(comm, sections, folder)
    keys = ("delta_axis", "delta_contact_mean", "delta_edge_mean", "delta_dec", "delta_inc")
    print("\nsteady surface map, short circuit / air gap: " + ", ".join(
        f"{k} {short[k]:+.3f} / {air[k]:+.3f}" for k in keys)
        + f"; enrichment radius {short['enrichment_radius_m'] * 1e9:.1f} / "
          f"{air['enrichment_radius_m'] * 1e9:.1f} nm; φ on the top up to "
          f"{air['phi_top_max_V'] * 1e3:.1f} mV")
    assert abs(air["vacancies_relative_change"]) < 1e-12
    assert air["c_min_per_m3"] > 0
    assert air["phi_top_max_V"] > 1e-3


@pytest.mark.serial
def test_default_mesh_gives_a_smooth_surface_map(tmp_path_factory):
    """The default mesh sizes (surface layers from 0.025 nm, 0.5 nm edge cells) on a small box.

    The issue's smoothness criterion: the map minus its 1 nm Gaussian smoothing has an RMS
    below 2 % of the map's range inside r ≤ 2a (`surface_map_roughness`). The isotropic
    0.5 nm mesh of the old default gave 0.061 (README, before 2026-12-04); these layers
    give 0.019 on the default box. P on the axis is the default box's value to 2 %
    (0.0401 C/m² there, docs/validation.md, "The default mesh"): the box is small, the
    surface physics is not.
    """
    folder = shared_dir(tmp_path_factory, "default_sizes")
    sections = {"film": {"half_width": 60e-9, "substrate_thickness": 30e-9},
                "mesh": {"far_size": 10e-9}, "output": {"fields": []}}
    summary = run_case(MPI.COMM_WORLD, sections, folder)
    print(f"\ndefault mesh sizes on a 60 nm box: roughness {summary['surface_map_roughness']:.4f}, "
          f"P_axis_max {summary['P_axis_max_C_per_m2']:.4f} C/m², "
          f"{summary['n_surface_layers']} surface layers")
    assert summary["n_surface_layers"] >= 10
    assert summary["surface_map_roughness"] < 0.02
    assert summary["P_axis_max_C_per_m2"] == pytest.approx(0.0401, rel=0.02)
    assert abs(summary["vacancies_relative_change"]) < 1e-10
    assert summary["c_min_per_m3"] > 0
