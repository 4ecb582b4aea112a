"""Oxygen-vacancy transport (log-density Nernst–Planck) against analytic and manufactured solutions.

* 1D Boltzmann: a slab with a fixed potential drop and blocking ends relaxes to
  c ∝ exp(−φ/V_T) with the total conserved (docs/validation.md, "Closed-form solutions").
* A Gaussian spreads as σ² = σ0² + 2·D·t with its peak falling as (σ0/σ)³ (no field).
* Manufactured solutions with strong drift: the spatial rates of P1 and P2 (a density linear in
  time, which backward Euler integrates exactly) and the first-order rate in time.
"""

from __future__ import annotations

from mpi4py import MPI

import dolfinx
import numpy as np
import pytest
import ufl
from helpers import error_L2, observed_rates
from scipy import integrate

from flexotip.fem import vacancies
from flexotip.fem.postprocess import assemble_scalar
from flexotip.materials import VacancyMaterial
from flexotip.units import Scales

SCALES = Scales()
STO = VacancyMaterial(c0=3.66e20, diffusivity=1.23e-19, charge=2, temperature=300.0)
RATE = STO.diffusivity / SCALES.length**2
"""D/ℓ², 1/s: one over the diffusion time across 1 nm."""


def _measure(msh, degree):
    return ufl.Measure("dx", msh, metadata={"quadrature_degree": vacancies.quadrature_degree(degree)})


def _relax(transport: vacancies.NernstPlanck, first: float, steps: int, growth: float = 1.5):
    dt = first
    for _ in range(steps):
        transport.step(dt)
        dt *= growth


def _boltzmann_slab_error(n: int, potential, length: float, exact_log) -> tuple[float, float]:
    """Largest nodal error of ln(c/c0) after relaxing a slab, and the total's relative change."""
    msh = dolfinx.mesh.create_interval(MPI.COMM_WORLD, n, [0.0, length])
    V = dolfinx.fem.functionspace(msh, ("Lagrange", 1))
    phi = dolfinx.fem.Function(V)
    phi.interpolate(potential)
    w = dolfinx.fem.Function(V)
    transport = vacancies.NernstPlanck(w, phi, _measure(msh, 1), STO, SCALES, [])
    initial = transport.total()
    _relax(transport, first=1.0, steps=60)  # to t ≈ 1e11 s ≫ L²/D ≈ 3e3 s
    x = V.tabulate_dof_coordinates()[:, 0]
    owned = V.dofmap.index_map.size_local
    error = np.abs(w.x.array[:owned] - exact_log(x[:owned]))
    return msh.comm.allreduce(float(error.max(initial=0.0)), op=MPI.MAX), transport.total() / initial - 1


def test_boltzmann_slab_linear_potential():
    """Δφ = 0.1 V (z·e·Δφ/k_BT = 7.7) across 20 nm, 10 cells: ln c exact to < 1e-3, converging.

    With the log density the discrete steady state is w = λ − φ_h/V_T at the nodes; for a
    linear φ only λ (the quadrature of ∫e^w) carries an error, which falls fast with h.
    """
    length, drop = 20.0, 0.1
    lam = drop / STO.thermal_voltage

    def exact(x):
        return np.log(lam * np.exp(-lam * x / length) / (1 - np.exp(-lam)))

    errors = []
    for n in (10, 20, 40):
        error, mass = _boltzmann_slab_error(n, lambda x: drop * x[0] / length, length, exact)
        errors.append(error)
        assert abs(mass) < 1e-12
    print(f"\nBoltzmann slab, linear φ: max |Δ ln c| = {errors} (10, 20, 40 cells)")
    assert errors[0] < 1e-3
    assert errors[2] < errors[1] < errors[0]


def test_boltzmann_slab_curved_potential_converges_at_second_order():
    """φ = Δφ·sin²(πx/2L): second order in h.

    The nodal values are exact up to λ, whose integral ∫e^w of the piecewise-linear w
    carries the interpolation error.
    """
    length, drop = 20.0, 0.1

    def potential(x):
        return drop * np.sin(0.5 * np.pi * x / length) ** 2 / STO.thermal_voltage

    norm = integrate.quad(lambda x: np.exp(-potential(x)), 0.0, length, epsabs=0, epsrel=1e-13)[0]

    def exact(x):
        return np.log(length / norm) - potential(x)

    errors = []
    for n in (10, 20, 40):
        error, _ = _boltzmann_slab_error(n, lambda x: drop * np.sin(0.5 * np.pi * x[0] / length) ** 2,
                                         length, exact)
        errors.append(error)
    rates = observed_rates([1 / n for n in (10, 20, 40)], errors)
    print(f"\nBoltzmann slab, curved φ: max |Δ ln c| = {errors}, rates {rates}")
    assert np.all(np.abs(rates - 2.0) < 0.1)


