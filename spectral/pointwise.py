"""The local nonlinear energy terms on a grid, shared by the box and the film solvers.

Electrostriction (eigenstrain ε⁰ = Q:P⊗P in the tensor-shear convention ε⁰_23 = Q44·P2·P3)
and the quartic Landau terms α11·ΣP_i⁴ + α12·Σ_{i<j}P_i²P_j² are products of fields at a
point: the spectral solvers evaluate them pseudo-spectrally, on the grid, with these
functions (:mod:`flexotip.spectral.box_electromechanics` in the mirror-walled box,
:mod:`flexotip.spectral.film_dynamics` in the film). Symmetric tensors are Voigt vectors
(xx, yy, zz, yz, xz, xy) with tensor shears; every array is in the scaled units of
:class:`flexotip.units.Scales`, the grid axes after the leading component axis.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from flexotip.materials import VOIGT_INDEX, CubicElasticity, ElectromechanicalMaterial
from flexotip.units import Scales


@dataclasses.dataclass(frozen=True)
class LocalTerms:
    """The scaled constants of the local energy: stiffness, electrostriction, quartic Landau.

    Attributes:
        C: Voigt stiffness (6 × 6), scaled stress.
        q11, q12, q44: Electrostrictive coefficients, scaled (0 when switched off).
        a11, a12: Quartic Landau coefficients, scaled (used with ``full_landau``).
        electrostriction: Whether the electrostrictive coupling is on.
        full_landau: Whether the quartic Landau terms are on.
    """

    C: np.ndarray
    q11: float = 0.0
    q12: float = 0.0
    q44: float = 0.0
    a11: float = 0.0
    a12: float = 0.0
    electrostriction: bool = False
    full_landau: bool = False

    @classmethod
    def of(cls, elasticity: CubicElasticity, material: ElectromechanicalMaterial | None,
           scales: Scales) -> LocalTerms:
        """The terms of ``material`` (SI) in ``scales``; None: elasticity alone."""
        s = scales
        C = elasticity.voigt() / s.stress
        if material is None:
            return cls(C)
        q11, q12, q44 = (q * s.polarization**2 for q in (material.Q11, material.Q12, material.Q44))
        a11, a12 = (a * s.polarization**4 / s.stress for a in (material.alpha11, material.alpha12))
        return cls(C, q11, q12, q44, a11, a12, bool(material.electrostriction), material.landau == "full")

    @property
    def nonlinear(self) -> bool:
        """Whether any term is on."""
        return self.electrostriction or self.full_landau

    def stress(self, strain: np.ndarray) -> np.ndarray:
        """C:ε (Voigt) of a tensor-shear Voigt strain (6, …)."""
        engineering = strain.copy()
        engineering[3:] *= 2
        return np.einsum("ab,b...->a...", self.C, engineering)

    def electrostrictive_strain(self, P: np.ndarray) -> np.ndarray:
        """ε⁰ = Q:P⊗P (Voigt, tensor shear) from P (3, …); zero when electrostriction is off."""
        eigen = np.zeros((6, *P.shape[1:]))
        if self.electrostriction:
            squares = P**2
            eigen[:3] = self.q12 * squares.sum(axis=0) + (self.q11 - self.q12) * squares
            eigen[3], eigen[4], eigen[5] = (self.q44 * P[1] * P[2], self.q44 * P[0] * P[2],
                                            self.q44 * P[0] * P[1])
        return eigen

    def force(self, P: np.ndarray, stress: np.ndarray) -> np.ndarray:
        """The nonlinear part of δF/δP (3, …): the quartic Landau terms and −σ:∂ε⁰/∂P.

        ``stress``: the elastic stress σ = C:(ε − ε⁰) (Voigt) at the same points.
        """
        force = np.zeros_like(P)
        squares = P**2
        if self.full_landau:
            force += 4 * self.a11 * P**3 + 2 * self.a12 * P * (squares.sum(axis=0) - squares)
        if self.electrostriction:
            trace = stress[:3].sum(axis=0)
            for k in range(3):
                shear = sum(stress[VOIGT_INDEX[k, j]] * P[j] for j in range(3) if j != k)
                force[k] -= (2 * self.q12 * trace * P[k] + 2 * (self.q11 - self.q12) * stress[k] * P[k]
                             + 2 * self.q44 * shear)
        return force
