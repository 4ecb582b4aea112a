"""Flexoelectric electromechanics of the film: the free energy of (u, P, φ) as a UFL form.

Fields (scaled, see :class:`flexotip.units.Scales`): displacement u (length scale),
polarisation P (C/m²), electric potential φ (V); z up, E = −∇φ. P lives in the film,
φ in the film (and air), u everywhere. The residuals and the Jacobian are derivatives of
one energy, so the coupling blocks are adjoint by construction (and the tests check it).

Energy per unit volume in the film (docs/model.md, "Free energy and equations")::

    f = α1·|P|² [+ α11·ΣPi⁴ + α12·Σ_{i<j}Pi²Pj²]                     (Landau)
      + ½G11·ΣPi,i² + G12·Σ_{i<j}Pi,i·Pj,j + ½G44·Σ_{i≠j}Pi,j²       (gradient)
      + ½(ε − ε⁰):C:(ε − ε⁰),  ε⁰ = Q:P⊗P                            (elastic + electrostriction)
      + f_ijkl·P_k·∂_l ε_ij                                           (flexoelectric)
      − ½ε0·κ_b·|∇φ|² + P·∇φ + ρ·φ                                    (electric)

The gradient coefficients are the cubic tensor G_iijj = G12, G_ijij = G44 (i ≠ j) with no
Pi,j·Pj,i term, so that G11 = G44 = g, G12 = 0 is the isotropic ½g|∇P|². Electrostriction
uses the tensor-shear convention ε⁰_23 = Q44·P2·P3. The cubic flexocoupling tensor is
f_ijkl = f12·δij·δkl + f44·(δik·δjl + δil·δjk) + (f11 − f12 − 2f44)·δijkl, indices (ij)
strain, k polarisation, l gradient (f11 = f_1111, f12 = f_1122, f44 = f_1212).

**Flexoelectric form and its boundary term** (docs/model.md, "Flexoelectric form"). The
Lifshitz invariant (f/2)(P_k ∂_l ε_ij − ε_ij ∂_l P_k) and the form f·P_k·∂_l ε_ij used
by default have the same bulk Euler–Lagrange equations: δF/δP_k contains +f_ijkl·∂_l ε_ij
(the flexo field E^fl_k = −f_ijkl·∂_l ε_ij) and the stress is σ = C:(ε − ε⁰) − f:∇P. They
differ by the surface term ½∮ f·ε_ij·P_k·n_l. f·P·∂ε leaves P with no surface source: its
natural condition is the gradient one (G·∂P/∂n = 0). Written with first derivatives only
(Lagrange u and P), by one integration by parts over the film:

    ∫_film f_ijkl P_k ∂_l ε_ij dV = −∫_film A:∇P dV + ∮_∂film (A·n)·P dS,
    A_kl = f_ijkl·ε_ij,

exact for smooth u. The surface integral runs over the film's physical surfaces: its top
(exterior facets, or interior ones under an air layer) and the film/substrate interface
(an interior facet, hence the ``shared_facet`` ghosting of the meshes). It is left out on
the symmetry planes and the lateral walls: they are mirror planes of the full problem, not
surfaces, and there its u-variation (∝ ∂u_t/∂n·P_t) would pull the solution off the
mirror-symmetric one (found by ``flexotip crosscheck electromechanics``). On the film top
the same u-variation involves the trace of ε(δu), which H¹ elements do not control, and
the polarisation's surface layer √(G·ε0·κ_b) is thinner than the meshes: P at the surface
is not mesh-converged (docs/model.md, "Gradient coefficient and mesh sensitivity").

``flexo_form = "eps_grad_P"`` is −∫f_ijkl·ε_ij·∂_l P_k over the film with no surface term:
the same bulk equations, P gets the flux condition G·∂P/∂n = A·n on every film surface and
the traction the converse stress −f:∇P. It is well posed for H¹ fields, so a spectral film
solver can match it exactly; the two differ by the surface energy ∮f·ε·P·n, which the
literature leaves open, and under the tip the difference is large: choose knowingly.

**Polarisation element** (docs/model.md, "Solvers and the polarisation element"). P is
continuous Lagrange of the displacement's degree k, by default, or that space enriched with
interior bubbles of degree k + 3 (b_K·P_{k−1} per cell and component). Without them the
pair (P, φ) of equal-order Lagrange is only weakly stable: the coupling ∫P·∇ψ only sees the
projection of ∇φ_h onto continuous fields, so gradient modes orthogonal to that space feel
κ_b instead of κ_b + χ, and φ oscillates where the field is not smooth. With the bubbles
the space of P contains b_K·∇φ_h in every cell, what the inf-sup argument of the MINI
element needs (sup_P ∫P·∇ψ/‖P‖ ≥ β‖∇ψ‖). Without gradient energy (G = 0), equal-order
Lagrange is unstable.

This module builds forms only; the problem that solves them is
:mod:`flexotip.fem.electromechanical_problem`.
"""

