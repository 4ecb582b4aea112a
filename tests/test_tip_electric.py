"""The depolarisation field under the tip: the paper's sign pattern, sharp against blunt, TDGL.

Das et al. (Nat. Commun. 8, 615 (2017), Fig. 3): under a spherical tip pressed with 4 µN
(contact radius 8 nm) E_z points into the film below the tip and out of it around the
contact edge, and E_x vanishes on the axis with inward-pointing extrema near the contact
edge; a flat (blunt) tip of radius 15 nm at the same force weakens the downward field
under the tip much more than the field around its edge. The sign pattern depends on the
signs and balance of f11, f12, f44 (docs/model.md, "Parameters and their sources"); these
tests run the default coefficients and assert the pattern, not the paper's magnitudes.

The TDGL test relaxes the same sphere case in time and checks that its long-time limit
is the steady solve.
"""

from __future__ import annotations

from mpi4py import MPI

import numpy as np
import pytest
from helpers import read_csv, run_case, shared_dir

from flexotip.config import SolveConfig

SMALL = {
    "film": {"half_width": 120e-9, "substrate_thickness": 60e-9, "symmetry": "quarter"},
    "mesh": {"surface_size": 0.0, "contact_size": 0.5e-9, "far_size": 20e-9, "growth": 0.2},
    "output": {"fields": []},
    "physics": {"vacancies": False},  # the field alone; the vacancies' tests are test_tip_vacancies.py
}


SURFACE_LAYERS = {"surface_size": 0.1e-9, "surface_growth": 1.5}


def _run(tmp_path_factory, name: str, tip: dict, solve: dict | None = None):
    comm = MPI.COMM_WORLD
    folder = shared_dir(tmp_path_factory, name)
    sections = SMALL | {"tip": tip} | ({"solve": solve} if solve else {})
    return run_case(comm, sections, folder), folder


@pytest.fixture(scope="module")
def sphere(tmp_path_factory):
    return _run(tmp_path_factory, "sphere", {"shape": "sphere"})


@pytest.fixture(scope="module")
def sphere_layered(tmp_path_factory):
    """The sphere on surface layers (first 0.1 nm, growth 1.5): the field's pattern resolved.

    On the isotropic 0.5 nm mesh, E_x along the line at z = −a/4 carries mesh-scale
    oscillations of ±1 MV/m, comparable with the calibrated field inside the contact.
    """
    comm = MPI.COMM_WORLD
    folder = shared_dir(tmp_path_factory, "sphere_layered")
    sections = SMALL | {"tip": {"shape": "sphere"}, "mesh": SMALL["mesh"] | SURFACE_LAYERS,
                        "solve": {"linear_solver": "direct"}}
    return run_case(comm, sections, folder), folder


@pytest.fixture(scope="module")
def blunt(tmp_path_factory):
    return _run(tmp_path_factory, "blunt", {"shape": "flat"})


def test_sphere_sign_pattern(sphere_layered):
    """E_z < 0 below the tip, > 0 around the edge; E_x = 0 on the axis, inward extremum near a."""
    summary, folder = sphere_layered
    a = summary["contact_radius_m"]
    line = read_csv(folder / "line_electric.csv")
    r, Ex = np.asarray(line["r_m"]), np.asarray(line["E_x_V_per_m"])
    print(f"\nsphere (a = {a * 1e9:.2f} nm): P_axis_max = {summary['P_axis_max_C_per_m2']:.4g} C/m², "
          f"max|P| = {summary['max_abs_P_C_per_m2']:.4g} C/m² (edge cells "
          f"{summary['h_min_m'] * 1e9:.2f} nm), E_z below tip {summary['Ez_below_tip_V_per_m']:.4g} V/m, "
          f"E_z at the edge {summary['Ez_contact_edge_V_per_m']:.4g} V/m, min E_x "
          f"{summary['Ex_line_min_V_per_m']:.4g} V/m at r = {summary['Ex_line_min_radius_m'] * 1e9:.2f} nm")
    assert summary["Ez_below_tip_V_per_m"] < 0
    assert summary["Ez_contact_edge_V_per_m"] > 0
    assert summary["Ex_line_min_V_per_m"] < 0
    assert 0.5 * a <= summary["Ex_line_min_radius_m"] <= 1.5 * a
    assert abs(Ex[0]) < 1e-6 * abs(summary["Ex_line_min_V_per_m"])  # a node on the axis
    # The inward extremum near the edge dominates any outward E_x nearer the axis.
    print(f"largest outward E_x on the line: {Ex.max():.4g} V/m at r = {r[np.argmax(Ex)] * 1e9:.2f} nm")
    assert Ex.max() < 0.5 * abs(summary["Ex_line_min_V_per_m"])


