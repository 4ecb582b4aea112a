"""ElectromechanicalMaterial (u, P, φ): analytic slabs, adjoint couplings, a biased disc, the tip pattern.

Checks against solutions the solver did not produce (docs/validation.md, "Closed-form solutions"):

* a slab with a prescribed uniform strain gradient, linear paraelectric, no gradient
  energy: short circuit P_z = −ε0·χ·f11·g with E = 0, open circuit
  P_z = −ε0·χ·f11·g/(1 + χ/κ_b) with E_z = −P_z/(ε0·κ_b) (the minus: E^fl = −f:∇ε in the
  convention of fem/electromechanics.py, i.e. μ_3333 = −ε0·χ·f11); under a grounded air gap
  of thickness t the series capacitor gives E_z = −χ·E^fl/(κ_b + χ + h/t);
* the Hessian's coupling blocks are transposes of each other;
* a disc at potential V on a grounded surface of a thick dielectric: φ on the axis is
  V·(1 − |z|/√(z² + a²));
* the paper's sign pattern of the depolarisation field under a sphere, and the weaker
  downward field under a flat punch.
"""

from __future__ import annotations

import math

from mpi4py import MPI

import dolfinx.fem
import dolfinx.fem.petsc
import dolfinx.mesh
import numpy as np
import pytest
import ufl
from helpers import STO, read_csv, run_case, shared_dir, whole_box_domains

from flexotip.fem import electromechanics, mechanics, solver_options, solvers
from flexotip.fem.bcs import dofs_outside
from flexotip.fem.postprocess import PointEvaluator
from flexotip.materials import ElectromechanicalMaterial, barrett_alpha1
from flexotip.units import EPSILON_0, Scales

ALPHA1 = barrett_alpha1(300.0)
SLAB_THICKNESS = 10.0  # nm
STRAIN_GRADIENT = 2.0e6  # 1/m, ∂ε_zz/∂z


AIR_GAP = SLAB_THICKNESS / 8  # nm: one cell layer of the slab mesh


def _air_gap_domains(msh) -> electromechanics.Domains:
    """Film below z = 0, air above; the film's top is an interior facet."""
    tdim = msh.topology.dim
    n_cells = msh.topology.index_map(tdim).size_local + msh.topology.index_map(tdim).num_ghosts
    midpoints = dolfinx.mesh.compute_midpoints(msh, tdim, np.arange(n_cells, dtype=np.int32))
    cell_tags = dolfinx.mesh.meshtags(msh, tdim, np.arange(n_cells, dtype=np.int32),
                                      np.where(midpoints[:, 2] < 0, 1, 2).astype(np.int32))
    msh.topology.create_connectivity(tdim - 1, tdim)
    top = dolfinx.mesh.locate_entities(msh, tdim - 1, lambda x: np.isclose(x[2], 0.0))
    facet_tags = dolfinx.mesh.meshtags(msh, tdim - 1, top, np.ones_like(top))
    indicator = dolfinx.fem.Function(dolfinx.fem.functionspace(msh, ("Discontinuous Lagrange", 0)))
    indicator.x.array[:] = np.where(midpoints[:, 2] < 0, 1.0, 0.0)
    dx = ufl.Measure("dx", msh, subdomain_data=cell_tags)
    return electromechanics.Domains(dx_film=dx(1), dx_rest=None, dx_air=dx(2), ds=ufl.ds(domain=msh),
                                    dS_interface=ufl.Measure("dS", msh, subdomain_data=facet_tags)(1),
                                    film_indicator=indicator)