def test_fixed_surface_density_steady_state():
    """Density held at c0 at x = 0 (ambient exchange), blocking at x = L: c = c0·exp(−φ/V_T).

    The steady equations alone (no time term) with the Dirichlet end; the total is then set
    by the ambient, not conserved.
    """
    length, drop, n = 20.0, 0.1, 10
    msh = dolfinx.mesh.create_interval(MPI.COMM_WORLD, n, [0.0, length])
    V = dolfinx.fem.functionspace(msh, ("Lagrange", 1))
    phi = dolfinx.fem.Function(V)
    phi.interpolate(lambda x: drop * np.sin(0.5 * np.pi * x[0] / length))
    w = dolfinx.fem.Function(V)
    surface = dolfinx.fem.locate_dofs_geometrical(V, lambda x: np.isclose(x[0], 0.0))
    bcs = [dolfinx.fem.dirichletbc(dolfinx.default_scalar_type(0.0), surface, V)]
    transport = vacancies.NernstPlanck(w, phi, _measure(msh, 1), STO, SCALES, bcs)
    transport.solve_steady()
    expected = -phi.x.array / (STO.thermal_voltage / SCALES.potential)
    error = msh.comm.allreduce(float(np.abs(w.x.array - expected).max()), op=MPI.MAX)
    print(f"\nfixed surface density: max |Δ ln c| = {error:.2e}")
    assert error < 1e-10


def _spread_gaussian(steps: int, sigma0: float, t_end: float, background: float):
    """(σ² growth, peak, total change) of an octant Gaussian after ``steps`` equal steps."""
    side, cells, degree = 8.0 * sigma0, 10, 2
    msh = dolfinx.mesh.create_box(MPI.COMM_WORLD, [[0.0, 0.0, 0.0], [side] * 3], [cells] * 3)
    V = dolfinx.fem.functionspace(msh, ("Lagrange", degree))
    w = dolfinx.fem.Function(V)
    w.interpolate(lambda x: np.log(background + np.exp(-(x[0] ** 2 + x[1] ** 2 + x[2] ** 2)
                                                        / (2 * sigma0**2))))
    dx = _measure(msh, degree)
    transport = vacancies.NernstPlanck(w, dolfinx.fem.Constant(msh, 0.0), dx, STO, SCALES, [])
    x = ufl.SpatialCoordinate(msh)
    gaussian = ufl.exp(w) - background
    moment, mass = dolfinx.fem.form(x[0] ** 2 * gaussian * dx), dolfinx.fem.form(gaussian * dx)
    initial_total = transport.total()
    initial_variance = assemble_scalar(moment) / assemble_scalar(mass)
    for _ in range(steps):
        transport.step(t_end / steps)
    growth = assemble_scalar(moment) / assemble_scalar(mass) - initial_variance
    peak = np.exp(msh.comm.allreduce(float(w.x.array.max()), op=MPI.MAX)) - background
    return growth, peak, transport.total() / initial_total - 1


@pytest.mark.serial  # 40 s; the parallel assembly is exercised by the slab and manufactured tests
def test_gaussian_spreads_as_diffusion():
    """No field: σ² = σ0² + 2·D·t per axis within 1 %; the peak falls as (σ0/σ)³.

    One octant of a Gaussian centred on a corner of a box of 10³ P2 cells: the blocking walls
    through the centre are its mirror planes, the far walls sit 8 σ0 away. The Gaussian sits
    on a uniform background of 1e-6 of its peak, which diffusion leaves unchanged
    (superposition); without it the tail would span e^-96, where the Newton steps of ln c
    crawl. The spreading is exact to the mesh error for any Δt; the peak carries backward
    Euler's first-order error (1.4 % with 40 steps): it must halve when Δt halves, and the
    Richardson extrapolation 2·p(Δt/2) − p(Δt) must match (σ0/σ)³ within 1 %.
    """
    sigma0, background = 1.0, 1e-6
    t_end = 1.25 / (2 * RATE)  # σ² grows by 1.25 nm²: σ = 1.5 σ0
    expected_growth = 2 * RATE * t_end
    expected_peak = (sigma0**2 / (sigma0**2 + expected_growth)) ** 1.5
    coarse = _spread_gaussian(20, sigma0, t_end, background)
    fine = _spread_gaussian(40, sigma0, t_end, background)
    extrapolated = 2 * fine[1] - coarse[1]
    print(f"\nGaussian: σ² grew by {fine[0]:.5f} nm² (analytic {expected_growth:.5f}); peak "
          f"{coarse[1]:.5f} (20 steps), {fine[1]:.5f} (40 steps), extrapolated {extrapolated:.5f} "
          f"vs {expected_peak:.5f}; total change {fine[2]:.1e}")
    assert fine[0] == pytest.approx(expected_growth, rel=0.01)
    assert coarse[0] == pytest.approx(expected_growth, rel=0.01)
    assert abs(fine[1] - expected_peak) < 0.6 * abs(coarse[1] - expected_peak)
    assert extrapolated == pytest.approx(expected_peak, rel=0.01)
    assert abs(fine[2]) < 1e-10


