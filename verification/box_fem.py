"""Finite-element side of the FEM ↔ spectral cross-check on a box with mirror walls.

The box 0 ≤ x ≤ Lx, 0 ≤ y ≤ Ly, 0 ≤ z ≤ Lz is one homogeneous film whose six faces are
mirror planes: on every face the normal displacement and the normal polarisation vanish
(Dirichlet on that component; the tangential traction and the gradient flux of the
tangential P are natural), and the potential and the vacancies have zero normal flux
(natural). A spectral solver with cosine/sine series solves the same problems exactly;
this module solves them with the package's forms and samples the result at given points.

**Electromechanics** (:func:`solve_box_electromechanics`). The stationary point of

    F(u, P, φ) = free_energy(u, P, φ)                                    (fem/electromechanics)
               − ∫ (C:ε*):(ε(u) − ε⁰(P)) dx + ∫ (ρ − ρ̄)·φ dx,

with the isotropic eigenstrain ε* = e(x)·I of a Gaussian dilatation and a prescribed space
charge ρ(x), both Gaussian bumps written as UFL expressions of the spatial coordinate (no
interpolation error). The eigenstrain term is the cross term of
½(ε − ε⁰ − ε*):C:(ε − ε⁰ − ε*) (the constant ½ε*:C:ε* dropped): the dilatation and the
electrostrictive eigenstrain ε⁰ = Q:P⊗P add, so that a stress-free expansion leaves P
alone. Without electrostriction (or without P) it is −∫(c11 + 2c12)·e·tr ε(u) dx.
φ is determined up to a constant: its value at the origin is pinned to 0, exact because
the discrete charge is neutral (ρ̄, the volume mean of the bump, is assembled with the
same quadrature as the charge term), and the reported φ has its volume mean removed.

**Vacancies**: :mod:`flexotip.verification.box_fem_vacancies`.

The bumps' parameters enter the forms as Constants, so a sweep over bumps compiles each
form once. Everything at the interface is SI; inside, :class:`flexotip.units.Scales`.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from typing import Protocol

from mpi4py import MPI

import dolfinx.fem
import dolfinx.mesh
import numpy as np
import ufl

from flexotip.fem import electromechanics, mechanics, solver_options, solvers
from flexotip.fem.kinematics import strain, to_voigt
from flexotip.fem.postprocess import PointEvaluator, assemble_scalar
from flexotip.materials import CubicElasticity, ElectromechanicalMaterial
from flexotip.units import Scales

ELECTROMECHANICS_PREFIX = "flexotip_box_em_"
"""PETSc options prefix of the (u, P, φ) Newton solve."""

MECHANICS_PREFIX = "flexotip_box_mech_"
"""PETSc options prefix of the pure elastic solve."""


class Bump(Protocol):
    """Any object describing a Gaussian a·exp(−|x − x0|²/(2w²)) (e.g. :class:`GaussianBump`)."""

    amplitude: float
    centre: Sequence[float]
    width: float


@dataclasses.dataclass(frozen=True)
class GaussianBump:
    """A Gaussian bump a·exp(−|x − x0|²/(2w²)), SI.

    Attributes:
        amplitude: a, in the unit of the field it describes (dimensionless for a
            dilatation, C/m³ for a charge, V for a potential).
        centre: x0, three coordinates, m.
        width: w, m.
        axes: The coordinates the bump depends on: (True, True, False) makes it uniform
            along z (|x − x0|² then sums over x and y only).
    """

    amplitude: float
    centre: tuple[float, float, float]
    width: float
    axes: tuple[bool, bool, bool] = (True, True, True)

    def __call__(self, points: np.ndarray) -> np.ndarray:
        """Values at ``points`` (shape (n, 3), m), in the unit of the amplitude."""
        offset = np.asarray(points, dtype=float).reshape(-1, 3) - np.asarray(self.centre)
        offset *= np.asarray(self.axes)
        return self.amplitude * np.exp(-np.sum(offset**2, axis=1) / (2 * self.width**2))


@dataclasses.dataclass(frozen=True)
class BoxFields:
    """The electromechanical fields sampled at the requested points, SI.

    Attributes:
        displacement: u, shape (n, 3), m.
        polarization: P, shape (n, 3), C/m² (zeros for pure elasticity).
        potential: φ minus its volume mean, shape (n,), V (zeros for pure elasticity).
        strain: ε, shape (n, 6), tensor components (xx, yy, zz, yz, xz, xy); at a point on
            a cell boundary, the value of one of its cells (see :class:`PointEvaluator`).
        stats: n_dofs_displacement, n_dofs_polarization, n_dofs_potential (global
            counts), newton_iterations, mean_volumetric_strain (∫tr ε dx/V, zero with
            rollers on all faces), time_s (wall time of the solve and the sampling).
    """

    displacement: np.ndarray
    polarization: np.ndarray
    potential: np.ndarray
    strain: np.ndarray
    stats: dict


def box_mesh(comm: MPI.Comm, lengths: Sequence[float], cells: Sequence[int],
             scales: Scales) -> dolfinx.mesh.Mesh:
    """Tetrahedral mesh of [0, Lx] × [0, Ly] × [0, Lz] (``lengths`` in m) in the scaled unit."""
    upper = np.asarray(lengths, dtype=float) / scales.length
    return dolfinx.mesh.create_box(comm, [np.zeros(3), upper], list(cells),
                                   cell_type=dolfinx.mesh.CellType.tetrahedron,
                                   ghost_mode=dolfinx.mesh.GhostMode.shared_facet)


def mirror_bcs(V: dolfinx.fem.FunctionSpace, upper: np.ndarray) -> list[dolfinx.fem.DirichletBC]:
    """Zero normal component of a vector field on the six faces of the box [0, ``upper``].

    ``upper``: the box's far corner in the mesh unit.
    """
    msh = V.mesh
    tol = 1e-10 * float(np.max(upper))
    bcs = []
    for i in range(3):
        facets = dolfinx.mesh.locate_entities_boundary(
            msh, msh.topology.dim - 1,
            lambda x, i=i: (np.abs(x[i]) < tol) | (np.abs(x[i] - upper[i]) < tol))
        Vi = V.sub(i)
        dofs = dolfinx.fem.locate_dofs_topological(Vi, msh.topology.dim - 1, facets)
        bcs.append(dolfinx.fem.dirichletbc(dolfinx.default_scalar_type(0.0), dofs, Vi))
    return bcs


def origin_dofs(V: dolfinx.fem.FunctionSpace, upper: np.ndarray) -> np.ndarray:
    """The dof of a scalar space at the corner x = 0 (on the ranks that hold it, else empty)."""
    tol = 1e-10 * float(np.max(upper))
    return dolfinx.fem.locate_dofs_geometrical(V, lambda x: np.all(np.abs(x) < tol, axis=0))


class BumpExpression:
    """A Gaussian bump as a UFL expression whose parameters are Constants (no recompilation).

    The value is amplitude·exp(−|x − centre|²/(2·width²)) − offset, all in the scaled units.

    Args:
        msh: The mesh.
    """

    def __init__(self, msh):
        def constant(value):
            return dolfinx.fem.Constant(msh, np.asarray(value, dtype=dolfinx.default_scalar_type))

        self.amplitude, self.width, self.offset = constant(0.0), constant(1.0), constant(0.0)
        self.centre = constant(np.zeros(3))
        self.axes = constant(np.ones(3))
        x = ufl.SpatialCoordinate(msh)
        r = ufl.elem_mult(x - self.centre, self.axes)
        self.expression = (self.amplitude * ufl.exp(-ufl.dot(r, r) / (2 * self.width**2))
                           - self.offset)

    def set(self, bump: Bump | None, value_scale: float, scales: Scales) -> None:
        """Take the parameters of an SI ``bump`` (None: zero), its values divided by ``value_scale``."""
        self.offset.value = 0.0
        if bump is None:
            self.amplitude.value = 0.0
            return
        self.amplitude.value = bump.amplitude / value_scale
        self.centre.value[:] = np.asarray(bump.centre, dtype=float) / scales.length
        self.axes.value[:] = np.asarray(getattr(bump, "axes", (True, True, True)), dtype=float)
        self.width.value = bump.width / scales.length

    def neutralise(self, dx: ufl.Measure) -> float:
        """Subtract the volume mean over ``dx`` (collective); returns the mean removed."""
        self.offset.value = 0.0
        mean = assemble_scalar(self.expression * dx) / assemble_scalar(1.0 * dx)
        self.offset.value = mean
        return mean


def bump_measure(msh, degree: int) -> ufl.Measure:
    """Volume measure of the terms with a bump: quadrature degree 2·``degree`` + 4."""
    return ufl.Measure("dx", msh, metadata={"quadrature_degree": 2 * degree + 4})


def dilatation_energy(u, P, dilatation: ufl.core.expr.Expr, stiffness: dolfinx.fem.Constant,
                      constants: electromechanics.ScaledConstants | None) -> ufl.core.expr.Expr:
    """−(C:ε*):(ε(u) − ε⁰(P)) for ε* = e·I, stress scale (ε⁰ = 0 without electrostriction or P)."""
    eps = strain(u)
    if constants is not None and constants.electrostriction:
        eps = eps - electromechanics.eigenstrain(P, constants)
    eigen = to_voigt(dilatation * ufl.Identity(3), engineering_shear=True)
    return -ufl.inner(ufl.dot(stiffness, eigen), to_voigt(eps, engineering_shear=True))


def _whole_box_domains(msh) -> electromechanics.Domains:
    """The whole box is film; its exterior facets are mirror walls, not surfaces (no flexo surface term)."""
    indicator = dolfinx.fem.Function(dolfinx.fem.functionspace(msh, ("Discontinuous Lagrange", 0)))
    indicator.x.array[:] = 1.0
    return electromechanics.Domains(dx_film=ufl.dx(domain=msh), dx_rest=None, dx_air=None,
                                    ds=None, dS_interface=None, film_indicator=indicator)


def _sample(evaluator: PointEvaluator | None, function: dolfinx.fem.Function, scale: float) -> np.ndarray:
    """Values of ``function`` × ``scale`` at the evaluator's points, shape (n, value size)."""
    size = int(np.prod(function.function_space.value_shape, dtype=int))
    if evaluator is None:
        return np.zeros((0, size))
    return scale * evaluator(function)


