"""The material model in SI units, NumPy only: what FEM, spectral reference and config share.

* :class:`CubicElasticity`: the film's (and substrate's) elastic constants, Pa.
* :class:`ElectromechanicalMaterial`: Landau, gradient, electrostrictive and flexocoupling
  constants of the film, and :func:`short_wavelength_stability`, whether their free energy
  has a minimum at all.
* :class:`VacancyMaterial`: the oxygen vacancies' density, diffusivity and charge.
* The one Voigt order (:data:`VOIGT_PAIRS`) and the cubic fourth-order tensor
  (:func:`cubic_tensor`).

The crystal axes [100], [010], [001] coincide with x, y, z (a (001) film). Voigt order:
11, 22, 33, 23, 13, 12; stiffness matrices act on engineering shear strains, so that
stress_voigt = C @ strain_voigt. Nothing here imports DOLFINx: ``import
flexotip.materials`` is cheap, and the spectral reference depends on this module only.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from flexotip.units import BOLTZMANN, ELEMENTARY_CHARGE, EPSILON_0, Scales

VOIGT_PAIRS = ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))
"""The tensor components (i, j) in Voigt order (xx, yy, zz, yz, xz, xy)."""

VOIGT_NAMES = ("xx", "yy", "zz", "yz", "xz", "xy")
"""Names of the Voigt components, in :data:`VOIGT_PAIRS` order."""

VOIGT_INDEX = np.empty((3, 3), dtype=int)
"""Position in Voigt order of the tensor component (i, j) (symmetric)."""
for _position, (_i, _j) in enumerate(VOIGT_PAIRS):
    VOIGT_INDEX[_i, _j] = VOIGT_INDEX[_j, _i] = _position
del _position, _i, _j


def voigt_to_tensor(voigt: np.ndarray) -> np.ndarray:
    """The (3, 3, 3, 3) stiffness tensor of a 6×6 Voigt matrix (engineering shear)."""
    index = VOIGT_INDEX
    return np.asarray(voigt)[index[:, :, None, None], index[None, None, :, :]]


def cubic_tensor(t11: float, t12: float, t44: float) -> np.ndarray:
    """The (3, 3, 3, 3) cubic tensor t_ijkl with t_1111 = t11, t_1122 = t12, t_1212 = t44.

    t_ijkl = t12·δij·δkl + t44·(δik·δjl + δil·δjk) + (t11 − t12 − 2·t44)·δijkl: the
    stiffness (c11, c12, c44) and the flexocoupling (f11, f12, f44) have this form.
    """
    d = np.eye(3)
    t = (t12 * np.einsum("ij,kl->ijkl", d, d)
         + t44 * (np.einsum("ik,jl->ijkl", d, d) + np.einsum("il,jk->ijkl", d, d)))
    for a in range(3):
        t[a, a, a, a] = t11
    return t


@dataclasses.dataclass(frozen=True)
class CubicElasticity:
    """Cubic elastic stiffness (isotropic when c44 = (c11 - c12)/2).

    Attributes:
        c11: Stiffness C_1111, Pa.
        c12: Stiffness C_1122, Pa.
        c44: Stiffness C_1212, Pa.
    """

    c11: float
    c12: float
    c44: float

    @classmethod
    def isotropic(cls, young: float, poisson: float) -> CubicElasticity:
        """Isotropic stiffness from Young's modulus (Pa) and Poisson's ratio."""
        lame = young * poisson / ((1 + poisson) * (1 - 2 * poisson))
        shear = young / (2 * (1 + poisson))
        return cls(lame + 2 * shear, lame, shear)

    def tensor(self) -> np.ndarray:
        """The (3, 3, 3, 3) stiffness tensor C_ijkl, Pa."""
        return cubic_tensor(self.c11, self.c12, self.c44)

    def voigt(self) -> np.ndarray:
        """The 6×6 stiffness matrix in Voigt notation, Pa."""
        C = np.zeros((6, 6))
        C[:3, :3] = self.c12
        C[np.arange(3), np.arange(3)] = self.c11
        C[np.arange(3, 6), np.arange(3, 6)] = self.c44
        return C

    def uniaxial_100(self) -> tuple[float, float]:
        """Young's modulus (Pa) and Poisson's ratio for uniaxial stress along [100]."""
        young = (self.c11 - self.c12) * (self.c11 + 2 * self.c12) / (self.c11 + self.c12)
        return young, self.c12 / (self.c11 + self.c12)

    def voigt_reuss_hill(self) -> tuple[float, float]:
        """Isotropic average (Voigt–Reuss–Hill): Young's modulus (Pa), Poisson's ratio."""
        bulk = (self.c11 + 2 * self.c12) / 3
        shear_voigt = (self.c11 - self.c12 + 3 * self.c44) / 5
        shear_reuss = 5 * (self.c11 - self.c12) * self.c44 / (4 * self.c44 + 3 * (self.c11 - self.c12))
        shear = 0.5 * (shear_voigt + shear_reuss)
        young = 9 * bulk * shear / (3 * bulk + shear)
        return young, (3 * bulk - 2 * shear) / (2 * (3 * bulk + shear))

    def stability_error(self) -> str | None:
        """Why the constants are not positive definite, or None if they are."""
        if self.c44 <= 0:
            return "c44 must be > 0"
        if self.c11 <= abs(self.c12):
            return "c11 must exceed |c12|"
        if self.c11 + 2 * self.c12 <= 0:
            return "c11 + 2·c12 must be > 0"
        return None


def barrett_alpha1(temperature: float) -> float:
    """Landau α1 of SrTiO3 (J·m/C²): 4.05e7·[coth(54/T) − coth(54/30)] (Li et al. 2006)."""
    return 4.05e7 * (1 / math.tanh(54 / temperature) - 1 / math.tanh(54 / 30))


def is_isotropic(elasticity: CubicElasticity) -> bool:
    """True when the cubic constants describe an isotropic solid (Zener ratio 1)."""
    return math.isclose(2 * elasticity.c44, elasticity.c11 - elasticity.c12, rel_tol=1e-12)


def contact_modulus(
    elasticity: CubicElasticity, tip_young: float | None = None, tip_poisson: float = 0.0
) -> float:
    """Effective contact modulus E* of the tip on the film's (001) surface, Pa.

    1/E* = (1 - ν²)/E + (1 - ν_t²)/E_t, with E, ν of the film: the isotropic values when
    the constants are isotropic, otherwise the [100] uniaxial values of the cubic crystal
    (E = 284.3 GPa, ν = 0.2415 for STO, hence E* = 301.9 GPa for a rigid tip). A rigid
    tip (``tip_young`` None) drops the second term.

    Args:
        elasticity: Elastic constants of the film, Pa.
        tip_young: Young's modulus of the tip, Pa; None for a rigid tip.
        tip_poisson: Poisson's ratio of the tip.
    """
    young, poisson = elasticity.uniaxial_100()
    compliance = (1 - poisson**2) / young
    if tip_young is not None:
        compliance += (1 - tip_poisson**2) / tip_young
    return 1.0 / compliance


LANDAU_CHOICES = ("linear", "full")
"""The Landau energy: α1·|P|² alone, or with the quartic α11, α12 terms."""

FLEXO_FORMS = ("P_grad_eps", "eps_grad_P")
"""The flexoelectric energy: f·P_k·∂_l ε_ij with its surface term (default), or −f·ε_ij·∂_l P_k
(docs/model.md, "Flexoelectric form")."""


@dataclasses.dataclass(frozen=True)
class ElectromechanicalMaterial:
    """Electromechanical constants of the film, SI (the energy is in docs/model.md).

    Attributes:
        alpha1: Landau α1, J·m/C² (χ = 1/(2·ε0·α1)).
        alpha11: Landau α11, J·m⁵/C⁴.
        alpha12: Landau α12, J·m⁵/C⁴.
        Q11: Electrostriction Q11, m⁴/C².
        Q12: Electrostriction Q12, m⁴/C².
        Q44: Electrostriction Q44 (tensor shear), m⁴/C².
        f11: Flexocoupling f_1111, V.
        f12: Flexocoupling f_1122, V.
        f44: Flexocoupling f_1212, V.
        G11: Gradient coefficient, J·m³/C².
        G12: Gradient coefficient, J·m³/C².
        G44: Gradient coefficient, J·m³/C².
        eps_background: Background relative permittivity κ_b.
        landau: "linear" (α1 only) or "full" (with α11, α12).
        flexoelectric: Whether the flexoelectric coupling is on.
        electrostriction: Whether the electrostrictive eigenstrain is on.
        flexo_form: "P_grad_eps" (∫f·P·∂ε, with its surface term) or "eps_grad_P"
            (−∫f·ε·∂P, no surface term).
    """

    alpha1: float
    alpha11: float = 1.70e9
    alpha12: float = 1.37e9
    Q11: float = 4.57e-2
    Q12: float = -1.348e-2
    Q44: float = 0.957e-2
    f11: float = 0.0
    f12: float = 0.0
    f44: float = 0.0
    G11: float = 0.0
    G12: float = 0.0
    G44: float = 0.0
    eps_background: float = 10.0
    landau: str = "linear"
    flexoelectric: bool = True
    electrostriction: bool = True
    flexo_form: str = "P_grad_eps"

    def __post_init__(self):
        if self.landau not in LANDAU_CHOICES:
            raise ValueError(f"landau = {self.landau!r}: must be one of {LANDAU_CHOICES}")
        if self.flexo_form not in FLEXO_FORMS:
            raise ValueError(f"flexo_form = {self.flexo_form!r}: must be one of {FLEXO_FORMS}")

    @property
    def susceptibility(self) -> float:
        """χ = 1/(2·ε0·α1) of the linear paraelectric (305.8 for STO at 300 K)."""
        return 1.0 / (2 * EPSILON_0 * self.alpha1)

    def flexo_tensor(self) -> np.ndarray:
        """f_ijkl (3, 3, 3, 3), V: indices (ij) strain, k polarisation, l gradient; 0 when off."""
        if not self.flexoelectric:
            return np.zeros((3, 3, 3, 3))
        return cubic_tensor(self.f11, self.f12, self.f44)

    def gradient_tensor(self) -> np.ndarray:
        """G_ijkl (3, 3, 3, 3), J·m³/C², indexed (P_i, ∂_j, P_k, ∂_l).

        G_iiii = G11, G_iikk = G12 and G_ikik = G44 (i ≠ k), with no Pi,j·Pj,i term, so that
        G11 = G44 = g, G12 = 0 is the isotropic ½g|∇P|².
        """
        d = np.eye(3)
        G = self.G12 * np.einsum("ij,kl->ijkl", d, d) + self.G44 * np.einsum("ik,jl->ijkl", d, d)
        for a in range(3):
            G[a, a, a, a] = self.G11
        return G


def short_wavelength_stability(material: ElectromechanicalMaterial, elasticity_voigt: np.ndarray,
                               directions: int = 2000) -> float:
    """Smallest eigenvalue of the gradient stiffness left after the flexo coupling, J·m³/C².

    At a wavevector k the energy's k² part couples u and P through f: per unit |k|²,
    ½·u·Γ_C·u + ½·P·Γ_G·P + u·Γ_f·P with the acoustic tensor Γ_C,ik = c_ijkl·n_j·n_l, the
    gradient tensor Γ_G,ik = G_ijkl·n_j·n_l and Γ_f,ik = f_ijkl·n_j·n_l (n = k/|k|). The
    energy is bounded below at short wavelengths only if Γ_G − Γ_fᵀ·Γ_C⁻¹·Γ_f ≥ 0 for
    every direction (f² ≲ c·G): otherwise the free energy has no minimum, and a
    discretisation shows it as mesh-scale oscillations of P and φ. Returns the smallest
    eigenvalue over ``directions`` quasi-uniform directions (negative: unstable).

    Args:
        material: The film's constants.
        elasticity_voigt: Its 6×6 Voigt stiffness, Pa.
        directions: Number of directions n sampled (a Fibonacci sphere).
    """
    C = voigt_to_tensor(elasticity_voigt)
    F = material.flexo_tensor()
    G = material.gradient_tensor()
    golden = np.pi * (3 - np.sqrt(5))
    z = 1 - 2 * (np.arange(directions) + 0.5) / directions
    n = np.c_[np.sqrt(1 - z**2) * np.cos(golden * np.arange(directions)),
              np.sqrt(1 - z**2) * np.sin(golden * np.arange(directions)), z]
    smallest = np.inf
    for k in n:
        acoustic = np.einsum("ijkl,j,l->ik", C, k, k)
        gradient = np.einsum("ijkl,j,l->ik", G, k, k)
        coupling = np.einsum("ijkl,j,l->ik", F, k, k)  # u_i ↔ P_k
        schur = gradient - coupling.T @ np.linalg.solve(acoustic, coupling)
        smallest = min(smallest, float(np.linalg.eigvalsh(0.5 * (schur + schur.T))[0]))
    return smallest


@dataclasses.dataclass(frozen=True)
class VacancyMaterial:
    """Oxygen-vacancy constants (SI).

    Attributes:
        c0: Initial uniform density, also the compensating background of the space
            charge, 1/m³.
        diffusivity: D, m²/s.
        charge: Charge number z (+2 for V_O••).
        temperature: K.
    """

    c0: float
    diffusivity: float
    charge: int
    temperature: float

    @property
    def thermal_voltage(self) -> float:
        """V_T = k_B·T/(z·e), V (12.9 mV for z = 2 at 300 K)."""
        return BOLTZMANN * self.temperature / (self.charge * ELEMENTARY_CHARGE)

    @property
    def mobility(self) -> float:
        """Electrical mobility D/V_T, m²/(V·s)."""
        return self.diffusivity / self.thermal_voltage

    @property
    def charge_density(self) -> float:
        """z·e·c0, C/m³: the space charge of a density c0 of vacancies."""
        return self.charge * ELEMENTARY_CHARGE * self.c0

    def space_charge(self, relative_density, scales: Scales):
        """ρ = z·e·(c − c0) in the charge-density scale, for c = c0·``relative_density``.

        ``relative_density`` may be an array or a UFL expression: this is arithmetic only.
        """
        return self.charge_density / scales.charge_density * (relative_density - 1.0)

    def debye_length(self, relative_permittivity: float) -> float:
        """√(ε0·ε_r·V_T/(z·e·c0)), m: the screening length of the vacancies alone."""
        return math.sqrt(EPSILON_0 * relative_permittivity * self.thermal_voltage
                         / (self.charge * ELEMENTARY_CHARGE * self.c0))