def test_the_xz_section_is_the_line_at_its_depth_and_mirrors_across_the_axis(sphere_layered):
    """section_xz.csv (the paper's Fig. 3 maps) at z = −a/4 samples the points of line_electric.csv."""
    summary, folder = sphere_layered
    a = summary["contact_radius_m"]
    section = {k: np.asarray(v) for k, v in read_csv(folder / "section_xz.csv").items()}
    line = {k: np.asarray(v) for k, v in read_csv(folder / "line_electric.csv").items()}
    row = np.isclose(section["z_m"], -a / 4, rtol=0, atol=1e-6 * a)
    x, order = section["x_m"][row], np.argsort(section["x_m"][row])
    right = x[order] >= -1e-6 * a
    for column in ("E_x_V_per_m", "P_z_C_per_m2"):
        on_section = section[column][row][order]
        expected = np.interp(x[order][right], line["r_m"], line[column])
        assert np.allclose(on_section[right], expected, rtol=1e-9, atol=1e-9 * np.abs(expected).max())
    # the quarter box's other side is the mirror image: E_x odd, P_z even in x − x0
    E_x = section["E_x_V_per_m"][row][order]
    P_z = section["P_z_C_per_m2"][row][order]
    assert np.abs(E_x).max() > 1e5 and np.abs(P_z).max() > 1e-4  # fields, not zeros
    centre = len(E_x) // 2  # the axis; the points beside it are exact mirror copies
    assert np.array_equal(E_x[:centre], -E_x[centre + 1 :][::-1])
    assert np.array_equal(P_z[:centre], P_z[centre + 1 :][::-1])


def test_blunt_tip_weakens_the_downward_field(sphere, blunt):
    """The flat punch's E_z under the tip is far weaker than the sphere's; its edge field remains."""
    s, _ = sphere
    b, _ = blunt
    below = b["Ez_below_tip_V_per_m"] / s["Ez_below_tip_V_per_m"]
    edge = b["Ez_contact_edge_V_per_m"] / s["Ez_contact_edge_V_per_m"]
    lateral = b["Ex_line_min_V_per_m"] / s["Ex_line_min_V_per_m"]
    print(f"\nblunt/sphere: E_z below the tip {below:.3f}, E_z at the contact edge {edge:.3f}, "
          f"min E_x {lateral:.3f}, P_axis_max {b['P_axis_max_C_per_m2'] / s['P_axis_max_C_per_m2']:.3f}")
    assert b["Ez_contact_edge_V_per_m"] > 0 and b["Ex_line_min_V_per_m"] < 0
    assert 0 < below < 0.25
    assert below < 0.5 * edge  # the downward field loses much more than the edge field


def test_tdgl_reaches_the_steady_state(sphere, tmp_path_factory):
    """TDGL from P = 0 with adaptive steps ends at the steady solve (max|P| within 1e-6)."""
    steady, _ = sphere
    transient, folder = _run(tmp_path_factory, "tdgl", {"shape": "sphere"}, {"mode": "transient"})
    history = read_csv(folder / "tdgl_history.csv")
    relative = transient["max_abs_P_C_per_m2"] / steady["max_abs_P_C_per_m2"] - 1
    print(f"\nTDGL: {transient['tdgl_steps']} steps to t = {transient['t_final_s']:.3g} s "
          f"(relaxation time {transient['tdgl_relaxation_time_s']:.3g} s), quasi-steady at "
          f"{transient['t_quasi_steady_s']:.3g} s; max|P| {transient['max_abs_P_C_per_m2']:.9g} vs steady "
          f"{steady['max_abs_P_C_per_m2']:.9g} C/m² (relative {relative:.1e})")
    assert transient["t_quasi_steady_s"] is not None
    assert abs(relative) < 1e-6
    assert abs(transient["P_axis_max_C_per_m2"] / steady["P_axis_max_C_per_m2"] - 1) < 1e-6
    # TDGL is a gradient flow: backward Euler lowers the free energy at every step. (max|P|
    # need not rise monotonically: with eps_grad_P it overshoots by 3e-5 relative.)
    energy = np.asarray(history["free_energy_J"])
    print(f"free energy {energy[0]:.6g} → {energy[-1]:.6g} J; largest rise "
          f"{np.diff(energy).max():.3g} J")
    assert np.all(np.diff(energy) <= 1e-9 * np.abs(energy).max())
    assert energy[-1] < energy[0]


