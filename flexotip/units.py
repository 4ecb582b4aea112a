"""Physical constants and the scales that make the forms dimensionless.

Every interface of flexotip (config, function arguments, summary.json, field files)
is in SI units. Inside the finite-element forms the problem is written in scaled
variables so that the assembled systems are well conditioned and gmsh works with
lengths of order one: a length of 1 in the mesh is ``Scales.length`` metres.

The scales live in one frozen object, built once per run, and every conversion
between SI and scaled values goes through it.
"""

from __future__ import annotations

import dataclasses

EPSILON_0 = 8.8541878128e-12
"""Vacuum permittivity, F/m."""

ELEMENTARY_CHARGE = 1.602176634e-19
"""Elementary charge, C."""

BOLTZMANN = 1.380649e-23
"""Boltzmann constant, J/K."""


@dataclasses.dataclass(frozen=True)
class Scales:
    """Reference values that turn SI quantities into the scaled ones of the forms.

    Attributes:
        length: Length scale, m. Mesh coordinates are in this unit (1 nm by default).
        stress: Stress scale, Pa (1 GPa by default). Elastic constants and
            pressures are divided by it.
        polarization: Polarisation scale, C/m² (1 C/m² by default).

    With the defaults the potential scale is 1 V and every energy density of the
    electromechanics (Landau, gradient, elastic, flexoelectric, electric) is of order
    0.01–300 in the scaled forms.
    """

    length: float = 1.0e-9
    stress: float = 1.0e9
    polarization: float = 1.0

    @property
    def displacement(self) -> float:
        """Displacement scale, m (equal to the length scale)."""
        return self.length

    @property
    def force(self) -> float:
        """Force scale, N: stress times length squared (1 nN by default)."""
        return self.stress * self.length**2

    @property
    def strain_gradient(self) -> float:
        """Strain-gradient scale, 1/m: one over the length scale."""
        return 1.0 / self.length

    @property
    def potential(self) -> float:
        """Potential scale, V: stress·length/polarisation, so that P·∇φ is a stress."""
        return self.stress * self.length / self.polarization

    @property
    def permittivity(self) -> float:
        """Permittivity scale, F/m: polarisation·length/potential (ε0 is 8.85e-3 scaled)."""
        return self.polarization * self.length / self.potential

    @property
    def electric_field(self) -> float:
        """Electric-field scale, V/m: potential/length (1 V/nm = 1e9 V/m by default)."""
        return self.potential / self.length

    @property
    def charge_density(self) -> float:
        """Volume charge density scale, C/m³: polarisation/length."""
        return self.polarization / self.length
