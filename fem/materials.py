"""Material tensors of SrTiO3 (and an isotropic stand-in), as plain NumPy data.

Elastic constants are in Pa. The crystal axes [100], [010], [001] coincide with x, y, z
(a (001) film). Voigt order: 11, 22, 33, 23, 13, 12, with engineering shear strains,
so that stress_voigt = C @ strain_voigt.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np


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


def hertz_contact_radius(force: float, tip_radius: float, modulus: float) -> float:
    """Hertz contact radius a = (3·F·R/(4·E*))^(1/3), m, for F in N, R in m, E* in Pa."""
    return (3 * force * tip_radius / (4 * modulus)) ** (1 / 3)


def hertz_tip_radius(force: float, contact_radius: float, modulus: float) -> float:
    """Sphere radius R = 4·E*·a³/(3·F), m, that gives the Hertz contact radius a."""
    return 4 * modulus * contact_radius**3 / (3 * force)
