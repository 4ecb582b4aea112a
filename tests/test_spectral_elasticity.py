"""Spectral reference solver: cubic elasticity of the film/substrate box under a pressure.

Checks, from the equations: one cosine mode satisfies the Navier equations (written with
the full c_ijkl tensor) and every boundary condition to round-off, for cubic STO and for
an isotropic solid (repeated roots); a uniform pressure gives the exact uniaxial-strain
column; the Hertz pressure on a wide deep box approaches the half-space; bad input is
refused with a message naming the argument. The comparison with the finite-element
solver on the same box is the ``hertz-film`` case of tests/test_crosscheck.py.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from helpers import STO

from flexotip import analytic
from flexotip.materials import CubicElasticity, contact_modulus
from flexotip.spectral import elasticity, grid, layer

ISOTROPIC = CubicElasticity.isotropic(300e9, 0.3)
MATERIALS = {"cubic-STO": STO, "isotropic": ISOTROPIC}
FORCE, CONTACT_RADIUS = 4e-6, 8e-9

FACTORS = (("sin", "cos"), ("cos", "sin"), ("cos", "cos"))
"""Trigonometric factors in x and y of u_x, u_y, u_z."""


def stiffness_tensor(material: CubicElasticity) -> np.ndarray:
    """c_ijkl (3, 3, 3, 3) from the cubic formula, independent of the Voigt tables."""
    return material.tensor()


def trig(kind: str, k: float, s: np.ndarray, order: int) -> np.ndarray:
    """The order-th derivative of sin(k·s) or cos(k·s)."""
    phase = k * s + (order * math.pi / 2)
    return k**order * (np.sin(phase) if kind == "sin" else np.cos(phase))


def mode_derivatives(profiles, index, amplitude, kx, ky, xi, eta):
    """∂u_k/∂x_j (k, j) and ∂²u_k/∂x_j∂x_m (k, j, m) of one mode at points, from its exact z-derivatives."""
    z_parts = [profiles.displacement[index], profiles.slope[index], profiles.curvature[index]]
    grad = np.zeros((3, 3, len(xi)))
    hess = np.zeros((3, 3, 3, len(xi)))
    for k in range(3):
        def part(order, k=k):
            return (amplitude * z_parts[order[2]][k] * trig(FACTORS[k][0], kx, xi, order[0])
                    * trig(FACTORS[k][1], ky, eta, order[1]))
        unit = np.eye(3, dtype=int)
        for j in range(3):
            grad[k, j] = part(unit[j])
            for m in range(3):
                hess[k, j, m] = part(unit[j] + unit[m])
    return grad, hess


SINGLE_MODE_BOX = grid.FilmBox(-60e-9, 40e-9, -30e-9, 50e-9, 80e-9)
SINGLE_MODES = ((3, 2), (0, 5), (4, 0), (1, 1), (150, 97))
"""(m, n): generic, k_x = 0, k_y = 0, a long diagonal wave, and K·H ≈ 490."""


@pytest.mark.parametrize("name", MATERIALS)
def test_single_mode_to_round_off(name):
    """One cosine mode of pressure: Navier equations, top traction, clamp and rollers hold to round-off.

    The Navier residual c_ijkm·∂_j∂_m u_k is formed at random points of a non-square,
    off-centre box from the modes' exact z-derivatives and the exact x, y derivatives of
    their sines and cosines, so it also checks that each mode decouples. The isotropic
    solid has the triple root p = 1 (a defective system), checked below.
    """
    material, box = MATERIALS[name], SINGLE_MODE_BOX
    H = box.thickness
    C = stiffness_tensor(material)
    shape = (151, 98)
    base = elasticity.solve_modes(material, box, np.zeros(shape))
    kxs, kys = box.wavenumbers(*shape)
    rng = np.random.default_rng(7)
    x = rng.uniform(box.x_min, box.x_max, 40)
    y = rng.uniform(box.y_min, box.y_max, 40)
    depths = (0.0, -0.01 * H, -0.37 * H, -0.999 * H, -H)
    amplitude = 2.5e9
    worst = {"navier": 0.0, "top traction": 0.0, "bottom clamp": 0.0, "walls": 0.0}
    x_walls = (np.repeat([box.x_min, box.x_max], 3), np.tile(y[:3], 2))
    y_walls = (np.tile(x[:3], 2), np.repeat([box.y_min, box.y_max], 3))
    top_scale = {}
    for z in depths:  # depth outermost: the layer keeps the profiles of the last depth
        profiles = base.modes.profiles(z)
        for m, n in SINGLE_MODES:
            modes = np.zeros(shape)
            modes[m, n] = amplitude
            solution = base.with_pressure(modes)
            kx, ky = kxs[m], kys[n]
            index = m * shape[1] + n
            u_scale = top_scale.setdefault((m, n), amplitude * np.abs(profiles.displacement[index]).max())
            K_eff = max(math.hypot(kx, ky), 1 / H)
            grad, hess = mode_derivatives(profiles, index, amplitude, kx, ky, x - box.x_min, y - box.y_min)
            navier = np.einsum("ijkm,kjmp->ip", C, hess)
            worst["navier"] = max(worst["navier"], np.abs(navier).max() / (material.c11 * K_eff**2 * u_scale))
            if z == 0.0:
                traction = np.einsum("ikm,kmp->ip", C[:, 2], grad)
                expected = -amplitude * np.cos(kx * (x - box.x_min)) * np.cos(ky * (y - box.y_min))
                series = solution.stress_at(x, y, 0.0)[:, [4, 3, 2]].T
                for values in (traction, series):
                    error = np.abs(values - np.array([0 * x, 0 * x, expected])).max() / amplitude
                    worst["top traction"] = max(worst["top traction"], error)
            if z == -H:
                bottom = solution.displacement_at(x, y, -H)
                worst["bottom clamp"] = max(worst["bottom clamp"], np.abs(bottom).max() / u_scale)
            # Walls x = const: u_x, σ_xz, σ_xy vanish; walls y = const: u_y, σ_yz, σ_xy.
            normal = np.r_[solution.displacement_at(*x_walls, z)[:, 0],
                           solution.displacement_at(*y_walls, z)[:, 1]]
            shear = np.r_[solution.stress_at(*x_walls, z)[:, [4, 5]],
                          solution.stress_at(*y_walls, z)[:, [3, 5]]]
            worst["walls"] = max(worst["walls"], np.abs(normal).max() / u_scale,
                                 np.abs(shear).max() / amplitude)
    print(f"\n{name}: largest relative residuals over modes {SINGLE_MODES}: "
          + ", ".join(f"{key} {value:.1e}" for key, value in worst.items()))
    assert max(base.modes.riccati_residual()) < 1e-12
    if material is ISOTROPIC:
        roots = np.linalg.eigvals(base.modes.generator[1:])
        assert np.abs(roots - 1).max() < 1e-6
    for value in worst.values():
        assert value < 1e-12


def test_matrix_exponential_of_a_jordan_block():
    """The isotropic layer's generator is defective; exp of a Jordan block has a closed form."""
    J = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0], [0.0, 0.0, 1.0]])
    for s in (-0.1, -5.0, -60.0):
        exact = math.exp(s) * np.array([[1, s, s * s / 2], [0, 1, s], [0, 0, 1]])
        assert np.abs(layer.expm_stack((J * s)[None])[0] - exact).max() < 1e-13 * np.abs(exact).max()


