"""Rigid tip shapes as axisymmetric height profiles h(r), in NumPy.

h(r) is the height of the tip surface above its lowest point at distance r from the tip
axis: h(0) = 0 and h grows with r. A tip pressed by the rigid approach δ has its surface
at z = h(r) − δ (z up, undeformed film top at z = 0), so the gap between tip and film
is g = h(r) − δ − u_z.

Lengths are in whatever unit the caller uses consistently (the model unit in the forms,
metres at the config interface). Beyond the tip's flank the profile is steep:
``OUTSIDE`` marks heights that are never reached by a film surface.
"""

from __future__ import annotations

import dataclasses
import pathlib

import numpy as np

from flexotip.analytic import hertz_contact_radius

OUTSIDE = 1.0e30
"""Height used where the tip has no surface (beyond a sphere's radius, a punch's wall)."""


@dataclasses.dataclass(frozen=True)
class SphereTip:
    """A sphere of radius R: h(r) = R − sqrt(R² − r²) (exact, not the paraboloid)."""

    radius: float

    def height(self, r: np.ndarray) -> np.ndarray:
        """h(r) of the sphere; ``OUTSIDE`` for r ≥ R."""
        r = np.asarray(r, dtype=float)
        inside = r < self.radius
        h = self.radius - np.sqrt(np.clip(self.radius**2 - r**2, 0.0, None))
        return np.where(inside, h, OUTSIDE)

    def hertz_contact_radius(self, force: float, modulus: float) -> float:
        """Hertz contact radius (3FR/(4E*))^(1/3) in the caller's units."""
        return hertz_contact_radius(force, self.radius, modulus)

    def predicted_contact_radius(self, force: float, modulus: float) -> float:
        """The contact radius expected before solving: Hertz."""
        return self.hertz_contact_radius(force, modulus)

    def predicted_approach(self, force: float, modulus: float) -> float:
        """Hertz approach δ = a²/R."""
        return self.hertz_contact_radius(force, modulus) ** 2 / self.radius


@dataclasses.dataclass(frozen=True)
class FlatTip:
    """A flat-ended cylinder of radius a whose edge is rounded with a fillet of radius r_e.

    The flat face spans r ≤ a (h = 0); the fillet is a quarter circle of radius r_e from
    (a, 0) up to (a + r_e, r_e); the cylinder wall stands at r = a + r_e. r_e = 0 is the
    sharp punch (Sneddon).
    """

    radius: float
    edge_radius: float = 0.0

    def height(self, r: np.ndarray) -> np.ndarray:
        """h(r): 0 on the face, the fillet arc beyond it, ``OUTSIDE`` past the wall."""
        r = np.asarray(r, dtype=float)
        a, re = self.radius, self.edge_radius
        s = np.clip(r - a, 0.0, re)
        fillet = re - np.sqrt(np.clip(re**2 - s**2, 0.0, None))
        return np.where(r <= a, 0.0, np.where(r < a + re, fillet, OUTSIDE))

    def predicted_contact_radius(self, force: float, modulus: float) -> float:
        """The punch radius (the fillet adds a little, found by the solve)."""
        return self.radius

    def predicted_approach(self, force: float, modulus: float) -> float:
        """Sneddon's δ = F/(2aE*)."""
        return force / (2 * self.radius * modulus)


@dataclasses.dataclass(frozen=True)
class ProfileTip:
    """A measured axisymmetric profile: h given at increasing radii, linearly interpolated.

    Attributes:
        radii: Radii r_i, increasing, starting at 0.
        heights: h(r_i), with heights[0] = 0 (the apex) and non-decreasing.
    """

    radii: tuple[float, ...]
    heights: tuple[float, ...]

    def __post_init__(self):
        r, h = np.asarray(self.radii), np.asarray(self.heights)
        if r.ndim != 1 or r.size < 3 or r.size != h.size:
            raise ValueError(f"tip profile needs ≥ 3 points (r, h) of equal count; got {r.size}, {h.size}")
        if r[0] != 0.0 or np.any(np.diff(r) <= 0):
            raise ValueError("tip profile radii must start at 0 and increase")
        if h[0] != 0.0 or np.any(np.diff(h) < 0):
            raise ValueError("tip profile heights must start at 0 (the apex) and not decrease")

    @classmethod
    def from_file(cls, path: str | pathlib.Path, scale: float = 1.0) -> ProfileTip:
        """Read two columns r, h (m; '#' comments and a header line allowed), times ``scale``."""
        data = np.genfromtxt(path, delimiter=None if str(path).endswith(".txt") else ",",
                             comments="#", skip_header=0, invalid_raise=True)
        data = data[np.all(np.isfinite(data), axis=1)]
        return cls(tuple(data[:, 0] * scale), tuple(data[:, 1] * scale))

    def height(self, r: np.ndarray) -> np.ndarray:
        """h(r), linear between the points, ``OUTSIDE`` beyond the last radius."""
        r = np.asarray(r, dtype=float)
        h = np.interp(r, self.radii, self.heights)
        return np.where(r <= self.radii[-1], h, OUTSIDE)

    def apex_radius(self) -> float:
        """Radius of curvature at the apex from the first points (h ≈ r²/(2R))."""
        r, h = np.asarray(self.radii), np.asarray(self.heights)
        near = slice(1, min(4, r.size))
        return float(np.mean(r[near] ** 2 / (2 * np.maximum(h[near], 1e-300))))

    def predicted_contact_radius(self, force: float, modulus: float) -> float:
        """Hertz with the apex curvature, limited to the profile's extent."""
        radius = self.apex_radius()
        return min(hertz_contact_radius(force, radius, modulus), 0.8 * self.radii[-1])

    def predicted_approach(self, force: float, modulus: float) -> float:
        """Hertz approach with the apex curvature."""
        return self.predicted_contact_radius(force, modulus) ** 2 / self.apex_radius()


Tip = SphereTip | FlatTip | ProfileTip



def in_units(tip: Tip, length: float) -> Tip:
    """The same tip with its lengths divided by ``length`` (e.g. the model's length scale, m)."""
    if isinstance(tip, SphereTip):
        return SphereTip(tip.radius / length)
    if isinstance(tip, FlatTip):
        return FlatTip(tip.radius / length, tip.edge_radius / length)
    return ProfileTip(tuple(r / length for r in tip.radii), tuple(h / length for h in tip.heights))