from __future__ import annotations

import dataclasses

import basix.ufl
import dolfinx.fem
import ufl

from flexotip.fem.kinematics import strain, to_voigt
from flexotip.materials import ElectromechanicalMaterial
from flexotip.units import EPSILON_0, Scales


def polarization_element(degree: int, bubbles: bool = False, cell: str = "tetrahedron"):
    """Vector element of P: Lagrange of ``degree``, plus bubbles of degree ``degree`` + 3."""
    if not bubbles:
        return basix.ufl.element("Lagrange", cell, degree, shape=(3,))
    enriched = basix.ufl.enriched_element([basix.ufl.element("Lagrange", cell, degree),
                                           basix.ufl.element("Bubble", cell, degree + 3)])
    return basix.ufl.blocked_element(enriched, shape=(3,))


class ScaledConstants:
    """The constants of an :class:`~flexotip.materials.ElectromechanicalMaterial`, scaled, as Constants.

    Changing a value (``constants.f11.value = ...``) needs no form recompilation.
    """

    def __init__(self, msh, material: ElectromechanicalMaterial, scales: Scales):
        S, L, P0, V0 = scales.stress, scales.length, scales.polarization, scales.potential

        def constant(value: float) -> dolfinx.fem.Constant:
            return dolfinx.fem.Constant(msh, dolfinx.default_scalar_type(value))

        self.alpha1 = constant(material.alpha1 * P0**2 / S)
        self.alpha11 = constant(material.alpha11 * P0**4 / S)
        self.alpha12 = constant(material.alpha12 * P0**4 / S)
        self.Q11, self.Q12, self.Q44 = (constant(q * P0**2) for q in
                                        (material.Q11, material.Q12, material.Q44))
        on = 1.0 if material.flexoelectric else 0.0
        self.f11, self.f12, self.f44 = (constant(on * f / V0) for f in
                                        (material.f11, material.f12, material.f44))
        self.G11, self.G12, self.G44 = (constant(g * P0**2 / (L**2 * S)) for g in
                                        (material.G11, material.G12, material.G44))
        self.permittivity = constant(EPSILON_0 * material.eps_background / scales.permittivity)
        self.vacuum_permittivity = constant(EPSILON_0 / scales.permittivity)
        self.zero = constant(0.0)
        self.full_landau = material.landau == "full"
        self.electrostriction = material.electrostriction
        self.surface_flexo = material.flexo_form == "P_grad_eps"


def flexo_contraction(eps: ufl.core.expr.Expr, c: ScaledConstants) -> ufl.core.expr.Expr:
    """A_kl = f_ijkl·ε_ij for the cubic tensor: f12·tr ε·I + 2f44·ε + (f11 − f12 − 2f44)·diag ε."""
    anisotropy = c.f11 - c.f12 - 2 * c.f44
    diagonal = ufl.as_matrix([[eps[0, 0], 0, 0], [0, eps[1, 1], 0], [0, 0, eps[2, 2]]])
    return c.f12 * ufl.tr(eps) * ufl.Identity(3) + 2 * c.f44 * eps + anisotropy * diagonal