@pytest.mark.parametrize("name", MATERIALS)
def test_long_waves_tend_to_the_uniform_mode(name):
    """As K·H → 0 the layer compresses uniaxially: |u_z(K)/u_z(0) − 1| falls as (K·H)².

    Below K·H ~ 1e-4 the cancellation between the top and bottom modes leaves a
    round-off error of order 1e-16/(K·H).
    """
    material, H = MATERIALS[name], 100e-9
    kh = np.array([1e-1, 1e-2, 1e-3, 1e-4, 1e-6])
    modes = layer.layer_modes(material, np.r_[0.6 * kh / H, 0.0], np.r_[0.8 * kh / H, 0.0], H)
    for z in (0.0, -H / 2):
        uz = modes.profiles(z).displacement[:, 2]
        deviation = np.abs(uz[:-1] / uz[-1] - 1)
        print(f"{name}, z = {z * 1e9:g} nm: K·H {kh}, |u_z/u_z(K = 0) − 1| {deviation}")
        assert np.all(deviation < 0.1 * kh**2 + 1e-15 / kh)


@pytest.mark.parametrize("name", MATERIALS)
def test_uniform_pressure_is_exact(name):
    """The K = 0 mode: uniaxial strain, u_z = −p·(z + H)/c11, σ_xx = σ_yy = −p·c12/c11."""
    material = MATERIALS[name]
    box = grid.FilmBox.centred(50e-9, 70e-9)
    p, H = 3e9, box.thickness
    solution = elasticity.solve_pressure(material, box, np.full((6, 4), p))
    x, y = np.array([-50e-9, 3e-9, 50e-9]), np.array([10e-9, -50e-9, 22e-9])
    for z in (0.0, -H / 3, -H):
        exact_u = np.array([0.0, 0.0, -p * (z + H) / material.c11])
        exact_s = np.array([-p * material.c12 / material.c11] * 2 + [-p, 0.0, 0.0, 0.0])
        for u in (solution.displacement(z).reshape(3, -1).T, solution.displacement_at(x, y, z)):
            assert np.abs(u - exact_u).max() <= 1e-14 * p * H / material.c11
        for s in (solution.stress(z).reshape(6, -1).T, solution.stress_at(x, y, z)):
            assert np.abs(s - exact_s).max() <= 1e-14 * p