def test_air_gap_keeps_the_mechanics_and_frees_the_surface_potential(sphere, tmp_path_factory):
    """A 1 nm air layer grounded on top (as on the published grid) carries no stress.

    The load and the indentation are those without air (the meshes differ only by the
    air cells); the film top is no longer held at 0 outside the contact, and the field
    below the tip still points into the film.
    """
    short, _ = sphere
    comm = MPI.COMM_WORLD
    folder = shared_dir(tmp_path_factory, "air")
    sections = SMALL | {"tip": {"shape": "sphere"},
                        "film": SMALL["film"] | {"air_thickness": 1e-9},
                        "physics": SMALL["physics"] | {"electric_bc": "air-gap"}}
    air = run_case(comm, sections, folder)
    print(f"\nair gap / short circuit: axis u_z {air['axis_displacement_m']:.6e} / "
          f"{short['axis_displacement_m']:.6e} m; E_z below the tip {air['Ez_below_tip_V_per_m']:.4g} / "
          f"{short['Ez_below_tip_V_per_m']:.4g} V/m, at the edge {air['Ez_contact_edge_V_per_m']:.4g} / "
          f"{short['Ez_contact_edge_V_per_m']:.4g} V/m; P_axis_max {air['P_axis_max_C_per_m2']:.4g} / "
          f"{short['P_axis_max_C_per_m2']:.4g} C/m²; φ on the top in [{air['phi_top_min_V']:.4g}, "
          f"{air['phi_top_max_V']:.4g}] V / [{short['phi_top_min_V']:.3g}, {short['phi_top_max_V']:.3g}] V")
    assert air["applied_force_N"] == pytest.approx(short["applied_force_N"], rel=1e-6)
    assert air["axis_displacement_m"] == pytest.approx(short["axis_displacement_m"], rel=2e-3)
    assert max(abs(short["phi_top_min_V"]), abs(short["phi_top_max_V"])) < 1e-12
    assert max(abs(air["phi_top_min_V"]), abs(air["phi_top_max_V"])) > 1e-3
    assert air["Ez_below_tip_V_per_m"] < 0


def test_the_other_flexo_form_keeps_the_pattern_with_a_stronger_field_below(sphere, tmp_path_factory):
    """flexo_form = "P_grad_eps" (∫f·P·∂ε with its surface term): the same sign pattern, E_z below stronger.

    The two forms differ by the surface energy ∮f·ε·P·n on the film top only; under the tip
    that moves E_z below the tip by a factor of 3–5 (docs/model.md, "Flexoelectric form").
    """
    summary, _ = sphere
    comm = MPI.COMM_WORLD
    folder = shared_dir(tmp_path_factory, "P_grad_eps")
    other = run_case(comm, SMALL | {"tip": {"shape": "sphere"},
                                    "physics": SMALL["physics"] | {"flexo_form": "P_grad_eps"}}, folder)
    print(f"\nP_grad_eps: E_z below the tip {other['Ez_below_tip_V_per_m']:.4g} V/m (default form "
          f"{summary['Ez_below_tip_V_per_m']:.4g}), at the edge {other['Ez_contact_edge_V_per_m']:.4g} "
          f"({summary['Ez_contact_edge_V_per_m']:.4g}); P_axis_max {other['P_axis_max_C_per_m2']:.4g} "
          f"({summary['P_axis_max_C_per_m2']:.4g}) C/m²")
    assert other["Ez_below_tip_V_per_m"] < 0 < other["Ez_contact_edge_V_per_m"]
    assert abs(summary["Ez_below_tip_V_per_m"]) < 0.5 * abs(other["Ez_below_tip_V_per_m"])
    assert other["axis_displacement_m"] == pytest.approx(summary["axis_displacement_m"], rel=1e-2)


def test_both_linear_solvers_give_the_same_state(sphere, tmp_path_factory):
    """The block-preconditioned FGMRES and MUMPS solve the same Newton steps to the same state.

    Each is checked by the other: the block preconditioner approximates the Jacobian's
    inverse (fem/preconditioners.py), so a wrong sign or block in it costs iterations but
    must not change the converged state, and a good one keeps the Krylov iterations per
    Newton step low (~20–30 on this mesh; a block-diagonal one needed ~300).
    """
    first, _ = sphere
    default = SolveConfig().electromechanics_solver
    other = "direct" if default == "block" else "block"
    second, _ = _run(tmp_path_factory, f"solver_{other}", {"shape": "sphere"},
                     {"electromechanics_solver": other})
    block = first if other == "direct" else second
    keys = ("P_axis_max_C_per_m2", "max_abs_P_C_per_m2", "Ez_below_tip_V_per_m", "Ez_contact_edge_V_per_m",
            "Ex_line_min_V_per_m", "axis_displacement_m")
    differences = {key: abs(second[key] / first[key] - 1) for key in keys}
    per_step = block["em_linear_iterations"] / block["em_newton_iterations"]
    print(f"\n{default} against {other}: largest relative difference "
          f"{max(differences.values()):.1e} ({max(differences, key=differences.get)}); block: "
          f"{block['em_linear_iterations']} FGMRES iterations in "
          f"{block['em_newton_iterations']} Newton steps")
    assert max(differences.values()) < 1e-7
    assert per_step < 50
