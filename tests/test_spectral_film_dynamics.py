"""Electrostriction, the full Landau energy and the TDGL step of the spectral film solver.

(a) Linear: the semi-implicit TDGL's long-time limit is the direct per-mode solve of
``film_electromechanics`` (the complex Hermitian route, not the real bands of ``film_dynamics``).
(b) With electrostriction: the TDGL's steady state is the Picard steady state, also with a
stabilisation term (which must not move the fixed point).
(c) The explicit nonlinear forces are the gradient of the nonlinear energy, which the test
writes itself from the energy of docs/model.md (explicit cos/sin sums on the grid, the z basis at the
Gauss points) and differentiates by a five-point stencil, exact for a quartic.
Small problems: 8 × 8 modes, a coarse 100 nm stack.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from helpers import gaussian_pressure_modes, relative_difference

from flexotip import config as config_module
from flexotip.spectral import grid
from flexotip.spectral.film_dynamics import FilmDynamics
from flexotip.spectral.film_electromechanics import N_FIELDS, PARITY, FilmElectromechanics, _evaluate

pytestmark = pytest.mark.serial  # NumPy only

CONFIG = config_module.from_dict({"physics": {"electrostriction": True, "flexo_form": "eps_grad_P"}},
                                 source="test")
ELASTICITY = CONFIG.material.elastic_constants()
MATERIAL = CONFIG.electromechanical_material()
BOX = grid.FilmBox.quarter(100e-9, 100e-9)
FILM = 46.86e-9
MODES = 8
MESH = {"top_cell": 0.1e-9, "largest": 10e-9, "degree": 4}
MOBILITY = 1.0
"""L, C²/(J·m·s): the steady states do not depend on it; Δt is given in units of 1/(2·L·α1)."""


def pressure_modes() -> np.ndarray:
    return gaussian_pressure_modes(BOX, MODES)


def dynamics(material) -> FilmDynamics:
    return FilmDynamics(FilmElectromechanics(BOX, FILM, ELASTICITY, material, **MESH), (MODES, MODES))


def relative_differences(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """Max difference per field group over the max of that group in ``b``."""
    groups = {"u": slice(0, 3), "P": slice(3, 6), "phi": slice(6, 7)}
    return {name: relative_difference(a[..., g], b[..., g]) for name, g in groups.items()}


def relaxation_time() -> float:
    return 1.0 / (2 * MOBILITY * MATERIAL.alpha1)


def test_linear_tdgl_reaches_the_direct_solve():
    linear = dataclasses.replace(MATERIAL, electrostriction=False)
    solver = dynamics(linear)
    direct = solver.film.solve(pressure_modes())
    relaxed, changes = solver.relax(pressure_modes(), MOBILITY, 2 * relaxation_time(), 300, tolerance=1e-14)
    print(f"\nlinear TDGL: {len(changes)} steps, last max|ΔP| {changes[-1]:.2e} C/m²")
    assert len(changes) < 300
    errors = relative_differences(relaxed.amplitudes, direct.amplitudes)
    print("relative differences from the direct solve:", errors)
    assert max(errors.values()) <= 1e-10
    # One step is not the steady state: the comparison can fail.
    one_step, _ = solver.relax(pressure_modes(), MOBILITY, 2 * relaxation_time(), 1)
    assert relative_differences(one_step.amplitudes, direct.amplitudes)["P"] > 1e-2


def test_electrostrictive_tdgl_reaches_the_picard_steady_state():
    solver = dynamics(MATERIAL)
    steady, iterations = solver.solve(pressure_modes())
    linear = solver.film.solve(pressure_modes())
    relaxed, changes = solver.relax(pressure_modes(), MOBILITY, 2 * relaxation_time(), 300, tolerance=1e-13)
    errors = relative_differences(relaxed.amplitudes, steady.amplitudes)
    effect = relative_differences(linear.amplitudes, steady.amplitudes)
    print(f"\nPicard: {iterations} iterations; TDGL: {len(changes)} steps; TDGL − Picard: {errors}; "
          f"electrostriction's effect: {effect}")
    assert max(errors.values()) <= 1e-8
    assert effect["P"] > 1e-4  # electrostriction changes the state: the comparison is not trivial


def test_stabilisation_leaves_the_steady_state():
    """S·M_PP·(yⁿ⁺¹ − yⁿ) on both sides slows the iteration but does not move its fixed point."""
    solver = dynamics(MATERIAL)
    plain, _ = solver.solve(pressure_modes())
    stabilised, iterations = solver.solve(pressure_modes(), stabilisation=1e9)
    relaxed, changes = solver.relax(pressure_modes(), MOBILITY, 2 * relaxation_time(), 300, tolerance=1e-13,
                                    stabilisation=1e9)
    print(f"\nstabilised: Picard {iterations} iterations, TDGL {len(changes)} steps")
    assert max(relative_differences(stabilised.amplitudes, plain.amplitudes).values()) <= 1e-8
    assert max(relative_differences(relaxed.amplitudes, plain.amplitudes).values()) <= 1e-8


def test_factorising_on_the_fly_is_the_cached_solve():
    cached = dynamics(MATERIAL)
    on_the_fly = FilmDynamics(cached.film, (MODES, MODES), cache_factors=False)
    a, _ = cached.relax(pressure_modes(), MOBILITY, relaxation_time(), 3)
    b, _ = on_the_fly.relax(pressure_modes(), MOBILITY, relaxation_time(), 3)
    assert np.array_equal(a.amplitudes, b.amplitudes)
    assert on_the_fly.factor_bytes == 0 < cached.factor_bytes


def nonlinear_energy(solver: FilmDynamics, amplitudes: np.ndarray) -> float:
    """Σ over the in-plane grid and the film's Gauss points of f_nl (scaled), written from docs/model.md."""
    film, s = solver.film, solver.film.scales
    m = film.material
    nx, ny = solver.shape
    Lx, Ly = (length / s.length for length in film.box.lengths)
    x, y = (np.arange(nx) + 0.5) * Lx / nx, (np.arange(ny) + 0.5) * Ly / ny
    trig = {}  # (axis, sine, derivative) → T(k ξ) or T'(k ξ), shape (points, modes)
    for axis, (k, xi) in enumerate(((solver.kx, x), (solver.ky, y))):
        phase = np.outer(xi, k)
        trig[axis, 0, 0], trig[axis, 1, 0] = np.cos(phase), np.sin(phase)
        trig[axis, 0, 1], trig[axis, 1, 1] = -k * np.sin(phase), k * np.cos(phase)
    mesh = film.mesh
    _, points, weights, _ = mesh.reference()
    z, w = [], []
    for e in np.flatnonzero(mesh.film):
        a, b = mesh.edges[e], mesh.edges[e + 1]
        z.extend(a + (points + 1) * (b - a) / 2)
        w.extend(weights * (b - a) / 2)
    values, slopes = _evaluate(mesh, np.array(z))

    def field(f: int, derivative: int | None = None) -> np.ndarray:  # on (x, y, z_q)
        px, py = PARITY[f]
        tx, ty = trig[0, px, int(derivative == 0)], trig[1, py, int(derivative == 1)]
        tz = slopes if derivative == 2 else values
        return np.einsum("im,jn,qk,mnk->ijq", tx, ty, tz, amplitudes[..., f], optimize=True)

    P = [field(3 + k) for k in range(3)]
    grad_u = [[field(i, j) for j in range(3)] for i in range(3)]
    strain = [[(grad_u[i][j] + grad_u[j][i]) / 2 for j in range(3)] for i in range(3)]
    q11, q12, q44 = (q * s.polarization**2 for q in (m.Q11, m.Q12, m.Q44))
    eigen = [[q11 * P[i] ** 2 + q12 * (sum(p**2 for p in P) - P[i] ** 2) if i == j else q44 * P[i] * P[j]
              for j in range(3)] for i in range(3)]
    c11, c12, c44 = (c / s.stress for c in (ELASTICITY.c11, ELASTICITY.c12, ELASTICITY.c44))

    def elastic(e) -> np.ndarray:  # ½ e:C:e for a cubic C
        trace = e[0][0] + e[1][1] + e[2][2]
        return (0.5 * c12 * trace**2 + 0.5 * (c11 - c12 - 2 * c44) * sum(e[i][i] ** 2 for i in range(3))
                + c44 * sum(e[i][j] ** 2 for i in range(3) for j in range(3)))

    difference = [[strain[i][j] - eigen[i][j] for j in range(3)] for i in range(3)]
    density = elastic(difference) - elastic(strain)
    if m.landau == "full":
        a11, a12 = (a * s.polarization**4 / s.stress for a in (m.alpha11, m.alpha12))
        density = density + a11 * sum(p**4 for p in P) + a12 * (
            P[0] ** 2 * P[1] ** 2 + P[1] ** 2 * P[2] ** 2 + P[2] ** 2 * P[0] ** 2)
    return float(np.einsum("ijq,q->", density, np.array(w))) * Lx * Ly / (nx * ny)