def test_grid_sums_match_term_by_term_sums():
    """DCT-III/DST-III synthesis on the grid equals the series summed at the same points."""
    box = grid.FilmBox(-50e-9, 70e-9, -30e-9, 40e-9, 60e-9)
    pressure = np.random.default_rng(0).random((12, 10)) * 1e9
    solution = elasticity.solve_pressure(STO, box, pressure)
    x, y = box.cell_centres(12, 10)
    X, Y = (a.ravel() for a in np.meshgrid(x, y, indexing="ij"))
    assert np.abs(solution.stress(0.0)[2] + pressure).max() < 1e-14 * pressure.max()
    for z in (0.0, -20e-9):
        for on_grid, at_points in ((solution.displacement(z), solution.displacement_at(X, Y, z)),
                                   (solution.stress(z), solution.stress_at(X, Y, z))):
            flat = on_grid.reshape(len(on_grid), -1).T
            assert np.abs(flat - at_points).max() < 1e-13 * np.abs(at_points).max()


def test_exact_hertz_amplitudes_carry_the_force():
    """∫p dA from the transform: F in the centred box, F/4 in the quarter (like the FEM)."""
    def transform(K):
        return grid.hertz_transform(K, FORCE, CONTACT_RADIUS)

    boxes = {1.0: grid.FilmBox.centred(100e-9, 50e-9), 0.25: grid.FilmBox.quarter(100e-9, 50e-9)}
    for share, box in boxes.items():
        modes = grid.axisymmetric_coefficients(box, (8, 8), transform, CONTACT_RADIUS)
        assert modes[0, 0] * np.prod(box.lengths) == pytest.approx(share * FORCE, rel=1e-14)
    with pytest.raises(ValueError, match=r"centre x = 5e-09 m with support_radius = 8e-09 m"):
        grid.axisymmetric_coefficients(grid.FilmBox.quarter(100e-9, 50e-9), (8, 8), transform,
                                       CONTACT_RADIUS, centre=(5e-9, 0.0))


def test_indentation_modulus():
    """E/(1 − ν²) for an isotropic solid; for cubic STO close to the Voigt–Reuss–Hill average."""
    young, poisson = 300e9, 0.3
    assert layer.indentation_modulus(ISOTROPIC) == pytest.approx(young / (1 - poisson**2), rel=1e-13)
    cubic = layer.indentation_modulus(STO)
    assert layer.indentation_modulus(STO, n_angles=8) == pytest.approx(cubic, rel=1e-12)
    young_hill, poisson_hill = STO.voigt_reuss_hill()
    hill = young_hill / (1 - poisson_hill**2)
    estimate = contact_modulus(STO)
    print(f"\n(001) indentation modulus of STO {cubic / 1e9:.2f} GPa; E/(1 − ν²) with the Voigt–Reuss–Hill "
          f"E, ν: {hill / 1e9:.2f} GPa ({hill / cubic - 1:+.2%}); with the [100] E, ν (contact_modulus): "
          f"{estimate / 1e9:.2f} GPa ({estimate / cubic - 1:+.2%})")
    assert cubic == pytest.approx(hill, rel=0.02)


