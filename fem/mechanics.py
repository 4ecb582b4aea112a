"""Linear elasticity of the film/substrate stack under the tip load (UFL forms only).

Scaled variables: lengths in the mesh unit, stresses and elastic constants in the
stress scale, displacements in the length scale (see :mod:`flexotip.units`). This
module builds forms and creates no PETSc objects; solving happens in
:mod:`flexotip.fem.solvers`.

Weak form: find u with a(u, v) = L(v) for all admissible v, where
a(u, v) = ∫ C:ε(u) : ε(v) dx and L(v) = -∫_contact p(r)·v_z ds.
"""

from __future__ import annotations

import dolfinx.fem
import numpy as np
import ufl

from flexotip.fem.kinematics import from_voigt, strain, to_voigt
from flexotip.fem.loads import TipPressure

LOAD_QUADRATURE_DEGREE = 8
"""Quadrature degree of the pressure integral: the Hertz root and the punch's steep core
pressure are not polynomials, so they get more points than the form degree needs."""


def stiffness_constant(msh, voigt_matrix: np.ndarray, stress_scale: float) -> dolfinx.fem.Constant:
    """The 6×6 Voigt stiffness (Pa) as a scaled Constant on the mesh."""
    return dolfinx.fem.Constant(msh, np.asarray(voigt_matrix / stress_scale,
                                                dtype=dolfinx.default_scalar_type))


def stress(u: ufl.core.expr.Expr, stiffness: dolfinx.fem.Constant) -> ufl.core.expr.Expr:
    """Cauchy stress σ = C:ε(u) (3×3, stress scale)."""
    return from_voigt(ufl.dot(stiffness, to_voigt(strain(u), engineering_shear=True)))


def elastic_form(u: ufl.core.expr.Expr, v: ufl.core.expr.Expr,
                 stiffness: dolfinx.fem.Constant, dx: ufl.Measure | None = None) -> ufl.Form:
    """∫ C:ε(u) : ε(v) dx — bilinear with a trial u, a residual term with a Function u.

    ``dx``: the solid cells (film and substrate) when the mesh has an air layer; the whole
    mesh by default.
    """
    eps_u = to_voigt(strain(u), engineering_shear=True)
    eps_v = to_voigt(strain(v), engineering_shear=True)
    return ufl.inner(ufl.dot(stiffness, eps_u), eps_v) * (dx if dx is not None else ufl.dx)


def on_surface(expr: ufl.core.expr.Expr, measure: ufl.Measure) -> ufl.core.expr.Expr:
    """``expr`` as integrated over ``measure``: restricted to one side on interior facets.

    With an air layer the film top is an interior facet (air above, film below); the
    displacement and the pressure (a function of position) are continuous across it, so
    either side's trace is the value.
    """
    return expr("+") if measure.integral_type() == "interior_facet" else expr


def elastic_forms(V: dolfinx.fem.FunctionSpace, stiffness: dolfinx.fem.Constant,
                  load: TipPressure, ds_contact: ufl.Measure,
                  dx: ufl.Measure | None = None) -> tuple[ufl.Form, ufl.Form]:
    """Bilinear and linear forms of the elastic problem under the tip pressure.

    Args:
        V: Vector Lagrange space of the displacement.
        stiffness: Scaled 6×6 Voigt stiffness.
        load: The prescribed tip pressure.
        ds_contact: Facet measure restricted to the contact disc (exterior facets, or
            interior ones under an air layer).
        dx: The solid cells when the mesh has an air layer (see :func:`elastic_form`).

    Returns:
        (a, L), the UFL forms.
    """
    v = ufl.TestFunction(V)
    a = elastic_form(ufl.TrialFunction(V), v, stiffness, dx)
    x = ufl.SpatialCoordinate(V.mesh)
    L = -on_surface(load.pressure(x) * v[2], ds_contact) * ds_contact(
        metadata={"quadrature_degree": LOAD_QUADRATURE_DEGREE})
    return a, L


def applied_force_form(load: TipPressure, ds_contact: ufl.Measure) -> ufl.Form:
    """Scalar form ∫_contact p ds: the force the discrete load puts on the mesh."""
    x = ufl.SpatialCoordinate(ds_contact.ufl_domain())
    return on_surface(load.pressure(x), ds_contact) * ds_contact(
        metadata={"quadrature_degree": LOAD_QUADRATURE_DEGREE})