def _manufactured_error(cells: int, degree: int, steps: int, t_end: float, linear_in_time: bool):
    """L2 error of c/c0 at t_end for a manufactured density with strong drift (2D, 10 nm square).

    φ = 0.1 V·cos(πx/L)·cos(πy/L) (z·e·Δφ/k_BT up to 15) and
    c/c0 = (1 + ½·cos(πx/L)·cos(2πy/L))·g(t), g = 1 + t/T or exp(−t/T): both have zero normal
    flux on the walls, and the source makes them exact.
    """
    length, period = 10.0, 20.0
    msh = dolfinx.mesh.create_rectangle(MPI.COMM_WORLD, [[0.0, 0.0], [length, length]], [cells, cells],
                                        dolfinx.mesh.CellType.triangle)
    x = ufl.SpatialCoordinate(msh)
    t = dolfinx.fem.Constant(msh, 0.0)
    k = np.pi / length
    phi = (0.1 / SCALES.potential) * ufl.cos(k * x[0]) * ufl.cos(k * x[1])
    shape = 1 + 0.5 * ufl.cos(k * x[0]) * ufl.cos(2 * k * x[1])
    g = 1 + t / period if linear_in_time else ufl.exp(-t / period)
    dg = 1 / period if linear_in_time else -ufl.exp(-t / period) / period
    c_exact = shape * g
    vt = STO.thermal_voltage / SCALES.potential
    source = shape * dg / RATE - ufl.div(c_exact * ufl.grad(ufl.ln(c_exact) + phi / vt))
    V = dolfinx.fem.functionspace(msh, ("Lagrange", degree))
    w = dolfinx.fem.Function(V)
    w.interpolate(dolfinx.fem.Expression(ufl.ln(c_exact), V.element.interpolation_points))
    dx = _measure(msh, degree)
    transport = vacancies.NernstPlanck(w, phi, dx, STO, SCALES, [], source=source)
    for n in range(1, steps + 1):
        t.value = n * t_end / steps  # the source at the end of the step (backward Euler)
        transport.step(t_end / steps)
    dx_exact = ufl.Measure("dx", msh, metadata={"quadrature_degree": 8})
    return error_L2(ufl.exp(w) - c_exact, dx_exact)


@pytest.mark.convergence
@pytest.mark.parametrize("degree", [1, 2])
def test_manufactured_drift_diffusion_space(degree):
    """L2 rate k + 1 for Pk (a density linear in time: no time error)."""
    cells = (8, 16, 32)
    errors = [_manufactured_error(n, degree, steps=4, t_end=10.0, linear_in_time=True) for n in cells]
    rates = observed_rates([1 / n for n in cells], errors)
    print(f"\nP{degree} manufactured drift–diffusion, L2 errors of c/c0 {errors}, rates {rates}")
    assert abs(rates[-1] - (degree + 1)) < 0.1


@pytest.mark.convergence
def test_manufactured_drift_diffusion_time():
    """Backward Euler: first order in Δt (P2 on a mesh fine enough that space does not show)."""
    steps = (4, 8, 16)
    errors = [_manufactured_error(32, 2, steps=n, t_end=10.0, linear_in_time=False) for n in steps]
    rates = observed_rates([10.0 / n for n in steps], errors)
    print(f"\nbackward Euler, L2 errors of c/c0 {errors}, rates {rates}")
    assert abs(rates[-1] - 1.0) < 0.1
