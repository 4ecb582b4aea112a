"""Prescribed tip pressures on the contact disc (UFL, scaled units).

The load on the film top is the traction t = -p(r)·e_z on the contact disc (z up), with
r the distance from the tip axis. Every parameter is a ``dolfinx.fem.Constant`` so that
a study can change force, radius or position without recompiling the forms.

* Hertz (sphere): p = p0·sqrt(1 - r²/a²), p0 = 3F/(2πa²).
* Sneddon (flat punch): p = F/(2πa·sqrt(a² - r²)). The edge singularity is integrable
  but no quadrature on a polygonal disc captures it: the pressure is replaced, in a band
  of width w inside the edge, by its mean over that band, F·sqrt(1 - (1 - w/a)²) /
  (π·(a² - (a - w)²)). The total force stays F exactly, the pressure is smooth inside
  every cell when the mesh carries the circle r = a - w, and the band shrinks with the
  mesh (w is the contact-edge cell size).
* Gaussian (a smooth load for the spectral cross-check): p = F/(2π·s²)·exp(−r²/(2s²)) with
  s = a/2 (the "contact radius" is two standard deviations); it acts on the whole film top.
"""

from __future__ import annotations

import dataclasses
import math

import dolfinx.fem
import numpy as np
import ufl

from flexotip.analytic import hertz_peak_pressure

PROFILES = ("hertz", "punch", "gaussian")

GAUSSIAN_WIDTH = 0.5
"""Standard deviation of the Gaussian profile in contact radii."""


@dataclasses.dataclass
class TipPressure:
    """Parameters of an axisymmetric prescribed tip pressure, all scaled.

    Attributes:
        profile: "hertz" (sphere), "punch" (flat-ended cylinder) or "gaussian".
        force: Total force of the whole tip (force scale), a Constant.
        contact_radius: Contact radius a (length scale), a Constant.
        center: (x, y) of the tip axis (length scale), a Constant of shape (2,).
        edge_band: Width w of the regularised edge band of the punch, a Constant.
    """

    profile: str
    force: dolfinx.fem.Constant
    contact_radius: dolfinx.fem.Constant
    center: dolfinx.fem.Constant
    edge_band: dolfinx.fem.Constant

    @classmethod
    def create(cls, msh, profile: str, force: float, contact_radius: float,
               center: tuple[float, float], edge_band: float = 0.0) -> TipPressure:
        """Create the constants on a mesh from scaled values."""
        if profile not in PROFILES:
            raise ValueError(f"unknown tip pressure profile {profile!r}; allowed: {PROFILES}")

        def constant(value):
            return dolfinx.fem.Constant(msh, np.asarray(value, dtype=dolfinx.default_scalar_type))

        return cls(profile, constant(force), constant(contact_radius), constant(center),
                   constant(edge_band))

    def radial_distance(self, x: ufl.core.expr.Expr) -> ufl.core.expr.Expr:
        """Distance r from the tip axis of the spatial coordinate x."""
        return ufl.sqrt((x[0] - self.center[0]) ** 2 + (x[1] - self.center[1]) ** 2)

    def pressure(self, x: ufl.core.expr.Expr) -> ufl.core.expr.Expr:
        """The pressure p(r) (stress scale) as a UFL expression of the coordinate x."""
        r = self.radial_distance(x)
        a, F = self.contact_radius, self.force
        if self.profile == "hertz":
            p0 = hertz_peak_pressure(F, a)
            return p0 * ufl.sqrt(ufl.max_value(1 - r**2 / a**2, 0.0))
        if self.profile == "gaussian":
            width = GAUSSIAN_WIDTH * a
            return F / (2 * math.pi * width**2) * ufl.exp(-(r**2) / (2 * width**2))
        w = self.edge_band
        inner = a - w
        p_core = F / (2 * math.pi * a * ufl.sqrt(ufl.max_value(a**2 - r**2, a**2 - inner**2)))
        p_band = F * ufl.sqrt(1 - inner**2 / a**2) / (math.pi * (a**2 - inner**2))
        return ufl.conditional(ufl.lt(r, inner), p_core, ufl.conditional(ufl.le(r, a), p_band, 0.0))

    def _values(self) -> tuple[float, float, float]:
        return tuple(float(c.value) for c in (self.contact_radius, self.force, self.edge_band))

    def peak_pressure(self) -> float:
        """Largest value of the applied pressure (stress scale).

        p0 for Hertz; the band pressure for the regularised punch (the Sneddon pressure
        itself is unbounded at the edge).
        """
        a, F, w = self._values()
        if self.profile == "hertz":
            return hertz_peak_pressure(F, a)
        if self.profile == "gaussian":
            return F / (2 * math.pi * (GAUSSIAN_WIDTH * a) ** 2)
        inner = a - w
        return F * math.sqrt(1 - inner**2 / a**2) / (math.pi * (a**2 - inner**2))

    def pressure_values(self, r: np.ndarray) -> np.ndarray:
        """The applied pressure (stress scale) at distances r from the axis, in NumPy.

        The same function as :meth:`pressure` (zero outside the contact disc, except
        for the Gaussian).
        """
        a, F, w = self._values()
        r = np.asarray(r, dtype=float)
        if self.profile == "hertz":
            return hertz_peak_pressure(F, a) * np.sqrt(np.clip(1 - r**2 / a**2, 0.0, None))
        if self.profile == "gaussian":
            return self.peak_pressure() * np.exp(-(r**2) / (2 * (GAUSSIAN_WIDTH * a) ** 2))
        core = F / (2 * math.pi * a * np.sqrt(np.maximum(a**2 - r**2, a**2 - (a - w) ** 2)))
        return np.where(r < a - w, core, np.where(r <= a, self.peak_pressure(), 0.0))
