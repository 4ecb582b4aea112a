"""Manufactured-solution convergence of the coupled (u, P, φ) electromechanics.

Every term of :func:`flexotip.fem.electromechanics.free_energy` is on: full Landau (so the
problem is nonlinear and Newton takes several steps), cubic gradient energy, electrostriction,
cubic flexocoupling with f11, f12, f44 all different, and the electric terms with κ_b = 10.
Smooth trigonometric fields (u, P, φ) are the exact solution of the residuals minus the same
residuals evaluated on them in UFL, F_i(w_h; v) − F_i(w_exact; v) = 0, with all three fields
held at their interpolants on the whole boundary. Expected rates for Lagrange degree k: k in
the H1 seminorm, k + 1 in L2, for each field.

Choices, each needed to see those rates on meshes that fit in a minute (P1 up to 16³·6
cells, P2 up to 8³·6):

* **Box 1 nm wide.** The longitudinal polarisation has the intrinsic length
  λ = sqrt(G11·ε0·κ_b) ≈ 0.09 nm (gradient energy against the depolarising field). With
  h ≫ λ the P–φ block is reaction dominated and the flexo field f:∇ε(u_h) of the coarse
  displacement is felt by P undamped: the errors of P and φ are pre-asymptotic (4 nm box,
  u ~ 0.05 nm, P1: H1 rate of P 0.7 on the jiggled mesh, 1.4 on the uniform one). Here
  the finest meshes have h ≈ λ.
* **Jiggled meshes.** Interior vertices of the structured box are moved by up to 0.1·h per
  component (a fixed random draw per level, identical on all ranks). On the uniform mesh
  the errors driven through the couplings are superclose, one order higher than the
  approximation error, and the observed rates overshoot (P2: 3.2–3.5 in L2 for P); on an
  unstructured mesh, like the gmsh meshes of the driver, they are of the same order.
* **Gradient coefficients (1e-10, 2e-11, 6e-11) J·m³/C².** With f = (1.5, −2.6, −1.2) V,
  half these values make the (u, P) energy lose strong ellipticity along ⟨110⟩ (the
  flexocoupling beats C·G; :func:`test_chosen_constants_are_strongly_elliptic`), and the P2
  rates of P drop (H1 1.5 here; on a 4 nm box its H1 error grows from n = 4 to 8).
* **Amplitudes** u 5 pm (strain ~1 %, strain gradient ~5e7 1/m, as under an SPM tip),
  P 0.05 C/m², φ 0.1 V. A larger displacement drives a larger P error through f:∇ε that
  only G can tame (at u = 12.5 pm the P1 L2 rate of P is 1.8 on these meshes).
"""

from __future__ import annotations

import dataclasses
import math
import time

from mpi4py import MPI

import dolfinx.fem
import dolfinx.mesh
import numpy as np
import pytest
import ufl
from helpers import STO, error_H1, error_L2, fitted_rate, observed_rates, whole_box_domains
from ufl.algorithms import expand_derivatives

from flexotip.fem import electromechanics, mechanics, solver_options, solvers
from flexotip.materials import ElectromechanicalMaterial, barrett_alpha1, short_wavelength_stability
from flexotip.units import Scales

FLEXO = (1.5, -2.6, -1.2)  # f11, f12, f44, V
GRADIENT = (1e-10, 2e-11, 6e-11)  # G11, G12, G44, J·m³/C²
SIDE = 1.0  # box side, length scale (nm)
WAVENUMBER = 0.8 * math.pi / SIDE
JIGGLE = 0.1  # largest vertex shift per component, in cell sizes
LEVELS = {1: (4, 8, 16), 2: (2, 4, 8)}  # cells per side
TOLERANCE = 0.1
FIELDS = ("u", "P", "phi")
PREFIX = "flexotip_mms_"