@dataclasses.dataclass
class _Problem:
    """The unknowns, residual and Dirichlet conditions of one box solve."""

    u: dolfinx.fem.Function
    P: dolfinx.fem.Function | None
    phi: dolfinx.fem.Function | None
    residual: ufl.Form | list[ufl.Form]
    bcs: list[dolfinx.fem.DirichletBC]

    @property
    def unknowns(self) -> dolfinx.fem.Function | list[dolfinx.fem.Function]:
        """What Newton solves for: u, or [u, P, φ]."""
        return self.u if self.P is None else [self.u, self.P, self.phi]


def _elastic_problem(msh, degree: int, stiffness: dolfinx.fem.Constant, eigen: BumpExpression,
                     upper: np.ndarray) -> _Problem:
    """The displacement alone: ∫C:ε(u):ε(v) dx − ∫(C:ε*):ε(v) dx = 0 with rollers."""
    V_u = dolfinx.fem.functionspace(msh, ("Lagrange", degree, (3,)))
    u = dolfinx.fem.Function(V_u, name="displacement")
    v = ufl.TestFunction(V_u)
    residual = mechanics.elastic_form(u, v, stiffness) + ufl.derivative(
        dilatation_energy(u, None, eigen.expression, stiffness, None) * bump_measure(msh, degree), u, v)
    return _Problem(u, None, None, residual, mirror_bcs(V_u, upper))


