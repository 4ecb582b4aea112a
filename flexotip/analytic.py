"""Closed-form contact-mechanics solutions used to validate the solvers.

Half-space results (K. L. Johnson, *Contact Mechanics*, 1985, ch. 3; I. N. Sneddon,
Int. J. Eng. Sci. 3 (1965) 47), in SI units. Here ``depth`` is positive downwards and
``r`` is the distance from the tip axis; E* is the contact modulus E/(1 − ν²) of a
rigid indenter.
"""

from __future__ import annotations

import math

import numpy as np


def hertz_peak_pressure(force: float, contact_radius: float) -> float:
    """p0 = 3F/(2πa²), Pa."""
    return 3 * force / (2 * math.pi * contact_radius**2)


def hertz_contact_radius(force: float, tip_radius: float, modulus: float) -> float:
    """Hertz contact radius a = (3·F·R/(4·E*))^(1/3), m (F in N, R in m, E* in Pa, or consistent units)."""
    return (3 * force * tip_radius / (4 * modulus)) ** (1 / 3)


def hertz_tip_radius(force: float, contact_radius: float, modulus: float) -> float:
    """Sphere radius R = 4·E*·a³/(3·F), m, that gives the Hertz contact radius a."""
    return 4 * modulus * contact_radius**3 / (3 * force)


def hertz_surface_displacement(r: np.ndarray, force: float, contact_radius: float,
                               modulus: float) -> np.ndarray:
    """Downward surface displacement under the Hertz pressure, m (positive into the film).

    r ≤ a: π·p0·(2a² − r²)/(4·a·E*); r > a: p0/(2·a·E*)·[(2a² − r²)·arcsin(a/r) +
    a·r·sqrt(1 − a²/r²)].
    """
    a, p0 = contact_radius, hertz_peak_pressure(force, contact_radius)
    r = np.asarray(r, dtype=float)
    inside = math.pi * p0 * (2 * a**2 - r**2) / (4 * a * modulus)
    ro = np.maximum(r, a)
    outside = p0 / (2 * a * modulus) * (
        (2 * a**2 - ro**2) * np.arcsin(a / ro) + a * ro * np.sqrt(1 - a**2 / ro**2))
    return np.where(r <= a, inside, outside)


def hertz_axis_max_shear(poisson: float) -> tuple[float, float]:
    """Largest shear stress on the axis under Hertz pressure, as (τ/p0, depth/a).

    From σ_z/p0 = −1/(1 + ζ²) and σ_r/p0 = −(1 + ν)(1 − ζ·arctan(1/ζ)) + 1/(2(1 + ζ²)),
    ζ = depth/a, τ = |σ_z − σ_r|/2, maximised numerically (0.310 at 0.481 for ν = 0.3).
    """
    zeta = np.linspace(1e-6, 3.0, 300_001)
    sigma_z = -1 / (1 + zeta**2)
    sigma_r = -(1 + poisson) * (1 - zeta * np.arctan(1 / zeta)) + 0.5 / (1 + zeta**2)
    tau = 0.5 * np.abs(sigma_z - sigma_r)
    i = int(np.argmax(tau))
    return float(tau[i]), float(zeta[i])


def punch_approach(force: float, contact_radius: float, modulus: float) -> float:
    """Uniform displacement of a rigid flat punch, δ = F/(2·a·E*), m."""
    return force / (2 * contact_radius * modulus)


def punch_surface_displacement(r: np.ndarray, force: float, contact_radius: float,
                               modulus: float) -> np.ndarray:
    """Downward surface displacement under a rigid flat punch, m: δ inside, (2δ/π)·arcsin(a/r) outside."""
    delta = punch_approach(force, contact_radius, modulus)
    r = np.asarray(r, dtype=float)
    ratio = np.minimum(contact_radius / np.maximum(r, 1e-300), 1.0)
    return np.where(r <= contact_radius, delta, 2 * delta / math.pi * np.arcsin(ratio))