def _slab(degree: int, electric_bc: str):
    """Solve the slab −10 nm < z < 0 with u_z = g·z²/2 prescribed; return (P, E) samples.

    ``degree`` is that of P and φ. With ``electric_bc = "air-gap"`` the mesh goes on
    through an air layer of :data:`AIR_GAP` to a grounded top; P is pinned to 0 there.
    """
    comm = MPI.COMM_WORLD
    scales = Scales()
    air = electric_bc == "air-gap"
    msh = dolfinx.mesh.create_box(comm, [[0.0, 0.0, -SLAB_THICKNESS], [2.0, 2.0, AIR_GAP if air else 0.0]],
                                  [2, 2, 9 if air else 8], dolfinx.mesh.CellType.tetrahedron)
    # f12 and f44 do not act on a slab strained along z only: E^fl_z = −f_3333·g.
    material = ElectromechanicalMaterial(alpha1=ALPHA1, f11=2.0, f12=-2.6, f44=-1.2,
                                                 eps_background=10.0, landau="linear",
                                                 electrostriction=False)
    constants = electromechanics.ScaledConstants(msh, material, scales)
    stiffness = mechanics.stiffness_constant(msh, STO.voigt(), scales.stress)
    # u = g·z²/2 is quadratic: P2 represents it exactly, so the strain gradient is exactly
    # g in every cell (its P1 interpolant on tetrahedra would carry spurious shear).
    V_u = dolfinx.fem.functionspace(msh, ("Lagrange", 2, (3,)))
    V_P = dolfinx.fem.functionspace(msh, ("Lagrange", degree, (3,)))
    V_phi = dolfinx.fem.functionspace(msh, ("Lagrange", degree))
    u, P, phi = (dolfinx.fem.Function(V) for V in (V_u, V_P, V_phi))
    g = STRAIN_GRADIENT * scales.length  # per length unit
    exact_u = dolfinx.fem.Function(V_u)
    exact_u.interpolate(lambda x: np.vstack([0 * x[0], 0 * x[0], 0.5 * g * x[2] ** 2]))
    domains = _air_gap_domains(msh) if air else whole_box_domains(msh)
    energy = electromechanics.free_energy(u, P, phi, stiffness, constants, domains)
    unknowns = [u, P, phi]
    residuals = [ufl.derivative(energy, w, ufl.TestFunction(w.function_space)) for w in unknowns]

    fdim = msh.topology.dim - 1
    all_u = dolfinx.fem.locate_dofs_geometrical(V_u, lambda x: np.full(x.shape[1], True))
    bottom = dolfinx.mesh.locate_entities_boundary(msh, fdim, lambda x: np.isclose(x[2], -SLAB_THICKNESS))
    top = dolfinx.mesh.locate_entities_boundary(
        msh, fdim, lambda x: np.isclose(x[2], AIR_GAP if air else 0.0))
    grounded = [bottom] if electric_bc == "open" else [bottom, top]
    dofs = dolfinx.fem.locate_dofs_topological(V_phi, fdim, np.concatenate(grounded))
    bcs = [dolfinx.fem.dirichletbc(exact_u, all_u),
           dolfinx.fem.dirichletbc(dolfinx.default_scalar_type(0.0), dofs, V_phi)]
    if air:
        bcs.append(dolfinx.fem.dirichletbc(np.zeros(3, dtype=dolfinx.default_scalar_type),
                                           dofs_outside(V_P, domains.dx_film), V_P))
    solver = solvers.NonlinearSolver(residuals, unknowns, bcs, prefix="test_slab_",
                                     options=solver_options.ELECTROMECHANICS)
    solver.solve()

    depth = np.linspace(0.05, 0.95, 7) * SLAB_THICKNESS
    points = PointEvaluator(msh, np.c_[np.full_like(depth, 0.7), np.full_like(depth, 1.3), -depth])
    V_E = dolfinx.fem.functionspace(msh, ("Discontinuous Lagrange", max(degree - 1, 0), (3,)))
    field = dolfinx.fem.Function(V_E)
    field.interpolate(dolfinx.fem.Expression(-ufl.grad(phi), V_E.element.interpolation_points))
    return points(P) * scales.polarization, points(field) * scales.electric_field, material


