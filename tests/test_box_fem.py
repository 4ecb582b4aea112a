"""The finite-element side of the FEM ↔ spectral cross-check on the mirror-walled box.

Checks against solutions the solver did not produce:

* isotropic elasticity: with rollers on every face the displacement of an isotropic
  eigenstrain e(x)·I is a gradient, u = ∇ψ with ∂ψ/∂n = 0, so that pointwise
  tr ε = (3K/M)·(e − ē), 3K = c11 + 2c12, M = c11, ē the volume mean of e;
* a dilatation at the centre of the box gives a displacement odd about the three mid-planes;
* a space charge without strain coupling (isotropic gradient energy): φ and P are the cosine
  series φ̂ = ρ̂/(k²·(ε0·κ_b + χ_k)), P̂ = −∇φ̂·χ_k, χ_k = 1/(2α1 + G·k²);
* without flexoelectricity and charge, the (u, P, φ) solve is the elastic one with P = φ = 0;
* a uniform dilatation under rollers is a hydrostatic stress −(c11 + 2c12)·e, which through
  electrostriction raises α1 by (c11 + 2c12)·(Q11 + 2Q12)·e;
* Nernst–Planck: the total is conserved and the steady state is the nodal Boltzmann
  distribution.
"""

from __future__ import annotations

import dataclasses

from mpi4py import MPI

import numpy as np
import pytest
from helpers import STO, relative_difference
from scipy.special import erf

from flexotip.materials import CubicElasticity, ElectromechanicalMaterial, VacancyMaterial, barrett_alpha1
from flexotip.units import EPSILON_0
from flexotip.verification import box_fem, box_fem_vacancies

NM = 1e-9
LENGTHS = np.array([10.0, 8.0, 6.0]) * NM
CELLS = (10, 8, 6)
"""1 nm cubes, each cut into six tetrahedra."""
OFF_CENTRE = (4.0 * NM, 4.5 * NM, 2.5 * NM)
PARAELECTRIC = ElectromechanicalMaterial(alpha1=barrett_alpha1(300.0), G11=5e-11, G44=5e-11,
                                        flexoelectric=False, electrostriction=False, landau="linear")
"""Linear STO at 300 K with the isotropic gradient energy ½G·|∇P|² (G11 = G44, G12 = 0)."""


def _points(n: int, seed: int = 0) -> np.ndarray:
    """``n`` random points inside the box (away from its faces), m."""
    return np.random.default_rng(seed).uniform(0.05, 0.95, (n, 3)) * LENGTHS


def _bump_mean(bump: box_fem.GaussianBump) -> float:
    """Volume mean of a Gaussian over the box (a product of error functions)."""
    s = np.sqrt(2) * bump.width
    factors = [bump.width * np.sqrt(np.pi / 2) * (erf((L - c) / s) + erf(c / s)) / L
               for L, c in zip(LENGTHS, bump.centre, strict=True)]
    return bump.amplitude * float(np.prod(factors))


def test_dilatation_volumetric_strain_is_isotropic_identity(comm):
    """Pointwise tr ε = (c11 + 2c12)/c11·(e − ē) (isotropic); P2, the error falls ~h² (strain)."""
    elasticity = CubicElasticity.isotropic(200e9, 0.3)
    bump = box_fem.GaussianBump(0.01, OFF_CENTRE, 2.0 * NM)
    points = _points(40)
    expected = (elasticity.c11 + 2 * elasticity.c12) / elasticity.c11 * (bump(points) - _bump_mean(bump))
    errors = []
    for cells in ((5, 4, 3), CELLS):
        fields = box_fem.solve_box_electromechanics(comm, LENGTHS, cells, 2, elasticity, None, bump,
                                                    points=points)
        errors.append(relative_difference(fields.strain[:, :3].sum(axis=1), expected))
        # Rollers on all faces: ∫tr ε = ∮u·n = 0.
        assert abs(fields.stats["mean_volumetric_strain"]) < 1e-12 * bump.amplitude
        assert fields.stats["newton_iterations"] == 1
    print(f"\ntr ε vs (3K/M)(e − ē): max relative error {errors} (P2, h = 2, 1 nm)")
    assert errors[1] < 0.02
    assert errors[1] < errors[0] / 3