def flexo_field(eps_gradient: ufl.core.expr.Expr, c: ScaledConstants) -> ufl.core.expr.Expr:
    """E^fl_k = −f_ijkl·∂_l ε_ij, given ∂_l ε_ij as a (3, 3, 3) tensor [i, j, l] (V/length)."""
    g = eps_gradient
    anisotropy = c.f11 - c.f12 - 2 * c.f44
    # ∂_l A_kl with A = f12·tr ε·I + 2f44·ε + anisotropy·diag ε
    div = [c.f12 * (g[0, 0, m] + g[1, 1, m] + g[2, 2, m]) + 2 * c.f44 * sum(g[m, n, n] for n in range(3))
           + anisotropy * g[m, m, m] for m in range(3)]
    return -ufl.as_vector(div)


def eigenstrain(P: ufl.core.expr.Expr, c: ScaledConstants) -> ufl.core.expr.Expr:
    """Electrostrictive ε⁰ = Q12·|P|²·I + (Q11 − Q12)·diag(P²) + Q44·(P⊗P − diag(P²))."""
    squares = ufl.as_matrix([[P[0] ** 2, 0, 0], [0, P[1] ** 2, 0], [0, 0, P[2] ** 2]])
    return (c.Q12 * ufl.dot(P, P) * ufl.Identity(3) + (c.Q11 - c.Q12) * squares
            + c.Q44 * (ufl.outer(P, P) - squares))


def landau_density(P: ufl.core.expr.Expr, c: ScaledConstants) -> ufl.core.expr.Expr:
    """Landau energy density (stress scale)."""
    density = c.alpha1 * ufl.dot(P, P)
    if c.full_landau:
        density += c.alpha11 * (P[0] ** 4 + P[1] ** 4 + P[2] ** 4)
        density += c.alpha12 * (P[0] ** 2 * P[1] ** 2 + P[1] ** 2 * P[2] ** 2 + P[2] ** 2 * P[0] ** 2)
    return density


def gradient_density(P: ufl.core.expr.Expr, c: ScaledConstants) -> ufl.core.expr.Expr:
    """Cubic gradient energy density ½G11·ΣPi,i² + G12·Σ_{i<j}Pi,i·Pj,j + ½G44·Σ_{i≠j}Pi,j²."""
    g = ufl.grad(P)
    diagonal = g[0, 0] ** 2 + g[1, 1] ** 2 + g[2, 2] ** 2
    mixed = g[0, 0] * g[1, 1] + g[1, 1] * g[2, 2] + g[2, 2] * g[0, 0]
    off = ufl.inner(g, g) - diagonal
    return 0.5 * c.G11 * diagonal + c.G12 * mixed + 0.5 * c.G44 * off


def elastic_density(u, P, stiffness: dolfinx.fem.Constant, c: ScaledConstants | None):
    """½(ε − ε⁰):C:(ε − ε⁰) (stress scale); ε⁰ = 0 where ``c`` is None or electrostriction is off."""
    eps = strain(u)
    if c is not None and c.electrostriction:
        eps = eps - eigenstrain(P, c)
    voigt = to_voigt(eps, engineering_shear=True)
    return 0.5 * ufl.inner(ufl.dot(stiffness, voigt), voigt)


@dataclasses.dataclass
class Domains:
    """Where each part of the energy is integrated.

    Attributes:
        dx_film: Volume measure of the film.
        dx_rest: Volume measure of the other solids (the substrate), elastic only.
        dx_air: Volume measure of the air, or None (electric only, vacuum permittivity).
        ds: Exterior-facet measure of the film's physical surface (its top), or None when
            it has none (a top under air is interior; symmetry planes and lateral walls
            are mirror planes, not surfaces).
        dS_interface: Interior-facet measure of the film's inner faces (its bottom, and its
            top under an air layer), or None.
        film_indicator: DG0 function, 1 in film cells and 0 elsewhere (picks the film side
            of interior facets).
    """

    dx_film: ufl.Measure
    dx_rest: ufl.Measure | None
    dx_air: ufl.Measure | None
    ds: ufl.Measure | None
    dS_interface: ufl.Measure | None  # noqa: N815 — UFL's name for interior facets
    film_indicator: dolfinx.fem.Function

    @property
    def dielectric(self) -> ufl.Measure:
        """Where φ is solved: the film, and the air if there is one."""
        return self.dx_film if self.dx_air is None else self.dx_film + self.dx_air