def material() -> ElectromechanicalMaterial:
    return ElectromechanicalMaterial(
        alpha1=barrett_alpha1(300.0), f11=FLEXO[0], f12=FLEXO[1], f44=FLEXO[2],
        G11=GRADIENT[0], G12=GRADIENT[1], G44=GRADIENT[2], eps_background=10.0, landau="full",
        flexoelectric=True, electrostriction=True)


def exact_fields(x) -> tuple[ufl.core.expr.Expr, ufl.core.expr.Expr, ufl.core.expr.Expr]:
    """Exact (u, P, φ) in scaled units: nm, C/m², V; no component vanishes on the boundary."""
    s, c = ufl.sin, ufl.cos
    X, Y, Z = (WAVENUMBER * x[i] for i in range(3))
    u = ufl.as_vector([5e-3 * s(X + 0.3) * c(0.7 * Y) * c(0.5 * Z + 0.2),
                       4e-3 * c(0.6 * X) * s(Y + 0.2) * c(0.8 * Z),
                       5e-3 * c(0.9 * X + 0.1) * c(0.4 * Y) * s(Z + 0.4)])
    P = ufl.as_vector([0.05 * c(X) * s(0.8 * Y + 0.3) * c(0.6 * Z),
                       0.04 * s(0.7 * X + 0.2) * c(Y + 0.1) * s(0.9 * Z + 0.4),
                       0.05 * c(0.5 * X + 0.3) * s(0.6 * Y + 0.5) * c(Z + 0.2)])
    phi = 0.1 * s(0.9 * X + 0.1) * c(0.7 * Y + 0.2) * s(0.8 * Z + 0.6)
    return u, P, phi


def jiggled_box(comm, n: int) -> dolfinx.mesh.Mesh:
    """[0, SIDE]³ in n³·6 tetrahedra, interior vertices shifted by a seeded random draw.

    The shift of a vertex is looked up by its lattice index, so every rank moves its owned
    and ghost copies alike whatever the partition.
    """
    msh = dolfinx.mesh.create_box(comm, [[0.0, 0.0, 0.0], [SIDE, SIDE, SIDE]], [n, n, n],
                                  dolfinx.mesh.CellType.tetrahedron)
    h = SIDE / n
    x = msh.geometry.x
    index = np.rint(x / h).astype(np.int64)
    interior = np.all((index > 0) & (index < n), axis=1)
    shifts = np.random.default_rng(seed=n).uniform(-JIGGLE * h, JIGGLE * h, size=((n + 1) ** 3, 3))
    lattice = index[:, 0] + (n + 1) * (index[:, 1] + (n + 1) * index[:, 2])
    x[interior] += shifts[lattice[interior]]
    return msh


def solve_level(n: int, degree: int) -> dict:
    """Solve the manufactured problem on one mesh; return h, errors and solver figures."""
    comm = MPI.COMM_WORLD
    start = time.perf_counter()
    msh = jiggled_box(comm, n)
    scales = Scales()
    constants = electromechanics.ScaledConstants(msh, material(), scales)
    stiffness = mechanics.stiffness_constant(msh, STO.voigt(), scales.stress)
    domains = whole_box_domains(msh, {"quadrature_degree": 2 * degree + 2})

    spaces = [dolfinx.fem.functionspace(msh, ("Lagrange", degree, (3,))),
              dolfinx.fem.functionspace(msh, ("Lagrange", degree, (3,))),
              dolfinx.fem.functionspace(msh, ("Lagrange", degree))]
    unknowns = [dolfinx.fem.Function(V, name=name) for V, name in zip(spaces, FIELDS, strict=True)]
    exact = exact_fields(ufl.SpatialCoordinate(msh))
    energy = electromechanics.free_energy(*unknowns, stiffness, constants, domains)
    substitution = dict(zip(unknowns, exact, strict=True))
    residuals = []
    for w in unknowns:
        F = expand_derivatives(ufl.derivative(energy, w, ufl.TestFunction(w.function_space)))
        residuals.append(F - ufl.replace(F, substitution))

    msh.topology.create_connectivity(2, 3)
    boundary = dolfinx.mesh.exterior_facet_indices(msh.topology)
    bcs = []
    for V, value in zip(spaces, exact, strict=True):
        g = dolfinx.fem.Function(V)
        g.interpolate(dolfinx.fem.Expression(value, V.element.interpolation_points))
        bcs.append(dolfinx.fem.dirichletbc(g, dolfinx.fem.locate_dofs_topological(V, 2, boundary)))

    # Newton starts from zero everywhere, boundary included.
    solver = solvers.NonlinearSolver(residuals, unknowns, bcs, prefix=PREFIX,
                                     options=solver_options.petsc_options(solver_options.ELECTROMECHANICS))
    report = solver.solve()

    dx_error = ufl.Measure("dx", domain=msh, metadata={"quadrature_degree": 2 * degree + 4})
    errors = {}
    for name, w, value in zip(FIELDS, unknowns, exact, strict=True):
        errors[name] = (error_L2(w - value, dx_error), error_H1(w - value, dx_error))
    elapsed = comm.allreduce(time.perf_counter() - start, op=MPI.MAX)
    return {"n": n, "h": SIDE / n, "dofs": solver.n_dofs, "newton": report.iterations,
            "errors": errors, "time": elapsed}