def test_centred_dilatation_displacement_is_odd(comm):
    """Cubic STO, bump at the centre: u_i(mirror_i(x)) = −u_i(x), the other components even."""
    bump = box_fem.GaussianBump(0.01, tuple(0.5 * LENGTHS), 1.5 * NM)
    points = _points(30, seed=1)
    mirrored = []
    for i in range(3):
        image = points.copy()
        image[:, i] = LENGTHS[i] - points[:, i]
        mirrored.append(image)
    fields = box_fem.solve_box_electromechanics(comm, LENGTHS, CELLS, 2, STO, None, bump,
                                                points=np.concatenate([points, *mirrored]))
    u = fields.displacement.reshape(4, len(points), 3)
    asymmetry = []
    for i in range(3):
        parity = np.ones(3)
        parity[i] = -1.0
        asymmetry.append(relative_difference(u[i + 1], parity * u[0]))
    print(f"\nmirror asymmetry of u (the mesh is not mirror-symmetric): {asymmetry}; "
          f"max |u| = {np.abs(u).max():.3e} m")
    assert np.abs(u).max() > 1e-12
    assert max(asymmetry) < 0.02


def _cosine_coefficients(bump: box_fem.GaussianBump, axis: int, modes: int) -> tuple[np.ndarray, np.ndarray]:
    """Cosine-series amplitudes of the bump's 1D factor along ``axis``, and the wavenumbers, 1/m."""
    length = LENGTHS[axis]
    nodes, weights = np.polynomial.legendre.leggauss(400)
    x, weights = 0.5 * length * (nodes + 1), 0.5 * length * weights
    k = np.arange(modes) * np.pi / length
    profile = np.exp(-((x - bump.centre[axis]) ** 2) / (2 * bump.width**2))
    amplitudes = 2 / length * np.cos(np.outer(k, x)) @ (weights * profile)
    amplitudes[0] /= 2
    return amplitudes, k


def _charge_series(charge: box_fem.GaussianBump, material: ElectromechanicalMaterial, points: np.ndarray,
                   modes: int = 48) -> tuple[np.ndarray, np.ndarray]:
    """φ (V) and P (C/m²) of a space charge in the mirror box, from the cosine series."""
    (ax, kx), (ay, ky), (az, kz) = (_cosine_coefficients(charge, i, modes) for i in range(3))
    rho = charge.amplitude * np.einsum("i,j,k->ijk", ax, ay, az)
    k2 = kx[:, None, None] ** 2 + ky[None, :, None] ** 2 + kz[None, None, :] ** 2
    k2[0, 0, 0] = 1.0
    chi = 1 / (2 * material.alpha1 + material.G11 * k2)
    phi_hat = rho / (k2 * (EPSILON_0 * material.eps_background + chi))
    phi_hat[0, 0, 0] = 0.0  # the neutralised mean
    c = [np.cos(np.outer(points[:, i], k)) for i, k in enumerate((kx, ky, kz))]
    s = [np.sin(np.outer(points[:, i], k)) for i, k in enumerate((kx, ky, kz))]
    phi = np.einsum("ijk,pi,pj,pk->p", phi_hat, *c)
    P_hat = phi_hat * chi  # P = −χ_k·∇φ, and −∂cos(kx)/∂x = k·sin(kx)
    P = np.c_[np.einsum("ijk,pi,pj,pk->p", P_hat * kx[:, None, None], s[0], c[1], c[2]),
              np.einsum("ijk,pi,pj,pk->p", P_hat * ky[None, :, None], c[0], s[1], c[2]),
              np.einsum("ijk,pi,pj,pk->p", P_hat * kz[None, None, :], c[0], c[1], s[2])]
    return phi, P