def dielectric_form(trial, test, film_permittivity: ufl.core.expr.Expr, c: ScaledConstants,
                    domains: Domains) -> ufl.Form:
    """∫ ε·∇trial·∇test over the dielectric: ``film_permittivity`` in the film, ε0 in the air.

    A zero term over the other solids keeps their (grounded) dofs in the sparsity pattern.
    """
    grad_product = ufl.inner(ufl.grad(trial), ufl.grad(test))
    form = film_permittivity * grad_product * domains.dx_film
    if domains.dx_air is not None:
        form += c.vacuum_permittivity * grad_product * domains.dx_air
    if domains.dx_rest is not None:
        form += c.zero * trial * test * domains.dx_rest
    return form


def flexo_energy(u, P, c: ScaledConstants, domains: Domains) -> ufl.Form:
    """∫_film f_ijkl P_k ∂_l ε_ij dV as −∫A:∇P + ∮(A·n)·P over the film's surfaces, or −∫A:∇P alone.

    The second is the form ``eps_grad_P`` (module docstring).
    """
    A = flexo_contraction(strain(u), c)
    n = ufl.FacetNormal(domains.film_indicator.function_space.mesh)
    energy = -ufl.inner(A, ufl.grad(P)) * domains.dx_film
    if not c.surface_flexo:  # −∫f·ε·∂P: no surface term
        return energy
    chi = domains.film_indicator
    if domains.ds is not None:
        energy += chi * ufl.dot(ufl.dot(A, n), P) * domains.ds
    if domains.dS_interface is not None:
        energy += sum(chi(side) * ufl.dot(ufl.dot(A(side), n(side)), P(side))
                      for side in ("+", "-")) * domains.dS_interface
    return energy


def free_energy(u, P, phi, stiffness: dolfinx.fem.Constant, c: ScaledConstants,
                domains: Domains, charge: ufl.core.expr.Expr | None = None,
                flexoelectric: bool = True) -> ufl.Form:
    """The total energy functional F(u, P, φ) (stress scale × volume), without the tip load.

    Args:
        u: Displacement (Function or UFL expression).
        P: Polarisation.
        phi: Electric potential.
        stiffness: Scaled 6×6 Voigt stiffness (film and substrate).
        c: Scaled constants.
        domains: Integration domains.
        charge: Space-charge density ρ in the film (C/m³ × length scale / polarisation
            scale, i.e. scaled), or None.
        flexoelectric: Include the flexoelectric term (its Constants are zero when the
            config switches it off; False drops it from the form altogether).
    """
    dx_film = domains.dx_film
    grad_phi = ufl.grad(phi)
    energy = (landau_density(P, c) + gradient_density(P, c) + elastic_density(u, P, stiffness, c)
              - 0.5 * c.permittivity * ufl.dot(grad_phi, grad_phi) + ufl.dot(P, grad_phi)) * dx_film
    if domains.dx_rest is not None:
        energy += elastic_density(u, P, stiffness, None) * domains.dx_rest
        # P and φ are pinned to zero off the film (Dirichlet); a zero-valued term keeps
        # their dofs there in the sparsity pattern, which is built from the integration
        # domains, so that the Dirichlet rows get their unit diagonal.
        energy += c.zero * (ufl.dot(P, P) + phi**2) * domains.dx_rest
    if domains.dx_air is not None:  # u and P are pinned in the air: keep their sparsity
        energy += (-0.5 * c.vacuum_permittivity * ufl.dot(grad_phi, grad_phi)
                   + c.zero * (ufl.dot(u, u) + ufl.dot(P, P))) * domains.dx_air
    if charge is not None:
        energy += charge * phi * dx_film
    if flexoelectric:
        energy += flexo_energy(u, P, c, domains)
    return energy