@pytest.mark.parametrize("degree", [1, 2])
@pytest.mark.parametrize("electric_bc", ["short-circuit", "open", "air-gap"])
def test_slab_with_uniform_strain_gradient(degree, electric_bc):
    """P and E of a strained slab equal the closed forms within 1e-6 relative."""
    P, E, material = _slab(degree, electric_bc)
    chi, kappa = material.susceptibility, material.eps_background
    flexo_field = -material.f11 * STRAIN_GRADIENT  # V/m
    if electric_bc == "short-circuit":
        expected_P, expected_E = EPSILON_0 * chi * flexo_field, 0.0
    elif electric_bc == "air-gap":  # D continuous at the top, ∫E dz = 0 over film and gap
        expected_E = -chi * flexo_field / (kappa + chi + SLAB_THICKNESS / AIR_GAP)
        expected_P = EPSILON_0 * chi * (expected_E + flexo_field)
    else:
        expected_P = EPSILON_0 * chi * flexo_field / (1 + chi / kappa)
        expected_E = -expected_P / (EPSILON_0 * kappa)
    print(f"\nslab P{degree}, {electric_bc}: P_z = {P[:, 2].mean():.9e} C/m² (exact "
          f"{expected_P:.9e}), E_z = {E[:, 2].mean():.6e} V/m (exact {expected_E:.6e})")
    assert np.max(np.abs(P[:, 2] / expected_P - 1)) < 1e-6
    assert np.max(np.abs(P[:, :2])) < 1e-9 * abs(expected_P)
    field_scale = abs(flexo_field)  # E is compared on the scale of the driving field
    assert np.max(np.abs(E[:, 2] - expected_E)) < 1e-6 * max(abs(expected_E), field_scale * 1e-3)


def test_coupling_blocks_are_adjoint():
    """The Jacobian's off-diagonal blocks satisfy J_uP = J_Puᵀ and J_Pφ = J_φPᵀ; J_uφ = 0.

    Evaluated at a non-zero state with every coupling on (flexo, electrostriction, full
    Landau, gradient energy), so that the state-dependent electrostrictive blocks count.
    """
    comm = MPI.COMM_WORLD
    scales = Scales()
    msh = dolfinx.mesh.create_box(comm, [[0.0, 0.0, 0.0], [3.0, 2.0, 2.0]], [3, 2, 2],
                                  dolfinx.mesh.CellType.tetrahedron)
    material = ElectromechanicalMaterial(alpha1=ALPHA1, f11=1.5, f12=-2.6, f44=-1.2,
                                                 G11=5e-11, G12=1e-11, G44=3e-11, landau="full")
    constants = electromechanics.ScaledConstants(msh, material, scales)
    stiffness = mechanics.stiffness_constant(msh, STO.voigt(), scales.stress)
    spaces = [dolfinx.fem.functionspace(msh, ("Lagrange", 2, (3,))),
              dolfinx.fem.functionspace(msh, ("Lagrange", 2, (3,))),
              dolfinx.fem.functionspace(msh, ("Lagrange", 2))]
    u, P, phi = (dolfinx.fem.Function(V) for V in spaces)
    u.interpolate(lambda x: np.vstack([0.01 * np.sin(x[1]), 0.02 * x[0] * x[2], -0.01 * x[2] ** 2]))
    P.interpolate(lambda x: np.vstack([0.03 * np.cos(x[2]), 0.02 * x[0], 0.05 * np.sin(x[0] * x[1])]))
    phi.interpolate(lambda x: 0.05 * np.sin(x[0] + 2 * x[2]))
    energy = electromechanics.free_energy(u, P, phi, stiffness, constants, whole_box_domains(msh))
    fields = [u, P, phi]
    residuals = [ufl.derivative(energy, w, ufl.TestFunction(w.function_space)) for w in fields]

    def block(i, j):
        form = ufl.derivative(residuals[i], fields[j], ufl.TrialFunction(spaces[j]))
        A = dolfinx.fem.petsc.assemble_matrix(dolfinx.fem.form(form))
        A.assemble()
        return A

    # u and φ couple only through P: their blocks are empty.
    assert block(0, 2).norm() == 0.0 and block(2, 0).norm() == 0.0
    names = ("u", "P", "φ")
    for i, j in ((0, 1), (1, 2)):
        A, B = block(i, j), block(j, i)
        difference = A.copy()
        difference.axpy(-1.0, B.transpose())
        relative = difference.norm() / A.norm()
        print(f"\n‖J_{names[i]}{names[j]} − J_{names[j]}{names[i]}ᵀ‖/‖J_{names[i]}{names[j]}‖ = "
              f"{relative:.2e} (‖J‖ = {A.norm():.3e})")
        assert A.norm() > 0.0
        assert relative < 1e-12