@pytest.mark.parametrize("landau", ["linear", "full"])
def test_nonlinear_forces_are_the_gradient_of_the_nonlinear_energy(landau):
    solver = dynamics(dataclasses.replace(MATERIAL, landau=landau))
    rng = np.random.default_rng(6)
    shape = (MODES, MODES, solver.film.mesh.n_nodes, N_FIELDS)
    # A state with nm displacements and polarisation ~0.05 C/m² (scaled), decaying with the mode.
    decay = 1.0 / (1.0 + np.add.outer(np.arange(MODES), np.arange(MODES)))[..., None, None]
    state = rng.standard_normal(shape) * decay * np.array([0.3, 0.3, 0.3, 0.05, 0.05, 0.05, 0.1])
    direction = rng.standard_normal(shape) * decay * np.array([0.3, 0.3, 0.3, 0.05, 0.05, 0.05, 0.1])
    for mode in np.ndindex(MODES, MODES):
        held = solver.held(*mode)
        state[mode].reshape(-1)[held] = 0.0
        direction[mode].reshape(-1)[held] = 0.0
    # E_nl is a quartic in t along state + t·direction: the five-point derivative is exact.
    h = 0.5
    energies = {t: nonlinear_energy(solver, state + t * h * direction) for t in (-2, -1, 1, 2)}
    derivative = (energies[-2] - 8 * energies[-1] + 8 * energies[1] - energies[2]) / (12 * h)
    # The solver's forces: −r = nonlinear_rhs, r_mn = (∂E_nl/∂y_mn)/w_mn, w_mn = ∫T_m²dx·∫T_n²dy.
    Lx, Ly = (length / solver.film.scales.length for length in BOX.lengths)
    half = np.where(np.arange(MODES) == 0, 1.0, 0.5)
    weight = Lx * Ly * np.outer(half, half)
    predicted = -np.einsum("mn,mnij,mnij->", weight, direction, solver.nonlinear_rhs(state))
    print(f"\nlandau {landau}: dE/dt by finite differences {derivative:.12e}, "
          f"from the forces {predicted:.12e}")
    assert abs(predicted - derivative) <= 1e-9 * abs(derivative)
    assert abs(derivative) > 1e-6 * max(abs(e) for e in energies.values())