def _electromechanical_problem(msh, degree: int, stiffness: dolfinx.fem.Constant, eigen: BumpExpression,
                               rho: BumpExpression, material: ElectromechanicalMaterial,
                               scales: Scales, upper: np.ndarray) -> _Problem:
    """(u, P, φ): the derivatives of the energy (module docstring), rollers, P_n = 0, φ(0) = 0."""
    constants = electromechanics.ScaledConstants(msh, material, scales)
    V_u = dolfinx.fem.functionspace(msh, ("Lagrange", degree, (3,)))
    V_P = dolfinx.fem.functionspace(msh, electromechanics.polarization_element(degree))
    V_phi = dolfinx.fem.functionspace(msh, ("Lagrange", degree))
    u = dolfinx.fem.Function(V_u, name="displacement")
    P = dolfinx.fem.Function(V_P, name="polarization")
    phi = dolfinx.fem.Function(V_phi, name="potential")
    dx_bump = bump_measure(msh, degree)
    energy = electromechanics.free_energy(u, P, phi, stiffness, constants, _whole_box_domains(msh),
                                          flexoelectric=material.flexoelectric)
    energy += dilatation_energy(u, P, eigen.expression, stiffness, constants) * dx_bump
    # free_energy's +ρ·φ, integrated with the quadrature of the neutralising mean.
    energy += rho.expression * phi * dx_bump
    residual = [ufl.derivative(energy, w, ufl.TestFunction(w.function_space)) for w in (u, P, phi)]
    zero = dolfinx.default_scalar_type(0.0)
    bcs = [*mirror_bcs(V_u, upper), *mirror_bcs(V_P, upper),
           dolfinx.fem.dirichletbc(zero, origin_dofs(V_phi, upper), V_phi)]
    return _Problem(u, P, phi, residual, bcs)


def _remove_mean(f: dolfinx.fem.Function) -> None:
    """Subtract the volume mean ∫f dx/V from a scalar function (collective)."""
    dx = ufl.dx(domain=f.function_space.mesh)
    f.x.array[:] -= assemble_scalar(f * dx) / assemble_scalar(1.0 * dx)