BIASED_DISC = {
    "film": {"half_width": 60e-9, "substrate_thickness": 10e-9, "symmetry": "quarter"},
    "tip": {"force": 0.0, "contact_radius": 4e-9, "bias": 1.0},
    "mesh": {"surface_size": 0.0, "far_size": 10e-9, "growth": 0.1, "polarization_element": "bubble"},
    # A local linear dielectric, as the closed form assumes: no gradient energy, no
    # electrostriction (1 V on a 4 nm disc is ~1 GV/m at its edge), no flexo.
    "material": {"G11": 0.0, "G44": 0.0},
    "physics": {"flexoelectric": False, "electrostriction": False},
    "solve": {"electromechanics_solver": "block"},
    "output": {"fields": []},
}


@pytest.fixture(scope="module")
def biased_disc(tmp_path_factory):
    """No force, the tip at 1 V on a 4 nm disc, short-circuit surface, 46.86 nm film (11.7a).

    Edge cells of 0.4 and 0.2 nm; P bubble-enriched (equal-order Lagrange P is unstable
    without gradient energy, fem/electromechanics.py).
    """
    comm = MPI.COMM_WORLD
    runs = {}
    for size in (0.4e-9, 0.2e-9):
        folder = shared_dir(tmp_path_factory, "bias")
        sections = BIASED_DISC | {"mesh": BIASED_DISC["mesh"] | {"contact_size": size}}
        runs[size] = (run_case(comm, sections, folder), folder)
    return runs


def test_biased_disc_matches_the_half_space(biased_disc):
    """φ(0, z) = V·(1 − |z|/√(z² + a²)) within 5 % for |z| < 2a, converging with the edge cells.

    The applied potential alone (Laplace in κ_b, no P; coupled.applied_potential) carries
    nearly the same error, so it is the discrete disc, not the polarisation: φ has a √
    singularity at the disc's edge and the disc's facets end within a cell of r = a, which
    moves the axis potential by O(h/a); the error halves with the edge cell size. In this
    homogeneous dielectric with electrodes only, the bound charge −∇·P vanishes, so the
    depolarisation part of E is zero up to the discretisation.
    """
    a = 4e-9
    errors, applied_errors = {}, {}
    for size, (summary, folder) in biased_disc.items():
        axis = read_csv(folder / "axis_electric.csv")
        depth, phi = np.asarray(axis["depth_m"]), np.asarray(axis["phi_V"])
        near = (depth > 0) & (depth < 2 * a)
        exact = 1.0 - depth[near] / np.sqrt(depth[near] ** 2 + a**2)
        errors[size] = float(np.max(np.abs(phi[near] / exact - 1)))
        applied = np.asarray(axis["phi_applied_V"])[near]
        applied_errors[size] = float(np.max(np.abs(applied / exact - 1)))
        print(f"\nbiased disc, edge cells {size * 1e9:.1f} nm: max |φ/φ_exact − 1| on the axis for "
              f"|z| < 2a = {errors[size]:.2%} (the applied potential alone: "
              f"{applied_errors[size]:.2%}); φ(a) = {np.interp(a, depth, phi):.4f} V (exact "
              f"{1 - 1 / math.sqrt(2):.4f}); {summary['em_n_dofs']} dofs, "
              f"{summary['em_linear_iterations']} FGMRES iterations; E_z below the tip "
              f"{summary['Ez_below_tip_V_per_m']:.4g} V/m, of which depolarisation "
              f"{summary['Ez_below_tip_depolarization_V_per_m']:.4g}")
        assert summary["phi_max_V"] == pytest.approx(1.0, abs=1e-9)
        depolarization = summary["Ez_below_tip_depolarization_V_per_m"]
        assert abs(depolarization) < 1e-2 * abs(summary["Ez_below_tip_V_per_m"])
    assert errors[0.2e-9] < 0.05
    assert errors[0.2e-9] < 0.7 * errors[0.4e-9]
    assert applied_errors[0.2e-9] < 0.05
    assert applied_errors[0.2e-9] < 0.7 * applied_errors[0.4e-9]
