"""Spectral reference in the mirror-walled box: series, (u, P, φ) per mode, TDGL and Nernst–Planck.

The single-mode checks evaluate the strong-form equations of docs/model.md with the exact
derivatives of sines and cosines and tensors built here, not by the solver: the residuals
must vanish to round-off.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from flexotip import config as config_module
from flexotip.materials import cubic_tensor
from flexotip.spectral import transport
from flexotip.spectral.box_electromechanics import BoxElectromechanics
from flexotip.spectral.series import SCALAR, VECTOR, Box, derivative, forward, inverse, tensor_parity
from flexotip.units import EPSILON_0

pytestmark = pytest.mark.serial  # NumPy only: nothing to distribute

CONFIG = config_module.from_dict({}, source="test")
ELASTICITY = CONFIG.material.elastic_constants()
MATERIAL = CONFIG.electromechanical_material()
BOX = Box((10e-9, 12e-9, 8e-9), (8, 10, 6))
"""Unequal sides and unequal spacing."""


def mode(k: np.ndarray, sines: set, point: np.ndarray, derivatives: tuple = ()) -> float:
    """∂^derivatives of Π_a T_a(k_a·x_a) at a point, T = sin on the axes in ``sines``, else cos."""
    value = 1.0
    for a in range(3):
        n = derivatives.count(a)
        shift = 0.0 if a in sines else np.pi / 2  # cos(θ) = sin(θ + π/2)
        value *= k[a] ** n * np.sin(k[a] * point[a] + shift + n * np.pi / 2)
    return value


@pytest.mark.parametrize("parity", [SCALAR, *VECTOR, tensor_parity(0, 1), frozenset({0, 1, 2})],
                         ids=["ccc", "scc", "csc", "ccs", "ssc", "sss"])
def test_series_round_trip_and_derivative(parity):
    """Grid ↔ amplitudes is exact on the series' modes; ∂/∂x maps one mode to one mode."""
    rng = np.random.default_rng(3)
    amplitudes = np.where(BOX.active(parity), rng.normal(size=BOX.shape), 0.0)
    assert np.abs(forward(inverse(amplitudes, parity), parity) - amplitudes).max() < 1e-14
    single = np.zeros(BOX.shape)
    m = (3, 2, 1)
    single[m] = 1.0
    values = inverse(single, parity)
    k = np.array([w[i] for w, i in zip(BOX.wavenumbers(), m, strict=True)])
    points = BOX.points()
    exact = np.array([mode(k, parity, p) for p in points]).reshape(BOX.shape)
    assert np.abs(values - exact).max() < 1e-13
    for axis in range(3):
        d_amplitudes, d_parity = derivative(single, parity, axis, BOX)
        exact_d = np.array([mode(k, parity, p, (axis,)) for p in points]).reshape(BOX.shape)
        assert np.abs(inverse(d_amplitudes, d_parity) - exact_d).max() < 1e-13 * k[axis]