def solve_box_electromechanics(comm: MPI.Comm, lengths: Sequence[float], cells: Sequence[int], degree: int,
                               elasticity: CubicElasticity,
                               material: ElectromechanicalMaterial | None,
                               dilatation: Bump | None, charge: Bump | None = None,
                               points: np.ndarray | None = None,
                               options: dict | None = None) -> BoxFields:
    """Solve (u, P, φ) — or u alone — in the mirror-walled box and sample at ``points``.

    Collective. Newton with MUMPS on the monolithic system (one step when the problem is
    linear: linear Landau energy, no electrostriction).

    Args:
        comm: Communicator of the mesh.
        lengths: (Lx, Ly, Lz), m.
        cells: (nx, ny, nz), cells per side (each cube cut into six tetrahedra).
        degree: Lagrange degree of u, P and φ (1 or 2).
        elasticity: Elastic constants, Pa.
        material: Electromechanical constants (SI), or None for pure elasticity (u only).
        dilatation: Gaussian isotropic eigenstrain e(x) (amplitude dimensionless), or None.
        charge: Gaussian space charge ρ(x) (amplitude C/m³), or None; its volume mean is
            subtracted (a box with zero-flux walls holds only a neutral charge). Ignored
            for pure elasticity.
        points: Where to sample, shape (n, 3), m; None: nowhere.
        options: PETSc options over :data:`flexotip.fem.solver_options.ELECTROMECHANICS`.

    Returns:
        The fields at ``points`` and the solve's statistics.

    Raises:
        SolverError: If Newton or MUMPS fails.
    """
    start = time.perf_counter()
    scales = Scales()
    msh = box_mesh(comm, lengths, cells, scales)
    upper = np.asarray(lengths, dtype=float) / scales.length
    stiffness = mechanics.stiffness_constant(msh, elasticity.voigt(), scales.stress)
    eigen = BumpExpression(msh)
    eigen.set(dilatation, 1.0, scales)
    if material is None:
        problem = _elastic_problem(msh, degree, stiffness, eigen, upper)
    else:
        rho = BumpExpression(msh)
        rho.set(charge, scales.charge_density, scales)
        rho.neutralise(bump_measure(msh, degree))
        problem = _electromechanical_problem(msh, degree, stiffness, eigen, rho, material, scales, upper)
    solver = solvers.NonlinearSolver(
        problem.residual, problem.unknowns, problem.bcs,
        prefix=MECHANICS_PREFIX if material is None else ELECTROMECHANICS_PREFIX,
        options=solver_options.petsc_options(solver_options.ELECTROMECHANICS, options))
    solver.solve()
    if problem.phi is not None:
        _remove_mean(problem.phi)
    fields = _sampled_fields(problem, degree, scales, points)
    fields.stats["newton_iterations"] = solver.newton_iterations
    fields.stats["time_s"] = time.perf_counter() - start
    return fields


def _sampled_fields(problem: _Problem, degree: int, scales: Scales, points: np.ndarray | None) -> BoxFields:
    """The solution at ``points`` (m), SI, with the dof counts and the mean volumetric strain."""
    u, P, phi = problem.u, problem.P, problem.phi
    msh = u.function_space.mesh
    points = np.zeros((0, 3)) if points is None else np.asarray(points, dtype=float).reshape(-1, 3)
    evaluator = PointEvaluator(msh, points / scales.length) if len(points) else None
    dx = ufl.dx(domain=msh)

    def n_dofs(f: dolfinx.fem.Function | None) -> int:
        return 0 if f is None else f.function_space.dofmap.index_map.size_global * f.function_space.dofmap.bs

    stats = {"n_dofs_displacement": n_dofs(u), "n_dofs_polarization": n_dofs(P),
             "n_dofs_potential": n_dofs(phi),
             "mean_volumetric_strain": assemble_scalar(ufl.tr(strain(u)) * dx) / assemble_scalar(1.0 * dx)}
    n = len(points)
    return BoxFields(
        displacement=_sample(evaluator, u, scales.displacement),
        polarization=np.zeros((n, 3)) if P is None else _sample(evaluator, P, scales.polarization),
        potential=np.zeros(n) if phi is None else _sample(evaluator, phi, scales.potential)[:, 0],
        strain=np.zeros((0, 6)) if evaluator is None else evaluator(_strain_function(u, degree)), stats=stats)


def _strain_function(u: dolfinx.fem.Function, degree: int) -> dolfinx.fem.Function:
    """ε(u) as tensor components (xx, yy, zz, yz, xz, xy) in DG of ``degree`` − 1 (exact)."""
    V = dolfinx.fem.functionspace(u.function_space.mesh, ("Discontinuous Lagrange", degree - 1, (6,)))
    eps = dolfinx.fem.Function(V, name="strain")
    eps.interpolate(dolfinx.fem.Expression(to_voigt(strain(u), engineering_shear=False),
                                           V.element.interpolation_points))
    return eps