@pytest.mark.parametrize("name", MATERIALS)
def test_hertz_on_a_wide_deep_box_approaches_the_half_space(name):
    """W = H = 800 nm = 100a: axis displacement ≈ π·p0·a/(2E*), the box slightly stiffer.

    E* = E/(1 − ν²) for the isotropic solid (E = 300 GPa, ν = 0.3), the (001) indentation
    modulus for cubic STO. The pressure enters as cell averages through the DCT.
    """
    material = {"cubic-STO": STO, "isotropic": ISOTROPIC}[name]
    modulus = layer.indentation_modulus(material)
    box = grid.FilmBox.quarter(800e-9, 800e-9)
    shape = (512, 512)
    start = time.perf_counter()
    pressure = grid.axisymmetric_samples(box, shape, lambda r: grid.hertz_pressure(r, FORCE, CONTACT_RADIUS),
                                         subsamples=8)
    solution = elasticity.solve_pressure(material, box, pressure, cell_averages=True)
    r = np.linspace(0.0, 3 * CONTACT_RADIUS, 25)
    uz = -solution.displacement_at(r, 0 * r)[:, 2]
    elapsed = time.perf_counter() - start
    p0 = analytic.hertz_peak_pressure(FORCE, CONTACT_RADIUS)
    half_space = math.pi * p0 * CONTACT_RADIUS / (2 * modulus)
    profile = analytic.hertz_surface_displacement(r, FORCE, CONTACT_RADIUS, modulus)
    print(f"\n{name}, Hertz on the 800 nm box, {shape[0]}² modes (a/dx = "
          f"{CONTACT_RADIUS * shape[0] / 800e-9:.2f}), {elapsed:.1f} s: axis {uz[0]:.5e} m, half-space "
          f"{half_space:.5e} m (E* = {modulus / 1e9:.2f} GPa), relative {uz[0] / half_space - 1:+.4f}; "
          f"profile r ≤ 3a: max |Δu|/u(0) {np.abs(uz - profile).max() / uz[0]:.4f}; "
          f"force {4 * solution.force:.6e} N")
    assert 4 * solution.force == pytest.approx(FORCE, rel=1e-4)
    assert -0.02 < uz[0] / half_space - 1 < 0.0
    assert np.abs(uz - profile).max() < 0.02 * half_space


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match=r"thickness = -1e-07 m: must be finite and > 0"):
        grid.FilmBox.centred(50e-9, -100e-9)
    with pytest.raises(ValueError, match=r"half_width = -5e-08 m: must be finite and > 0"):
        grid.FilmBox.quarter(-50e-9, 100e-9)
    with pytest.raises(ValueError, match=r"x_max = -1e-08 m: must be > x_min = 1e-08 m"):
        grid.FilmBox(10e-9, -10e-9, 0.0, 1e-8, 1e-8)
    box = grid.FilmBox.centred(50e-9, 100e-9)
    with pytest.raises(ValueError, match=r"nx = 1: the number of cells \(cosine modes\) per direction "
                                         r"must be an integer ≥ 2"):
        elasticity.solve_pressure(STO, box, np.ones((1, 8)))
    with pytest.raises(ValueError, match=r"ny = 0: .* ≥ 2"):
        box.cell_centres(4, 0)
    with pytest.raises(ValueError, match=r"pressure: contains non-finite values"):
        elasticity.solve_pressure(STO, box, np.full((4, 4), np.nan))
    solution = elasticity.solve_pressure(STO, box, np.ones((4, 4)))
    with pytest.raises(ValueError, match=r"z = 1e-09 m: must lie in the layer, -1e-07 ≤ z ≤ 0 m"):
        solution.displacement(1e-9)
    with pytest.raises(ValueError, match=r"x = .*: points must lie in the box, -5e-08 ≤ x ≤ 5e-08 m"):
        solution.displacement_at([60e-9], [0.0])
    with pytest.raises(ValueError, match=r"not positive definite \(c44 must be > 0\)"):
        elasticity.solve_pressure(CubicElasticity(3e11, 1e11, -1e10), box, np.ones((4, 4)))
    with pytest.raises(ValueError, match=r"subsamples = 0: must be an integer ≥ 1"):
        grid.axisymmetric_samples(box, (4, 4), np.ones_like, subsamples=0)