@pytest.mark.convergence
@pytest.mark.parametrize("degree", [1, 2])
def test_manufactured_solution_converges(degree):
    """L2 and H1-seminorm errors of u, P, φ fall at rates k + 1 and k (least squares)."""
    levels = [solve_level(n, degree) for n in LEVELS[degree]]

    print(f"\nP{degree} manufactured (u, P, φ), box {SIDE:g} nm, jiggled ±{JIGGLE:g}h, "
          f"f = {FLEXO} V, G = {GRADIENT} J·m³/C², full Landau, electrostriction")
    header = "".join(f" {f'{name} L2':>10} {f'{name} H1':>10}" for name in FIELDS)
    print(f"{'n':>3} {'h [nm]':>7} {'dofs':>7} {'Newton':>6} {'time [s]':>8}{header}")
    for level in levels:
        values = "".join(f" {level['errors'][name][0]:10.3e} {level['errors'][name][1]:10.3e}"
                         for name in FIELDS)
        print(f"{level['n']:3d} {level['h']:7.4f} {level['dofs']:7d} {level['newton']:6d} "
              f"{level['time']:8.1f}{values}")

    h = np.array([level["h"] for level in levels])
    failures = []
    print(f"{'rates':>17} {'pairwise':>22} {'least squares':>14} {'expected':>9}")
    for name in FIELDS:
        for norm, column, expected in (("L2", 0, degree + 1), ("H1", 1, degree)):
            error = np.array([level["errors"][name][column] for level in levels])
            pairwise, fitted = observed_rates(h, error), fitted_rate(h, error)
            print(f"{name:>10} {norm:>6} {np.array2string(pairwise, precision=3):>22} "
                  f"{fitted:14.3f} {expected:9d}")
            if abs(fitted - expected) > TOLERANCE:
                failures.append(f"{name} {norm}: {fitted:.3f} (expected {expected})")

    assert all(level["newton"] >= 2 for level in levels), "Newton should need several steps"
    assert not failures, "rates off by more than 0.1: " + "; ".join(failures)


def test_chosen_constants_are_strongly_elliptic():
    """The test's (f, G) keep the (u, P) energy bounded below at short wavelengths; half the G would not."""
    chosen = short_wavelength_stability(material(), STO.voigt())
    halved = short_wavelength_stability(dataclasses.replace(
        material(), G11=GRADIENT[0] / 2, G12=GRADIENT[1] / 2, G44=GRADIENT[2] / 2), STO.voigt())
    print(f"\nshort-wavelength margin: G = {GRADIENT}: {chosen:.3e} J·m³/C²; G/2: {halved:.3e}")
    assert chosen > 0.1 * GRADIENT[0]
    assert halved < 0