@pytest.mark.parametrize("m", [(2, 3, 1), (1, 0, 2), (0, 0, 3), (4, 1, 0)])
def test_single_mode_satisfies_the_equations(m):
    """A one-mode dilatation and charge: Navier, Euler–Lagrange for P and Gauss hold to round-off."""
    material = dataclasses.replace(MATERIAL, electrostriction=False)
    k = np.array([w[i] for w, i in zip(BOX.wavenumbers(), m, strict=True)])
    dilatation_amplitude, charge_amplitude = 1e-3, 1e6
    shape = BOX.sample(lambda x, y, z: np.cos(k[0] * x) * np.cos(k[1] * y) * np.cos(k[2] * z))
    solver = BoxElectromechanics(BOX, ELASTICITY, material)
    amplitudes = solver.solve(dilatation_amplitude * shape, charge_amplitude * shape).amplitudes
    others = np.abs(amplitudes).max(axis=0)
    others[m] = 0.0
    assert others.max() < 1e-12 * np.abs(amplitudes).max()  # the mode maps onto itself
    u = amplitudes[:3, m[0], m[1], m[2]] * solver.scales.length
    P = amplitudes[3:6, m[0], m[1], m[2]] * solver.scales.polarization
    phi = amplitudes[6, m[0], m[1], m[2]] * solver.scales.potential
    C = ELASTICITY.tensor()
    F = cubic_tensor(material.f11, material.f12, material.f44)
    G = material.gradient_tensor()
    permittivity = EPSILON_0 * material.eps_background
    rng = np.random.default_rng(0)
    for point in rng.uniform(0, 1, (4, 3)) * np.array(BOX.lengths):
        def field(sines, amplitude, *ders, point=point):
            return amplitude * mode(k, sines, point, ders)

        axes = range(3)
        # ∂_j σ_ij with σ = C:(ε − e·I) − f:∇P
        navier = [sum(C[i, j, a, b] * field({a}, u[a], b, j) for j in axes for a in axes for b in axes)
                  - sum(C[i, j, a, a] * field(set(), dilatation_amplitude, j) for j in axes for a in axes)
                  - sum(F[i, j, q, g] * field({q}, P[q], g, j) for j in axes for q in axes for g in axes)
                  for i in axes]
        # 2α1·P_q − G_qjag·∂_j∂_g P_a + f_ijqg·∂_g ε_ij + ∂_q φ
        euler = [2 * material.alpha1 * field({q}, P[q])
                 - sum(G[q, j, a, g] * field({a}, P[a], j, g) for j in axes for a in axes for g in axes)
                 + sum(F[i, j, q, g] * field({i}, u[i], j, g) for i in axes for j in axes for g in axes)
                 + field(set(), phi, q) for q in axes]
        gauss = (sum(permittivity * field(set(), phi, a, a) - field({a}, P[a], a) for a in range(3))
                 + field(set(), charge_amplitude))
        stress_scale = (ELASTICITY.c11 * dilatation_amplitude * np.linalg.norm(k))
        assert np.abs(navier).max() < 1e-13 * stress_scale
        assert np.abs(euler).max() < 1e-13 * 2 * material.alpha1 * np.abs(P).max()
        assert abs(gauss) < 1e-13 * charge_amplitude


def bump_problem(n: int = 16):
    box = Box((16e-9, 16e-9, 20e-9), (n, n, round(1.25 * n)))
    dilatation = box.sample(lambda x, y, z: 1e-2 * np.exp(-(x**2 + y**2 + z**2) / (2 * (3e-9) ** 2)))
    return box, dilatation


def test_tdgl_reaches_the_direct_solve():
    """The semi-implicit TDGL reaches the direct solve, with and without electrostriction.

    Linear paraelectric: its fixed point is the direct solve (to 1e-12); with
    electrostriction it reaches the Picard steady state.
    """
    box, dilatation = bump_problem()
    mobility = CONFIG.solve.tdgl_kinetic_coefficient
    tau = 1 / (2 * MATERIAL.alpha1 * mobility)
    for electrostriction in (False, True):
        material = dataclasses.replace(MATERIAL, electrostriction=electrostriction)
        solver = BoxElectromechanics(box, ELASTICITY, material)
        steady = solver.solve(dilatation)
        relaxed, changes = solver.relax(mobility, 2 * tau, 60, dilatation)
        P_max = np.abs(steady.on_grid()["polarization"]).max()
        difference = np.abs(relaxed.on_grid()["polarization"] - steady.on_grid()["polarization"]).max()
        print(f"electrostriction {electrostriction}: max|P| {P_max:.4e} C/m², |P_TDGL − P_direct| "
              f"{difference:.2e}, last step change {changes[-1]:.1e}")
        # Exact for the linear problem; the Picard steady state itself stops at 1e-12 relative.
        assert difference < (1e-10 if electrostriction else 1e-12) * P_max
        assert np.all(np.diff(np.log(changes[changes > 1e-16 * P_max])) < 0)  # monotone relaxation


