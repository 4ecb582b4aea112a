"""Kinematics as small pure functions returning UFL expressions."""

from __future__ import annotations

import ufl

from flexotip.materials import VOIGT_INDEX, VOIGT_PAIRS


def strain(u: ufl.core.expr.Expr) -> ufl.core.expr.Expr:
    """Small strain ε = sym(∇u) (3×3, dimensionless)."""
    return ufl.sym(ufl.grad(u))


def to_voigt(tensor: ufl.core.expr.Expr, engineering_shear: bool) -> ufl.core.expr.Expr:
    """Voigt vector (11, 22, 33, 23, 13, 12: ``materials.VOIGT_PAIRS``) of a symmetric 3×3 tensor.

    Args:
        tensor: Symmetric 3×3 UFL tensor.
        engineering_shear: Double the shear entries (True for strains, False for stresses).
    """
    s = 2.0 if engineering_shear else 1.0
    return ufl.as_vector([tensor[i, j] if i == j else s * tensor[i, j] for i, j in VOIGT_PAIRS])


def from_voigt(vector: ufl.core.expr.Expr) -> ufl.core.expr.Expr:
    """Symmetric 3×3 tensor from a Voigt stress vector (11, 22, 33, 23, 13, 12)."""
    return ufl.as_matrix([[vector[int(VOIGT_INDEX[i, j])] for j in range(3)] for i in range(3)])


def strain_gradient_magnitude(strain_field: ufl.core.expr.Expr) -> ufl.core.expr.Expr:
    """|∇ε| = sqrt(Σ_ijk (∂ε_ij/∂x_k)²), 1/length of the mesh."""
    g = ufl.grad(strain_field)
    return ufl.sqrt(ufl.inner(g, g))