def test_space_charge_matches_cosine_series(comm):
    """No strain coupling: φ and P of a neutralised Gaussian charge vs the series (P2, two meshes)."""
    charge = box_fem.GaussianBump(1e7, OFF_CENTRE, 1.2 * NM)
    points = _points(40)
    phi_exact, P_exact = _charge_series(charge, PARAELECTRIC, points)
    errors = []
    for cells in ((5, 4, 3), CELLS):
        fields = box_fem.solve_box_electromechanics(comm, LENGTHS, cells, 2, STO, PARAELECTRIC, None,
                                                    charge, points)
        errors.append((relative_difference(fields.potential, phi_exact),
                       relative_difference(fields.polarization, P_exact)))
        assert np.all(fields.displacement == 0.0)
    print(f"\ncharge bump vs cosine series, max relative errors (φ, P): {errors} (P2, h = 2, 1 nm); "
          f"max |φ| = {np.abs(phi_exact).max():.3e} V")
    assert max(errors[1]) < 0.01
    assert errors[1][0] < errors[0][0] / 8 and errors[1][1] < errors[0][1] / 4


def test_uncoupled_electromechanics_is_elasticity(comm):
    """No flexoelectricity, no charge (electrostriction on): P = φ = 0 and u is the elastic u."""
    material = dataclasses.replace(PARAELECTRIC, electrostriction=True)
    bump = box_fem.GaussianBump(0.01, OFF_CENTRE, 1.5 * NM)
    points = _points(30)
    coupled = box_fem.solve_box_electromechanics(comm, LENGTHS, CELLS, 1, STO, material, bump, None, points)
    elastic = box_fem.solve_box_electromechanics(comm, LENGTHS, CELLS, 1, STO, None, bump, None, points)
    difference = relative_difference(coupled.displacement, elastic.displacement)
    print(f"\nuncoupled: max |P| = {np.abs(coupled.polarization).max():.1e}, "
          f"max |φ| = {np.abs(coupled.potential).max():.1e}, u differs by {difference:.1e}")
    assert np.abs(coupled.polarization).max() < 1e-14
    assert np.abs(coupled.potential).max() < 1e-14
    assert difference < 1e-10
    assert np.allclose(coupled.strain, elastic.strain, rtol=0, atol=1e-10 * np.abs(elastic.strain).max())


def test_uniform_dilatation_acts_through_electrostriction(comm):
    """A uniform e under rollers (u = 0, σ = −(c11 + 2c12)·e·I) shifts α1 by (c11 + 2c12)(Q11 + 2Q12)·e.

    The eigenstrains add, ½(ε − ε⁰ − ε*):C:(ε − ε⁰ − ε*): the charge's φ and P with
    electrostriction equal those of the shifted α1 without it, up to the O(Q·P²) nonlinearity.
    """
    e = 0.01
    wide = box_fem.GaussianBump(e, tuple(0.5 * LENGTHS), 1e4 * NM)  # uniform to 1e-6
    charge = box_fem.GaussianBump(1e7, OFF_CENTRE, 1.2 * NM)
    points = _points(30)
    strained = box_fem.solve_box_electromechanics(
        comm, LENGTHS, CELLS, 1, STO, dataclasses.replace(PARAELECTRIC, electrostriction=True), wide, charge,
        points)
    shift = (STO.c11 + 2 * STO.c12) * (PARAELECTRIC.Q11 + 2 * PARAELECTRIC.Q12) * e
    shifted = box_fem.solve_box_electromechanics(
        comm, LENGTHS, CELLS, 1, STO, dataclasses.replace(PARAELECTRIC, alpha1=PARAELECTRIC.alpha1 + shift),
        None, charge, points)
    errors = (relative_difference(strained.potential, shifted.potential),
              relative_difference(strained.polarization, shifted.polarization))
    print(f"\nα1 shift {shift / PARAELECTRIC.alpha1:.3f}·α1; (φ, P) differ by {errors}; "
          f"Newton {strained.stats['newton_iterations']} iterations, max |u| = "
          f"{np.abs(strained.displacement).max():.1e} m")
    assert max(errors) < 1e-4
    assert strained.stats["newton_iterations"] >= 2  # electrostriction: nonlinear