def test_electrostriction_lowers_the_response_under_compression():
    """The dilatation compresses its core (rollers on all faces); −Q·σ raises the effective α1."""
    box, dilatation = bump_problem()
    linear = BoxElectromechanics(box, ELASTICITY, dataclasses.replace(MATERIAL, electrostriction=False))
    full = BoxElectromechanics(box, ELASTICITY, MATERIAL)
    P_linear = np.abs(linear.solve(dilatation).on_grid()["polarization"]).max()
    P_full = np.abs(full.solve(dilatation).on_grid()["polarization"]).max()
    assert 0.5 * P_linear < P_full < P_linear


def test_nernst_planck_single_mode_and_conservation():
    """No field: a cosine mode decays as (1 + Δt·D·k²)^−n exactly; with a field the mean is conserved."""
    D, dt, steps = 1.23e-19, 2.0, 50
    m = (2, 1, 1)
    k2 = sum(w[i] ** 2 for w, i in zip(BOX.wavenumbers(), m, strict=True))
    amplitudes = np.zeros(BOX.shape)
    amplitudes[0, 0, 0], amplitudes[m] = 1.0, 0.3
    initial = inverse(amplitudes, SCALAR)
    result = transport.relax(BOX, D, np.zeros(BOX.shape), initial, dt, steps)
    expected = amplitudes.copy()
    expected[m] *= (1 + dt * D * k2) ** -steps
    assert np.abs(forward(result.density, SCALAR) - expected).max() < 1e-14
    Lx, _, Lz = BOX.lengths
    psi = BOX.sample(lambda x, y, z: 2.0 * np.cos(np.pi * x / Lx) * np.cos(np.pi * z / Lz))
    result = transport.relax(BOX, D, psi, initial, dt, steps)
    assert np.abs(result.totals - 1.0).max() < 1e-14


def test_nernst_planck_reaches_boltzmann():
    """The time stepping's steady state is Boltzmann's N·exp(−ψ), closer as the grid is refined."""
    D = 1.23e-19
    differences = []
    for n in (8, 16):
        box = Box((16e-9, 16e-9, 2e-9), (n, n, 2))
        psi = box.sample(lambda x, y, z: -3.0 * np.exp(-(x**2 + y**2) / (2 * (4e-9) ** 2)))
        dt = 0.5 * transport.stable_step(box, D, psi)
        result = transport.relax(box, D, psi, np.ones(box.shape), dt, round(2.5e4 / dt))
        assert result.changes[-1] < 1e-14
        differences.append(np.abs(result.density - transport.boltzmann(psi, 1.0)).max())
    print(f"steady state − Boltzmann: {differences[0]:.2e} (8²), {differences[1]:.2e} (16²)")
    assert differences[1] < 1e-4 and differences[1] < differences[0] / 4


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match=r"shape\[2\] = 1: the number of cells per axis must be .* ≥ 2"):
        Box((1e-9, 1e-9, 1e-9), (4, 4, 1))
    with pytest.raises(ValueError, match=r"lengths\[0\] = -1e-09 m: must be finite and > 0"):
        Box((-1e-9, 1e-9, 1e-9), (4, 4, 4))
    psi = BOX.sample(lambda x, y, z: 5.0 * np.cos(np.pi * x / BOX.lengths[0]))
    limit = transport.stable_step(BOX, 1.23e-19, psi)
    with pytest.raises(ValueError, match=r"dt = .* s: the explicit drift .* needs 0 < dt ≤ .* s"):
        transport.relax(BOX, 1.23e-19, psi, np.ones(BOX.shape), 2 * limit, 1)
    with pytest.raises(ValueError, match=r"relax: needs an electromechanical material"):
        BoxElectromechanics(BOX, ELASTICITY, None).relax(1.0, 1.0, 1)
