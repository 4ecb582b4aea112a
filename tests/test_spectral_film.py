"""Spectral film solver with elements in z (``flexotip.spectral.film_electromechanics``).

Checks written from outside the solver: without flexoelectricity it reproduces the exact
per-mode layer solution of ``flexotip.spectral.elasticity`` (a different method: matrix
sign function and exponentials) to 1e-7; with the coupling on, the axis profiles do not
move (to five digits) when the z elements are refined and their degree raised (the surface layer of P,
√(G·ε0·κ_b) ≈ 0.07 nm thick, is resolved); each mode's matrix is Hermitian.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from helpers import gaussian_pressure_modes

from flexotip import config as config_module
from flexotip.spectral import elasticity, grid
from flexotip.spectral.film_electromechanics import (
    N_FIELDS,
    TYPES,
    FilmElectromechanics,
    _lagrange,
    band_to_dense,
    energy_matrix,
)
from flexotip.units import Scales

pytestmark = pytest.mark.serial  # NumPy only

CONFIG = config_module.from_dict({"physics": {"electrostriction": False, "flexo_form": "eps_grad_P"}},
                                 source="test")
ELASTICITY = CONFIG.material.elastic_constants()
MATERIAL = CONFIG.electromechanical_material()
BOX = grid.FilmBox.quarter(100e-9, 100e-9)
FILM = 46.86e-9
MODES = 12


def test_without_flexo_it_is_the_exact_layer_solution():
    modes = gaussian_pressure_modes(BOX, MODES)
    exact = elasticity.solve_modes(ELASTICITY, BOX, modes)
    no_flexo = dataclasses.replace(MATERIAL, f11=0.0, f12=0.0, f44=0.0)
    film = FilmElectromechanics(BOX, FILM, ELASTICITY, no_flexo).solve(modes)
    depths = np.array([0.0, 2e-9, 10e-9, 40e-9, 80e-9])
    for x, y in ((0.0, 0.0), (12e-9, 5e-9)):
        values = film.profile_at(x, y, depths)
        reference = np.array([exact.displacement_at([x], [y], -d)[0] for d in depths])
        assert np.abs(values["displacement"] - reference).max() < 1e-7 * np.abs(reference).max()
        assert np.abs(values["polarization"]).max() == 0.0  # f = 0: nothing polarises the film
    surface = film.surface_displacement_at(np.array([3e-9, 20e-9]), np.array([1e-9, 7e-9]))
    reference = exact.displacement_at([3e-9, 20e-9], [1e-9, 7e-9])
    assert np.abs(surface - reference).max() < 1e-7 * np.abs(surface).max()


def test_coupled_profiles_are_resolved_in_z():
    modes = gaussian_pressure_modes(BOX, MODES)
    depths = np.array([0.0, 0.05e-9, 0.3e-9, 1e-9, 5e-9, 20e-9])
    default = FilmElectromechanics(BOX, FILM, ELASTICITY, MATERIAL).solve(modes).profile_at(0, 0, depths)
    finer = FilmElectromechanics(BOX, FILM, ELASTICITY, MATERIAL, top_cell=0.005e-9, degree=8).solve(
        modes).profile_at(0, 0, depths)
    print("\nP_z on the axis (C/m²):", np.array2string(default["polarization"][:, 2], precision=5),
          "\nE_z on the axis (V/m):", np.array2string(default["E_z"], precision=3))
    for name in ("polarization", "potential", "displacement"):
        scale = np.abs(finer[name]).max()
        assert np.abs(default[name] - finer[name]).max() < 1e-5 * scale, name  # five digits
    assert default["potential"][0] == 0.0  # short circuit on the top


def test_mode_matrices_are_hermitian():
    Q = energy_matrix(ELASTICITY, MATERIAL, Scales())
    assert np.abs(Q - Q.T).max() < 1e-12 * np.abs(Q).max()
    solver = FilmElectromechanics(BOX, FILM, ELASTICITY, MATERIAL, top_cell=0.1e-9, largest=10e-9, degree=3)
    symbols = np.array([1.0, 0.7j, 0.2j, 1.0])
    K = sum(symbols[a].conj() * symbols[b] * band_to_dense(band) for a, b, band in solver.bands)
    assert np.abs(K - K.conj().T).max() < 1e-12 * np.abs(K).max()


def test_band_assembly_is_the_dense_assembly():
    """The band storage holds exactly the dense element-by-element sum, and nothing falls outside it."""
    solver = FilmElectromechanics(BOX, FILM, ELASTICITY, MATERIAL, top_cell=0.1e-9, largest=10e-9, degree=3)
    mesh, n = solver.mesh, solver.n_dofs
    nodes = mesh.reference()[0]
    points, weights = np.polynomial.legendre.leggauss(mesh.degree + 2)
    values, slopes = _lagrange(nodes, points)
    film_Q = energy_matrix(ELASTICITY, MATERIAL, Scales()).reshape(TYPES, N_FIELDS, TYPES, N_FIELDS)
    substrate_Q = energy_matrix(ELASTICITY, None, Scales()).reshape(TYPES, N_FIELDS, TYPES, N_FIELDS)
    dense = np.zeros((TYPES, TYPES, n, n))
    for e, (a, b) in enumerate(zip(mesh.edges[:-1], mesh.edges[1:], strict=True)):
        J = (b - a) / 2
        basis = [values, values, values, slopes / J]
        Q = film_Q if mesh.film[e] else substrate_Q
        dofs = np.arange(e * mesh.degree * N_FIELDS, (e * mesh.degree + mesh.degree + 1) * N_FIELDS)
        for ta in range(TYPES):
            for tb in range(TYPES):
                block = np.einsum("q,qi,fg,qj->ifjg", weights * J, basis[ta], Q[ta, :, tb, :], basis[tb])
                dense[ta, tb][np.ix_(dofs, dofs)] += block.reshape(len(dofs), len(dofs))
    banded = {(a, b): band for a, b, band in solver.bands}
    for a in range(TYPES):
        for b in range(TYPES):
            expected = dense[a, b]
            got = band_to_dense(banded[a, b]) if (a, b) in banded else np.zeros((n, n))
            assert np.abs(got - expected).max() <= 1e-14 * max(np.abs(dense).max(), 1.0), (a, b)