def test_flexoelectric_response_with_electrostriction(comm):
    """Flexo + electrostriction (nonlinear): Newton converges, and f → −f gives (u, −P, −φ).

    The energy is invariant under (f, P, φ) → (−f, −P, −φ) when there is no free charge.
    """
    material = dataclasses.replace(PARAELECTRIC, f11=0.0489, f12=-1.296, f44=-0.597, flexoelectric=True,
                                   electrostriction=True)
    reverse = dataclasses.replace(material, f11=-material.f11, f12=-material.f12, f44=-material.f44)
    bump = box_fem.GaussianBump(0.01, OFF_CENTRE, 1.5 * NM)
    points = _points(30)
    forward = box_fem.solve_box_electromechanics(comm, LENGTHS, CELLS, 1, STO, material, bump, None, points)
    backward = box_fem.solve_box_electromechanics(comm, LENGTHS, CELLS, 1, STO, reverse, bump, None, points)
    P = np.abs(forward.polarization).max()
    print(f"\nflexo: max |P| = {P:.3e} C/m², max |φ| = {np.abs(forward.potential).max():.3e} V, "
          f"Newton {forward.stats['newton_iterations']} iterations, {forward.stats['time_s']:.2f} s")
    assert forward.stats["newton_iterations"] >= 2
    assert P > 1e-4
    assert relative_difference(backward.polarization, -forward.polarization) < 1e-10
    assert relative_difference(backward.potential, -forward.potential) < 1e-10
    assert relative_difference(backward.displacement, forward.displacement) < 1e-10


VACANCIES = VacancyMaterial(c0=3.66e20, diffusivity=1.23e-19, charge=2, temperature=300.0)


def test_nernst_planck_conserves_and_relaxes_to_boltzmann(comm):
    """P1: ∫c conserved; c(t) → steady state monotonically; steady = nodal Boltzmann, same total.

    Diffusion time L²/D ≈ 800 s; a 0.05 V bump (3.9 V_T) repels the vacancies.
    """
    potential = box_fem.GaussianBump(0.05, OFF_CENTRE, 2.0 * NM)
    grid = np.stack(np.meshgrid(*(np.arange(n + 1) * NM for n in CELLS), indexing="ij"), axis=-1)
    vertices = grid.reshape(-1, 3)
    points = np.concatenate([vertices[np.random.default_rng(2).choice(len(vertices), 60, replace=False)],
                             [[4.0 * NM, 4.0 * NM, 2.0 * NM]]])  # the last: the vertex nearest the bump
    result = box_fem_vacancies.solve_box_nernst_planck(comm, LENGTHS, CELLS, 1, VACANCIES, potential,
                                                       times=[100.0, 400.0, 1600.0], dt=50.0, points=points)
    drift = np.abs(np.r_[result.totals, result.total_steady] / result.total_initial - 1)
    boltzmann = np.log(result.steady) + potential(points) / VACANCIES.thermal_voltage
    distances = [np.abs(c - result.steady).max() for c in (np.ones(len(points)), *result.density)]
    print(f"\nNernst–Planck: total drift {drift}, Boltzmann spread {np.ptp(boltzmann):.1e}, "
          f"max |c − c_steady| {distances}, stats {result.stats}")
    assert drift.max() < 1e-12
    assert np.ptp(boltzmann) < 1e-8
    assert np.all(np.diff(distances) < 0)
    assert result.density[0, -1] < 1.0 and result.steady[-1] < result.density[0, -1]


def test_nernst_planck_times_must_be_multiples_of_the_step():
    with pytest.raises(ValueError, match="multiples"):
        box_fem_vacancies.solve_box_nernst_planck(MPI.COMM_WORLD, LENGTHS, CELLS, 1, VACANCIES,
                                                  box_fem.GaussianBump(0.05, OFF_CENTRE, 2.0 * NM),
                                                  times=[100.0, 130.0], dt=50.0, points=np.zeros((1, 3)))
